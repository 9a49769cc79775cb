#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the libvirt test VM (vm.sh) as vmsr-libvirt-test.service, once
# AppArmor's profiles are loaded and libvirtd has started: the host setup of
# docs/libvirt.md as written (host-setup.sh, taken from the doc by vm.sh),
# then a domain defined from domain.xml with virsh and started by Debian's
# libvirt, confined as it confines every domain. Its guest, Debian's kernel
# with l2-init.sh, prints its powercap energy_uj on ttyS1, a <serial
# type='file'>. Then the host denies the device, three ways, and the domain's
# log must say why. Results go to ttyS1 as TAP, framed as init.sh frames
# them; then the VM powers off.
set -uo pipefail

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

lib=/usr/local/lib/vmsr-test
dom=vmsr-guest
serial=/var/log/libvirt/qemu/$dom-ttyS1.log
console=/var/log/libvirt/qemu/$dom-ttyS0.log

n=0
failed=0
# check NAME COMMAND...: one TAP line; on failure, the command's output.
# It runs in this shell, so that the figures it sets stay.
check() {
	local name=$1
	shift
	n=$((n + 1))
	if "$@" >/tmp/check.out 2>&1; then
		say "ok $n $name"
	else
		sed "s/^/# FAIL: $name: /" /tmp/check.out >&3
		say "not ok $n $name"
		failed=1
	fi
}

