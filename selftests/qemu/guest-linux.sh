#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Real guests: Debian's own kernel boots as the guest of the patched QEMU,
# inside the nested-KVM VM that guest-multiboot.sh also uses, and reads its
# energy with its own drivers (powercap, perf's power PMU, Debian's
# turbostat), on an AMD and an Intel CPU model, across live migration
# (guest-linux/).
#
# usage: guest-linux.sh KERNEL VMSR_KO QEMU OUTDIR
#   KERNEL: Debian's vmlinuz, unpacked by debian-kernel.sh (its modules
#   beside it), booted both as the VM and as the guest inside it; VMSR_KO:
#   the module built against its headers, reading the RAPL registers of the
#   VM's CPU (x-rapl-emu); QEMU: build-qemu.sh's binary, which boots the VM
#   too. Prints run-vm.sh's result lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vm=$here/../vm
gl=$here/guest-linux
kernel=$1 vmsr_ko=$2 qemu=$3 out=$4
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

. "$here/l1-vm.sh"
mods=${kernel%/boot/*}/lib/modules/${kernel##*/vmlinuz-}/kernel

# Debian's turbostat, of the same release as the guest kernel.
cpupower=$cache/pkg/linux-cpupower-bookworm
"$vm/debian-fetch.sh" bookworm linux-cpupower "$cpupower"

# The guest's initramfs: l2-init.sh, energy-window, turbostat with its
# libraries, and the guest kernel's own RAPL and msr modules.
rm -rf "$out/l2bin" "$out/l2root"
mkdir -p "$out/l2bin" "$out/l2root"
make -s -C "$gl" OUT="$out/l2bin"
install -m 0755 "$cpupower/usr/sbin/turbostat" "$out/l2bin/"
copy_libs "$out/l2root" "$out/l2bin/turbostat"
VMSR_INIT=$gl/l2-init.sh VMSR_OVERLAY=$out/l2root \
	"$vm/mkinitramfs.sh" "$out/l2-initramfs.cpio.gz" "$out/l2bin" \
	"$mods/drivers/powercap/intel_rapl_common.ko:intel_rapl_common.ko" \
	"$mods/drivers/powercap/intel_rapl_msr.ko:intel_rapl_msr.ko" \
	"$mods/arch/x86/events/rapl.ko:rapl.ko" \
	"$mods/arch/x86/kernel/msr.ko:msr.ko"

# The VM's initramfs: QEMU with its libraries and the firmware of the PC
# machine (linuxboot_dma.bin loads the guest's kernel), the guest, the test.
l1_tree "$out" "$qemu" linuxboot_dma.bin
install -m 0755 "$gl/l1-test.sh" "$out/bin/guest-linux-test"
install -m 0755 "$gl/l1-hotplug.sh" "$out/bin/guest-linux-hotplug"
l1_run guest-linux "$kernel" "$vmsr_ko" "$qemu" "$out" "$gl/l1-init.sh" \
	"$kernel:l2-vmlinuz" \
	"$out/l2-initramfs.cpio.gz:l2-initramfs.cpio.gz" \
	"$here/fields.awk:fields.awk" \
	"$gl/check.awk:guest-linux-check.awk"
