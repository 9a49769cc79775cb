#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The one QEMU the tests use: the series in userspace/qemu/ (proposed
# upstream), then the test-only patches in selftests/qemu/test-patches/
# (RAPL registers for TCG CPUs, docs/testing-rapl-emu.md), applied with git am
# to the pinned QEMU source, and built with TCG and KVM, x86_64 only, with
# the few devices the tests need, and qemu-vmsr-helper beside it (with
# libcap-ng, as distributions build it). It boots every test VM under TCG and is
# the patched QEMU the end-to-end test runs with KVM inside one of them.
#
# usage: build-qemu.sh OUTDIR
#   Prints the path of qemu-system-x86_64; qemu-vmsr-helper is beside it. The patched tree is cached under
#   $VMSR_CACHE/qemu/VERSION-HASH, HASH covering the patches and this script;
#   the build goes to OUTDIR/VERSION-HASH and is incremental. Firmware is
#   Debian's (seabios, qemu-system-data): run it with -L /usr/share/seabios
#   -L /usr/share/qemu.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

src=$("$here/qemu-source.sh")
orig=$(echo "$src"/qemu_*.orig.tar.xz)
version=${orig##*/qemu_}
version=${version%.orig.tar.xz}
# Every numbered patch but the cover letter, 0000.
patches() {
	find "$1" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort
}
mapfile -t series < <(patches "$top/userspace/qemu")
mapfile -t -O "${#series[@]}" series < <(patches "$here/test-patches")
hash=$(cat "${series[@]}" "$0" | sha256sum | cut -c1-12)
tree=$cache/qemu/$version-$hash
build=$out/$version-$hash

# QEMU 10 needs meson >= 1.5; bookworm has 1.0. Use the backport, unpacked.
meson=$cache/qemu/meson
"$top/selftests/vm/debian-fetch.sh" bookworm-backports meson "$meson"
export PYTHONPATH=$meson/usr/lib/python3/dist-packages

if [ ! -e "$tree/.done" ]; then
	tmp=$(mktemp -d "$cache/qemu/.tree.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	tar -C "$tmp" --no-same-owner --strip-components=1 -xf "$orig"
	git -C "$tmp" init -q
	git -C "$tmp" add -A
	git -C "$tmp" -c user.name=vmsr -c user.email=vmsr@example.org \
		commit -q -m "QEMU $version"
	if ! git -C "$tmp" -c user.name=vmsr -c user.email=vmsr@example.org \
		am -q "${series[@]}" >&2; then
		echo "the patches in userspace/qemu/ and selftests/qemu/test-patches/" \
			"do not apply to QEMU $version" >&2
		exit 1
	fi
	# The +ds tarball lacks the EDK2 images and the Python wheels; Debian's
	# own patches make the build do without them.
	for p in skip-unpack-edk2-blobs.patch disable-pycotap.patch; do
		tar -xOf "$src"/*.debian.tar.xz "debian/patches/$p" | patch -s -p1 -d "$tmp"
	done
	# The devices the tests need: the PC machine and isa-debug-exit.
	printf 'CONFIG_I440FX=y\nCONFIG_ISA_DEBUG=y\n' \
		>"$tmp/configs/devices/x86_64-softmmu/vmsr-e2e.mak"
	touch "$tmp/.done"
	# Another run may have won the race; its tree is the same.
	mv -T "$tmp" "$tree" 2>/dev/null || [ -e "$tree/.done" ]
fi

sdk=$("$here/libvmsr-sdk.sh" "$build/libvmsr")
export PKG_CONFIG_PATH=$sdk/lib/pkgconfig

log=$build/build.log
mkdir -p "$build/obj"
if [ ! -e "$build/obj/build.ninja" ]; then
	(cd "$build/obj" && "$tree/configure" --python=/usr/bin/python3 \
		--target-list=x86_64-softmmu --without-default-features \
		--without-default-devices --with-devices-x86_64=vmsr-e2e \
		--enable-tcg --enable-kvm --enable-vmsr --enable-cap-ng --enable-werror \
		--disable-docs --enable-tools --disable-guest-agent \
		--disable-debug-info --disable-download --disable-install-blobs) \
		>"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
fi
ninja -C "$build/obj" -j"$(nproc)" qemu-system-x86_64 qemu-vmsr-helper >>"$log" 2>&1 ||
	{ tail -40 "$log" >&2; exit 1; }
echo "$build/obj/qemu-system-x86_64"
