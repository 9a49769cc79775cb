#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Download the pinned QEMU source package from Debian, without touching the
# machine's apt sources: apt-get source runs against a private deb-src list
# and private state under the cache directory.
#
# usage: qemu-source.sh
#   Prints the directory holding the package's files: the upstream tarball
#   qemu_VERSION.orig.tar.xz and Debian's debian.tar.xz. Does nothing if that
#   directory is already complete.
set -euo pipefail

# The series in userspace/qemu/ is made against this upstream tarball.
suite=trixie
version=10.0.13+ds
orig_sha256=6a0888e806c2ffc0c5f0733e974f9aea55491950d3c47c98669c8b236dde59ae

cache=${VMSR_CACHE:-$HOME/.cache/vmsr}
dest=$cache/qemu/src-$version
[ -e "$dest/.done" ] && { echo "$dest"; exit 0; }

mirror=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null ||
	 true)
mirror=${mirror:-http://deb.debian.org/debian}
apt_dir=$cache/apt/$suite-src
mkdir -p "$apt_dir/lists/partial"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" \
	>"$apt_dir/sources.list"
apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	  -o Dir::Etc::SourceParts=/dev/null
	  -o "Dir::State::Lists=$apt_dir/lists"
	  -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
apt-get -q "${apt_opts[@]}" update >/dev/null

# The Debian revision changes with every point release; the upstream
# tarball, which the series applies to, is checked below.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get -q "${apt_opts[@]}" source --download-only "qemu/$suite" >/dev/null)
orig=$work/qemu_$version.orig.tar.xz
if [ ! -e "$orig" ]; then
	echo "$suite no longer has QEMU $version: $(cd "$work" && ls ./*.orig.tar.*)" >&2
	echo "update the version in $0 and rebase userspace/qemu/ onto it" >&2
	exit 1
fi
echo "$orig_sha256  $orig" | sha256sum --quiet -c -
mkdir -p "$dest"
mv "$orig" "$work"/*.debian.tar.xz "$dest/"
touch "$dest/.done"
echo "$dest"
