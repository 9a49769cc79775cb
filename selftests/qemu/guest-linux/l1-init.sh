#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the real-guest VM: KVM (kvm_amd, on the TCG guest's AMD CPU) and
# the vmsr module (RAPL from the outer QEMU's x-rapl-emu), then one run of l1-test.sh per guest CPU model,
# and one of l1-hotplug.sh.
# Results go to ttyS1, framed like init.sh's, for parse-results.awk.
. /init-lib.sh

for m in irqbypass kvm ccp kvm-amd vmsr; do
	load /lib/vmsr/$m.ko
done
# An AMD model (the host's own vendor under KVM) and an Intel one, which
# needs vendor= on this AMD host to be an Intel CPU at all.
run epyc-rome /bin/guest-linux-test EPYC-Rome
run skylake-server /bin/guest-linux-test Skylake-Server,vendor=GenuineIntel
# A vCPU plugged, unplugged (the guest's ACPI ejects it) and plugged again.
run epyc-rome-hotplug /bin/guest-linux-hotplug EPYC-Rome
run skylake-server-hotplug /bin/guest-linux-hotplug Skylake-Server,vendor=GenuineIntel
run dmesg dmesg
say "### done"
sync
reboot -f
