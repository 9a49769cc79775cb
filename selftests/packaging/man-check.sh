#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The man pages as make install puts them (userspace's install-man): every
# function that lib/libvmsr.map exports has a page in section 3, its own or
# a link to a page that names it in NAME (libvmsr(3) covers them all);
# mandoc -Tlint reports nothing on any page, links followed; and the C code
# in the EXAMPLES of section 3 pages compiles with warnings as errors.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
man=$work/man

make -s -C "$top/userspace" install-man DESTDIR="$work" MANDIR=/man >/dev/null

status=0
exports=$(sed -n 's/^[[:space:]]*\(vmsr_[a-z_0-9]*\);$/\1/p' "$top/userspace/lib/libvmsr.map")
[ -n "$exports" ]
for f in $exports; do
	page=$man/man3/$f.3
	if [ ! -e "$page" ]; then
		echo "no page for $f"
		status=1
	elif ! sed -n '/^\.SH NAME/,/^\.SH [^N]/p' "$page" | grep -qw -- "$f"; then
		echo "$page ($(readlink "$page" || echo page)) does not name $f"
		status=1
	fi
done
[ $status != 0 ] || echo "pages: $(wc -w <<<"$exports") exported functions, each with a page"

lint=$(cd "$man" && mandoc -Tlint man*/* 2>&1) || true
if [ -n "$lint" ]; then
	echo "$lint"
	status=1
fi
echo "mandoc -Tlint: $(cd "$man" && ls man*/* | wc -l) pages$([ -n "$lint" ] || echo ', clean')"

# .EX/.EE blocks, unescaped; a page's functions may be unused fragments.
for page in "$top"/userspace/man/*.3; do
	src=$work/$(basename "$page" .3)-example.c
	sed -n '/^\.EX$/,/^\.EE$/{/^\.E[XE]$/d;p}' "$page" | sed 's/\\e/\\/g; s/\\-/-/g' >"$src"
	[ -s "$src" ] || continue
	if ! gcc -Wall -Wextra -Werror -Wno-unused-function -fsyntax-only \
		-I"$top/userspace/lib" -I"$top/uapi" "$src"; then
		echo "the EXAMPLES of $(basename "$page") do not compile"
		status=1
	fi
done
exit $status
