# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# Sourced by dkms-check.sh and deb-check.sh, which install vmsr system-wide
# and remove it again: the checks of the machine's state they share, and the
# cleanup that runs however they end.

version=$(cat "$(dirname "${BASH_SOURCE[0]}")/../../VERSION")
src=/usr/src/vmsr-$version
packages=(prometheus-vmsr-exporter vmsrstat libvmsr-dev libvmsr0 vmsr-dkms)

fail() {
	echo "$*" >&2
	exit 1
}

# A test must never remove a vmsr that the machine's owner installed.
require_clean() {
	local states

	[ "$(id -u)" = 0 ] || fail "needs root: it installs vmsr system-wide"
	# One such test at a time on this machine: another make check (another
	# checkout) waits here. The lock goes when the test's process ends.
	exec 9>/run/lock/vmsr-system-install.lock
	flock -w 600 9 || fail "another test has held the vmsr install lock for 10 minutes"
	# dpkg-query fails for packages it has never seen; the second letter of
	# the others is n for not installed.
	states=$(dpkg-query -W -f='${db:Status-Abbrev}\n' "${packages[@]}" 2>/dev/null || true)
	if [ -e /var/lib/dkms/vmsr ] || [ -e "$src" ] || grep '^.[^n]' <<<"$states" >/dev/null; then
		fail "vmsr is already installed here (dkms status, $src, or its packages):" \
		     "remove it first (make dkms-remove, or dpkg --purge ${packages[*]})"
	fi
}

cleanup() {
	dpkg --purge "${packages[@]}" >/dev/null 2>&1 || true
	if [ -e /var/lib/dkms/vmsr ]; then
		dkms remove -m vmsr -v "$version" --all >/dev/null || true
	fi
	rm -rf "$src"
}

# KVER: DKMS installed the production vmsr.ko, of this version, for KVER.
expect_installed() {
	local kver=$1 ko=/lib/modules/$1/updates/dkms/vmsr.ko
	dkms status -m vmsr -v "$version" -k "$kver" | grep ': installed' >/dev/null ||
		fail "vmsr/$version is not installed for $kver: $(dkms status)"
	[ "$(modinfo -F version "$ko")" = "$version" ] || fail "$ko: not version $version"
	modinfo -F vermagic "$ko" | grep "^$kver " >/dev/null || fail "$ko: not built for $kver"
	echo "installed: $ko, version $version"
}

# KVER: nothing of vmsr is left in DKMS, /usr/src or KVER's modules.
expect_gone() {
	local kver=$1
	[ -z "$(dkms status -m vmsr)" ] || fail "still in DKMS: $(dkms status -m vmsr)"
	[ ! -e /var/lib/dkms/vmsr ] || fail "/var/lib/dkms/vmsr is left"
	[ ! -e "$src" ] || fail "$src is left"
	[ ! -e "/lib/modules/$kver/updates/dkms/vmsr.ko" ] || fail "vmsr.ko is left for $kver"
	if grep -qs vmsr "/lib/modules/$kver/modules.dep"; then
		fail "modules.dep of $kver still lists vmsr"
	fi
	echo "removed: nothing of vmsr is left"
}
