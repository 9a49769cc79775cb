#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the benchmark VM: Debian's msr driver (for QEMU's method's
# helper), the vmsr module, then vmsr-bench. The kernel command
# line's vmsr_bench=ARGS (commas for spaces) reaches us as $vmsr_bench.
# Output goes to ttyS1; the console (ttyS0) keeps the kernel's log.
. /init-lib.sh

exec >/dev/ttyS1 2>&1
insmod /lib/vmsr/msr.ko || echo "vmsr-bench: msr.ko did not load"
insmod /lib/vmsr/vmsr.ko || echo "vmsr-bench: the vmsr module did not load"
# Section 4 scrapes the exporter on 127.0.0.1.
ip link set lo up || echo "vmsr-bench: the loopback interface did not come up"
args=$(echo "${vmsr_bench:-}" | tr , ' ')
# shellcheck disable=SC2086 # word splitting intended
vmsr-bench $args
echo "### vmsr-bench rc=$?"
sleep 1
sync
reboot -f
