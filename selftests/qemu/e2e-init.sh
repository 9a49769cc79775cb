#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the QEMU end-to-end VM: KVM (kvm_amd, on the TCG guest's AMD
# CPU), the emulated vmsr module, then the test against the patched QEMU.
# Results go to ttyS1, framed like init.sh's, for parse-results.awk.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

# run NAME COMMAND...: a framed block with the command's output and exit code.
run() {
	name=$1
	shift
	say "### begin $name"
	"$@" >&3 2>&1
	say "### end $name rc=$?"
}

load() {
	say "### load $*"
	insmod "$@" >&3 2>&1 || say "### load-failed $1"
}

for m in irqbypass kvm ccp kvm-amd vmsr-emulated; do
	load /lib/vmsr/$m.ko
done
run kvm-rapl /bin/qemu-e2e
run dmesg dmesg
say "### done"
sync
reboot -f
