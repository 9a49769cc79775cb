#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build one flavour of the module against one kernel tree, with W=1, in a
# private copy of the sources (Kbuild builds in the source directory, and
# each flavour needs its own objects). Any compiler or modpost warning fails.
#
# usage: build-module.sh KDIR FLAVOUR OUTDIR
#   FLAVOUR is production or kunit; the .ko lands in OUTDIR.
set -euo pipefail

kdir=$1 flavour=$2 out=$3
top=$(cd "$(dirname "$0")/../../.." && pwd)

case $flavour in
production) kflavour= ;;
kunit) kflavour=$flavour ;;
*) echo "unknown flavour $flavour" >&2; exit 2 ;;
esac

mkdir -p "$out"
rsync -a --delete --exclude='*.o' --exclude='*.ko' --exclude='.*.cmd' \
	"$top/Kbuild" "$top/VERSION" "$top/module" "$top/include" "$top/uapi" "$out/"
log=$out/build.log
if ! make -C "$kdir" M="$out" VMSR_FLAVOUR="$kflavour" W=1 modules >"$log" 2>&1; then
	cat "$log" >&2
	echo "module build failed: $flavour against $kdir" >&2
	exit 1
fi
if grep -E -i 'warning|error' "$log" >&2; then
	echo "module build warned: $flavour against $kdir" >&2
	exit 1
fi
