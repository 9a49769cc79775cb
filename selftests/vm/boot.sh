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
#
#   The QEMU is the project's own (selftests/qemu/build-qemu.sh; VMSR_QEMU
#   names a binary already built), whose test patch gives TCG CPUs RAPL
#   (docs/testing-rapl-emu.md). VMSR_CPU is the -cpu argument (default: an
#   Intel server with RAPL), VMSR_SMP the -smp one (default 4). The model
#   name and every x-rapl-* knob reach /init, and the tests it starts, as
#   VMSR_CPU and VMSR_RAPL_* variables on the kernel command line.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
timeout=$1 kernel=$2 initrd=$3 console=$4 serial1=$5

qemu=${VMSR_QEMU:-}
if [ -z "$qemu" ]; then
	cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
	qemu=$("$here/../qemu/build-qemu.sh" "${VMSR_BUILD:-$cache/build}/qemu")
fi
cpu=${VMSR_CPU:-Skylake-Server,x-rapl-emu=on}

# Skylake-Server,x-rapl-emu=on,x-rapl-fault-msr=0x610 gives
# VMSR_CPU=Skylake-Server VMSR_RAPL_EMU=on VMSR_RAPL_FAULT_MSR=0x610.
env="VMSR_CPU=${cpu%%,*}"
IFS=, read -r -a props <<<"$cpu"
for p in "${props[@]:1}"; do
	case $p in
	x-rapl-*=*)
		key=${p%%=*}
		key=${key#x-rapl-}
		key=${key//-/_}
		env+=" VMSR_RAPL_${key^^}=${p#*=}"
		;;
	esac
done

# check=off: a server model under TCG lacks features (AVX-512, ...) that
# QEMU would otherwise warn about, one line each. mitigations=off: the
# model's CPU bugs are not the host's, and their boot WARNING lines (RETBleed
# on Skylake-Server) would read as splats. no_timer_check: on a loaded host
# the kernel's check that the IO-APIC timer ticks can miss its window under
# TCG and panic ("IO-APIC + timer doesn't work"), as seen here at load 19.
exec timeout "$timeout" "$qemu" -L /usr/share/seabios -L /usr/share/qemu \
	-accel tcg -cpu "$cpu,check=off" -smp "${VMSR_SMP:-4}" -m 1536 \
	-nodefaults -display none -monitor none -no-reboot \
	-serial "file:$console" -serial "$serial1" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=4 panic=-1 log_buf_len=8M mitigations=off no_timer_check $env${VMSR_APPEND:+ $VMSR_APPEND}"
