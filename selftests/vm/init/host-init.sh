#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the host VM (see packaging/host-root.sh): Debian's kernel,
# booting the way a host with vmsr installed does: systemd-modules-load,
# then udev's coldplug (systemd-udev-trigger.service's trigger), which must
# load vmsr from its CPU modalias on a CPU with RAPL and must not load it on
# one without (VMSR_AUTOLOAD=no on the kernel command line says which;
# there, vmsr is then loaded by hand, as an admin may). systemd-udevd must apply
# 60-vmsr.rules and make /dev/vmsr root:kvm 0660, and the installed
# vmsrstat must run for a member of group kvm and tell anyone else to join
# it. Results go to ttyS1 as TAP, framed as init.sh frames them.
. /init-lib.sh
export PATH=/usr/bin:/bin
mkdir -p /run
mount -t tmpfs tmpfs /run

n=0
# check NAME COMMAND...: one TAP line; on failure, the command's output
# first, as "# FAIL:" lines, which the host shows.
check() {
	name=$1
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		say "ok $n $name"
	else
		echo "$out" | sed "s/^/# FAIL: $name: /" >&3
		say "not ok $n $name"
	fi
}

kvm_gid=$(sed -n 's/^kvm:x:\([0-9]*\):.*/\1/p' /etc/group)

# UID 1000, in group GID only. util-linux's setpriv: busybox's cannot.
as_user() {
	gid=$1
	shift
	/usr/bin/setpriv --reuid=1000 --regid=1000 --groups="$gid" "$@"
}

# The CPU's modalias was there for udev to match, and matched nothing of vmsr's.
not_loaded() {
	grep '^MODALIAS=cpu:type:x86,' /sys/devices/system/cpu/cpu0/uevent || return 1
	! grep -q '^vmsr ' /proc/modules && [ ! -e /dev/vmsr ]
}

node_is() {
	actual=$(stat -c '%U:%G %a' /dev/vmsr)
	[ "$actual" = "$1" ] || { echo "/dev/vmsr is $actual, not $1"; return 1; }
}

refused_with_hint() {
	if err=$(as_user 100 vmsrstat -n 1 -- true 2>&1); then
		echo "vmsrstat ran for a user outside group kvm"
		return 1
	fi
	echo "$err"
	case $err in
	*"group kvm"*) ;;
	*) return 1 ;;
	esac
}

say "### begin installed"
check no_device_before_boot [ ! -e /dev/vmsr ]
/lib/systemd/systemd-udevd --daemon
/lib/systemd/systemd-modules-load
udevadm trigger --type=subsystems --action=add
udevadm trigger --type=devices --action=add
udevadm settle
if [ "${VMSR_AUTOLOAD:-yes}" = no ]; then
	check cpu_without_rapl_does_not_autoload not_loaded
	modprobe vmsr
	udevadm settle
else
	check cpu_with_rapl_autoloads_vmsr grep -q '^vmsr ' /proc/modules
fi
check udev_rule_makes_it_root_kvm_0660 node_is "root:kvm 660"
check kvm_member_runs_vmsrstat as_user "$kvm_gid" vmsrstat -n 1 -i 0.2 -- sleep 10
check others_are_told_to_join_kvm refused_with_hint
say "### end installed rc=0"
say "### begin dmesg"
dmesg >&3
say "### end dmesg rc=0"
say "### done"
sync
reboot -f
