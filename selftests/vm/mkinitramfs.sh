#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Pack the test VM's initramfs: busybox-static, init/init.sh as /init with the
# init/init-lib.sh it sources, the test programs and the module flavours.
#
# usage: mkinitramfs.sh OUT.cpio.gz TESTDIR [KO:NAME ...]
#   Copies every program in TESTDIR (none if it is '') to /bin, and each KO
#   to /lib/vmsr/NAME. VMSR_INIT names another /init (default: init/init.sh
#   beside this script); VMSR_OVERLAY names a tree copied over the root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out=$1 tests=$2
shift 2

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"	# mktemp made it 0700: unprivileged tests could not reach /dev
mkdir -p "$root"/{bin,dev,proc,sys,tmp,lib/vmsr}
cp /bin/busybox "$root/bin/busybox"
install -m 0755 "${VMSR_INIT:-$here/init/init.sh}" "$root/init"
install -m 0644 "$here/init/init-lib.sh" "$root/init-lib.sh"
for prog in ${tests:+"$tests"/*}; do
	[ -x "$prog" ] && [ -f "$prog" ] && cp "$prog" "$root/bin/"
done
[ -z "${VMSR_OVERLAY:-}" ] || cp -a "$VMSR_OVERLAY/." "$root/"
for spec in "$@"; do
	cp "${spec%%:*}" "$root/lib/vmsr/${spec##*:}"
done
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
