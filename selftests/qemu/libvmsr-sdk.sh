#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvmsr as an installed copy, for building QEMU against it: the static
# library, its two headers and a minimal vmsr.pc, so that QEMU's meson finds
# it with pkg-config like any library. Files that did not change keep their
# times, so that a QEMU build stays incremental.
#
# usage: libvmsr-sdk.sh DIR
#   Prints DIR; set PKG_CONFIG_PATH=DIR/lib/pkgconfig.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
sdk=$1

make -s -C "$top/userspace" OUT="$sdk/obj" "$sdk/obj/libvmsr.a" >&2
install -C -D -m 0644 "$sdk/obj/libvmsr.a" "$sdk/lib/libvmsr.a"
install -C -D -m 0644 "$top/userspace/lib/libvmsr.h" "$sdk/include/libvmsr.h"
install -C -D -m 0644 "$top/uapi/linux/vmsr.h" "$sdk/include/linux/vmsr.h"
mkdir -p "$sdk/lib/pkgconfig"
cat >"$sdk/vmsr.pc.new" <<EOF
Name: vmsr
Description: libvmsr (static, for building QEMU in the tests)
Version: $(cat "$top/VERSION")
Cflags: -I$sdk/include
Libs: $sdk/lib/libvmsr.a -lm
EOF
cmp -s "$sdk/vmsr.pc.new" "$sdk/lib/pkgconfig/vmsr.pc" ||
	mv "$sdk/vmsr.pc.new" "$sdk/lib/pkgconfig/vmsr.pc"
rm -f "$sdk/vmsr.pc.new"
echo "$sdk"
