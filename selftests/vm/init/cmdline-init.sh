#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VM that check.sh boots with "tsc=reliable isolcpus=3
# nohz_full=3": sched_clock stable (under TCG it is not by default) and CPU 3
# isolated. It checks that the kernel took both, then runs vmsr_fresh_test
# and vmsr_ipi_test against the production module, then the kernel log.
. /init-lib.sh

# TAP, for parse-results.awk.
cmdline_took() {
	echo "1..2"
	if dmesg | grep -q -e 'Unstable clock detected' -e 'Marking TSC unstable'; then
		echo "not ok 1 sched_clock_is_stable"
	else
		echo "ok 1 sched_clock_is_stable"
	fi
	if grep -q 3 /sys/devices/system/cpu/isolated; then
		echo "ok 2 cpu_3_is_isolated"
	else
		echo "not ok 2 cpu_3_is_isolated"
	fi
}

run cmdline/boot cmdline_took
load /lib/vmsr/vmsr.ko
run cmdline/vmsr_fresh_test /bin/vmsr_fresh_test
run cmdline/vmsr_ipi_test /bin/vmsr_ipi_test
run dmesg dmesg
say "### done"
sync
reboot -f
