# SPDX-License-Identifier: GPL-2.0-only
#
# What the tests that run inside the nested-KVM VM share (l1-test.sh,
# l1-helper-test.sh): QEMU's command line for the multiboot guest, the TAP
# helpers, the checks, and the users and groups. Sourced.

guest_args="-M pc -m 32 -nodefaults -no-user-config -display none \
	-no-reboot -L /share/qemu -kernel /lib/vmsr/rapl-guest.elf \
	-device isa-debug-exit,iobase=0xf4,iosize=4"
# Two sockets of one vCPU: the guest runs on vCPU 0 only, so its values must
# be socket 0's in the trace.
smp="-smp 2,sockets=2"
intel_cpu="Skylake-Server,vendor=GenuineIntel"
amd_cpu="EPYC-Rome"
trace="-trace rapl_vmsr_tick -trace rapl_vmsr_rdmsr -trace rapl_vmsr_add_vcpu"
# The guest writes 0x10 to isa-debug-exit when done: QEMU exits with 33.
done_rc=33
# Leaks are reported, QEMU's exit status stays the guest's. QEMU is built
# without frame pointers: the slow unwinder sees whole allocation stacks.
export ASAN_OPTIONS=detect_leaks=1:exitcode=0:fast_unwind_on_malloc=0
n=0
fails=0

result() {	# NAME STATUS
	n=$((n + 1))
	if [ "$2" = 0 ]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		fails=$((fails + 1))
	fi
}

skip() {	# NAME REASON
	n=$((n + 1))
	echo "ok $n $1 # SKIP $2"
}

report() {	# RUN
	cat "$1" "$1.err" 2>/dev/null | sed "s|^|# REPORT ${1##*/}: |"
}

# qemu RUN USER ARGS...: the guest as USER (run by $wrap, if set, a command
# that ends by running its arguments), stopped after $limit seconds (180 if
# unset), by the QEMU binary $qemu_bin (qemu-system-x86_64 if unset). Its
# serial output goes to RUN, QEMU's stderr to RUN.err, the trace to
# RUN.trace. Returns QEMU's status.
qemu() {
	run=$1 user=$2
	shift 2
	${wrap:-} su "$user" -s /bin/sh -c "timeout ${limit:-180} ${qemu_bin:-qemu-system-x86_64} $guest_args \
		$trace -D $run.trace -serial file:$run $*" 2>"$run.err"
	rc=$?
	report "$run"
	return $rc
}

# check RUN LAYOUT LABEL [AWK_ARGS...]: check.awk's results for a guest that
# ran; AWK_ARGS (-v NAME=VALUE) for the helper backend.
check() {
	run=$1 layout=$2 label=$3
	shift 3
	out=$(awk -v first=$((n + 1)) -v expect_layout="$layout" -v label="$label" "$@" \
		-f /lib/vmsr/fields.awk -f /lib/vmsr/guest-multiboot-check.awk "$run" "$run.trace")
	echo "$out"
	total=$(echo "$out" | grep -c '^ok\|^not ok')
	got=$(echo "$out" | grep -c '^ok')
	n=$((n + total))
	fails=$((fails + total - got))
}

# stopped RUN: QEMU ran until $limit stopped it (SIGTERM, which it obeys
# with status 0 and these words).
stopped() {
	grep -q 'terminating on signal 15' "$1.err"
}

# refused RUN PATTERN: QEMU did not run the guest and said PATTERN.
refused() {
	[ "$rc" != $done_rc ] && grep -q "$2" "$1.err"
}

# without_rapl RUN PATTERN: a "probe" guest (RUN) ran to its end and saw
# what the one with rapl=off saw (/tmp/off), QEMU traced no RAPL tick, and
# its only line about rapl is one warning that matches PATTERN.
without_rapl() {
	seen=$(grep '^rapl: layout=' "$1")
	off=$(grep '^rapl: layout=' /tmp/off)
	lines=$(grep -c rapl "$1.err")
	if [ "$rc" != $done_rc ] || ! grep -q '^rapl: done' "$1"; then
		echo "# ${1##*/}: the guest did not run to its end (QEMU's status $rc)"
	elif [ -z "$seen" ] || [ "$seen" != "$off" ]; then
		echo "# ${1##*/}: the guest saw '$seen', with rapl=off '$off'"
	elif grep -q rapl_vmsr_tick "$1.trace"; then
		echo "# ${1##*/}: QEMU sampled RAPL"
	elif [ "$lines" != 1 ] || ! grep -q "warning: rapl: .*$2" "$1.err"; then
		echo "# ${1##*/}: $lines lines about rapl; expected one warning: $2"
	else
		return 0
	fi
	return 1
}

mkdir -p /etc
cat >/etc/passwd <<EOF
root:x:0:0::/:/bin/sh
vmsr:x:1000:1000::/tmp:/bin/sh
other:x:1001:1001::/tmp:/bin/sh
EOF
printf '%s\n' 'root:x:0:' 'kvm:x:36:vmsr' >/etc/group
chmod 0666 /dev/kvm
chmod 1777 /tmp


# The series as proposed, built with ASan by series-each.sh, if the VM has it.
asan_qemu=$(command -v qemu-system-x86_64-asan)

# asan_findings RUN...: what ASan reported on the runs' stderr. Prints each
# leak that went through the RAPL code (rapl_vmsr.c, vmsr_energy.c, the
# helper backend's thread in kvm.c, libvmsr) as REPORT lines, then
# "errors=E leaks=L rapl_leaks=R". QEMU leaves some of its own objects
# unfreed at exit; those count in L only.
asan_findings() {
	for run in "$@"; do
		cat "$run.err"
	done | awk '
	function flush(i) {
		if (ours) {
			rapl++
			for (i = 0; i < nlines; i++)
				print "# REPORT asan: " lines[i]
		}
		nlines = 0
		ours = 0
	}
	/ERROR: AddressSanitizer/ { errors++; print "# REPORT asan: " $0 }
	/^(Direct|Indirect) leak/ { flush(); leaks++; lines[nlines++] = $0; next }
	nlines && /^ *#[0-9]+ / {
		lines[nlines++] = $0
		if ($4 ~ /^(rapl_|vmsr_|kvm_msr_energy)/)
			ours = 1
		next
	}
	{ flush() }
	END {
		flush()
		printf "errors=%d leaks=%d rapl_leaks=%d\n", errors, leaks, rapl
	}'
}
