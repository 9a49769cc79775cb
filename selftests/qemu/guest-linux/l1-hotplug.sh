#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# vCPU hot-plug and hot-unplug under a real guest, run inside the nested-KVM
# VM by l1-init.sh. Prints TAP.
#
# usage: guest-linux-hotplug CPU_MODEL
#
# Debian's kernel boots with one vCPU of two (-smp 1,maxcpus=2,sockets=2)
# and -accel kvm,rapl=on, with l2-init.sh. Once it samples, a vCPU is plugged
# into socket 1 (device_add), which the guest onlines; then unplugged
# (device_del), which the guest's ACPI ejects; then plugged again. QEMU's
# trace must show the vCPU registered with libvmsr, unregistered and
# registered again, and the guest must sample on through it all.
cpu=$1
dir=/tmp/hotplug-$(echo "$cpu" | tr ',=' '__')
type=${cpu%%,*}-x86_64-cpu
mkdir -p "$dir"
mkfifo "$dir/qmp.in" "$dir/qmp.out"
exec 5<>"$dir/qmp.in"

qemu-system-x86_64 -M pc -m 256 -smp 1,maxcpus=2,sockets=2 \
	-cpu "$cpu" -accel kvm,rapl=on -nodefaults -no-user-config \
	-display none -no-reboot -L /share/qemu \
	-kernel /lib/vmsr/l2-vmlinuz -initrd /lib/vmsr/l2-initramfs.cpio.gz \
	-append "console=ttyS0 loglevel=4 panic=-1" \
	-serial "file:$dir/console" -serial "file:$dir/out" \
	-qmp "pipe:$dir/qmp" -trace rapl_vmsr_add_vcpu -trace rapl_vmsr_remove_vcpu \
	-D "$dir/trace" 2>"$dir/err" &
pid=$!
cat "$dir/qmp.out" >"$dir/qmp.log" &
reader=$!

qmp() {	# COMMAND
	echo "$1" >&5
}

# until_true COMMAND...: wait until COMMAND succeeds while QEMU runs. The
# limit only keeps a guest that hangs from hanging the VM.
until_true() {
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -le 300 ] && kill -0 "$pid" 2>/dev/null || return 1
		sleep 1
	done
}

count() {	# FILE PATTERN: its lines that match, without carriage returns
	n=$(tr -d '\r' <"$1" 2>/dev/null | grep -c "$2")
	echo "${n:-0}"
}

# samples_after N: the guest printed two samples since its line N.
samples_after() {
	[ "$(tail -n +"$(($1 + 1))" "$dir/out" | grep -c '^sample ')" -ge 2 ]
}

online_is() {	# LIST
	[ "$(grep '^cpus: ' "$dir/out" | tail -n 1 | tr -d '\r')" = "cpus: online=$1" ]
}

plug() {
	qmp '{"execute": "device_add", "arguments": {"driver": "'"$type"'", "id": "hot1", "socket-id": 1, "core-id": 0, "thread-id": 0}}'
}

qmp '{"execute": "qmp_capabilities"}'
ok=0
until_true grep -q '^### follow' "$dir/out" &&
	plug && until_true online_is 0-1 &&
	mark=$(wc -l <"$dir/out") && until_true samples_after "$mark" &&
	qmp '{"execute": "device_del", "arguments": {"id": "hot1"}}' &&
	until_true grep -q '"DEVICE_DELETED".*"hot1"' "$dir/qmp.log" &&
	until_true online_is 0 &&
	mark=$(wc -l <"$dir/out") && until_true samples_after "$mark" &&
	plug && until_true online_is 0-1 &&
	mark=$(wc -l <"$dir/out") && until_true samples_after "$mark" || ok=1
qmp '{"execute": "query-cpus-fast"}'
qmp '{"execute": "quit"}'
wait "$pid"
sleep 1
kill "$reader" 2>/dev/null
wait

echo "TAP version 13"
echo "1..6"
n=0
result() {	# NAME STATUS
	n=$((n + 1))
	if [ "$2" = 0 ]; then echo "ok $n $1"; else echo "not ok $n $1"; fi
}
result plug_unplug_replug_ran_through "$ok"
[ "$(count "$dir/trace" 'rapl_vmsr_add_vcpu vcpu=1 .* ret=0')" = 2 ]
result plugged_vcpu_registers_twice $?
[ "$(count "$dir/trace" 'rapl_vmsr_remove_vcpu vcpu=1')" = 1 ]
result unplugged_vcpu_unregisters $?
[ "$(count "$dir/out" '^cpus: online=0-1')" = 2 ] && [ "$(count "$dir/out" '^cpus: online=0$')" -ge 1 ]
result guest_onlined_and_ejected_it $?
grep -q '"DEVICE_DELETED".*"hot1"' "$dir/qmp.log"
result unplug_completed $?
! grep -q 'rapl' "$dir/err"
result no_rapl_warning $?
echo "guest-linux-hotplug: cpu=$cpu plugged=$(count "$dir/trace" 'rapl_vmsr_add_vcpu vcpu=1 .* ret=0')" \
	"unplugged=$(count "$dir/trace" 'rapl_vmsr_remove_vcpu vcpu=1')"
if [ "$ok" != 0 ]; then
	for f in trace qmp.log err out; do
		grep -v "doesn't support requested feature" "$dir/$f" | tail -n 30 |
			sed "s|^|# REPORT $f: |"
	done
	tail -n 40 "$dir/console" | sed "s|^|# REPORT console: |"
fi
