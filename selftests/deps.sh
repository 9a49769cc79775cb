#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Install what `make check` needs on Debian 12, as root. Idempotent: apt runs
# only when something is missing. The machine's apt sources are not changed;
# other suites are fetched through a private list (vm/debian-fetch.sh).
set -euo pipefail

pkgs=(
	build-essential bc bison flex libelf-dev libssl-dev dwarves rsync
	cpio xz-utils kmod gawk gcc-multilib
	seabios qemu-system-data busybox-static
	linux-headers-amd64
	sparse
	dkms debhelper dh-dkms lintian pkg-config man-db mandoc linux-source
	systemd udev util-linux
	git ninja-build python3-venv libglib2.0-dev libcap-ng-dev
	abigail-tools strace python3
	libmicrohttpd-dev prometheus debootstrap jq curl
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' ||
		missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "missing packages: ${missing[*]}; run make check as root, or install them" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
apt-get update -q >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
