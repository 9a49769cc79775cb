#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs inside the exporter's test VM (vm.sh) as vmsr-exporter-test.service,
# once prometheus.service and prometheus-vmsr-exporter.service have started:
# Debian's Prometheus scrapes the packaged exporter every second while two
# processes named qemu-system-x86_64 stand in for VMs, one busy, one idle.
# Results go to ttyS1 as TAP, framed as init.sh frames them, then the VM
# powers off.
set -uo pipefail

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

lib=/usr/local/lib/vmsr-test
exporter=http://127.0.0.1:9863/metrics
prom=http://127.0.0.1:9090
busy_uuid=b0000000-0000-4000-8000-000000000001
idle_uuid=a0000000-0000-4000-8000-000000000002
window=30s

n=0
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
	fi
}

# PromQL @1 through the HTTP API: one "labels value" line per series.
query() {
	curl -m 10 -fsS --get --data-urlencode "query=$1" "$prom/api/v1/query" |
		jq -r '.data.result[] | "\(.metric.name // "-") \(.value[1])"'
}

# Waits up to @2 seconds for the command @3... to succeed.
wait_for() {
	local what=$1 secs=$2
	shift 2
	for _ in $(seq "$secs"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 1
	done
	echo "timed out waiting for $what"
	return 1
}

unprivileged() {
	local pid status
	pid=$(systemctl show -p MainPID --value prometheus-vmsr-exporter)
	status=$(cat "/proc/$pid/status")
	echo "$status" | grep -E '^(Uid|Gid|Groups|CapEff|CapBnd|NoNewPrivs):'
	echo "$status" | grep -q "^Uid:[[:space:]]0[[:space:]]" && return 1
	echo "$status" | grep -q '^CapEff:[[:space:]]*0000000000000000$' || return 1
	echo "$status" | grep -q '^CapBnd:[[:space:]]*0000000000000000$' || return 1
	echo "$status" | grep -q '^NoNewPrivs:[[:space:]]*1$' || return 1
	echo "$status" | grep -Eq "^Groups:.*[[:space:]]$(getent group kvm | cut -d: -f3)([[:space:]]|$)"
}

device_ok() {
	curl -m 10 -fsS "$exporter" | grep -x 'vmsr_up 1'
}

vms_found() {
	local m
	m=$(curl -m 10 -fsS "$exporter")
	echo "$m" | grep -F "vmsr_vm_info{uuid=\"$busy_uuid\",name=\"busy,one\"" &&
	echo "$m" | grep -F "vmsr_vm_info{uuid=\"$idle_uuid\",name=\"idle\""
}

openmetrics() {
	local headers body
	headers=$(curl -m 10 -fsS -D - -o /tmp/om -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' "$exporter")
	body=$(cat /tmp/om)
	echo "$headers" | grep -qi '^content-type: application/openmetrics-text; version=1.0.0' &&
		[ "$(tail -n1 <<<"$body")" = "# EOF" ] &&
		grep -q '^# TYPE vmsr_vm_energy_joules counter$' <<<"$body"
}

promtool=dirty
promtool_clean() {
	local out
	curl -m 10 -fsS "$exporter" >/tmp/scrape || return 1
	out=$(promtool check metrics </tmp/scrape 2>&1) || { echo "$out"; return 1; }
	[ -z "$out" ] || { echo "$out"; return 1; }
	promtool=clean
}

# Successful scrapes: up is 1 for those.
scrapes() {
	query 'sum(sum_over_time(up{job="vmsr"}[1h]))' | awk '{ printf "%d", $2 }'
}

enough_scrapes() {
	[ "$(scrapes)" -ge 30 ]
}

watts() {	# NAME: the VM's package power over the window
	query "sum by (name) (rate(vmsr_vm_energy_joules_total{domain=\"package\"}[$window]))" |
		awk -v name="$1" '$1 == name { print $2 }'
}

busy_above_idle() {
	busy_w=$(watts "busy,one") idle_w=$(watts idle)
	echo "busy=$busy_w W idle=$idle_w W"
	awk -v b="$busy_w" -v i="$idle_w" 'BEGIN { exit !(b > 0 && b > i) }'
}

# VMs + other + idle against the package, over the same window, in percent.
conservation() {
	local expr="(sum(rate(vmsr_vm_energy_joules_total{domain=\"package\"}[$window])) + sum(rate(vmsr_package_consumer_energy_joules_total{domain=\"package\",consumer=~\"other|idle\"}[$window]))) / sum(rate(vmsr_package_energy_joules_total{domain=\"package\"}[$window]))"
	ratio=$(query "$expr" | awk '{ print $2 }')
	err_pct=$(awk -v r="$ratio" 'BEGIN { d = (r - 1) * 100; printf "%.3f", d < 0 ? -d : d }')
	echo "ratio=$ratio err_pct=$err_pct"
	awk -v e="$err_pct" 'BEGIN { exit !(e < 1) }'
}

# Every query of the dashboard, with its variables set, runs without error.
dashboard_queries() {
	local expr ok=0
	while IFS= read -r expr; do
		expr=${expr//\$__rate_interval/1m}
		expr=${expr//\$__range/5m}
		expr=${expr//\$instance/.*}
		expr=${expr//\$vm/.*}
		if ! curl -m 10 -fsS --get --data-urlencode "query=$expr" "$prom/api/v1/query" |
			grep -q '"status":"success".*"result":\[{'; then
			echo "no result: $expr"
			ok=1
		fi
	done < <(jq -r '.. | objects | select(has("expr")) | .expr' "$lib/vmsr-dashboard.json")
	return $ok
}

say "### begin exporter"
"$lib/qemu-system-x86_64" 3600 95 -uuid "$busy_uuid" -name guest=busy,,one,debug-threads=on &
busy_pid=$!
"$lib/qemu-system-x86_64" 3600 0 -uuid "$idle_uuid" -name guest=idle &
idle_pid=$!
check exporter_service_active wait_for exporter 120 systemctl is-active prometheus-vmsr-exporter
# Once it answers, systemd has long dropped its privileges.
check device_ok_energy_present wait_for "vmsr_up 1" 60 device_ok
check runs_unprivileged_in_group_kvm unprivileged
check finds_both_vms_with_decoded_names wait_for "the VMs" 30 vms_found
check openmetrics_by_content_negotiation openmetrics
check promtool_check_metrics_clean promtool_clean
check prometheus_scrapes_it wait_for "30 scrapes" 300 enough_scrapes
check busy_vm_rate_above_idle busy_above_idle
check conservation_within_1pct conservation
nr_scrapes=$(scrapes)
# TCG is slow: what follows needs no load.
kill "$busy_pid" "$idle_pid"
check dashboard_queries_return_data dashboard_queries
# What the services said, for a failure's diagnosis.
{
	systemctl --no-pager status prometheus-vmsr-exporter prometheus
	curl -m 10 -sS "$prom/api/v1/targets" | jq -c '.data.activeTargets[] | {health, lastError, lastScrapeDuration}'
	journalctl -b --no-pager -u prometheus-vmsr-exporter | tail -n 20
	ls -l /dev/vmsr
} 2>&1 | sed 's/^/# diag: /' >&3
say "exporter: scrapes=$nr_scrapes vm_busy_w=${busy_w:-?} vm_idle_w=${idle_w:-?} conservation_err_pct=${err_pct:-?} promtool=$promtool"
say "### end exporter rc=0"
say "### begin dmesg"
dmesg >&3
say "### end dmesg rc=0"
say "### done"
sync
systemctl --no-block poweroff
