#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
#
# /init of the host VM (see host-root.sh): Debian's kernel, booting the way
# a host with vmsr installed does. systemd-modules-load must load vmsr from
# its modules-load.d entry, systemd-udevd must apply 60-vmsr.rules and make
# /dev/vmsr root:kvm 0660, and the installed vmsrstat must run for a member
# of group kvm and tell anyone else to join it. Results go to ttyS1 as TAP,
# framed as init.sh frames them.
/bin/busybox --install -s /bin
export PATH=/usr/bin:/bin
mkdir -p /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

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
udevadm settle
check modules_load_d_loads_vmsr grep -q '^vmsr ' /proc/modules
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
