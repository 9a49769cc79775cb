#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# The QEMU end-to-end test, run inside the VM by e2e-init.sh. Prints TAP.
#
# 1-5  the test guest under -accel kvm,rapl=true, as root; what it read is
#      checked against libvmsr's trace of the same run (e2e-check.awk)
# 6    a user without access to /dev/vmsr (mode 0600): QEMU's error
# 7    a rapl-device that does not exist: QEMU's error
# 8    a user in group kvm, with the udev rule's 0660 root:kvm: it runs
#
# The guest's serial output and QEMU's messages are shown as REPORT lines.

# Two sockets of one vCPU: the guest runs on vCPU 0 only, so its values must
# be virtual package 0's in the trace.
guest_args="-M pc -m 32 -smp 2,sockets=2 -nodefaults -no-user-config -display none \
	-no-reboot -L /share/qemu -kernel /lib/vmsr/rapl-guest.elf \
	-device isa-debug-exit,iobase=0xf4,iosize=4"
# The guest writes 0x10 to isa-debug-exit when done: QEMU exits with 33.
done_rc=33
fails=0

result() {	# N NAME STATUS
	if [ "$3" = 0 ]; then
		echo "ok $1 $2"
	else
		echo "not ok $1 $2"
		fails=$((fails + 1))
	fi
}

# qemu RUN USER ACCEL: the guest as USER, with -accel ACCEL. The guest's
# serial output goes to RUN, QEMU's stderr to RUN.err, the trace to
# RUN.trace. Returns QEMU's exit status.
qemu() {
	su "$2" -s /bin/sh -c "LIBVMSR_TRACE=$1.trace timeout 600 \
		qemu-system-x86_64 $guest_args -accel $3 -serial file:$1" 2>"$1.err"
	rc=$?
	cat "$1" "$1.err" 2>/dev/null | sed "s|^|# REPORT ${1##*/}: |"
	return $rc
}

mkdir -p /etc
cat >/etc/passwd <<EOF
root:x:0:0::/:/bin/sh
vmsr:x:1000:1000::/tmp:/bin/sh
other:x:1001:1001::/tmp:/bin/sh
EOF
echo 'kvm:x:36:vmsr' >/etc/group
chmod 0666 /dev/kvm

echo "TAP version 13"
echo "1..8"

qemu /tmp/guest root kvm,rapl=true,rapl-device=/dev/vmsr
[ $? = $done_rc ]
result 1 guest_ran_to_its_end $?
checks=$(awk -v first=2 -f /lib/vmsr/e2e-check.awk /tmp/guest /tmp/guest.trace)
echo "$checks"
# Four results, all ok; an awk that fails prints fewer.
fails=$((fails + 4 - $(echo "$checks" | grep -c '^ok')))

chmod 0600 /dev/vmsr
qemu /tmp/denied other kvm,rapl=true
[ $? != $done_rc ] &&
	grep -q 'rapl: cannot use /dev/vmsr: Permission denied' /tmp/denied.err
result 6 no_access_is_an_error $?

qemu /tmp/missing root kvm,rapl=true,rapl-device=/dev/vmsr-missing
[ $? != $done_rc ] &&
	grep -q 'rapl: cannot use /dev/vmsr-missing: No such file or directory' \
		/tmp/missing.err
result 7 missing_device_is_an_error $?

chgrp kvm /dev/vmsr
chmod 0660 /dev/vmsr
qemu /tmp/member vmsr kvm,rapl=true
[ $? = $done_rc ]
result 8 kvm_group_member_runs $?

[ $fails = 0 ]
