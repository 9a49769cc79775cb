#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: every test of the project, on a fresh Debian 12 machine too.
#
#   1. installs what is missing (deps.sh), checks the ABI layout, builds userspace
#   2. builds the kernels it needs, cached under ~/.cache/vmsr by config
#   3. builds every module flavour with W=1 against 5.10, 6.1, 6.12 and 7.2,
#      and checks that none of them can write an MSR
#   4. make lint
#   5. boots the debug kernels (6.1, 7.2) and Debian's own kernel under TCG
#      and runs KUnit and the kselftests there
#
# Prints one PASS/FAIL/SKIP line per result, then "N passed, N failed,
# N skipped", and exits non-zero on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vm=$top/selftests/vm
export VMSR_CACHE=${VMSR_CACHE:-$HOME/.cache/vmsr}
# VMSR_BUILD lets two checkouts run side by side without sharing build output.
out=${VMSR_BUILD:-$VMSR_CACHE/build}
results=$(mktemp)
trap 'rm -f "$results"' EXIT

record() {
	echo "$*" | tee -a "$results"
}

# step NAME COMMAND...: one result; the command's output is shown on failure.
step() {
	local name=$1 log
	shift
	if log=$("$@" 2>&1); then
		record "PASS $name"
	else
		record "FAIL $name"
		tail -n 60 <<<"$log" | sed 's/^/  /'
	fi
}

summary() {
	local p f s
	p=$(grep -c '^PASS' "$results")
	f=$(grep -c '^FAIL' "$results")
	s=$(grep -c '^SKIP' "$results")
	echo "$p passed, $f failed, $s skipped"
	[ "$f" = 0 ]
}

# A step whose failure makes everything after it meaningless.
need() {
	step "$@"
	tail -n1 "$results" | grep -q '^PASS' || { summary; exit 1; }
}

need deps "$top/selftests/deps.sh"

# Userspace, no kernel needed.
step abi/layout-i386-equals-x86_64 "$top/selftests/abi-check.sh"
step userspace/build make -s -C "$top/userspace" OUT="$out/userspace"

kernel() {	# VERSION FRAGMENT VAR
	local dir
	if dir=$("$vm/kernel-build.sh" "$1" "$vm/$2"); then
		record "PASS kernel/$1-${2%.config}"
		printf -v "$3" %s "$dir"
	else
		record "FAIL kernel/$1-${2%.config}"
		printf -v "$3" %s ""
	fi
}
kernel 7.2 debug.config k72
kernel 6.1 debug.config k61
kernel 5.10 build.config k510
kernel 6.12 build.config k612
mapfile -t deb < <("$vm/debian-kernel.sh")
deb_image=${deb[0]:-} deb_headers=${deb[1]:-}

# Module builds, W=1, warnings fail.
build() {	# LABEL KDIR FLAVOUR
	[ -n "$2" ] || { record "FAIL build/$1/$3 (no kernel tree)"; return; }
	step "build/$1/$3" "$vm/build-module.sh" "$2" "$3" "$out/$1/$3"
}
for f in production emulated; do
	build debian-6.1 "$deb_headers" $f
	build 5.10 "$k510" $f
	build 6.12 "$k612" $f
done
for f in production emulated kunit; do
	build 6.1-debug "$k61" $f
	build 7.2-debug "$k72" $f
done

# No ioctl writes an MSR: no code in any vmsr.ko built above can.
step no-msr-write "$top/selftests/no-msr-write.sh" "$out"/*/{production,emulated}/vmsr.ko

step lint "$top/selftests/lint.sh"

# selftests LABEL KSRC: the kselftest programs, with that tree's harness.
selftests() {
	step "selftests-build/$1" make -s -C "$top/selftests" KSRC="$2" OUT="$out/$1/selftests"
}

# vm LABEL BZIMAGE KO:NAME...: boot it and collect its results.
vmrun() {
	local label=$1 image=$2 initrd=$out/$1/initramfs.cpio.gz
	shift 2
	if ! "$vm/mkinitramfs.sh" "$initrd" "$out/$label/selftests" "$@"; then
		record "FAIL vm/$label (initramfs)"
		return
	fi
	"$vm/run-vm.sh" "$label" "$image" "$initrd" | grep -v '^COUNTS' | tee -a "$results"
}

for v in 7.2 6.1; do
	k=k${v/./}
	[ -n "${!k}" ] || continue
	selftests "$v-debug" "$("$vm/kernel-source.sh" "$v")"
	vmrun "$v-debug" "${!k}/arch/x86/boot/bzImage" \
		"$out/$v-debug/production/vmsr.ko:vmsr.ko" \
		"$out/$v-debug/emulated/vmsr.ko:vmsr-emulated.ko" \
		"$out/$v-debug/kunit/vmsr_kunit.ko:vmsr_kunit.ko"
done

selftests debian-6.1 "$("$vm/kernel-source.sh" 6.1)"
vmrun debian-6.1 "$deb_image" "$out/debian-6.1/production/vmsr.ko:vmsr.ko"

summary
