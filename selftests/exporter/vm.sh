#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The exporter against the real thing: a TCG VM booting Debian's kernel
# into systemd on a Debian 12 userland (root.sh) with the vmsr packages of
# make deb installed by dpkg (libvmsr0, prometheus-vmsr-exporter), the
# module where DKMS would put it, loaded at boot by a modules-load.d entry
# and given to group kvm by its udev rule. Debian's Prometheus scrapes the
# packaged exporter service; guest-test.sh checks it.
#
# Energy under TCG: the VM's CPU has RAPL registers (boot.sh's default
# -cpu, with x-rapl-emu), which the production vmsr.ko (KO) reads.
#
# usage: vm.sh KERNEL MODDIR KO DEBDIR OUT
#   KERNEL, MODDIR: Debian's vmlinuz and its unpacked /lib/modules/KVER;
#   KO: a vmsr.ko for it; DEBDIR: make deb's output; OUT: a work directory.
#   Prints run-vm.sh's result lines.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
kernel=$1 moddir=$2 ko=$3 debdir=$4 out=$5
kver=${moddir##*/}
version=$(cat "$top/VERSION")

base=$("$here/root.sh")
root=$out/root
rm -rf "$root"
mkdir -p "$root"
# Without the web UI's JavaScript (the HTTP API is what the test uses) and
# udev's hardware database: half the size.
rsync -a --exclude=/usr/share/javascript --exclude=/usr/lib/udev/hwdb.bin \
	--exclude=/usr/lib/udev/hwdb.d --exclude=/.done "$base/" "$root/"
# mktemp made the tree's top 0700; as /, it must be 0755 for services' users.
chmod 0755 "$root"

# The packages, as a user would install them.
mkdir -p "$root/tmp/debs"
cp "$debdir/libvmsr0_${version}_amd64.deb" \
   "$debdir/prometheus-vmsr-exporter_${version}_amd64.deb" "$root/tmp/debs/"
chroot "$root" sh -c 'dpkg -i /tmp/debs/*.deb' >"$out/dpkg.log" 2>&1 ||
	{ cat "$out/dpkg.log" >&2; exit 1; }
rm -rf "$root/tmp/debs"

# What vmsr-dkms installs, without building: the module and its rule.
install -D -m 0644 "$ko" "$root/lib/modules/$kver/updates/dkms/vmsr.ko"
cp "$moddir"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$kver/"
depmod -b "$root" "$kver"
install -D -m 0644 "$top/userspace/udev/60-vmsr.rules" "$root/usr/lib/udev/rules.d/60-vmsr.rules"
# Loaded at boot by an admin's modules-load.d entry: this VM tests the
# exporter, and udev's autoload is the host VM's test (vm/init/host-init.sh). In
# this systemd VM the modalias autoload did not load vmsr, cause not found.
mkdir -p "$root/etc/modules-load.d"
echo vmsr >"$root/etc/modules-load.d/vmsr.conf"

# The stand-in VMs: vmsr-burn under QEMU's name, which takes -uuid and
# -name as more (idle) threads.
lib=$root/usr/local/lib/vmsr-test
mkdir -p "$lib"
gcc -O2 -pthread -I"$top/userspace/common" -o "$lib/qemu-system-x86_64" "$top/userspace/demo/vmsr-burn.c"
install -m 0755 "$here/guest-test.sh" "$lib/"
install -m 0644 "$top/userspace/exporter/vmsr-dashboard.json" "$lib/"

# Prometheus scrapes the exporter every 2 s (TCG is slow: a scrape may take
# more than one), and keeps an hour.
cat >"$root/etc/prometheus/prometheus.yml" <<-EOT
	global:
	  scrape_interval: 2s
	  scrape_timeout: 2s
	  evaluation_interval: 2s
	scrape_configs:
	  - job_name: vmsr
	    static_configs:
	      - targets: ['127.0.0.1:9863']
EOT
echo 'ARGS="--storage.tsdb.retention.time=1h"' >"$root/etc/default/prometheus"

cat >"$root/etc/systemd/system/vmsr-exporter-test.service" <<-EOT
	[Unit]
	Description=vmsr exporter test
	After=prometheus.service prometheus-vmsr-exporter.service
	Wants=prometheus.service prometheus-vmsr-exporter.service
	[Service]
	Type=oneshot
	ExecStart=/usr/local/lib/vmsr-test/guest-test.sh
	[Install]
	WantedBy=multi-user.target
EOT
mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
ln -sf /etc/systemd/system/vmsr-exporter-test.service \
	"$root/etc/systemd/system/multi-user.target.wants/"
# Nothing waits for a login on the console.
ln -sf /dev/null "$root/etc/systemd/system/serial-getty@ttyS0.service"
ln -sf /dev/null "$root/etc/systemd/system/getty@tty1.service"
echo exporter-test >"$root/etc/hostname"
# debootstrap writes no /etc/hosts: without it, Go's resolver (Prometheus)
# cannot resolve localhost.
printf '127.0.0.1\tlocalhost exporter-test\n::1\t\tlocalhost ip6-localhost\n' >"$root/etc/hosts"
ln -sf /lib/systemd/systemd "$root/init"

# The whole root as the initramfs, uncompressed: it is mostly Go binaries,
# which compress poorly and slowly.
(cd "$root" && find . | cpio -o -H newc --quiet) >"$out/initramfs.cpio"

VMSR_APPEND="systemd.show_status=0 ${VMSR_EXPORTER_APPEND:-}" \
	"$top/selftests/vm/run-vm.sh" exporter "$kernel" "$out/initramfs.cpio"
