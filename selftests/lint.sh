#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make lint: checkpatch --strict and sparse over the kernel code. Any report
# fails. The only exceptions are listed here, each with its reason.
#
# usage: lint.sh [KSRC [KDIR]]
#   KSRC: a kernel source tree for scripts/checkpatch.pl (default: 7.2 from
#   the cache); KDIR: a prepared tree for sparse (default: the Debian headers).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
ksrc=${1:-$("$top/selftests/vm/kernels/kernel-source.sh" 7.2)}
kdir=${2:-$("$top/selftests/vm/kernels/debian-kernel.sh" --headers)}
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
status=0

# Exceptions, and why:
#   LINUX_VERSION_CODE: include/vmsr_compat.h is an out-of-tree compat
#   header; version checks are its job (and used only where no feature test
#   exists).
#   BIT_MACRO, in uapi/ only: BIT() does not exist for userspace.
checkpatch() {
	"$ksrc/scripts/checkpatch.pl" --no-tree --strict --terse --show-types "$@" 2>&1 || true
}

cd "$top"
kernel_files=(module/*.c module/*.h include/*.h)
uapi_files=(uapi/linux/*.h)
out=$(checkpatch --ignore LINUX_VERSION_CODE -f "${kernel_files[@]}"
      checkpatch --ignore BIT_MACRO -f "${uapi_files[@]}")
if grep -E ': (ERROR|WARNING|CHECK):' <<<"$out"; then
	echo "checkpatch: reports above"
	status=1
else
	echo "checkpatch: clean ($((${#kernel_files[@]} + ${#uapi_files[@]})) files)"
fi

# sparse, through kbuild, in a private copy of the sources.
copy=${VMSR_BUILD:-$cache/build}/lint
"$top/selftests/vm/kernels/build-module.sh" "$kdir" production "$copy" >/dev/null 2>&1 || true
out=$(make -C "$kdir" M="$copy" C=2 modules 2>&1 || true)
if grep -E 'warning:|error:' <<<"$out"; then
	echo "sparse: reports above"
	status=1
else
	echo "sparse: clean"
fi
exit $status
