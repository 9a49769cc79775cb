#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Download and unpack a Debian binary package from any suite, without
# touching the machine's apt sources: apt runs against a private sources
# list and private state under the cache directory.
#
# usage: debian-fetch.sh SUITE PACKAGE DESTDIR
#   Unpacks PACKAGE (dpkg -x) into DESTDIR; does nothing if DESTDIR/.done exists.
set -euo pipefail

suite=$1 pkg=$2 dest=$3
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

[ -e "$dest/.done" ] && exit 0

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

# Refresh the private index at most once a day.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mtime -1 2>/dev/null)" ]; then
	apt-get -q "${apt_opts[@]}" update >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# pkg/suite: the version in that suite, even if the machine has another installed.
(cd "$work" && apt-get -q "${apt_opts[@]}" download "$pkg/$suite" >/dev/null)
mkdir -p "$dest"
dpkg -x "$work"/*.deb "$dest"
touch "$dest/.done"
