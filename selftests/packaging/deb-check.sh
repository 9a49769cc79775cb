#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Debian packages from make deb, as root: dpkg -i installs them and
# vmsr-dkms's postinst builds and installs the module for KVER; the
# autopkgtest (debian/tests/installed) runs as autopkgtest would run it:
# vmsrstat --version against the packaged libvmsr0, and
# installed_lib_test.c built with `pkg-config --cflags --libs vmsr` from
# libvmsr-dev; every exported function has its man page (libvmsr-dev);
# vmsr_exporter, its man page, unit and defaults file are in place
# (prometheus-vmsr-exporter).
# dpkg --purge then removes them, and nothing of vmsr may be left: no DKMS tree, no module.
# Refuses to run where vmsr is installed already.
#
# usage: deb-check.sh DEBDIR KVER
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=selftests/packaging/dkms-state.sh
. "$top/selftests/packaging/dkms-state.sh"

[ $# = 2 ] || fail "usage: deb-check.sh DEBDIR KVER"
debdir=$1 kver=$2

require_clean
work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT

debs=()
for p in "${packages[@]}"; do
	debs+=("$(ls "$debdir/${p}_${version}_"*.deb)")
done
dpkg -i "${debs[@]}" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg -i failed"; }
expect_installed "$kver"
[ -e /usr/lib/udev/rules.d/60-vmsr.rules ] || fail "60-vmsr.rules is missing"
[ ! -e /usr/lib/modules-load.d/vmsr.conf ] || fail "vmsr.conf in modules-load.d: udev loads vmsr"
man -w 4 vmsr >/dev/null
man -w 1 vmsrstat >/dev/null

vmsrstat --help | grep '^usage: vmsrstat' >/dev/null
vmsr_exporter --help | grep '^usage: vmsr_exporter' >/dev/null
man -w 1 vmsr_exporter >/dev/null
for f in /lib/systemd/system/prometheus-vmsr-exporter.service \
	 /etc/default/prometheus-vmsr-exporter; do
	[ -e "$f" ] || fail "$f is missing"
done
(cd "$top" && AUTOPKGTEST_TMP=$work debian/tests/installed)
for f in $(sed -n 's/^[[:space:]]*\(vmsr_[a-z_0-9]*\);$/\1/p' "$top/userspace/lib/libvmsr.map"); do
	man -w 3 "$f" >/dev/null
done

dpkg --purge "${packages[@]}" >"$work/dpkg.log" 2>&1 || { cat "$work/dpkg.log"; fail "dpkg --purge failed"; }
expect_gone "$kver"
