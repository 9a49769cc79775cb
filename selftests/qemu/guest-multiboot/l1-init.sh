#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the QEMU end-to-end VM: KVM (kvm_amd, on the TCG guest's AMD
# CPU), the vmsr module (RAPL from the outer QEMU's x-rapl-emu), then the
# test against the patched QEMU.
# Results go to ttyS1, framed like init.sh's, for parse-results.awk.
. /init-lib.sh

for m in irqbypass kvm ccp kvm-amd vmsr; do
	load /lib/vmsr/$m.ko
done
run kvm-rapl /bin/guest-multiboot-test
run dmesg dmesg
say "### done"
sync
reboot -f
