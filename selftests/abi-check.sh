#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The uapi header is self-contained and strict C89, and its layout is the
# same for i386 and x86_64.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo '#include <linux/vmsr.h>' |
	gcc -std=c89 -pedantic -Wall -Werror -I"$top/uapi" -x c -c -o /dev/null -
for bits in 32 64; do
	gcc -m$bits -std=gnu11 -Wall -Werror -I"$top/uapi" -o "$work/layout$bits" \
		"$top/selftests/vmsr_abi_layout.c"
	"$work/layout$bits" >"$work/layout$bits.txt"
done
diff -u "$work/layout64.txt" "$work/layout32.txt"
echo "layout identical on i386 and x86_64: $(grep -c . "$work/layout64.txt") lines"
