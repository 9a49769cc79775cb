#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Run apt-get or apt-cache against any Debian suite without touching the
# machine's apt sources: a private sources list and private state under the
# cache directory. The private index is refreshed at most once a day.
#
# usage: debian-apt.sh SUITE apt-get|apt-cache ARGS...
set -euo pipefail

suite=$1 tool=$2
shift 2
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

case $tool in
apt-get | apt-cache) ;;
*) echo "debian-apt.sh: runs apt-get or apt-cache, not $tool" >&2; exit 2 ;;
esac

mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
	 true)
mirror=${mirror:-http://deb.debian.org/debian}
case $suite in
*-security) mirror=${mirror%/debian}/debian-security ;;
esac

apt_dir=$cache/apt/$suite
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	  -o Dir::Etc::SourceParts=/dev/null
	  -o "Dir::State::Lists=$apt_dir/lists"
	  -o "Dir::Cache::Archives=$apt_dir/archives"
	  -o Debug::NoLocking=1 -o APT::Sandbox::User=root)

if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
	apt-get -q "${apt_opts[@]}" update >/dev/null
fi
exec "$tool" -q "${apt_opts[@]}" "$@"
