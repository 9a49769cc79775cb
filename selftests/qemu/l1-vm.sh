# SPDX-License-Identifier: GPL-2.0-only
#
# What the nested tests (guest-multiboot.sh, guest-linux.sh) share: the TCG
# VM that runs the patched QEMU with KVM. Sourced; needs $vm (selftests/vm).

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
