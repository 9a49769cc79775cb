#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The Grafana dashboard (userspace/exporter/vmsr-dashboard.json) is valid
# JSON, and every query in it is valid PromQL: the queries, with Grafana's
# variables replaced as Grafana would, become a rules file that
# `promtool check rules` parses. That they return data is checked against a
# live Prometheus in the exporter's VM (guest-test.sh). The Kepler
# compatibility rules are checked too.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
dashboard=$top/userspace/exporter/vmsr-dashboard.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

jq -e '.panels | length > 0' "$dashboard" >/dev/null
jq -r '.. | objects | select(has("expr")) | .expr' "$dashboard" >"$work/exprs"
[ -s "$work/exprs" ]
{
	echo 'groups:'
	echo '  - name: vmsr-dashboard'
	echo '    rules:'
	i=0
	while IFS= read -r expr; do
		expr=${expr//\$__rate_interval/1m}
		expr=${expr//\$__range/1h}
		expr=${expr//\$instance/.*}
		expr=${expr//\$vm/.*}
		i=$((i + 1))
		echo "      - record: vmsr:dashboard_query_$i"
		printf '        expr: %s\n' "$(jq -Rn --arg e "$expr" '$e')"
	done <"$work/exprs"
} >"$work/rules.yml"
promtool check rules "$work/rules.yml" "$top/userspace/exporter/kepler-compat.rules.yml"
echo "dashboard: $(wc -l <"$work/exprs") queries parse"
