#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# qemu-vmsr-helper's backend, end to end, as root as upstream runs it. Run
# by l1-helper-init.sh inside a nested-KVM VM of its own, whose CPU
# (EPYC-Rome, x-rapl-emu, x-rapl-intel-userspace: test only) is AMD to the
# kernel, so that kvm_amd loads, and Intel to user space, so that the
# helper's and QEMU's vendor checks pass. The helper reads Intel's package
# registers through the msr driver; QEMU finds intel-rapl in powercap
# (intel_rapl_msr, bound to the AMD CPU). Prints TAP and the guest's
# "qemu-e2e: backend=helper ..." line.
#
#   an Intel-model guest reads the package domain's registers ("pkg-only",
#   all that this backend answers); its counter advances, never goes back,
#   and by at most the host package's energy over the run
#   a vCPU hot-plugged beyond the boot count: the VM runs on, silent
#   the helper goes away while the guest runs: the VM runs on, QEMU says so
#   in one warning, the counters stand still, and (under ASan) the failed
#   reads leak nothing

. /lib/vmsr/l1-lib.sh

# The guest's unit register is the host's: the VM's EPYC-Rome, whose
# x-rapl-emu counts in 2^-16 J.
host_esu=16
helper_accel="kvm,rapl=on,rapl-helper-socket=/tmp/helper.sock"

energy_uj() {
	cat /sys/class/powercap/intel-rapl:0/energy_uj
}

echo "TAP version 13"

if ! command -v qemu-vmsr-helper >/dev/null; then
	why="QEMU was built without its tools: no qemu-vmsr-helper"
	for t in helper_listens helper_guest_ran helper_hotplugged_vcpu_runs_on \
		 helper_gone_warns_once_and_the_vm_runs_on helper_gone_counters_stand_still \
		 helper_gone_asan_no_errors_no_rapl_leaks; do
		skip $t "$why"
	done
	echo "1..$n"
	exit 0
fi

qemu-vmsr-helper -k /tmp/helper.sock -f /tmp/helper.pid >/tmp/helper.log 2>&1 &
helper=$!
i=0
while [ ! -S /tmp/helper.sock ] && [ $i -lt 60 ]; do
	sleep 1
	i=$((i + 1))
done
[ -S /tmp/helper.sock ]
result helper_listens $?

before=$(energy_uj)
qemu /tmp/helper root $smp -cpu $intel_cpu -append pkg-only -accel $helper_accel
rc=$?
after=$(energy_uj)
[ $rc = $done_rc ]
result helper_guest_ran $?
check /tmp/helper intel "backend=helper cpu=Skylake-Server" \
	-v run_host_uj=$((after - before)) -v expect_esu=$host_esu

# The helper backend keeps one register per vCPU: one plugged beyond the
# boot count must not read or write past them.
(sleep 2; echo 'device_add Skylake-Server-x86_64-cpu,id=hot1,socket-id=1,core-id=0,thread-id=0'
 sleep 4; echo 'info hotpluggable-cpus') |
	qemu /tmp/helper-hotplug root -smp 1,maxcpus=2,sockets=2 -cpu $intel_cpu \
		-monitor stdio -append pkg-only,advances=8 -accel $helper_accel \
		>/tmp/helper-hotplug.mon
rc=$?
grep -v "$(printf '\033')" /tmp/helper-hotplug.mon | sed 's|^|# REPORT helper-hotplug.mon: |'
[ $rc = $done_rc ] && grep -q 'peripheral/hot1' /tmp/helper-hotplug.mon &&
	! grep -q 'rapl\|helper' /tmp/helper-hotplug.err
result helper_hotplugged_vcpu_runs_on $?

# Once the guest has read two values, the helper is killed. The guest then
# waits for advances that never come, until QEMU is stopped. Its counter
# may move once more, for a sample under way, and then stands still.
values() {
	cat /tmp/helper-gone 2>/dev/null | grep -c energy_status
}
(i=0
 while [ $i -lt 120 ] && [ "$(values)" -lt 2 ]; do
	sleep 1
	i=$((i + 1))
 done
 kill $helper && values >/tmp/helper-killed) &
# Under ASan when the VM has series-each.sh's build: the failed reads must
# not leak.
qemu_bin=$asan_qemu limit=40
qemu /tmp/helper-gone root $smp -cpu $intel_cpu \
	-append pkg-only,advances=1000 -accel $helper_accel
rc=$?
qemu_bin= limit=
wait
sed 's|^|# REPORT helper.log: |' /tmp/helper.log
stopped /tmp/helper-gone && [ -e /tmp/helper-killed ] &&
	[ "$(grep -c 'warning: rapl:' /tmp/helper-gone.err)" = 1 ] &&
	grep -q 'warning: rapl: qemu-vmsr-helper on /tmp/helper.sock stopped answering' \
		/tmp/helper-gone.err
result helper_gone_warns_once_and_the_vm_runs_on $?
echo "# values: $(cat /tmp/helper-killed 2>/dev/null) when the helper was killed, $(values) in all"
[ -e /tmp/helper-killed ] && [ "$(values)" -le $(($(cat /tmp/helper-killed) + 1)) ]
result helper_gone_counters_stand_still $?
if [ -n "$asan_qemu" ]; then
	found=$(asan_findings /tmp/helper-gone)
	echo "$found" | grep '^#'
	echo "qemu-e2e-asan: backend=helper runs=1 $(echo "$found" | tail -n 1)"
	echo "$found" | tail -n 1 | grep -q 'errors=0 .* rapl_leaks=0'
	result helper_gone_asan_no_errors_no_rapl_leaks $?
else
	skip helper_gone_asan_no_errors_no_rapl_leaks \
		"no qemu-system-x86_64-asan (series-each.sh's build) in the VM"
fi

echo "1..$n"
[ $fails = 0 ]
