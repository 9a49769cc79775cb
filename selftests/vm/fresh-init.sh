#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VM that check.sh boots with tsc=reliable, so that sched_clock
# is stable (under TCG it is not by default): a check that it is, then
# vmsr_fresh_test alone against the production module, then the kernel log.
. /init-lib.sh

# TAP, for parse-results.awk: the kernel says so when it finds the clock unstable.
clock_is_stable() {
	echo "1..1"
	if dmesg | grep -q -e 'Unstable clock detected' -e 'Marking TSC unstable'; then
		echo "not ok 1 sched_clock_is_stable"
		return 1
	fi
	echo "ok 1 sched_clock_is_stable"
}

run stable-clock/clock clock_is_stable
load /lib/vmsr/vmsr.ko
run stable-clock/vmsr_fresh_test /bin/vmsr_fresh_test
run dmesg dmesg
say "### done"
sync
reboot -f
