#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# What QEMU's maintainers ask of a series: every patch passes QEMU's
# checkpatch.pl, and the tree builds at every patch, as "git rebase -x"
# would show. The series in userspace/qemu/ alone (no test patches) is
# applied to the pinned QEMU; the build has KVM, libvmsr and the tools, so
# that qemu-vmsr-helper, which patches 2 to 4 change, is compiled too, with
# libcap-ng, whose code patch 4 changes. One build directory is reused from
# patch to patch, so only the first build is a full one. It is built with
# AddressSanitizer: the last build, the whole series as proposed, is the
# QEMU that guest-multiboot.sh runs under ASan in the nested VM.
#
# usage: series-each.sh OUTDIR
#   Prints "PASS|FAIL qemu-series/NN-checkpatch" and "PASS|FAIL
#   qemu-series/NN-builds" for each patch NN, and links the last build's
#   binary as OUTDIR/qemu-system-x86_64-asan. A series that passed before
#   (same patches, same script) is not built again: its lines are printed
#   again from OUTDIR. Exits non-zero if any line is a FAIL.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$1
cache=${VMSR_CACHE:-$HOME/.cache/vmsr}

src=$("$here/qemu-source.sh") || exit 1
orig=$(echo "$src"/qemu_*.orig.tar.xz)
version=${orig##*/qemu_}
version=${version%.orig.tar.xz}
mapfile -t series < <(find "$top/userspace/qemu" -name '[0-9][0-9][0-9][0-9]-*.patch' ! -name '0000-*' | sort)
hash=$(cat "${series[@]}" "$0" | sha256sum | cut -c1-12)
work=$out/series-each-$version-$hash
results=$work/results

asan_link() {
	ln -sfn "$work/obj/qemu-system-x86_64" "$out/qemu-system-x86_64-asan"
}

if [ -e "$work/.done" ]; then
	cat "$results"
	asan_link
	exit 0
fi

meson=$cache/qemu/meson
"$top/selftests/vm/debian-fetch.sh" bookworm-backports meson "$meson" || exit 1
export PYTHONPATH=$meson/usr/lib/python3/dist-packages

git_() {
	git -C "$work/src" -c user.name=vmsr -c user.email=vmsr@example.org "$@"
}

# Only the newest series is kept.
find "$out" -maxdepth 1 -name 'series-each-*' ! -name "${work##*/}" -exec rm -rf {} +

# The base commit is QEMU with the two Debian patches that let the +ds
# tarball build; each patch of the series is a commit on top of it.
rm -rf "$work"
mkdir -p "$work/src" "$work/obj"
sdk=$("$here/libvmsr-sdk.sh" "$work/libvmsr") || exit 1
export PKG_CONFIG_PATH=$sdk/lib/pkgconfig
tar -C "$work/src" --no-same-owner --strip-components=1 -xf "$orig"
for p in skip-unpack-edk2-blobs.patch disable-pycotap.patch; do
	tar -xOf "$src"/*.debian.tar.xz "debian/patches/$p" | patch -s -p1 -d "$work/src"
done
# The PC machine, and the exit port of guest-multiboot's guest.
printf 'CONFIG_I440FX=y\nCONFIG_ISA_DEBUG=y\n' \
	>"$work/src/configs/devices/x86_64-softmmu/vmsr-each.mak"
git_ init -q
git_ add -A
git_ commit -q -m "QEMU $version, buildable from the +ds tarball"
base=$(git_ rev-parse HEAD)
if ! git_ am -q "${series[@]}" >"$work/am.log" 2>&1; then
	echo "FAIL qemu-series/applies"
	sed 's/^/  /' "$work/am.log"
	exit 1
fi

record() {
	echo "$*" | tee -a "$results"
}

# configure_in DIR VMSR: QEMU configured in DIR with --enable-vmsr or
# --disable-vmsr (VMSR: enable or disable).
configure_in() {
	mkdir -p "$1"
	(cd "$1" && "$work/src/configure" --python=/usr/bin/python3 \
		--target-list=x86_64-softmmu --without-default-features \
		--without-default-devices --with-devices-x86_64=vmsr-each \
		--disable-tcg --enable-kvm --"$2"-vmsr --enable-tools \
		--enable-cap-ng --enable-asan \
		--enable-werror --disable-docs --disable-guest-agent \
		--disable-debug-info --disable-download --disable-install-blobs)
}

n=0
for commit in $(git_ rev-list --reverse "$base..HEAD"); do
	n=$((n + 1))
	name=$(printf '%02d' $n)
	git_ checkout -q "$commit"
	if (cd "$work/src" && ./scripts/checkpatch.pl -q "$commit^..$commit") \
		>"$work/checkpatch-$name.log" 2>&1; then
		record "PASS qemu-series/$name-checkpatch"
	else
		record "FAIL qemu-series/$name-checkpatch"
		sed 's/^/  /' "$work/checkpatch-$name.log"
	fi
	# Patch 1 adds the "vmsr" option, so the tree before it has none.
	log=$work/build-$name.log
	if [ ! -e "$work/obj/build.ninja" ]; then
		configure_in "$work/obj" enable >"$log" 2>&1
	fi
	if [ -e "$work/obj/build.ninja" ] &&
	   ninja -C "$work/obj" -j"$(nproc)" qemu-system-x86_64 qemu-vmsr-helper >>"$log" 2>&1; then
		record "PASS qemu-series/$name-builds"
	else
		record "FAIL qemu-series/$name-builds"
		tail -n 30 "$log" | sed 's/^/  /'
	fi
done

# Most QEMU builds have no libvmsr: the whole series must build without it.
# kvm.c is the one file that differs (the stubs in rapl_vmsr.h; rapl_vmsr.c
# is left out), so it is the one compiled.
log=$work/build-without-libvmsr.log
if configure_in "$work/obj-without-libvmsr" disable >"$log" 2>&1 &&
   ninja -C "$work/obj-without-libvmsr" -j"$(nproc)" \
	libqemu-x86_64-softmmu.a.p/target_i386_kvm_kvm.c.o >>"$log" 2>&1; then
	record "PASS qemu-series/$name-builds-without-libvmsr"
else
	record "FAIL qemu-series/$name-builds-without-libvmsr"
	tail -n 30 "$log" | sed 's/^/  /'
fi
grep -q '^FAIL' "$results" && exit 1
touch "$work/.done"
asan_link
