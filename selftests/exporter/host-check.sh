#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmsr_exporter on this machine, which has no /dev/vmsr: VM discovery from
# the real /proc with stand-in QEMU processes, the answer when the device is
# missing or denied, both exposition formats (promtool on the text one),
# the HTTP limits against idle clients, and the command line.
#
# usage: host-check.sh BUILD
#   BUILD: userspace's OUT, with vmsr_exporter, vmsr_exporter-fake,
#   libvmsr.so and vmsr-burn.
#   Prints one PASS/FAIL line per check; exits non-zero if any failed.
set -uo pipefail

build=$1
export LD_LIBRARY_PATH=$build
exporter=$build/vmsr_exporter
work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
failed=0

check() {
	local name=$1
	shift
	if "$@" >"$work/out" 2>&1; then
		echo "PASS exporter/$name"
	else
		echo "FAIL exporter/$name"
		sed 's/^/  /' "$work/out" | tail -n 20
		failed=1
	fi
}

# A free port for each exporter started here.
port=$((20000 + RANDOM % 20000))
start() {	# LOG ARGS...: starts an exporter on the next port
	local log=$1
	shift
	port=$((port + 1))
	"$exporter" --web.listen-address="127.0.0.1:$port" "$@" 2>"$log" &
	pids+=($!)
	for _ in $(seq 50); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/" && return 0
		sleep 0.1
	done
	return 1
}
scrape() { curl -fsS -m 5 "http://127.0.0.1:$port/metrics" "$@"; }

# Stand-in VMs: vmsr-burn named as QEMU; -uuid, -name and their values only
# add idle threads.
mkdir -p "$work/bin"
cp "$build/vmsr-burn" "$work/bin/qemu-system-x86_64"
cp "$build/vmsr-burn" "$work/bin/kvm"
"$work/bin/qemu-system-x86_64" 60 0 -name 'guest=web,,db,debug-threads=on' \
	-uuid A0000000-0000-4000-8000-0000000000AA &
pids+=($!)
"$work/bin/kvm" 60 0 -uuid not-a-uuid &
pids+=($!)
badpid=$!

version() { "$exporter" --version | grep -x "vmsr_exporter $(cat "$(dirname "$0")/../../VERSION")"; }
help() { "$exporter" --help | grep -q -- '--web.listen-address'; }
bad_flags() {
	local rc
	"$exporter" --no-such-flag 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -q "unrecognized option" "$work/err" || return 1
	"$exporter" --web.listen-address=localhost:1 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -q "numeric host" "$work/err" || return 1
	"$exporter" --sampling.interval=5 2>"$work/err"; rc=$?
	[ $rc = 2 ] && grep -q "10ms to 60s" "$work/err"
}
check version version
check help help
check bad_flags_are_refused_with_a_reason bad_flags

start "$work/missing.log" --device="$work/no-such-device" --sampling.interval=100ms ||
	echo "FAIL exporter/start"
missing() {
	sleep 1	# ten samples, each of which retries the device
	scrape >"$work/m" || return 1
	grep -x 'vmsr_up 0' "$work/m" && grep -x 'vmsr_device_status{status="missing"} 1' "$work/m" &&
		[ "$(grep -c 'modprobe vmsr' "$work/missing.log")" = 1 ] ||
		{ cat "$work/missing.log"; return 1; }
}
check device_missing_serves_up_0_and_logs_once missing
vms() {
	grep -F 'vmsr_vm_info{uuid="a0000000-0000-4000-8000-0000000000aa",name="web,db",pid="' "$work/m" &&
	grep -F "vmsr_vm_info{uuid=\"\",name=\"\",pid=\"$badpid\",running=\"1\",problem=\"bad_uuid\"} 1" "$work/m" &&
	grep -x 'vmsr_scrape_errors_total{cause="vm_cmdline"} [1-9][0-9]*' "$work/m"
}
check finds_vms_decodes_names_keeps_the_unparsed vms
promtool_clean() {
	local out
	out=$(promtool check metrics <"$work/m" 2>&1) && [ -z "$out" ] || { echo "$out"; return 1; }
}
check promtool_check_metrics_clean promtool_clean
openmetrics() {
	curl -fsS -D "$work/h" -H 'Accept: application/openmetrics-text; version=1.0.0' \
		"http://127.0.0.1:$port/metrics" >"$work/om" || return 1
	grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$work/h" &&
		[ "$(tail -n1 "$work/om")" = "# EOF" ] && grep -qx '# TYPE vmsr_build info' "$work/om"
}
check openmetrics_by_content_negotiation openmetrics
http_errors() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/metrics")" = 405 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://127.0.0.1:$port/metrics")" = 200 ]
}
check http_404_405_head http_errors

