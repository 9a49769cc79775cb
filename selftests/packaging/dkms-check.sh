#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# DKMS, as root, against real kernel headers; each mode leaves the machine
# as it found it, and refuses to run where vmsr is installed already.
#
# usage: dkms-check.sh MODE KVER [HEADERS]
#   install        make dkms-install KVER=KVER (dkms add, build, install),
#                  then make dkms-remove
#   kernel-update  dkms add, then the hook a kernel package runs on
#                  installation, /etc/kernel/postinst.d/dkms KVER, must
#                  build and install it (AUTOINSTALL)
#   arch           a build for another architecture is refused
#                  (BUILD_EXCLUSIVE_ARCH): dkms exits 77
#   headers        dkms build for KVER against HEADERS, a headers tree that
#                  is unpacked, not installed
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=selftests/packaging/dkms-state.sh
. "$top/selftests/packaging/dkms-state.sh"

[ $# -ge 2 ] || fail "usage: dkms-check.sh install|kernel-update|arch|headers KVER [HEADERS]"
mode=$1 kver=$2

require_clean
trap cleanup EXIT

make_s() {
	make -s -C "$top" "$@" >/dev/null
}

case $mode in
install)
	make_s dkms-install KVER="$kver"
	expect_installed "$kver"
	;;
kernel-update)
	make_s install-dkms-source
	dkms add -m vmsr -v "$version" >/dev/null
	/etc/kernel/postinst.d/dkms "$kver" >/dev/null
	expect_installed "$kver"
	;;
arch)
	make_s install-dkms-source
	dkms add -m vmsr -v "$version" >/dev/null
	rc=0
	dkms build -m vmsr -v "$version" -k "$kver" -a aarch64 >/dev/null 2>&1 || rc=$?
	[ $rc = 77 ] || fail "dkms build for aarch64 exited $rc, not 77 (BUILD_EXCLUSIVE)"
	[ ! -e "/var/lib/dkms/vmsr/$version/$kver" ] || fail "it built for aarch64"
	echo "aarch64: refused (BUILD_EXCLUSIVE_ARCH)"
	;;
headers)
	[ $# = 3 ] || fail "headers needs the HEADERS tree"
	make_s install-dkms-source
	dkms add -m vmsr -v "$version" >/dev/null
	dkms build -m vmsr -v "$version" -k "$kver" --kernelsourcedir "$3" >/dev/null
	ko=/var/lib/dkms/vmsr/$version/$kver/x86_64/module/vmsr.ko
	modinfo -F vermagic "$ko" | grep "^$kver " >/dev/null || fail "$ko: not built for $kver"
	echo "built: $ko"
	;;
*)
	fail "unknown mode $mode"
	;;
esac

make_s dkms-remove
expect_gone "$kver"
