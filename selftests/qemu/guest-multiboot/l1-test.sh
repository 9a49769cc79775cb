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
#   AppArmor (EACCES although the mode lets QEMU in); AppArmor denying QEMU
#   its own thread list: the counters stand still, the warning names the list
# the helper backend runs in a VM of its own: l1-helper-test.sh
# ASan (the series alone, built by series-each.sh): a guest's whole run, a
#   device QEMU cannot use, hot-plug and SIGTERM report no error, and no leak
#   from the RAPL code

. /lib/vmsr/l1-lib.sh

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
	skip apparmor_task_list_denial_is_named "AppArmor is not enabled in this kernel"
elif ! command -v apparmor_parser >/dev/null; then
	skip apparmor_denial_runs_without_rapl "no apparmor_parser (Debian's apparmor package) in the VM"
	skip apparmor_task_list_denial_is_named "no apparmor_parser (Debian's apparmor package) in the VM"
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

	# AppArmor lets QEMU open the device but not list its own threads, as
	# libvirt's profile did before docs/libvirt.md added the rule: the
	# counters stand still, and QEMU's one warning names the thread list,
	# not the device. The guest waits for advances that never come.
	printf '%s\n' 'profile vmsr-notasks {' '  /{,**} mrwlkix,' '  capability,' \
		'  network,' '  signal,' '  ptrace,' '  deny /proc/*/task/ r,' '}' |
		apparmor_parser -r -K 2>&1 | sed 's|^|# apparmor_parser: |'
	wrap="/tmp/aa-exec vmsr-notasks"
	limit=30
	qemu /tmp/notasks root $smp -cpu $amd_cpu -accel kvm,rapl=on -append advances=100
	rc=$?
	wrap= limit=
	stopped /tmp/notasks && [ "$(grep -c 'warning: rapl:' /tmp/notasks.err)" = 1 ] &&
		grep -q 'warning: rapl: .*/proc/self/task.*@{pid}/task/ r,' /tmp/notasks.err
	result apparmor_task_list_denial_is_named $?
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

# --- ASan: the series as proposed (series-each.sh's last build) through a
# guest's whole run, a device it cannot use, a hot-plugged vCPU and a stop
# on SIGTERM, which shuts the sampling thread down and frees the backend
if [ -n "$asan_qemu" ]; then
	qemu_bin=$asan_qemu
	qemu /tmp/asan-run root $smp -cpu $intel_cpu -accel kvm,rapl=on
	[ $? = $done_rc ]
	result asan_guest_ran $?
	qemu /tmp/asan-nodev other $smp -cpu $amd_cpu -add-fd fd=5,set=2 -append probe \
		-accel kvm,rapl=on,rapl-device=/dev/fdset/2 5<>/dev/null
	[ $? = $done_rc ]
	result asan_unusable_device_ran $?
	(sleep 2; echo 'device_add qemu64-x86_64-cpu,id=hot1,socket-id=1,core-id=0,thread-id=0') |
		qemu /tmp/asan-hotplug root -smp 1,maxcpus=2,sockets=2 -cpu qemu64 \
			-monitor stdio -accel kvm,rapl=on -append advances=6 >/dev/null
	[ $? = $done_rc ] && grep -q 'rapl_vmsr_add_vcpu vcpu=1 .* ret=0' /tmp/asan-hotplug.trace
	result asan_hotplug_ran $?
	limit=20
	qemu /tmp/asan-term root $smp -cpu $amd_cpu -accel kvm,rapl=on \
		-append advances=1000
	stopped /tmp/asan-term
	result asan_sigterm_stopped $?
	qemu_bin= limit=
	found=$(asan_findings /tmp/asan-run /tmp/asan-nodev /tmp/asan-hotplug /tmp/asan-term)
	echo "$found" | grep '^#'
	echo "qemu-e2e-asan: backend=libvmsr runs=4 $(echo "$found" | tail -n 1)"
	echo "$found" | tail -n 1 | grep -q 'errors=0 .* rapl_leaks=0'
	result asan_no_errors_no_rapl_leaks $?
else
	for t in asan_guest_ran asan_unusable_device_ran asan_hotplug_ran \
		 asan_sigterm_stopped asan_no_errors_no_rapl_leaks; do
		skip $t "no qemu-system-x86_64-asan (series-each.sh's build) in the VM"
	done
fi

echo "1..$n"
[ $fails = 0 ]
