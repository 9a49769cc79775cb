#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# libvirt end to end: Debian 12's own libvirt (libvirt-daemon-system 9.0,
# with AppArmor enforcing, its mount namespace, device cgroup and user
# libvirt-qemu, all as shipped) starts the patched QEMU for a domain with
# KVM, inside the nested-KVM VM of selftests/qemu/ (an AMD model with SVM
# and RAPL registers, kvm_amd, vmsr), after the host setup of
# docs/libvirt.md, done as the doc says it. The domain's guest is the real
# guest of guest-linux.sh: Debian's kernel with l2-init.sh, whose powercap
# energy_uj must grow. l1-test.sh runs the test in the VM.
#
# The VM boots Debian's kernel into systemd on a Debian 12 userland
# (root.sh), like the exporter's VM, with the patched QEMU at
# /usr/bin/qemu-system-x86_64, the path of Debian's own, which the
# libvirt-qemu AppArmor abstraction lets a domain run.
#
# usage: vm.sh KERNEL VMSR_KO QEMU OUTDIR
#   As guest-linux.sh's. Prints run-vm.sh's result lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
vm=$top/selftests/vm
kernel=$1 vmsr_ko=$2 qemu=$3 out=$4
kver=${kernel##*/vmlinuz-}
moddir=${kernel%/boot/*}/lib/modules/$kver
mods=$moddir/kernel

. "$top/selftests/qemu/l1-vm.sh"
mkdir -p "$out"
base=$("$here/root.sh")

# The guest's initramfs, the one guest-linux.sh boots (l1-vm.sh).
l2_initramfs "$out" "$kernel"

root=$out/root
rm -rf "$root"
mkdir -p "$root"
rsync -a --exclude=/usr/lib/udev/hwdb.bin --exclude=/usr/lib/udev/hwdb.d \
	--exclude=/.done "$base/" "$root/"
# mktemp made the tree's top 0700; as /, it must be 0755 for services' users.
chmod 0755 "$root"

# The patched QEMU where Debian's would be, with the libraries it needs that
# the root lacks, and the firmware of the PC machine (linuxboot_dma.bin
# loads the guest's kernel) in /usr/share/qemu, which it finds relative to
# its own path (QEMU is relocatable) and the AppArmor abstraction allows.
install -m 0755 "$qemu" "$root/usr/bin/qemu-system-x86_64"
rm -rf "$out/qemu-libs"
copy_libs "$out/qemu-libs" "$qemu"
(cd "$out/qemu-libs" && find . -type f) | while read -r lib; do
	[ -e "$root/$lib" ] || install -D -m 0755 "$out/qemu-libs/$lib" "$root/$lib"
done
mkdir -p "$root/usr/share/qemu"
cp /usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin \
	/usr/share/qemu/linuxboot_dma.bin "$root/usr/share/qemu/"

# KVM (kvm_amd on the VM's AMD CPU) and vmsr where DKMS would put it, with
# its udev rule, loaded at boot.
kdir=$root/lib/modules/$kver
for m in virt/lib/irqbypass arch/x86/kvm/kvm drivers/crypto/ccp/ccp arch/x86/kvm/kvm-amd; do
	install -D -m 0644 "$mods/$m.ko" "$kdir/kernel/$m.ko"
done
install -D -m 0644 "$vmsr_ko" "$kdir/updates/dkms/vmsr.ko"
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$kdir/"
depmod -b "$root" "$kver"
install -D -m 0644 "$top/userspace/udev/60-vmsr.rules" "$root/usr/lib/udev/rules.d/60-vmsr.rules"
mkdir -p "$root/etc/modules-load.d"
printf 'kvm_amd\nvmsr\n' >"$root/etc/modules-load.d/vmsr.conf"

# The guest, where domain.xml names it.
install -D -m 0644 "$kernel" "$root/var/lib/libvirt/boot/vmsr-guest-vmlinuz"
install -m 0644 "$out/l2-initramfs.cpio.gz" "$root/var/lib/libvirt/boot/vmsr-guest-initramfs.cpio.gz"

# The test, and the host setup: the shell block under "Host setup" in
# docs/libvirt.md, as it is written there.
lib=$root/usr/local/lib/vmsr-test
mkdir -p "$lib"
install -m 0755 "$here/l1-test.sh" "$lib/"
install -m 0644 "$here/domain.xml" "$lib/"
awk '/^## / { s = $0 == "## Host setup" } s && /^```sh$/ { c = 1; next }
     c && /^```$/ { exit } c' "$top/docs/libvirt.md" >"$lib/host-setup.sh"
[ -s "$lib/host-setup.sh" ] || { echo "no sh block under '## Host setup' in docs/libvirt.md" >&2; exit 1; }

cat >"$root/etc/systemd/system/vmsr-libvirt-test.service" <<-EOT
	[Unit]
	Description=vmsr libvirt test
	After=apparmor.service libvirtd.service
	Wants=libvirtd.service
	[Service]
	Type=oneshot
	ExecStart=/usr/local/lib/vmsr-test/l1-test.sh
	[Install]
	WantedBy=multi-user.target
EOT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/vmsr-libvirt-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/"
# Nothing waits for a login on the console.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
echo libvirt-test >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost libvirt-test\n::1\t\tlocalhost ip6-localhost\n' >"$root/etc/hosts"
ln -sf /lib/systemd/systemd "$root/init"

(cd "$root" && find . | cpio -o -H newc --quiet) >"$out/initramfs.cpio"

# TCG runs systemd, AppArmor's parser, libvirt's probe of QEMU and a KVM
# guest inside: be generous.
VMSR_QEMU=$qemu VMSR_CPU=${VMSR_CPU:-EPYC-Rome,x-rapl-emu=on} \
	VMSR_VM_TIMEOUT=${VMSR_VM_TIMEOUT:-3000} VMSR_APPEND="systemd.show_status=0" \
	"$vm/run-vm.sh" libvirt "$kernel" "$out/initramfs.cpio"
