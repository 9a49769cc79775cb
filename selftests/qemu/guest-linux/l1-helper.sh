#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Debian's kernel as the guest of qemu-vmsr-helper's backend, as root as
# upstream runs it; run by l1-helper-init.sh in a nested-KVM VM whose user
# space sees an Intel CPU (x-rapl-intel-userspace, test only), so that the
# helper and QEMU run there (guest-multiboot/l1-helper-test.sh says more).
# Prints TAP, and "guest-linux-helper: cpu=C powercap=Z perf=P
# first_uj=A last_uj=B".
#
# l2-init.sh loads the guest's RAPL drivers first thing, before the
# backend's first sample: they must find the package domain, whose counter
# must not read 0 then. This backend answers the package registers only, so
# turbostat, which needs more, is not judged.
cpu=Skylake-Server,vendor=GenuineIntel
dir=/tmp/guest-linux-helper
mkdir -p "$dir"

echo "TAP version 13"
echo "1..4"

qemu-vmsr-helper -k "$dir/helper.sock" -f "$dir/helper.pid" >"$dir/helper.log" 2>&1 &
helper=$!
i=0
while [ ! -S "$dir/helper.sock" ] && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done

qemu-system-x86_64 -M pc -m 256 -smp 1 -cpu "$cpu" \
	-accel "kvm,rapl=true,rapl-helper-socket=$dir/helper.sock" \
	-nodefaults -no-user-config -display none -no-reboot -L /share/qemu \
	-kernel /lib/vmsr/l2-vmlinuz -initrd /lib/vmsr/l2-initramfs.cpio.gz \
	-append "console=ttyS0 loglevel=4 panic=-1" \
	-serial "file:$dir/console" -serial "file:$dir/out" 2>"$dir/err" &
qemu=$!
# Five samples after the burn, or QEMU's end, or ten minutes.
i=0
while kill -0 $qemu 2>/dev/null && [ $i -lt 600 ] &&
      [ "$(cat "$dir/out" 2>/dev/null | grep -c '^sample ')" -lt 5 ]; do
	sleep 1
	i=$((i + 1))
done
kill $qemu $helper 2>/dev/null
wait

tr -d '\r' <"$dir/out" >"$dir/shown"
found=$(grep '^found: ' "$dir/shown")
samples=$(grep '^sample energy_uj=[0-9]' "$dir/shown" | cut -d= -f2)
first=$(echo "$samples" | head -n 1)
last=$(echo "$samples" | tail -n 1)

fails=0
tap() {	# N NAME STATUS
	if [ "$3" = 0 ]; then
		echo "ok $1 $2"
	else
		echo "not ok $1 $2"
		fails=$((fails + 1))
	fi
}
[ -n "$found" ]
tap 1 guest_booted $?
echo "$found" | grep -q 'powercap=package-0'
tap 2 powercap_found_the_package_at_boot $?
echo "$found" | grep -q 'perf=energy-pkg'
tap 3 perf_found_energy_pkg_at_boot $?
[ "$(echo "$samples" | grep -c .)" -ge 5 ] && [ "${last:-0}" -gt "${first:-0}" ]
tap 4 energy_uj_grows $?
echo "guest-linux-helper: cpu=$cpu $(echo "$found" | cut -d' ' -f2-)" \
	"first_uj=${first:-none} last_uj=${last:-none}"
grep -v '^sample ' "$dir/shown" | sed 's|^|# REPORT guest: |'
grep -v "doesn't support requested feature" "$dir/err" | sed 's|^|# REPORT qemu: |'
sed 's|^|# REPORT helper: |' "$dir/helper.log"
[ $fails = 0 ]
