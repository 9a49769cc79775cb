#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# make bench: boots Debian's own kernel (no debug options) under TCG, as
# make demo does (QEMU's x-rapl-emu RAPL registers), with Debian's msr
# driver and the vmsr module, and runs vmsr-bench there, with vmsr_exporter
# beside it for section 4. Its table goes to stdout.
#
# usage: bench.sh [--smoke] [VMSR-BENCH OPTION]...
#   --smoke: a short run that only shows that the benchmark works. Every
#   argument goes to vmsr-bench (e.g. --section 4: only the exporter's).
# Exits non-zero if the VM did not run the benchmark to the end.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/selftests/vm
export VMSR_CACHE=${VMSR_CACHE:-$HOME/.cache/vmsr}
out=${VMSR_BUILD:-$VMSR_CACHE/build}/bench
args=$(IFS=,; echo "$*")

"$top/selftests/deps.sh"
mapfile -t deb < <("$here/kernels/debian-kernel.sh")
image=${deb[0]} headers=${deb[1]}
abi=${image##*/vmlinuz-}
msr=$(find "${image%/boot/*}/lib/modules/$abi" -name 'msr.ko*' | head -n1)
[ -n "$msr" ] || { echo "bench: no msr.ko in Debian's $abi modules" >&2; exit 1; }
mkdir -p "$out"
case $msr in
*.xz) xz -dc "$msr" >"$out/msr.ko" ;;
*) cp "$msr" "$out/msr.ko" ;;
esac

"$here/kernels/build-module.sh" "$headers" production "$out/module"
make -s -C "$top/userspace" OUT="$out/bin" STATIC=1 >/dev/null

# The exporter (section 4) links libmicrohttpd, which Debian ships only as a
# shared library: it goes in with the libraries ldd names, from this host.
make -s -C "$top/userspace" OUT="$out/exporter" VMSR_LIB="$out/exporter/libvmsr.a" \
	"$out/exporter/vmsr_exporter" >/dev/null
rm -rf "$out/overlay"
install -D -m 0755 "$out/exporter/vmsr_exporter" "$out/overlay/bin/vmsr_exporter"
for lib in $(ldd "$out/exporter/vmsr_exporter" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }
	$1 ~ /^\// { print $1 }'); do
	install -D -m 0755 "$lib" "$out/overlay$lib"
done

VMSR_OVERLAY=$out/overlay VMSR_INIT=$here/init/bench-init.sh "$here/mkinitramfs.sh" \
	"$out/initramfs.cpio.gz" "$out/bin" "$out/module/vmsr.ko:vmsr.ko" "$out/msr.ko:msr.ko"

# tsc=reliable: TCG's TSC follows the host's clock, but the kernel finds
# it unsynchronised and falls back to the emulated HPET, where each clock
# read is an exit to QEMU costing microseconds. Hardware and KVM read the
# TSC; so does the benchmark VM.
echo "bench: booting Debian's $abi under the project's QEMU, -accel tcg -cpu ${VMSR_CPU:-Skylake-Server,x-rapl-emu=on} -smp 4 ($(nproc) host CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"
VMSR_APPEND="tsc=reliable${args:+ vmsr_bench=$args}" \
	"$here/boot.sh" "${VMSR_BENCH_TIMEOUT:-900}" "$image" "$out/initramfs.cpio.gz" \
	"$out/console.log" "file:$out/result.log" </dev/null || true
tr -d '\r' <"$out/result.log" | grep -v '^### ' || true
grep -q '^### vmsr-bench rc=0' "$out/result.log" || {
	echo "bench: the benchmark did not finish; last lines of the console:" >&2
	tail -n 30 "$out/console.log" >&2
	exit 1
}

# Section 4 again, on this machine: the exporter's work is almost all /proc
# reads, which TCG makes some 90 times slower in the VM above. This host has
# no /dev/vmsr, so the exporter runs over tests/fake_device.c, which stands
# in for its one VMSR_IOC_SAMPLE per sample (docs/benchmark.md, section 4).
case " $* " in
*" --section "[!4]*|*" --section="[!4]*) exit 0 ;;
esac
make -s -C "$top/userspace" OUT="$out/native" VMSR_LIB="$out/native/libvmsr.a" \
	"$out/native/vmsr-bench" "$out/native/vmsr_exporter-fake" >/dev/null
echo
echo "bench: section 4 natively on this host ($(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)), the exporter over a stand-in for /dev/vmsr"
smoke=
case " $* " in *" --smoke "*) smoke=--smoke ;; esac
"$out/native/vmsr-bench" $smoke --section 4 --exporter "$out/native/vmsr_exporter-fake" \
	--device /dev/null | sed 's/^bench: /bench-native: /'
