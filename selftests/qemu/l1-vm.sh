# SPDX-License-Identifier: GPL-2.0-only
#
# What the nested tests (guest-multiboot.sh, guest-linux.sh, libvirt/vm.sh)
# share: the TCG VM that runs the patched QEMU with KVM, and the real guest.
# Sourced; needs $vm (selftests/vm).

# copy_libs ROOT PROGRAM...: the shared libraries the programs need, at
# their own paths under ROOT.
copy_libs() {
	local root=$1
	shift
	ldd "$@" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u |
		while read -r lib; do
			install -D -m 0755 "$lib" "$root$lib"
		done
}

# l1_tree OUT QEMU ROM...: OUT/bin holds the patched QEMU, OUT/root its
# libraries and the firmware that the PC machine loads (SeaBIOS and the
# option ROMs named), for mkinitramfs.sh; both start empty.
l1_tree() {
	local out=$1 qemu=$2 rom
	shift 2
	rm -rf "$out/bin" "$out/root"
	mkdir -p "$out/bin" "$out/root/share/qemu"
	install -m 0755 "$qemu" "$out/bin/qemu-system-x86_64"
	copy_libs "$out/root" "$qemu"
	cp /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin "$out/root/share/qemu/"
	for rom in "$@"; do
		cp "/usr/share/qemu/$rom" "$out/root/share/qemu/"
	done
}

# l2_initramfs OUT KERNEL: OUT/l2-initramfs.cpio.gz, the real guest of
# guest-linux/: l2-init.sh, energy-window, Debian's turbostat (of the same
# release as KERNEL) with its libraries, and KERNEL's own RAPL and msr
# modules.
l2_initramfs() {
	local out=$1 kernel=$2 mods cpupower gl
	gl=$(dirname "${BASH_SOURCE[0]}")/guest-linux
	mods=${kernel%/boot/*}/lib/modules/${kernel##*/vmlinuz-}/kernel
	cpupower=${VMSR_CACHE:-$HOME/.cache/vmsr}/pkg/linux-cpupower-bookworm
	"$vm/debian-fetch.sh" bookworm linux-cpupower "$cpupower"
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
}

# l1_run LABEL KERNEL VMSR_KO QEMU OUT INIT FILE:NAME...: boots Debian's
# KERNEL with QEMU under TCG, on an AMD model with SVM and RAPL registers,
# with kvm_amd, the vmsr module, OUT's tree (l1_tree) and INIT as /init
# (mkinitramfs.sh); prints run-vm.sh's result lines.
l1_run() {
	local label=$1 kernel=$2 vmsr_ko=$3 qemu=$4 out=$5 init=$6 mods
	shift 6
	mods=${kernel%/boot/*}/lib/modules/${kernel##*/vmlinuz-}/kernel
	VMSR_INIT=$init VMSR_OVERLAY=$out/root \
		"$vm/mkinitramfs.sh" "$out/initramfs.cpio.gz" "$out/bin" \
		"$mods/virt/lib/irqbypass.ko:irqbypass.ko" \
		"$mods/arch/x86/kvm/kvm.ko:kvm.ko" \
		"$mods/drivers/crypto/ccp/ccp.ko:ccp.ko" \
		"$mods/arch/x86/kvm/kvm-amd.ko:kvm-amd.ko" \
		"$vmsr_ko:vmsr.ko" "$@"
	VMSR_QEMU=$qemu VMSR_CPU=${VMSR_CPU:-EPYC-Rome,x-rapl-emu=on} \
		"$vm/run-vm.sh" "$label" "$kernel" "$out/initramfs.cpio.gz"
}

# l1_run_helper LABEL KERNEL VMSR_KO QEMU OUT INIT FILE:NAME...: l1_run for
# qemu-vmsr-helper's backend. The helper, built beside QEMU, goes into
# OUT's tree; the VM's user space sees an Intel CPU
# (x-rapl-intel-userspace), and it has the msr driver and intel_rapl_msr.
l1_run_helper() {
	local kernel=$2 qemu=$4 out=$5 helper mods
	helper=$(dirname "$qemu")/qemu-vmsr-helper
	install -m 0755 "$helper" "$out/bin/"
	copy_libs "$out/root" "$helper"
	mods=${kernel%/boot/*}/lib/modules/${kernel##*/vmlinuz-}/kernel
	VMSR_CPU=EPYC-Rome,x-rapl-emu=on,x-rapl-intel-userspace=on l1_run "$@" \
		"$mods/arch/x86/kernel/msr.ko:msr.ko" \
		"$mods/drivers/powercap/intel_rapl_common.ko:intel_rapl_common.ko" \
		"$mods/drivers/powercap/intel_rapl_msr.ko:intel_rapl_msr.ko"
}
