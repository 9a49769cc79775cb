#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the real guest: Debian's kernel, booted by the patched QEMU with
# -accel kvm,rapl=true inside the nested-KVM VM (l1-test.sh). Its output
# goes to ttyS1, which l1-test.sh and check.awk read:
#   found: powercap=ZONE_NAME|none perf=energy-pkg|none
#   window: ...        energy-window's line, with turbostat's output before it
#   write: refused: ERROR|accepted  a write to the package energy counter
#   ### follow         then "sample energy_uj=N" about every second, forever:
#                      the host migrates the guest meanwhile and stops it.
#   cpus: online=LIST  whenever the online CPUs change; it onlines
#                      hot-plugged ones, as udev would
. /init-lib.sh

# First thing, as udev's coldplug loads them on a booting Debian system: the
# drivers probe the counters before the host's sampler may have ticked.
for m in intel_rapl_common intel_rapl_msr rapl msr; do
	load /lib/vmsr/$m.ko
done

zone=/sys/class/powercap/intel-rapl:0
pmu_event=/sys/bus/event_source/devices/power/events/energy-pkg
say "found: powercap=$(cat $zone/name 2>/dev/null || echo none)" \
	"perf=$([ -e $pmu_event ] && echo energy-pkg || echo none)"
run rapl-dmesg sh -c 'dmesg | grep -i -e rapl -e powercap'

# The window: a 4 s burn, whatever turbostat does, with turbostat measuring
# 3 s of it; energy-window's reads enclose both.
run window energy-window sh -c 'timeout 4 sh -c "while :; do :; done" &
	turbostat --quiet --show PkgWatt sleep 3
	wait'

# A write to the package energy counter, read-only on hardware: #GP there,
# so the msr driver returns EIO, and the guest goes on sampling.
if grep -q GenuineIntel /proc/cpuinfo; then status=$((0x611)); else status=$((0xc001029b)); fi
if err=$(dd if=/dev/zero of=/dev/cpu/0/msr bs=8 count=1 seek=$status oflag=seek_bytes 2>&1); then
	say "write: accepted"
else
	say "write: refused: $err"
fi
say "### follow"
sh -c 'while :; do :; done' &
online=
while :; do
	# A hot-plugged vCPU comes offline; udev would online it.
	for c in /sys/devices/system/cpu/cpu[1-9]*/online; do
		[ "$(cat "$c" 2>/dev/null)" = 0 ] && echo 1 >"$c" 2>/dev/null
	done
	now=$(cat /sys/devices/system/cpu/online)
	[ "$now" != "$online" ] && say "cpus: online=$now" && online=$now
	say "sample energy_uj=$(cat $zone/energy_uj 2>/dev/null || echo none)"
	sleep 1
done
