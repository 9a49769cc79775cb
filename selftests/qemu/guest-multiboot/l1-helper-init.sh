#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the VM of qemu-vmsr-helper's end-to-end test: KVM (kvm_amd), the
# msr driver that the helper reads through, and intel_rapl_msr, whose
# powercap zone the helper and QEMU look for; then l1-helper-test.sh.
# Results go to ttyS1, framed like init.sh's, for parse-results.awk.
. /init-lib.sh

for m in irqbypass kvm ccp kvm-amd msr intel_rapl_common intel_rapl_msr; do
	load /lib/vmsr/$m.ko
done
run kvm-rapl-helper /bin/guest-multiboot-helper-test
run dmesg dmesg
say "### done"
sync
reboot -f
