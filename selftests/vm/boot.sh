#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot a kernel and initramfs under TCG, the one way every VM here is booted.
#
# usage: boot.sh TIMEOUT KERNEL INITRD CONSOLE_LOG SERIAL1
#   ttyS0, the kernel console, goes to CONSOLE_LOG; ttyS1 to the QEMU
#   character device SERIAL1 (file:PATH, or stdio). /init ends the VM with
#   reboot -f, which -no-reboot turns into QEMU's exit. VMSR_APPEND, if set,
#   is added to the kernel command line.
set -euo pipefail

timeout=$1 kernel=$2 initrd=$3 console=$4 serial1=$5

exec timeout "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 4 -m 1536 \
	-display none -monitor none -no-reboot \
	-serial "file:$console" -serial "$serial1" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 log_buf_len=8M${VMSR_APPEND:+ $VMSR_APPEND}"
