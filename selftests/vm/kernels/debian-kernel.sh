#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the path of Debian's own kernel image matching the installed
# linux-headers-amd64, unpacked (not installed) into the cache, followed by
# the path of the matching headers tree.
#
# usage: debian-kernel.sh [--headers]
#   --headers: print only the headers tree, and download nothing.
set -euo pipefail

cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

abi=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 | sed -n 's/.*linux-headers-\([^ ]*\) .*/\1/p')
[ -n "$abi" ] || { echo "linux-headers-amd64 is not installed" >&2; exit 1; }
if [ "${1:-}" = --headers ]; then
	echo "/usr/src/linux-headers-$abi"
	exit 0
fi
dest=$cache/pkg/linux-image-$abi
if [ ! -e "$dest/.done" ]; then
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && apt-get download -q "linux-image-$abi-unsigned" >/dev/null)
	mkdir -p "$dest"
	dpkg -x "$work"/*.deb "$dest"
	touch "$dest/.done"
fi
echo "$dest/boot/vmlinuz-$abi"
echo "/usr/src/linux-headers-$abi"
