#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Real guests: Debian's own kernel boots as the guest of the patched QEMU,
# inside the nested-KVM VM that guest-multiboot.sh also uses, and reads its
# energy with its own drivers (powercap, perf's power PMU, Debian's
# turbostat), on an AMD and an Intel CPU model, across live migration
# (guest-linux/); then, in a second VM, the same guest on
# qemu-vmsr-helper's backend (guest-linux/l1-helper.sh).
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

. "$here/l1-vm.sh"

# The guest's initramfs (l1-vm.sh).
l2_initramfs "$out" "$kernel"

# The VM's initramfs: QEMU with its libraries and the firmware of the PC
# machine (linuxboot_dma.bin loads the guest's kernel), the guest, the test.
l1_tree "$out" "$qemu" linuxboot_dma.bin
install -m 0755 "$gl/l1-test.sh" "$out/bin/guest-linux-test"
install -m 0755 "$gl/l1-hotplug.sh" "$out/bin/guest-linux-hotplug"
install -m 0755 "$gl/l1-helper.sh" "$out/bin/guest-linux-helper"
files=("$kernel:l2-vmlinuz"
       "$out/l2-initramfs.cpio.gz:l2-initramfs.cpio.gz"
       "$here/fields.awk:fields.awk"
       "$gl/check.awk:guest-linux-check.awk")
rc=0
l1_run guest-linux "$kernel" "$vmsr_ko" "$qemu" "$out" "$gl/l1-init.sh" "${files[@]}" || rc=1

# The same guest on qemu-vmsr-helper's backend (l1-vm.sh).
l1_run_helper guest-linux "$kernel" "$vmsr_ko" "$qemu" "$out" "$gl/l1-helper-init.sh" \
	"${files[@]}" || rc=1
exit $rc
