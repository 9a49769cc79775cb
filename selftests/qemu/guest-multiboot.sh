#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The patched QEMU, end to end, with a multiboot guest: boots Debian's
# kernel under TCG with the same QEMU, on an AMD CPU model with SVM and RAPL
# registers (EPYC-Rome, x-rapl-emu), with kvm_amd and the production vmsr
# module, and runs guest-multiboot/l1-test.sh there against the patched
# qemu-system-x86_64, with the guest built from guest-multiboot/; then, in a
# second VM, guest-multiboot/l1-helper-test.sh against qemu-vmsr-helper.
#
# usage: guest-multiboot.sh KERNEL VMSR_KO QEMU OUTDIR
#   KERNEL: Debian's vmlinuz, unpacked by debian-kernel.sh (its modules
#   beside it); VMSR_KO: the module built against its headers;
#   QEMU: build-qemu.sh's binary; $VMSR_QEMU_ASAN, if set, series-each.sh's.
#   Prints run-vm.sh's result lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
vm=$here/../vm
mb=$here/guest-multiboot
kernel=$1 vmsr_ko=$2 qemu=$3 out=$4

. "$here/l1-vm.sh"

make -s -C "$mb" OUT="$out"

# The VM's initramfs: QEMU with its libraries and the firmware of the PC
# machine (multiboot_dma.bin loads the guest), AppArmor's parser, the test,
# the guest and its checker.
l1_tree "$out" "$qemu" multiboot_dma.bin
# The series alone, built with ASan by series-each.sh, for the runs under
# ASan; without it, they are skipped.
if [ -x "${VMSR_QEMU_ASAN:-}" ]; then
	# Without its partial DWARF, ASan names frames from the symbol table.
	install -m 0755 "$VMSR_QEMU_ASAN" "$out/bin/qemu-system-x86_64-asan"
	strip --strip-debug "$out/bin/qemu-system-x86_64-asan"
	copy_libs "$out/root" "$VMSR_QEMU_ASAN"
fi
# AppArmor's parser (Debian's apparmor package, unpacked), for the case
# where AppArmor refuses /dev/vmsr; without it, that case is skipped.
aa=${VMSR_CACHE:-$HOME/.cache/vmsr}/pkg/apparmor-bookworm
if "$vm/debian-fetch.sh" bookworm apparmor "$aa" >&2; then
	install -m 0755 "$aa/sbin/apparmor_parser" "$out/bin/"
	copy_libs "$out/root" "$aa/sbin/apparmor_parser"
fi
install -m 0755 "$mb/l1-test.sh" "$out/bin/guest-multiboot-test"
install -m 0755 "$mb/l1-helper-test.sh" "$out/bin/guest-multiboot-helper-test"
files=("$out/rapl-guest.elf:rapl-guest.elf"
       "$here/fields.awk:fields.awk"
       "$mb/l1-lib.sh:l1-lib.sh"
       "$mb/check.awk:guest-multiboot-check.awk")
rc=0
l1_run qemu-e2e "$kernel" "$vmsr_ko" "$qemu" "$out" "$mb/l1-init.sh" "${files[@]}" || rc=1

# The helper backend, in a VM of its own (l1-vm.sh).
l1_run_helper qemu-e2e "$kernel" "$vmsr_ko" "$qemu" "$out" "$mb/l1-helper-init.sh" \
	"${files[@]}" || rc=1
exit $rc
