#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# One guest CPU model, run inside the nested-KVM VM by l1-init.sh. Prints TAP.
#
# usage: guest-linux-test CPU_MODEL
#
# Debian's kernel boots as the guest of the patched QEMU (-accel
# kvm,rapl=true) with l2-init.sh as its /init, which loads its RAPL drivers,
# measures a burn with powercap, perf and turbostat, then samples energy_uj.
# Meanwhile a second QEMU waits with -incoming; once the guest samples, it
# is migrated there over a unix socket, and both QEMUs are stopped after the
# destination has sampled too. check.awk judges the lot.
cpu=$1
dir=/tmp/guest-linux-$(echo "$cpu" | tr ',=' '__')
mkdir -p "$dir"

# l2 ROLE FD QEMU_ARGS...: a QEMU for the guest in the background, with its
# QMP monitor on the fifos ROLE.qmp.in, held open read-write as FD so that
# commands never wait for QEMU to open it, and ROLE.qmp.out; its output files
# are ROLE.{console,out,err,trace,qemu-trace,qmp.log}.
l2() {
	role=$1 fd=$2
	shift 2
	mkfifo "$dir/$role.qmp.in" "$dir/$role.qmp.out"
	eval "exec $fd<>\"\$dir/\$role.qmp.in\""
	eval "${role}_fd=$fd"
	LIBVMSR_TRACE=$dir/$role.trace qemu-system-x86_64 -M pc -m 256 -smp 1 \
		-cpu "$cpu" -accel kvm,rapl=true -nodefaults -no-user-config \
		-display none -no-reboot -L /share/qemu \
		-kernel /lib/vmsr/l2-vmlinuz -initrd /lib/vmsr/l2-initramfs.cpio.gz \
		-append "console=ttyS0 loglevel=4 panic=-1" \
		-serial "file:$dir/$role.console" -serial "file:$dir/$role.out" \
		-qmp "pipe:$dir/$role.qmp" -trace rapl_vmsr_tick -trace rapl_vmsr_rdmsr \
		-D "$dir/$role.qemu-trace" "$@" 2>"$dir/$role.err" &
	eval "${role}_pid=$!"
	cat "$dir/$role.qmp.out" >"$dir/$role.qmp.log" &
	readers="$readers $!"
	qmp "$role" '{"execute": "qmp_capabilities"}'
}

qmp() {	# ROLE COMMAND
	eval "echo \"\$2\" >&\$${1}_fd"
}

# until_true PID COMMAND...: wait until COMMAND succeeds, while process PID
# (a QEMU) runs. The limit only keeps a guest that hangs from hanging the VM.
until_true() {
	pid=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -le 600 ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
	done
}

has_lines() {	# FILE PATTERN COUNT
	n=$(grep -c "$2" "$1" 2>/dev/null)
	[ "${n:-0}" -ge "$3" ]
}

report() {	# FILE
	sed "s|^|# REPORT ${1##*/}: |" "$1" 2>/dev/null
}

echo "TAP version 13"
echo "1..7"

l2 source 5
l2 dest 6 -incoming "unix:$dir/migrate.sock"

until_true "$source_pid" has_lines "$dir/source.out" '^sample ' 3 &&
	until_true "$dest_pid" test -S "$dir/migrate.sock" &&
	qmp source '{"execute": "migrate", "arguments": {"uri": "unix:'"$dir"'/migrate.sock"}}' &&
	until_true "$dest_pid" has_lines "$dir/dest.out" '^sample ' 3
qmp source '{"execute": "query-migrate"}'
qmp source '{"execute": "quit"}'
qmp dest '{"execute": "quit"}'
wait "$source_pid" "$dest_pid"
# A QEMU that failed before it opened its QMP fifo leaves its reader blocked.
sleep 1
kill $readers 2>/dev/null
wait
# A QEMU that never started wrote none of these: check.awk says what is missing.
touch "$dir/source.out" "$dir/dest.out" "$dir/source.console" "$dir/dest.console" \
	"$dir/source.trace" "$dir/source.qemu-trace" "$dir/source.qmp.log"

# What the guest's drivers printed, for the record: all but the samples.
grep -v '^sample ' "$dir/source.out" | tr -d '\r' >"$dir/shown"
echo "first and last samples: $(grep -h '^sample ' "$dir/source.out" "$dir/dest.out" |
	tr -d '\r' | sed -n '1p;$p' | tr '\n' ' ')" >>"$dir/shown"
report "$dir/shown"

migration=$(grep -o '"status": "[a-z-]*"' "$dir/source.qmp.log" | tail -n 1 | cut -d'"' -f4)
checks=$(awk -v cpu="$cpu" -v migration="${migration:-none}" -f /lib/vmsr/fields.awk -f /lib/vmsr/guest-linux-check.awk \
	"$dir/source.out" "$dir/dest.out" "$dir/source.trace" "$dir/source.qemu-trace")
echo "$checks"
if echo "$checks" | grep -q '^not ok' || [ "$(echo "$checks" | grep -c '^ok')" != 7 ]; then
	for f in source.err dest.err; do
		grep -v "doesn't support requested feature" "$dir/$f" >"$dir/$f.shown"
		report "$dir/$f.shown"
	done
	report "$dir/source.qmp.log"
	report "$dir/dest.qmp.log"
	for f in source.console dest.console; do
		tail -n 30 "$dir/$f" >"$dir/$f.tail"
		report "$dir/$f.tail"
	done
	exit 1
fi
