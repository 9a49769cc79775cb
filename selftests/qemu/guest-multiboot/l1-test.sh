#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The QEMU end-to-end test with the multiboot guest, run inside the
# nested-KVM VM by l1-init.sh. Prints TAP, one "qemu-e2e: backend=B cpu=C ..."
# line per guest checked against QEMU's trace, and the guest's serial output
# and QEMU's messages as REPORT lines.
#
# libvmsr backend:
#   an Intel-model and an AMD-model guest, neither backend named (libvmsr on
#   /dev/vmsr) and rapl-device named; each checked by check.awk
#   a descriptor passed with -add-fd to a user who may not open /dev/vmsr;
#   both backends named; -global kvm-accel.rapl=on; /dev/vmsr removed while QEMU runs; a vCPU
#   hot-plugged beyond the boot count; migration to a second QEMU, and the
#   streams with and without RAPL that each side accepts or refuses
# the test bed's x-rapl-emu (test-only) refused under KVM
# a device QEMU cannot use: the guest runs as with rapl=off, and QEMU prints
#   one warning that names the cause: a descriptor that is not /dev/vmsr, the
#   node's mode and group, no node with the module loaded (libvirt's private
#   /dev), no module (a stale node, no node), the device cgroup (EPERM),
#   AppArmor (EACCES although the mode lets QEMU in)
# qemu-vmsr-helper backend, as root as upstream runs it: Intel hosts only
# ASan: none of QEMU's runs reported an error or a leak

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
# Leaks are reported, QEMU's exit status stays the guest's.
export ASAN_OPTIONS=detect_leaks=1:exitcode=0
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
# that ends by running its arguments). Its serial output goes to RUN,
# QEMU's stderr to RUN.err, the trace to RUN.trace. Returns QEMU's status.
qemu() {
	run=$1 user=$2
	shift 2
	${wrap:-} su "$user" -s /bin/sh -c "timeout 180 qemu-system-x86_64 $guest_args \
		$trace -D $run.trace -serial file:$run $*" 2>"$run.err"
	rc=$?
	report "$run"
	return $rc
}

