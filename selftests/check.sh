#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make check: every test of the project, on a fresh Debian 12 machine too.
#
#   1. installs what is missing (deps.sh), checks the ABI layout, builds userspace,
#      runs its host unit tests under ASan and UBSan, and checks libvmsr's ABI
#   2. builds the kernels it needs, cached under ~/.cache/vmsr by config,
#      and the project's QEMU: the series in userspace/qemu/ plus the test
#      patch that gives TCG CPUs RAPL registers (selftests/qemu/), which
#      boots every VM below; and the series alone, checkpatch-clean and
#      built at every patch
#   3. builds the module (and the KUnit one) with W=1 against 5.10, 6.1,
#      6.12 (Debian's bookworm-backports headers) and 7.2, and checks that
#      it cannot write an MSR
#   4. make lint
#   5. boots the debug kernels (6.1, 7.2) and Debian's own kernel under TCG
#      on Intel (two packages), AMD and RAPL-less CPU models, and runs
#      KUnit and the kselftests there against the production module, and
#      compares its energy with Linux's own RAPL driver
#   6. packaging: make install into a DESTDIR; DKMS against Debian's 6.1
#      headers (installed) and 6.12 headers (bookworm-backports, unpacked);
#      make deb, lintian, and the packages installed and purged; a VM that
#      boots Debian's kernel like a host with vmsr installed (udev loads vmsr
#      on a CPU with RAPL and not on one without, the udev rule, vmsrstat
#      for group kvm). DKMS and dpkg act on the machine itself, as root, and
#      undo what they did.
#   7. make bench's short smoke run, which only checks that it works; the
#      exporter's package as a systemd service in a Debian VM, scraped by
#      Debian's Prometheus (selftests/exporter/)
#   8. runs the patched QEMU with KVM inside a TCG VM, with a multiboot
#      guest and with Debian's kernel as the guest (selftests/qemu/)
#
# Prints one PASS/FAIL/SKIP line per result, then "N passed, N failed,
# N skipped", and exits non-zero on any failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
vm=$top/selftests/vm
kernels=$vm/kernels
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
# libvmsr's and vmsrstat's host unit tests, under ASan and UBSan, with the
# kselftest harness of the 7.2 tree; one line per test (TAP turned into
# PASS/FAIL/SKIP libvmsr/FIXTURE.TEST). Then the ABI against its baseline.
unit_tests() {
	local t rc
	for t in sampler_test account_test registry_test report_test vmsrstat_test; do
		(cd "$top/userspace" && VMSR_TEST_DATA=tests/data \
			VMSRSTAT="$out/userspace/san/vmsrstat-fake" \
			VMSR_WORKLOAD="$out/userspace/san/workload" "$out/userspace/san/$t" 2>&1) |
			awk '
			/^ok .* # SKIP/ { sub(/^ok [0-9]+ /, ""); print "SKIP libvmsr/" $0; next }
			/^ok / { print "PASS libvmsr/" $3; next }
			/^not ok / { print "FAIL libvmsr/" $4; next }
			/^# / && !/^# (Starting|PASSED|FAILED|Totals)|^# +(RUN|OK) / { print "  " $0 }' |
			tee -a "$results"
		rc=${PIPESTATUS[0]}
		[ "$rc" = 0 ] || record "FAIL libvmsr/$t (exit status $rc)"
	done
}
if ! ksrc=$("$kernels/kernel-source.sh" 7.2); then
	record "FAIL libvmsr/unit-tests (no kernel tree for kselftest_harness.h)"
else
	step userspace/unit-tests-build make -s -C "$top/userspace" OUT="$out/userspace" \
		KSRC="$ksrc" tests
	tail -n1 "$results" | grep -q '^PASS' && unit_tests
fi
# vmsr_exporter: its host unit tests (ASan, UBSan, kselftest harness), the
# built exporter on this host without /dev/vmsr, and its Grafana dashboard.
if [ -n "${ksrc:-}" ] &&
   step exporter/unit-tests-build make -s -C "$top/userspace" OUT="$out/userspace" \
	KSRC="$ksrc" exporter-test &&
   tail -n1 "$results" | grep -q '^PASS'; then
	"$out/userspace/san/exporter_test" 2>&1 |
		awk '/^ok / { print "PASS exporter/unit." $3; next }
		     /^not ok / { print "FAIL exporter/unit." $4; next }
		     /^# / && !/^# (Starting|PASSED|FAILED|Totals)|^# +(RUN|OK) / { print "  " $0 }' |
		tee -a "$results"
	[ "${PIPESTATUS[0]}" = 0 ] || record "FAIL exporter/unit-tests (exit status)"
