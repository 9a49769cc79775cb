#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the demo VM: the module, then vmsrstat on a workload of
# four threads at 100%, 50%, 10% and 0% of a CPU. Output goes to ttyS1,
# which the host shows; the console (ttyS0) keeps the kernel's log.
. /init-lib.sh

exec >/dev/ttyS1 2>&1
echo "vmsr demo: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs, $VMSR_CPU with QEMU's test RAPL registers"
insmod /lib/vmsr/vmsr.ko || echo "vmsr demo: the module did not load"
echo "\$ vmsrstat -i 1 -n 5 -- vmsr-burn 10 100 50 10 0"
vmsrstat -i 1 -n 5 -- vmsr-burn 10 100 50 10 0
echo "vmsr demo: done"
sync
reboot -f
