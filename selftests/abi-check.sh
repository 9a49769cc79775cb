#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The uapi header is self-contained and strict C89, and its layout is the
# same for i386 and x86_64: the x86_64 layout, printed as static assertions
# by vmsr_abi_layout.c, must compile with -m32. Nothing 32-bit is run, so
# this holds on hosts whose kernel refuses i386 programs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo '#include <linux/vmsr.h>' |
	gcc -std=c89 -pedantic -Wall -Werror -I"$top/uapi" -x c -c -o /dev/null -
gcc -m64 -std=gnu11 -Wall -Werror -I"$top/uapi" -o "$work/layout" \
	"$top/selftests/vmsr_abi_layout.c"
"$work/layout" >"$work/layout.c"
for bits in 64 32; do
	gcc -m$bits -std=gnu11 -Wall -Werror -I"$top/uapi" -c -o /dev/null "$work/layout.c"
done
echo "layout identical on i386 and x86_64: $(grep -c _Static_assert "$work/layout.c") assertions"
