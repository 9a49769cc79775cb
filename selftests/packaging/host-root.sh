#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The tree that makes the host VM (vm/init/host-init.sh) a host with vmsr
# installed: make install with PREFIX=/usr, the module where DKMS installs
# it, indexed by depmod, and what boots it on Debian: systemd-udevd with the
# rule that loads modules by modalias (80-drivers.rules) and
# systemd-modules-load, plus setpriv for the tests, with their shared
# libraries. /etc/group has group kvm.
#
# usage: host-root.sh ROOT KO MODDIR
#   ROOT is made afresh; KO is the production vmsr.ko, built for the kernel
#   whose unpacked /lib/modules/KVER is MODDIR (only its indexes are copied).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
root=$1 ko=$2 moddir=$3
kver=${moddir##*/}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

libdir=/usr/lib/$(gcc -print-multiarch)

rm -rf "$root"
mkdir -p "$root/etc" "$root/lib/systemd"
make -s -C "$top" install DESTDIR="$root" PREFIX=/usr LIBDIR="$libdir" \
	OUT="$work/build" >/dev/null
install -D -m 0644 "$ko" "$root/lib/modules/$kver/updates/dkms/vmsr.ko"
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"

# FILE: copied to the same path under ROOT.
copy() {
	mkdir -p "$root$(dirname "$1")"
	cp -L "$1" "$root$1"
}
# PROG: the machine's shared libraries it loads, found as the VM will
# (libvmsr in ROOT), copied unless ROOT has them.
copy_libs() {
	LD_LIBRARY_PATH=$root$libdir ldd "$1" |
		awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' >"$work/libs"
	while read -r lib; do
		case $lib in
		"$root"/*) ;;
		*) copy "$lib" ;;
		esac
	done <"$work/libs"
}
for prog in /usr/bin/udevadm /lib/systemd/systemd-modules-load /usr/bin/setpriv; do
	copy "$prog"
	copy_libs "$prog"
done
copy_libs "$root/usr/bin/vmsrstat"
copy /usr/lib/udev/rules.d/80-drivers.rules
ln -s /usr/bin/udevadm "$root/lib/systemd/systemd-udevd"

echo 'root:x:0:0:root:/:/bin/sh' >"$root/etc/passwd"
printf 'root:x:0:\nusers:x:100:\nkvm:x:36:\n' >"$root/etc/group"
printf 'passwd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