fi
"$top/selftests/exporter/host-check.sh" "$out/userspace" | tee -a "$results"
step exporter/dashboard-queries-parse "$top/selftests/exporter/dashboard-check.sh"
step libvmsr/abi-check make -s -C "$top/userspace" OUT="$out/userspace" abi-check
step libvmsr/rules-name-existing-tests make -s -C "$top/userspace" spec-check
step install/destdir-pkgconfig "$top/selftests/packaging/install-check.sh"
# A man page for every exported function; mandoc -Tlint clean; examples compile.
step man/pages-lint-examples "$top/selftests/packaging/man-check.sh"

kernel() {	# VERSION FRAGMENT VAR
	local dir
	if dir=$("$kernels/kernel-build.sh" "$1" "$kernels/$2"); then
		record "PASS kernel/$1-${2%.config}"
		printf -v "$3" %s "$dir"
	else
		record "FAIL kernel/$1-${2%.config}"
		printf -v "$3" %s ""
	fi
}
# The Debian roots of the exporter's and libvirt's VMs are mostly a
# download: debootstrap them while the kernels build. Their VMs below call
# the same scripts, which then find them built, or report what failed.
mkdir -p "$out"
"$top/selftests/exporter/root.sh" >"$out/exporter-root.log" 2>&1 &
roots=($!)
"$top/selftests/libvirt/root.sh" >"$out/libvirt-root.log" 2>&1 &
roots+=($!)
kernel 7.2 debug.config k72
kernel 6.1 debug.config k61
kernel 5.10 build.config k510
wait "${roots[@]}" || true
mapfile -t deb < <("$kernels/debian-kernel.sh")
deb_image=${deb[0]:-} deb_headers=${deb[1]:-}

# The QEMU series (userspace/qemu/) and the test patch apply with git am to
# the pinned QEMU, and the result builds; it boots every VM below.
if VMSR_QEMU=$("$top/selftests/qemu/build-qemu.sh" "$out/qemu" 2>"$out/qemu-build.log"); then
	record "PASS qemu/build"
	export VMSR_QEMU
else
	record "FAIL qemu/build"
	tail -n 40 "$out/qemu-build.log" | sed 's/^/  /'
	summary
	exit 1
fi

# The series alone, as QEMU's maintainers would take it: checkpatch.pl and
# a build (KVM, libvmsr, qemu-vmsr-helper) at every patch. The build has
# ASan; the last one runs in the nested tests below (guest-multiboot.sh).
"$top/selftests/qemu/series-each.sh" "$out/qemu" 2>"$out/qemu-series.log" | tee -a "$results"
[ "${PIPESTATUS[0]}" = 0 ] || grep -q '^FAIL qemu-series/' "$results" ||
	{ record "FAIL qemu-series (setup)"; tail -n 20 "$out/qemu-series.log" | sed 's/^/  /'; }
export VMSR_QEMU_ASAN=$out/qemu/qemu-system-x86_64-asan

# Module builds, W=1, warnings fail.
build() {	# LABEL KDIR FLAVOUR
	[ -n "$2" ] || { record "FAIL build/$1/$3 (no kernel tree)"; return; }
	step "build/$1/$3" "$kernels/build-module.sh" "$2" "$3" "$out/$1/$3"
}
# 6.12 is Debian's own, bookworm-backports' headers; DKMS uses them too.
bpo=$("$kernels/debian-headers.sh" bookworm-backports) || bpo=
build debian-6.1 "$deb_headers" production
build 5.10 "$k510" production
build debian-6.12 "$bpo" production
for f in production kunit; do
	build 6.1-debug "$k61" $f
	build 7.2-debug "$k72" $f
done

