#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VM where Debian's kernel is the guest of qemu-vmsr-helper's
# backend: KVM (kvm_amd), the msr driver that the helper reads through and
# intel_rapl_msr, whose powercap zone the helper and QEMU look for; then
# l1-helper.sh. Results go to ttyS1, framed like init.sh's.
. /init-lib.sh

for m in irqbypass kvm ccp kvm-amd msr intel_rapl_common intel_rapl_msr; do
	load /lib/vmsr/$m.ko
done
run skylake-server-helper /bin/guest-linux-helper
run dmesg dmesg
say "### done"
sync
reboot -f
