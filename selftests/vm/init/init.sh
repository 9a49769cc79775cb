#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test VM. Runs KUnit, then the tests against the production
# module, on whatever RAPL the VM's CPU model has (QEMU's x-rapl-emu; boot.sh
# passes its knobs on as VMSR_RAPL_* variables), then compares vmsr with
# Linux's own RAPL driver if the VM has it, and writes everything the host parses to the
# second serial port (ttyS1), framed by "### begin NAME" / "### end NAME rc=N"
# lines (init-lib.sh).
. /init-lib.sh
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

unload() {
	rmmod "$1" >&3 2>&1 || say "### unload-failed $1"
}

# phase NAME COMMAND...: a test whose kernel log is checked on its own. Its
# block is followed by "NAME/dmesg", the log of its run only; what is logged
# outside phases collects in $klog for the final "dmesg" block. The host scans
# each line of the log once.
klog=/tmp/kernel.log
phase() {
	dmesg -c >>$klog
	run "$@"
	run "$1/dmesg" dmesg -c
}

klog_rest() {
	cat $klog
	dmesg
}

# kmemleak scans only at the end (see below), not in the middle of a test.
kmemleak=/sys/kernel/debug/kmemleak
if [ -e $kmemleak ]; then
	echo scan=off >$kmemleak
	echo clear >$kmemleak
fi

if [ -e /lib/vmsr/vmsr_kunit.ko ]; then
	load /lib/vmsr/vmsr_kunit.ko
	run kunit cat /sys/kernel/debug/kunit/vmsr/results
	unload vmsr_kunit
fi

if [ -e /lib/vmsr/vmsr.ko ]; then
	load /lib/vmsr/vmsr.ko
	run production/vmsr_test /bin/vmsr_test
	run production/vmsr_perm_test /bin/vmsr_perm_test
	run production/vmsr_energy_test /bin/vmsr_energy_test
	run production/libvmsr_attribution /bin/vmm_attribution_test
	phase production/vmsr_leak_test /bin/vmsr_leak_test
	phase production/vmsr_stress_test /bin/vmsr_stress_test
	# TCG's TSC is unsynchronized: sched_clock is unstable here. check.sh
	# runs this test again with it stable (fresh-init.sh).
	phase production/vmsr_fresh_test /bin/vmsr_fresh_test
	phase production/vmsr_fuzz_test /bin/vmsr_fuzz_test
	unload vmsr
fi

# Linux's own RAPL driver, where the VM has it (Debian's kernel): vmsr must
# read what it reads.
if [ -e /lib/vmsr/intel_rapl_msr.ko ] && [ -e /lib/vmsr/vmsr.ko ]; then
	load /lib/vmsr/intel_rapl_common.ko
	load /lib/vmsr/intel_rapl_msr.ko
	load /lib/vmsr/vmsr.ko
	run rapl-truth /bin/vmsr_truth_test
	unload vmsr
fi

if [ -e /lib/vmsr/vmsr.ko ]; then
	# Loads and unloads the production module itself.
	export VMSR_KO=/lib/vmsr/vmsr.ko
	phase reload/vmsr_reload_test /bin/vmsr_reload_test
fi

if [ -e $kmemleak ]; then
	# kmemleak ignores objects younger than 5 s, and reports one only when two
	# scans in a row find it unreferenced and unchanged.
	sleep 6
	echo scan >$kmemleak
	echo scan >$kmemleak
	run kmemleak cat $kmemleak
fi
run dmesg klog_rest
say "### done"
sync
reboot -f
