#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the path of an unpacked Debian linux-source-VERSION tree, fetching and
# unpacking it into the cache first if needed. The machine's own apt sources
# are never changed (see vm/debian-fetch.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ver=$1
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
tree=$cache/src/linux-source-$ver

if [ ! -e "$tree/.done" ]; then
	case $ver in
	5.10) suite=bullseye ;;
	6.1) suite=bookworm ;;
	*) suite=sid ;;
	esac
	"$here/../debian-fetch.sh" "$suite" "linux-source-$ver" "$cache/pkg/linux-source-$ver" >&2
	rm -rf "$tree"
	mkdir -p "$cache/src"
	tar -C "$cache/src" -xf "$cache/pkg/linux-source-$ver/usr/src/linux-source-$ver.tar.xz"
	touch "$tree/.done"
fi
echo "$tree"