# check RUN LAYOUT LABEL: check.awk's results for a guest that ran.
check() {
	out=$(awk -v first=$((n + 1)) -v expect_layout="$2" -v label="$3" \
		-f /lib/vmsr/fields.awk -f /lib/vmsr/guest-multiboot-check.awk "$1" "$1.trace")
	echo "$out"
	got=$(echo "$out" | grep -c '^ok')
	n=$((n + 6))
	fails=$((fails + 6 - got))
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

echo "TAP version 13"

# --- the libvmsr backend, on both guest layouts
qemu /tmp/intel root $smp -cpu $intel_cpu -accel kvm,rapl=on
[ $? = $done_rc ]
result libvmsr_intel_guest_ran $?
check /tmp/intel intel "backend=libvmsr cpu=Skylake-Server"

qemu /tmp/amd root $smp -cpu $amd_cpu -accel kvm,rapl=on,rapl-device=/dev/vmsr
[ $? = $done_rc ]
result libvmsr_amd_guest_ran $?
check /tmp/amd amd "backend=libvmsr cpu=EPYC-Rome"

# --- a passed descriptor, to a user who may not open /dev/vmsr
chmod 0600 /dev/vmsr
qemu /tmp/fd other $smp -cpu $amd_cpu -add-fd fd=5,set=2 \
	-accel kvm,rapl=on,rapl-device=/dev/fdset/2 5<>/dev/vmsr
[ $? = $done_rc ]
result passed_fd_runs $?
check /tmp/fd amd "backend=libvmsr-fd cpu=EPYC-Rome"

# --- a device QEMU cannot use: the VM runs without RAPL, one warning says why
# What the guest sees with rapl=off, which the guests below must see too.
qemu /tmp/off root $smp -cpu $amd_cpu -accel kvm -append probe
rc=$?
[ $rc = $done_rc ] && grep -q '^rapl: layout=amd cpuid_rapl=0' /tmp/off &&
	grep -q '^rapl: layout=amd cpuid_rapl=1' /tmp/amd
result rapl_off_guest_sees_no_rapl $?

qemu /tmp/notvmsr other $smp -cpu $amd_cpu -add-fd fd=5,set=2 -append probe \
	-accel kvm,rapl=on,rapl-device=/dev/fdset/2 5<>/dev/null
rc=$?
without_rapl /tmp/notvmsr '/dev/fdset/2 is not /dev/vmsr .*-add-fd'
result passed_fd_not_vmsr_runs_without_rapl $?

# --- bad choices and a device QEMU cannot have
qemu /tmp/both root $smp -accel kvm,rapl=on,rapl-device=/dev/vmsr,rapl-helper-socket=/tmp/h.sock
refused /tmp/both 'rapl-helper-socket (qemu-vmsr-helper) and rapl-device (libvmsr) exclude each other'
result both_backends_is_an_error $?

# The test bed's RAPL model (x-rapl-emu, a test-only patch) is for TCG only.
qemu /tmp/emu-under-kvm root $smp -cpu $amd_cpu,x-rapl-emu=on -accel kvm
refused /tmp/emu-under-kvm 'x-rapl-emu=on needs the TCG accelerator, not KVM'
result x_rapl_emu_under_kvm_is_an_error $?

# /dev/vmsr is root's, 0600.
qemu /tmp/denied other $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
rc=$?
without_rapl /tmp/denied "'/dev/vmsr': Permission denied; its mode 0600, group root, does not let uid 1001 in: .*join group kvm"
result denied_by_mode_runs_without_rapl $?

# The module is loaded, the node is not in this /dev: libvirt's private /dev.
mv /dev/vmsr /tmp/vmsr-node
qemu /tmp/missing root $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
rc=$?
mv /tmp/vmsr-node /dev/vmsr
without_rapl /tmp/missing "'/dev/vmsr': No such file or directory; the vmsr module is loaded.*cgroup_device_acl"
result missing_node_runs_without_rapl $?

# No module: a node left behind (ENODEV), then none (ENOENT).
dev=$(cat /sys/class/misc/vmsr/dev)
if rmmod vmsr; then
	rm -f /dev/vmsr
	mknod -m 0600 /dev/vmsr c "${dev%:*}" "${dev#*:}"
	qemu /tmp/stale root $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
	rc=$?
	without_rapl /tmp/stale "'/dev/vmsr': No such device; the vmsr module is not loaded: modprobe vmsr"
	result stale_node_no_module_runs_without_rapl $?
	rm -f /dev/vmsr
	qemu /tmp/nomodule root $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
	rc=$?
	without_rapl /tmp/nomodule "'/dev/vmsr': No such file or directory; the vmsr module is not loaded: modprobe vmsr"
	result no_module_runs_without_rapl $?
	insmod /lib/vmsr/vmsr.ko
else
	result stale_node_no_module_runs_without_rapl 1
	result no_module_runs_without_rapl 1
fi

# The device cgroup (cgroup v1's devices controller) refuses /dev/vmsr.
mkdir -p /tmp/cg
if mount -t cgroup -o devices devices /tmp/cg 2>/dev/null; then
	mkdir /tmp/cg/novmsr
	echo "c $(cat /sys/class/misc/vmsr/dev) rwm" >/tmp/cg/novmsr/devices.deny
	echo $$ >/tmp/cg/novmsr/cgroup.procs
	qemu /tmp/cgroup root $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
	rc=$?
	echo $$ >/tmp/cg/cgroup.procs
	without_rapl /tmp/cgroup "'/dev/vmsr': Operation not permitted; the device cgroup refuses it: .*cgroup_device_acl"
	result device_cgroup_runs_without_rapl $?
else
	skip device_cgroup_runs_without_rapl "this kernel has no cgroup v1 devices controller"
fi

# AppArmor refuses the node, whose mode lets root in.
mount -t securityfs securityfs /sys/kernel/security 2>/dev/null
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	skip apparmor_denial_runs_without_rapl "AppArmor is not enabled in this kernel"
elif ! command -v apparmor_parser >/dev/null; then
	skip apparmor_denial_runs_without_rapl "no apparmor_parser (Debian's apparmor package) in the VM"
else
	printf '%s\n' 'profile vmsr-denied {' '  /{,**} mrwlkix,' '  capability,' \
		'  network,' '  signal,' '  ptrace,' '  deny /dev/vmsr rw,' '}' |
		apparmor_parser -r -K 2>&1 | sed 's|^|# apparmor_parser: |'
	# aa-exec PROFILE COMMAND...: COMMAND confined by PROFILE.
	printf '%s\n' '#!/bin/sh' 'p=$1' 'shift' \
		'echo "exec $p" >/proc/$$/attr/apparmor/exec 2>/dev/null ||' \
		'	echo "exec $p" >/proc/$$/attr/exec || exit 126' 'exec "$@"' >/tmp/aa-exec
	chmod 0755 /tmp/aa-exec
	wrap="/tmp/aa-exec vmsr-denied"
	qemu /tmp/apparmor root $smp -cpu $amd_cpu -accel kvm,rapl=on -append probe
	rc=$?
	wrap=
	without_rapl /tmp/apparmor "'/dev/vmsr': Permission denied, though its mode 0600, group root, lets uid 0 in: AppArmor.*/dev/vmsr rw,"
	result apparmor_denial_runs_without_rapl $?
fi

chgrp kvm /dev/vmsr
chmod 0660 /dev/vmsr
qemu /tmp/member vmsr $smp -accel kvm,rapl=on
[ $? = $done_rc ]
result kvm_group_member_runs $?

# --- what libvirt can add to its own -accel kvm: -global kvm-accel.*
qemu /tmp/global root $smp -accel kvm -global kvm-accel.rapl=on \
	-global kvm-accel.rapl-energy-unit=15
[ $? = $done_rc ] && grep -q '^rapl: power_unit=0x00000000000a0f03' /tmp/global
result global_turns_rapl_on $?

# --- /dev/vmsr removed once the guest runs: the open descriptor goes on
(i=0
 while [ $i -lt 120 ] && ! grep -q energy_status /tmp/vanish 2>/dev/null; do
	sleep 1
	i=$((i + 1))
 done
 mv /dev/vmsr /tmp/vmsr-node) &
qemu /tmp/vanish root $smp -accel kvm,rapl=on -append advances=6
rc=$?
wait
mv /tmp/vmsr-node /dev/vmsr
[ $rc = $done_rc ] && ! grep -q 'rapl:' /tmp/vanish.err
result device_node_removed_while_running $?

# --- a vCPU hot-plugged beyond the boot count registers with libvmsr
(sleep 2; echo 'device_add qemu64-x86_64-cpu,id=hot1,socket-id=1,core-id=0,thread-id=0'
 sleep 2; echo 'info hotpluggable-cpus') |
	qemu /tmp/hotplug root -smp 1,maxcpus=2,sockets=2 -cpu qemu64 \
		-monitor stdio -accel kvm,rapl=on -append advances=6 >/tmp/hotplug.mon
rc=$?
# The monitor echoes each key with escape sequences: its answers only.
grep -v "$(printf '\033')" /tmp/hotplug.mon | sed 's|^|# REPORT hotplug.mon: |'
[ $rc = $done_rc ] && grep -q 'rapl_vmsr_add_vcpu vcpu=1 .* ret=0' /tmp/hotplug.trace &&
	! grep -q 'rapl:' /tmp/hotplug.err
result hotplugged_vcpu_registers $?

# --- migration: the destination goes on from the source's counters
# mig_dst RUN ACCEL: a destination waiting on RUN.sock. It is told to
# continue every 2 s for a minute, for a source that had not started the
# guest (no-op on a running VM).
mig_dst() {
	(i=0; while [ $i -lt 30 ]; do sleep 2; echo cont; i=$((i + 1)); done) |
		qemu "$1" root $smp -cpu $amd_cpu -accel "$2" -append advances=8 \
			-incoming unix:"$1".sock -monitor stdio >"$1.mon"
}
# mig_src RUN ACCEL VALUES [ARGS]: a source that migrates to RUN-dst.sock
# once that listens and its guest has printed VALUES energy values.
mig_src() {
	run=$1 accel=$2 values=$3
	shift 3
	(while [ ! -S "$run-dst.sock" ] ||
	       [ "$(grep -c energy_status "$run" 2>/dev/null)" -lt "$values" ]; do
		sleep 1
	 done
	 sleep 1; echo "migrate unix:$run-dst.sock"; sleep 3; echo quit) |
		qemu "$run" root $smp -cpu $amd_cpu -accel "$accel" -append advances=8 \
			-monitor stdio "$@" >"$run.mon"
}
mig_dst /tmp/mig-dst kvm,rapl=on &
dst=$!
sleep 1
mig_src /tmp/mig kvm,rapl=on 2
wait $dst
rc=$?
cat /tmp/mig /tmp/mig-dst >/tmp/migrated
out=$(awk -v first=1 -v expect_layout=amd -v label=x \
	-f /lib/vmsr/fields.awk -f /lib/vmsr/guest-multiboot-check.awk /tmp/migrated /dev/null | grep counter_advanced)
echo "# migration: $out"
[ $rc = $done_rc ] && grep -q 'rapl: energy_status' /tmp/mig-dst &&
	echo "$out" | grep -q '^ok'
result migrated_counters_never_go_back $?
echo "qemu-e2e: backend=libvmsr cpu=EPYC-Rome migrated=yes" \
	"values=$(grep -c energy_status /tmp/mig)+$(grep -c energy_status /tmp/mig-dst)"

# A stream without RAPL is accepted (the source must not run the guest,
# whose RDMSR would fault there); one with RAPL, by a QEMU without, not.
mig_dst /tmp/mig2-dst kvm,rapl=on &
dst=$!
sleep 1
mig_src /tmp/mig2 kvm 0 -S
wait $dst
[ $? = $done_rc ]
result stream_without_rapl_is_accepted $?

mig_dst /tmp/mig3-dst kvm &
dst=$!
sleep 1
mig_src /tmp/mig3 kvm,rapl=on 0
wait $dst
rc=$?
refused /tmp/mig3-dst 'Unknown savevm section'
result stream_with_rapl_is_refused_without $?

# --- the qemu-vmsr-helper backend, as root, as upstream runs it
if grep -q GenuineIntel /proc/cpuinfo && [ -e /sys/class/powercap/intel-rapl ]; then
	qemu-vmsr-helper -k /tmp/helper.sock &
	helper=$!
	sleep 1
	qemu /tmp/helper root $smp -cpu $intel_cpu \
		-accel kvm,rapl=on,rapl-helper-socket=/tmp/helper.sock
	[ $? = $done_rc ]
result helper_guest_ran $?
	echo "qemu-e2e: backend=helper cpu=Skylake-Server" \
		"values=$(grep -c energy_status /tmp/helper)"
	(sleep 2; kill $helper) &
	qemu /tmp/helper-gone root $smp -cpu $intel_cpu -append advances=6 \
		-accel kvm,rapl=on,rapl-helper-socket=/tmp/helper.sock
	[ $? = $done_rc ]
result helper_socket_vanishing_keeps_the_vm $?
else
	why="qemu-vmsr-helper needs an Intel host with intel-rapl; this one is not"
	skip helper_guest_ran "$why"
	skip helper_socket_vanishing_keeps_the_vm "$why"
fi

# --- ASan, when QEMU was built with it
if ls /lib/x86_64-linux-gnu/libasan.so.* >/dev/null 2>&1 ||
   ls /usr/lib/x86_64-linux-gnu/libasan.so.* >/dev/null 2>&1; then
	grep -l 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer' /tmp/*.err |
		sed 's|^|# REPORT asan: |'
	! grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer' /tmp/*.err
	result asan_no_errors_no_leaks $?
else
	skip asan_no_errors_no_leaks "this QEMU was built without ASan"
fi

echo "1..$n"
[ $fails = 0 ]
