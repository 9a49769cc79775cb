#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Build (once) a small debug kernel from a Debian linux-source package.
#
# usage: kernel-build.sh VERSION [FRAGMENT]
#   VERSION is a Debian linux-source-VERSION (6.1, 7.2, ...). FRAGMENT is a
#   config fragment merged over tinyconfig (default: debug.config beside this
#   script). Prints the build directory, which is cached under
#   $VMSR_CACHE/kernel/VERSION-HASH, HASH covering the fragment and this
#   script, so a changed config gets a new build and an unchanged one is reused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ver=$1
frag=${2:-$here/debug.config}
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

src=$("$here/kernel-source.sh" "$ver")
hash=$(cat "$frag" "$0" | sha256sum | cut -c1-12)
out=$cache/kernel/$ver-$(basename "$frag" .config)-$hash
[ -e "$out/.done" ] && { echo "$out"; exit 0; }

# Every line of the fragment must survive olddefconfig: an option that a
# dependency rules out is dropped silently, and a debug kernel without its
# checkers would pass tests it should fail.
lost_options() {
	local line lost=0
	while read -r line; do
		case $line in
		CONFIG_*=* | "# CONFIG_"*" is not set") ;;
		*) continue ;;
		esac
		case $line in
		"# "*) ! grep -q "^${line:2:-11}=" "$out/.config" ;;
		*) grep -qxF "$line" "$out/.config" ;;
		esac || { echo "config: lost $line"; lost=1; }
	done <"$frag"
	return $lost
}

# Explicit || return: set -e does not apply inside a function called
# from the || below.
build() {
	make -C "$src" O="$out" tinyconfig || return
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" || return
	make -C "$src" O="$out" olddefconfig || return
	lost_options || return
	make -C "$src" O="$out" -j"$(nproc)" bzImage modules
}

mkdir -p "$out"
log=$out/build.log
build >"$log" 2>&1 || { tail -40 "$log" >&2; echo "kernel build failed: $log" >&2; exit 1; }
touch "$out/.done"
echo "$out"
