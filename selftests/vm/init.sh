#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the test VM. Loads each module flavour present under /lib/vmsr,
# runs the tests against it, and writes everything the host parses to the
# second serial port (ttyS1), framed by "### begin NAME" / "### end NAME rc=N"
# lines. The console (ttyS0) only carries the kernel's own log.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

# run NAME COMMAND...: a framed block with the command's output and exit code.
run() {
	name=$1
	shift
	say "### begin $name"
	"$@" >&3 2>&1
	say "### end $name rc=$?"
}

load() {
	say "### load $*"
	insmod "$@" >&3 2>&1 || say "### load-failed $1"
}

unload() {
	rmmod "$1" >&3 2>&1 || say "### unload-failed $1"
}

kmemleak=/sys/kernel/debug/kmemleak
[ -e $kmemleak ] && echo clear >$kmemleak

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
	unload vmsr
fi

if [ -e /lib/vmsr/vmsr-emulated.ko ]; then
	# Counters start 3e6 steps below 2^32: a few seconds before they wrap.
	load /lib/vmsr/vmsr-emulated.ko emu_start=4291967296 min_interval_us=20000
	run emulated/vmsr_energy_test /bin/vmsr_energy_test
	run emulated/vmsr_test /bin/vmsr_test
	run emulated/libvmsr_attribution /bin/vmm_attribution_test
	unload vmsr
fi

if [ -e $kmemleak ]; then
	# kmemleak ignores objects younger than 5 s.
	sleep 6
	echo scan >$kmemleak
	run kmemleak cat $kmemleak
fi
run dmesg dmesg
say "### done"
sync
reboot -f
