#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The root of the exporter's test VM: a Debian 12 userland made by
# debootstrap (minbase) that boots with systemd, with Debian's own
# prometheus package (and its promtool), plus curl and jq for the test
# script. Documentation, man pages and locales are left out to keep the
# initramfs small. The vmsr packages are installed later, into a copy
# (vm.sh), so this tree only changes when this script does.
#
# usage: root.sh
#   Prints the path of the cached tree, $VMSR_CACHE/exporter/root-HASH, HASH
#   covering this script; built once, then reused.
set -euo pipefail

cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
packages=systemd,systemd-sysv,udev,kmod,dbus,prometheus,libmicrohttpd12,curl,jq
hash=$(sha256sum "$0" | cut -c1-12)
root=$cache/exporter/root-$hash

if [ ! -e "$root/.done" ]; then
	mirror=$(awk '/^URIs:/ { print $2; exit }' \
		/etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
	mkdir -p "$cache/exporter/debs"
	tmp=$(mktemp -d "$cache/exporter/.root.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	debootstrap --variant=minbase --include="$packages" \
		--cache-dir="$cache/exporter/debs" \
		bookworm "$tmp" "${mirror:-http://deb.debian.org/debian}" >&2
	rm -rf "$tmp"/usr/share/{doc,man,info,locale} "$tmp"/var/cache/apt/*.bin \
		"$tmp"/var/lib/apt/lists/*_Packages "$tmp"/var/cache/apt/archives/*.deb
	touch "$tmp/.done"
	mv -T "$tmp" "$root" 2>/dev/null || [ -e "$root/.done" ]
fi
echo "$root"
