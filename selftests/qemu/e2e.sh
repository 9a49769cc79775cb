#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The patched QEMU, end to end: boots Debian's kernel under TCG (-cpu max,
# an AMD CPU with SVM) with kvm_amd and the emulated vmsr module, and runs
# qemu-e2e.sh there against the patched qemu-system-x86_64.
#
# usage: e2e.sh KERNEL VMSR_KO QEMU OUTDIR
#   KERNEL: Debian's vmlinuz, unpacked by debian-kernel.sh (its modules
#   beside it); VMSR_KO: the emulated flavour built against its headers;
#   QEMU: build-qemu.sh's binary. Prints run-vm.sh's result lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vm=$here/../vm
kernel=$1 vmsr_ko=$2 qemu=$3 out=$4

abi=${kernel##*/vmlinuz-}
mods=${kernel%/boot/*}/lib/modules/$abi/kernel

make -s -C "$here/guest" OUT="$out"

# The initramfs gets QEMU, the test and, at their own paths, QEMU's shared
# libraries and the firmware the PC machine loads (the host's SeaBIOS and
# option ROMs).
rm -rf "$out/bin" "$out/root"
mkdir -p "$out/bin" "$out/root/share/qemu"
install -m 0755 "$qemu" "$out/bin/"
# The helper backend's daemon, when it was built beside QEMU.
helper=$(dirname "$qemu")/qemu-vmsr-helper
[ ! -x "$helper" ] || install -m 0755 "$helper" "$out/bin/"
install -m 0755 "$here/qemu-e2e.sh" "$out/bin/qemu-e2e"
for bin in "$out"/bin/qemu-system-x86_64 "$out"/bin/qemu-vmsr-helper; do
	[ ! -e "$bin" ] || ldd "$bin"
done | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		install -D -m 0755 "$lib" "$out/root$lib"
	done
cp /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
	/usr/share/qemu/multiboot_dma.bin "$out/root/share/qemu/"

VMSR_INIT=$here/e2e-init.sh VMSR_OVERLAY=$out/root \
	"$vm/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$out/bin" \
	"$mods/virt/lib/irqbypass.ko:irqbypass.ko" \
	"$mods/arch/x86/kvm/kvm.ko:kvm.ko" \
	"$mods/drivers/crypto/ccp/ccp.ko:ccp.ko" \
	"$mods/arch/x86/kvm/kvm-amd.ko:kvm-amd.ko" \
	"$vmsr_ko:vmsr-emulated.ko" \
	"$out/rapl-guest.elf:rapl-guest.elf" \
	"$here/e2e-check.awk:e2e-check.awk"
"$vm/run-vm.sh" qemu-e2e "$kernel" "$out/initramfs.cpio.gz"
