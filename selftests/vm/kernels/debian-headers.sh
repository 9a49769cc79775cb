#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Print the path of the kernel headers tree that linux-headers-amd64 names in
# a Debian suite (bookworm-backports: 6.12), unpacked, not installed, into
# the cache. Its directory name, linux-headers-KVER, gives the kernel
# release. The machine's apt sources are not changed (see vm/debian-apt.sh).
#
# usage: debian-headers.sh SUITE
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
suite=$1
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

apt_show() {
	"$here/../debian-apt.sh" "$suite" apt-cache show "$1/$suite" | sed -n 's/^Depends: //p' |
		head -n1
}

kver=$(apt_show linux-headers-amd64 | sed -n 's/^linux-headers-\([^ ,]*\).*/\1/p')
[ -n "$kver" ] || { echo "no linux-headers-amd64 in $suite" >&2; exit 1; }
root=$cache/pkg/linux-headers-$kver
tree=$root/usr/src/linux-headers-$kver

if [ ! -e "$root/.done" ]; then
	# The flavour's headers, and the common headers and kbuild tools they use.
	mapfile -t pkgs < <(apt_show "linux-headers-$kver" | tr ',' '\n' |
		grep -o 'linux-headers-[^ ]*-common\|linux-kbuild-[^ ]*')
	[ ${#pkgs[@]} = 2 ] || { echo "linux-headers-$kver: unexpected Depends" >&2; exit 1; }
	work=$(mktemp -d)
	trap 'rm -rf "$work"' EXIT
	(cd "$work" && "$here/../debian-apt.sh" "$suite" apt-get download \
		"linux-headers-$kver/$suite" "${pkgs[@]/%//$suite}" >/dev/null)
	rm -rf "$root"
	mkdir -p "$root"
	for deb in "$work"/*.deb; do
		dpkg -x "$deb" "$root"
	done
	# The flavour's Makefile includes the common one by absolute path.
	sed -i "s|^include /usr/src/|include $root/usr/src/|" "$tree/Makefile"
	touch "$root/.done"
fi
echo "$tree"