# No ioctl writes an MSR: no code in any vmsr.ko built above can.
step no-msr-write "$top/selftests/no-msr-write.sh" "$out"/*/production/vmsr.ko

step lint "$top/selftests/lint.sh"

# selftests LABEL KSRC: the kselftest programs, with that tree's harness, and
# the static userspace programs the VM runs.
selftests() {
	step "selftests-build/$1" make -s -C "$top/selftests" KSRC="$2" OUT="$out/$1/selftests"
	step "userspace-build/$1" make -s -C "$top/userspace" STATIC=1 OUT="$out/$1/selftests"
}

# vmrun LABEL BZIMAGE KO:NAME...: boot it and collect its results. The
# programs are selftests' for LABEL up to its first '+' (debian-6.1+amd runs
# debian-6.1's); VMSR_CPU and VMSR_SMP pick the CPU (boot.sh).
vmrun() {
	local label=$1 image=$2 initrd=$out/$1/initramfs.cpio.gz
	shift 2
	mkdir -p "$out/$label"
	if ! "$vm/mkinitramfs.sh" "$initrd" "$out/${label%%+*}/selftests" "$@"; then
		record "FAIL vm/$label (initramfs)"
		return
	fi
	"$vm/run-vm.sh" "$label" "$image" "$initrd" | grep -v '^COUNTS' | tee -a "$results"
}

# The CPU models (QEMU's x-rapl-* knobs: docs/testing-rapl-emu.md). Energy
# in 2^-25 J steps wraps every few seconds, for the wrap test; 0x610 faults,
# for the -EIO tests.
intel_cpu=Skylake-Server,x-rapl-emu=on
amd_cpu=EPYC-Rome,x-rapl-emu=on
declare -A debug_cpu=(
	[7.2]=$intel_cpu,x-rapl-energy-unit=25,x-rapl-fault-msr=0x610
	[6.1]=$amd_cpu,x-rapl-energy-unit=25
)
for v in 7.2 6.1; do
	k=k${v/./}
	[ -n "${!k}" ] || continue
	selftests "$v-debug" "$("$kernels/kernel-source.sh" "$v")"
	VMSR_CPU=${debug_cpu[$v]} vmrun "$v-debug" "${!k}/arch/x86/boot/bzImage" \
		"$out/$v-debug/production/vmsr.ko:vmsr.ko" \
		"$out/$v-debug/kunit/vmsr_kunit.ko:vmsr_kunit.ko"
done

# A VM with sched_clock stable (under TCG the TSC is unsynchronized, so the
# VMs above run with it unstable; tsc=reliable makes the kernel trust it) and
# CPU 3 isolated: vmsr_fresh_test again, and vmsr_ipi_test.
cmdline_vm() {	# LABEL BZIMAGE
	local label=$1-cmdline initrd=$out/$1/initramfs-cmdline.cpio.gz
	if ! VMSR_INIT=$vm/init/cmdline-init.sh "$vm/mkinitramfs.sh" "$initrd" "$out/$1/selftests" \
		"$out/$1/production/vmsr.ko:vmsr.ko"; then
		record "FAIL vm/$label (initramfs)"
		return
	fi
	VMSR_APPEND="tsc=reliable isolcpus=3 nohz_full=3" \
		"$vm/run-vm.sh" "$label" "$2" "$initrd" | grep -v '^COUNTS' | tee -a "$results"
}
for v in 7.2 6.1; do
	k=k${v/./}
	[ -n "${!k}" ] || continue
	cmdline_vm "$v-debug" "${!k}/arch/x86/boot/bzImage"
done

# Debian's kernel has Linux's RAPL driver, for the comparison (init.sh).
# Two packages of two dies each: RAPL is die-scoped there (Cascade Lake-AP).
selftests debian-6.1 "$("$kernels/kernel-source.sh" 6.1)"
deb_mods=${deb_image%/boot/*}/lib/modules/${deb_image##*/vmlinuz-}/kernel
rapl_kos=("$deb_mods/drivers/powercap/intel_rapl_common.ko:intel_rapl_common.ko"
	  "$deb_mods/drivers/powercap/intel_rapl_msr.ko:intel_rapl_msr.ko")
VMSR_CPU=$intel_cpu,x-rapl-fault-msr=0x614 VMSR_SMP=4,sockets=2,dies=2 \
	vmrun debian-6.1 "$deb_image" "$out/debian-6.1/production/vmsr.ko:vmsr.ko" "${rapl_kos[@]}"
VMSR_CPU=$amd_cpu vmrun debian-6.1+amd "$deb_image" \
	"$out/debian-6.1/production/vmsr.ko:vmsr.ko" "${rapl_kos[@]}"
# A CPU without RAPL: the "no RAPL" answers.
VMSR_CPU=Skylake-Server vmrun debian-6.1+no-rapl "$deb_image" \
	"$out/debian-6.1/production/vmsr.ko:vmsr.ko" "${rapl_kos[@]}"
cmdline_vm debian-6.1 "$deb_image"

