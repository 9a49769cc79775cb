#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make demo on a machine without /dev/vmsr: boots Debian's own kernel under
# TCG, on an Intel CPU model with RAPL registers (the project's QEMU, which
# the first run builds: build-qemu.sh), with the production module, and
# shows vmsrstat on a small workload.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/selftests/vm
export VMSR_CACHE=${VMSR_CACHE:-$HOME/.cache/vmsr}
out=$VMSR_CACHE/build/demo

echo "demo: setting up (packages, Debian's kernel, the module, QEMU: the first run builds it, ~15 min)..."
"$top/selftests/deps.sh"
mapfile -t deb < <("$here/kernels/debian-kernel.sh")
"$here/kernels/build-module.sh" "${deb[1]}" production "$out/module"
make -s -C "$top/userspace" OUT="$out/bin" STATIC=1 >/dev/null
VMSR_INIT=$here/init/demo-init.sh "$here/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$out/bin" \
	"$out/module/vmsr.ko:vmsr.ko"
VMSR_QEMU=${VMSR_QEMU:-$("$top/selftests/qemu/build-qemu.sh" "$VMSR_CACHE/build/qemu")}
export VMSR_QEMU

echo "demo: booting the VM (qemu-system-x86_64 -accel tcg -cpu Skylake-Server,x-rapl-emu=on -smp 4)..."
"$here/boot.sh" 300 "${deb[0]}" "$out/initramfs.cpio.gz" "$out/console.log" stdio </dev/null |
	tr -d '\r'
