#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make install into a temporary DESTDIR, with a non-default PREFIX: the
# exact list of installed files, the library's exports (.so and .a) against
# the functions libvmsr.h declares, and installed_lib_test.c built with nothing
# but `pkg-config --cflags --libs vmsr` (shared, then --static) and run.
# Then make uninstall, which must leave no file behind.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
version=$(cat "$top/VERSION")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
dest=$work/root prefix=/opt/vmsr
lib=$dest$prefix/lib

make -s -C "$top" install DESTDIR="$dest" PREFIX="$prefix" OUT="$work/build" >/dev/null

# Every file and symlink (with its target), relative to DESTDIR.
installed() {
	find "$dest" \( -type f -o -type l \) -printf '/%P %l\n' | sed 's/ $//' | sort
}

src=/usr/src/vmsr-$version
{
	cat <<-EOT
	$prefix/bin/vmsr_exporter
	$prefix/bin/vmsrstat
	$prefix/include/libvmsr.h
	$prefix/include/vmsr/linux/vmsr.h
	$prefix/lib/libvmsr.a
	$prefix/lib/libvmsr.so libvmsr.so.0
	$prefix/lib/libvmsr.so.0 libvmsr.so.$version
	$prefix/lib/libvmsr.so.$version
	$prefix/lib/pkgconfig/vmsr.pc
	$prefix/lib/systemd/system/prometheus-vmsr-exporter.service
	$prefix/lib/udev/rules.d/60-vmsr.rules
	$src/Kbuild
	$src/VERSION
	$src/dkms.conf
	$src/uapi/linux/vmsr.h
	EOT
	(cd "$top" && ls module/*.[ch] include/*.h) | sed "s|^|$src/|"
	for m in "$top"/userspace/man/*.[1-9]; do
		echo "$prefix/share/man/man${m##*.}/${m##*/}"
	done
	# An exported function without a page of its own: a link to libvmsr(3).
	for f in $(sed -n 's/^[[:space:]]*\(vmsr_[a-z_0-9]*\);$/\1/p' "$top/userspace/lib/libvmsr.map"); do
		[ -e "$top/userspace/man/$f.3" ] || echo "$prefix/share/man/man3/$f.3 libvmsr.3"
	done
} | sort >"$work/expected"
installed >"$work/actual"
diff -u "$work/expected" "$work/actual"
echo "installed: $(wc -l <"$work/actual") files, as expected"

grep -qx "PACKAGE_VERSION=\"$version\"" "$dest$src/dkms.conf"

# Exported: exactly the functions libvmsr.h declares.
echo '#include <libvmsr.h>' |
	gcc -aux-info "$work/decls" -I"$dest$prefix/include" -I"$dest$prefix/include/vmsr" \
		-x c -c -o /dev/null -
sed -n 's|^/\* [^ ]*/libvmsr\.h:[0-9]*:[A-Z]* \*/ [^(]*[ *]\([A-Za-z_0-9]*\) (.*|\1|p' \
	"$work/decls" | sort >"$work/declared"
# Exported from the .so (all under the version node LIBVMSR_0) and from the .a alike.
nm -D --defined-only "$lib/libvmsr.so.$version" | awk '$2 == "T" { print $3 }' |
	sed 's/@@LIBVMSR_0$//' | sort >"$work/exported"
[ -s "$work/declared" ]
diff -u "$work/declared" "$work/exported"
nm -g --defined-only "$lib/libvmsr.a" | awk 'NF == 3 { print $3 }' | sort >"$work/exported-static"
diff -u "$work/declared" "$work/exported-static"
echo "exported: $(paste -sd ' ' "$work/exported")"

export PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest
[ "$(pkg-config --modversion vmsr)" = "$version" ]
read -ra flags <<<"$(pkg-config --cflags --libs vmsr)"
gcc -Wall -Werror -o "$work/shared" "$top/selftests/packaging/installed_lib_test.c" "${flags[@]}"
LD_LIBRARY_PATH=$lib ldd "$work/shared" | grep "libvmsr.so.0 => $lib/libvmsr.so.0 " >/dev/null
LD_LIBRARY_PATH=$lib "$work/shared"
read -ra flags <<<"$(pkg-config --static --cflags --libs vmsr)"
gcc -static -Wall -Werror -o "$work/static" "$top/selftests/packaging/installed_lib_test.c" "${flags[@]}"
"$work/static"

make -s -C "$top" uninstall DESTDIR="$dest" PREFIX="$prefix" OUT="$work/build" >/dev/null
installed >"$work/left"
diff -u /dev/null "$work/left"
echo "uninstalled: nothing left"