# Packaging. DKMS builds for Debian's headers by kernel release, passed
# explicitly: the machine's own kernel is not Debian's.
version=$(cat "$top/VERSION")
kver=${deb_headers##*/linux-headers-}
dkms_check="$top/selftests/packaging/dkms-check.sh"
step "dkms/add-build-install-remove-$kver" "$dkms_check" install "$kver"
step "dkms/kernel-update-hook-$kver" "$dkms_check" kernel-update "$kver"
step dkms/refuses-aarch64 "$dkms_check" arch "$kver"
if [ -n "$bpo" ]; then
	step "dkms/build-${bpo##*/linux-headers-}" "$dkms_check" headers \
		"${bpo##*/linux-headers-}" "$bpo"
else
	record "FAIL dkms/bookworm-backports (no headers)"
fi

step deb/build make -s -C "$top" deb DEB_OUT="$out/deb"
# Every tag lintian can show, pedantic and informational ones included, fails
# unless debian/*.lintian-overrides justifies it.
step deb/lintian lintian --pedantic --display-info --fail-on error,warning,info,pedantic \
	"$out/deb/vmsr_${version}_amd64.changes"
step deb/install-purge "$top/selftests/packaging/deb-check.sh" "$out/deb" "$kver"

# A VM that boots Debian's kernel like a host with vmsr installed: udev
# loads vmsr at boot on CPUs with RAPL, Intel (by model) and AMD (by the
# CPUID bit), and not on EPYC-Rome without x-rapl-emu, which lacks the bit.
hostvm() {
	local label=debian-6.1-host root=$out/debian-6.1-host/root
	local initrd=$out/debian-6.1-host/initramfs.cpio.gz
	if ! "$top/selftests/packaging/host-root.sh" "$root" "$out/debian-6.1/production/vmsr.ko" \
		"${deb_image%/boot/*}/lib/modules/$kver" ||
	   ! VMSR_INIT=$vm/init/host-init.sh VMSR_OVERLAY=$root "$vm/mkinitramfs.sh" "$initrd" ''; then
		record "FAIL vm/$label (root, initramfs)"
		return
	fi
	VMSR_CPU=$intel_cpu "$vm/run-vm.sh" "$label" "$deb_image" "$initrd" |
		grep -v '^COUNTS' | tee -a "$results"
	VMSR_CPU=$amd_cpu "$vm/run-vm.sh" "$label+amd" "$deb_image" "$initrd" |
		grep -v '^COUNTS' | tee -a "$results"
	VMSR_CPU=EPYC-Rome VMSR_APPEND=VMSR_AUTOLOAD=no \
		"$vm/run-vm.sh" "$label+no-rapl" "$deb_image" "$initrd" |
		grep -v '^COUNTS' | tee -a "$results"
}
hostvm

# The exporter's package, as a systemd service in a Debian 12 VM, scraped by
# Debian's Prometheus (selftests/exporter/vm.sh). Energy from the VM's CPU
# (boot.sh's default model, with x-rapl-emu).
exporter_vm() {
	local ko=$out/debian-6.1/production/vmsr.ko
	if [ ! -e "$ko" ] || [ ! -e "$out/deb/prometheus-vmsr-exporter_${version}_amd64.deb" ]; then
		record "FAIL vm/exporter (no module or no package)"
		return
	fi
	"$top/selftests/exporter/vm.sh" "$deb_image" "${deb_image%/boot/*}/lib/modules/$kver" \
		"$ko" "$out/deb" "$out/exporter-vm" 2>"$out/exporter-vm.log" |
		grep -v '^COUNTS' | tee -a "$results"
	[ "${PIPESTATUS[0]}" = 0 ] || grep -q '^FAIL exporter/' "$results" ||
		{ record "FAIL vm/exporter (setup)"; tail -n 20 "$out/exporter-vm.log" | sed 's/^/  /'; }
}
exporter_vm
# The benchmark never fails on speed: only on not running to its last line.
step bench/smoke "$vm/bench.sh" --smoke

# The patched QEMU with KVM, inside a TCG VM that has SVM and RAPL
# registers: the multiboot guest that checks every register against QEMU's
# trace (guest-multiboot.sh), then Debian's kernel as the guest, reading its
# energy with its own drivers and turbostat across a migration
# (guest-linux.sh).
nested() {	# NAME SCRIPT
	"$top/selftests/qemu/$2" "$deb_image" "$out/debian-6.1/production/vmsr.ko" "$VMSR_QEMU" \
		"$out/$1" | grep -v '^COUNTS' | tee -a "$results"
	[ "${PIPESTATUS[0]}" = 0 ] || grep -q "^FAIL $1/" "$results" ||
		record "FAIL $1 (setup)"
}
nested qemu-e2e guest-multiboot.sh
nested guest-linux guest-linux.sh
# Debian 12's libvirt starts that guest with the patched QEMU, set up as
# docs/libvirt.md says (selftests/libvirt/).
nested libvirt ../libvirt/vm.sh

summary