# wait_for WHAT SECONDS COMMAND...: until COMMAND succeeds. Under TCG all of
# this is some 50 times slower than on hardware: the limits are generous,
# and only keep a hang from hanging the VM.
wait_for() {
	local what=$1 secs=$2
	shift 2
	for _ in $(seq "$secs"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	echo "timed out after $secs s waiting for $what"
	"$@"
	return 1
}

libvirtd_enforced() {
	local pid
	pid=$(systemctl show -p MainPID --value libvirtd)
	cat "/proc/$pid/attr/current"
	grep -q ' (enforce)$' "/proc/$pid/attr/current"
}

# The files it changes, as Debian ships them, for the denied host below.
host_setup() {
	cp /etc/libvirt/qemu.conf /tmp/qemu.conf.shipped
	cp /etc/apparmor.d/local/abstractions/libvirt-qemu /tmp/local-abstraction.shipped
	bash -ex "$lib/host-setup.sh"
}

defined() {
	virsh define "$lib/domain.xml"
}

started() {
	timeout 1800 virsh start "$dom"
}

qemu_pid() {
	pid=$(cat "/run/libvirt/qemu/$dom.pid") && [ -d "/proc/$pid" ]
}

runs_as_libvirt_qemu() {
	grep -E '^(Uid|Gid|Groups):' "/proc/$pid/status"
	grep -q "^Uid:[[:space:]]$(id -u libvirt-qemu)[[:space:]]" "/proc/$pid/status"
}

apparmor_mode=none
confined_enforce() {
	local uuid label
	uuid=$(virsh domuuid "$dom") || return 1
	label=$(cat "/proc/$pid/attr/current")
	echo "QEMU's label: $label"
	case $label in
	"libvirt-$uuid ("*")") apparmor_mode=${label##* (}; apparmor_mode=${apparmor_mode%)} ;;
	esac
	[ "$apparmor_mode" = enforce ]
}

# The mount namespace: a /dev of its own, with /dev/vmsr and /dev/kvm in it
# and not the rest of the host's nodes.
private_dev() {
	echo "QEMU's mount namespace $(readlink "/proc/$pid/ns/mnt"), init's $(readlink /proc/1/ns/mnt)"
	ls -l "/proc/$pid/root/dev/"
	[ "$(readlink "/proc/$pid/ns/mnt")" != "$(readlink /proc/1/ns/mnt)" ] &&
		[ -c "/proc/$pid/root/dev/vmsr" ] && [ -c "/proc/$pid/root/dev/kvm" ] &&
		[ ! -e "/proc/$pid/root/dev/mem" ] && [ -e /dev/mem ]
}

# libvirt's own cgroup for the domain, where its device filter applies.
own_cgroup() {
	cat "/proc/$pid/cgroup"
	grep -q 'machine.*qemu' "/proc/$pid/cgroup"
}

rapl_on() {
	tr '\0' ' ' <"/proc/$pid/cmdline"
	echo
	tr '\0' '\n' <"/proc/$pid/cmdline" | grep -A1 -x -- -global | grep -qx kvm-accel.rapl=on
}

has_dev_vmsr_open() {
	local fd
	for fd in "/proc/$pid/fd"/*; do
		[ "$(readlink "$fd")" = /dev/vmsr ] && echo "$fd -> /dev/vmsr" && return 0
	done
	return 1
}

guest_found_powercap() {
	grep -a '^found: ' "$serial"
	grep -aq '^found: powercap=package-' "$serial"
}

samples() {
	tr -d '\r' <"$serial" | sed -n 's/^sample energy_uj=\([0-9][0-9]*\)$/\1/p'
}

enough_samples() {
	[ "$(samples | wc -l)" -ge 5 ]
}

# energy_uj never goes back, and grows over the samples.
energy_grows() {
	local first last
	samples | tr '\n' ' '
	echo
	samples | awk 'NR > 1 && $1 < prev { bad = 1 } { prev = $1 } END { exit bad || NR < 2 }' ||
		return 1
	first=$(samples | head -n1) last=$(samples | tail -n1)
	energy_uj=$((last - first))
	[ "$energy_uj" -gt 0 ]
}

# QEMU warns once when its sampler's ticks start failing (patch 0007).
no_rapl_warning() {
	grep 'rapl:' "/var/log/libvirt/qemu/$dom.log"
	! grep -q 'warning: rapl:' "/var/log/libvirt/qemu/$dom.log"
}

destroyed() {
	virsh destroy "$dom" && ! virsh domstate "$dom" | grep -qx running
}

diag() {
	{
		echo "== $console (tail)"
		tail -n 40 "$console"
		echo "== $serial"
		tr -d '\r' <"$serial" | grep -v '^sample ' | tail -n 40
		echo "== /var/log/libvirt/qemu/$dom.log"
		tail -n 40 "/var/log/libvirt/qemu/$dom.log"
		echo "== libvirtd"
		journalctl -b --no-pager -u libvirtd | tail -n 40
		echo "== AppArmor"
		dmesg | grep -i "apparmor=" | tail -n 40
		ls -l /dev/vmsr /dev/kvm
	} 2>&1 | sed 's/^/# REPORT diag: /' >&3
}

say "### begin e2e"
check libvirtd_confined_enforce wait_for libvirtd 600 libvirtd_enforced
check host_setup_as_documented host_setup
check libvirtd_restarted wait_for libvirtd 600 systemctl is-active libvirtd
check domain_defined defined
check domain_started started
if qemu_pid; then
	check qemu_runs_as_libvirt_qemu runs_as_libvirt_qemu
	check qemu_apparmor_enforce confined_enforce
	check qemu_private_dev_has_vmsr private_dev
	check qemu_own_cgroup own_cgroup
	check qemu_rapl_on rapl_on
	check qemu_opened_dev_vmsr has_dev_vmsr_open
	check guest_powercap_found wait_for "the guest's drivers" 900 guest_found_powercap
	check guest_samples_energy_uj wait_for "5 samples" 600 enough_samples
	energy_uj=none
	check guest_energy_uj_grows energy_grows
	check qemu_no_rapl_warning no_rapl_warning
	check domain_destroyed destroyed
else
	say "# FAIL: no QEMU process for $dom"
	failed=1
fi

# A host that denies the device, one way at a time, with the rest of the
# setup in place: the domain still starts, its guest sees no RAPL (its
# drivers find no powercap zone and no perf event), and the domain's log
# has exactly one rapl line, which names the cause and its fix (series
# patch 0011; docs/libvirt.md, "When the host denies the device").
log=/var/log/libvirt/qemu/$dom.log
started=no
guest_found_line() { grep -aq '^found: ' "$serial"; }
denied_start() {	# CAUSE: what the one rapl line must say
	local from
	from=$(($(wc -l <"$log") + 1))
	started=no
	timeout 1800 virsh start "$dom" || return 1
	virsh domstate "$dom" | grep -qx running && started=yes
	wait_for "the guest's drivers" 900 guest_found_line
	grep -a '^found: ' "$serial"
	virsh destroy "$dom"
	tail -n +"$from" "$log" | grep 'rapl:' >/tmp/denied.lines
	cat /tmp/denied.lines
	grep 'rapl:' /tmp/denied.lines | sed 's/^/# REPORT denied: /' >&3
	[ "$started" = yes ] && tr -d '\r' <"$serial" | grep -aqx 'found: powercap=none perf=none' &&
		[ "$(wc -l </tmp/denied.lines)" = 1 ] && grep -q -- "$1" /tmp/denied.lines
}

no_acl() {
	cp /etc/libvirt/qemu.conf /tmp/qemu.conf.documented
	cp /tmp/qemu.conf.shipped /etc/libvirt/qemu.conf
	local rc
	# QEMU's hint, on the lines after the error, names the setting.
	systemctl restart libvirtd && wait_for libvirtd 600 virsh list &&
		denied_start 'No such file or directory; the vmsr module is loaded, but this /dev lacks the node: under libvirt, add "/dev/vmsr" to cgroup_device_acl'
	rc=$?
	cp /tmp/qemu.conf.documented /etc/libvirt/qemu.conf
	systemctl restart libvirtd && wait_for libvirtd 600 virsh list && return $rc
}

no_apparmor_rule() {
	local rc local_file=/etc/apparmor.d/local/abstractions/libvirt-qemu
	cp "$local_file" /tmp/local-abstraction.documented
	grep -vx '/dev/vmsr rw,' /tmp/local-abstraction.documented >"$local_file"
	denied_start 'Permission denied, though its mode 0660, group kvm, lets uid [0-9]* in: AppArmor'
	rc=$?
	cp /tmp/local-abstraction.documented "$local_file"
	return $rc
}

not_in_group() {
	local rc
	chgrp root /dev/vmsr
	ls -l /dev/vmsr
	denied_start 'Permission denied; its mode 0660, group root, does not let uid [0-9]* in: .*join group kvm'
	rc=$?
	chgrp kvm /dev/vmsr
	return $rc
}

if [ "$failed" = 0 ]; then
	check denied_no_cgroup_device_acl_entry no_acl
	denied_acl=$started
	check denied_no_apparmor_rule no_apparmor_rule
	denied_aa=$started
	check denied_not_in_group_kvm not_in_group
	denied_group=$started
	say "libvirt-denied: no_acl_started=$denied_acl no_apparmor_started=$denied_aa not_in_group_started=$denied_group"
fi
[ "$failed" = 0 ] || diag
say "libvirt-e2e: domain=$dom guest_energy_uj=${energy_uj:-none} apparmor=$apparmor_mode"
say "### end e2e rc=0"
say "### begin dmesg"
dmesg >&3
say "### end dmesg rc=0"
say "### done"
sync
systemctl --no-block poweroff
