#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# No ioctl writes an MSR: no code in the built module can. vmsr.ko may reach
# MSRs only through the exported read helper rdmsrq_safe_on_cpu()
# (rdmsrl_safe_on_cpu() before 6.16). So, in each module given:
#   - the only undefined symbols with "msr" in their name are those helpers;
#   - nothing refers to pv_ops, through which an inline MSR access goes on
#     kernels built with PARAVIRT_XXL (Debian's);
#   - the disassembly holds no WRMSR-family instruction (wrmsr, wrmsrns,
#     wrmsrlist), which an inline access compiles to elsewhere, and nothing
#     objdump cannot decode, which could hide one.
#
# usage: no-msr-write.sh KO...
set -euo pipefail

status=0
for ko in "$@"; do
	undefined=$(nm -u "$ko" | awk '{ print $2 }')
	bad=$(
		grep -i msr <<<"$undefined" | grep -v -x -E 'rdmsr[lq]_safe_on_cpu'
		grep -x pv_ops <<<"$undefined"
		objdump -d --no-show-raw-insn "$ko" | awk -F'\t' '$2 ~ /^(wrmsr|\(bad\))/'
	) || true
	if [ -n "$bad" ]; then
		echo "$ko may write MSRs:"
		sed 's/^/  /' <<<"$bad"
		status=1
	else
		echo "$ko: reaches MSRs only through rdmsr*_safe_on_cpu()"
	fi
done
exit $status
