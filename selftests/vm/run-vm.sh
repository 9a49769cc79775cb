#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Boot one test VM under TCG and report its results.
#
# usage: run-vm.sh LABEL BZIMAGE INITRAMFS
#   Prints one PASS/FAIL/SKIP line per result and a last line
#   "COUNTS passed failed skipped". On any failure, shows the tail of the
#   console log. Exits non-zero if anything failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
label=$1 kernel=$2 initrd=$3
timeout=${VMSR_VM_TIMEOUT:-1200}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# ttyS0: the kernel console; ttyS1: the framed results from init.sh.
"$here/boot.sh" "$timeout" "$kernel" "$initrd" "$work/console.log" "file:$work/results.log" || true

awk -v label="$label" -f "$here/parse-results.awk" "$work/results.log" | tee "$work/parsed"
read -r _ passed failed skipped < <(tail -n1 "$work/parsed")
if [ "$failed" != 0 ]; then
	echo "---- $label: last 60 lines of the console ----"
	tail -n 60 "$work/console.log"
	echo "---- end of console ----"
	exit 1
fi