# Idle clients hold every connection one address may have: another address
# is still served, and sampling goes on meanwhile.
idle_clients() {
	local before after fd fds=()
	before=$(scrape | awk '$1 == "vmsr_scrape_errors_total{cause=\"device_open\"}" { print $2 }')
	# More than the connection limit: only the per-address limit saves the scrape.
	for _ in $(seq 40); do
		exec {fd}<>"/dev/tcp/127.0.0.1/$port" && fds+=("$fd")
	done
	sleep 0.5
	curl -fsS -m 5 --interface 127.0.0.2 "http://127.0.0.1:$port/metrics" >"$work/m2" || return 1
	after=$(awk '$1 == "vmsr_scrape_errors_total{cause=\"device_open\"}" { print $2 }' "$work/m2")
	for fd in "${fds[@]}"; do
		exec {fd}>&-
	done
	echo "${#fds[@]} idle connections; device retries while they were held: $before -> $after"
	[ "$after" -gt "$before" ]
}
check idle_clients_block_neither_scrapes_nor_sampling idle_clients

# Over tests/fake_device.c, a host with energy whose RAPL counts per die
# (VMSR_FAKE_DIES=1: one instance holding every CPU): its series carry
# powercap's package and die numbers, from this host's sysfs topology.
exporter=$build/vmsr_exporter-fake
VMSR_FAKE_DIES=1 start "$work/dies.log" --device=/dev/null --sampling.interval=100ms ||
	echo "FAIL exporter/start (fake device)"
dies() {
	local topo=/sys/devices/system/cpu/cpu0/topology pkg die
	pkg=$(cat "$topo/physical_package_id") die=$(cat "$topo/die_id")
	sleep 0.5	# a baseline and some samples
	scrape >"$work/f" || return 1
	grep -x 'vmsr_up 1' "$work/f" &&
	grep -E "^vmsr_package_energy_joules_total\{package=\"$pkg\",die=\"$die\",domain=\"package\"\} [0-9.e+-]+$" "$work/f" &&
	grep -E "^vmsr_package_consumer_energy_joules_total\{package=\"$pkg\",die=\"$die\",domain=\"package\",consumer=\"idle\"\} " "$work/f" ||
		{ grep '^vmsr_package' "$work/f"; return 1; }
}
check die_scoped_rapl_is_labelled_by_package_and_die dies
exporter=$build/vmsr_exporter

if [ "$(id -u)" = 0 ]; then
	# The build may sit under root's 0700 home: uid 65534 runs a copy.
	denied() {
		local bin=$work/nobody
		mkdir -p "$bin"
		cp -P "$exporter" "$build"/libvmsr.so* "$bin/"
		chmod 0755 "$work" "$bin"
		: >"$work/denied-device"
		chmod 0600 "$work/denied-device"
		port=$((port + 1))
		LD_LIBRARY_PATH=$bin setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$bin/vmsr_exporter" --web.listen-address="127.0.0.1:$port" \
			--device="$work/denied-device" --sampling.interval=100ms 2>"$work/denied.log" &
		pids+=($!)
		for _ in $(seq 50); do
			scrape >"$work/d" 2>/dev/null && break
			sleep 0.1
		done
		cat "$work/denied.log"
		scrape >"$work/d" || return 1
		grep -x 'vmsr_device_status{status="denied"} 1' "$work/d" &&
			grep -q 'group kvm' "$work/denied.log"
	}
	check device_denied_says_join_kvm denied
else
	echo "SKIP exporter/device_denied_says_join_kvm (needs root to drop to another uid)"
fi
exit $failed
