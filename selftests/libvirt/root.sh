#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The root of the libvirt test VM: a Debian 12 userland made by debootstrap
# (minbase) that boots with systemd, with Debian's own, unmodified libvirt
# (libvirt-daemon-system 9.0, its QEMU driver, virsh) and AppArmor. No
# Recommends: no Debian QEMU, whose place the patched one takes (vm.sh).
# libpam-systemd is the logind that polkitd, a dependency of
# libvirt-daemon-system, needs; debootstrap does not pick a virtual one.
# Documentation, man pages and locales are left out to keep the initramfs
# small. vm.sh adds the rest to a copy, so this tree only changes when this
# script does.
#
# usage: root.sh
#   Prints the path of the cached tree, $VMSR_CACHE/libvirt/root-HASH, HASH
#   covering this script; built once, then reused.
set -euo pipefail

cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
packages=systemd,systemd-sysv,udev,kmod,dbus,apparmor,libvirt-daemon-system
packages+=,libvirt-daemon-driver-qemu,libvirt-clients,libpam-systemd
hash=$(sha256sum "$0" | cut -c1-12)
root=$cache/libvirt/root-$hash

if [ ! -e "$root/.done" ]; then
	mirror=$(awk '/^URIs:/ { print $2; exit }' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	mkdir -p "$cache/libvirt/debs"
	tmp=$(mktemp -d "$cache/libvirt/.root.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	debootstrap --variant=minbase --include="$packages" \
		--cache-dir="$cache/libvirt/debs" \
		bookworm "$tmp" "${mirror:-http://deb.debian.org/debian}" >&2
	rm -rf "$tmp"/usr/share/{doc,man,info,locale} "$tmp"/var/cache/apt/*.bin \
		"$tmp"/var/lib/apt/lists/*_Packages "$tmp"/var/cache/apt/archives/*.deb
	touch "$tmp/.done"
	mv -T "$tmp" "$root" 2>/dev/null || [ -e "$root/.done" ]
fi
echo "$root"
