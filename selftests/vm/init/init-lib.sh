# SPDX-License-Identifier: GPL-2.0-only
#
# The start every VM's /init shares; mkinitramfs.sh installs it as
# /init-lib.sh and each /init sources it first. It installs busybox's
# applets, mounts the pseudo filesystems, and opens the second serial port
# (ttyS1) as fd 3 for the framed output parse-results.awk reads. The
# console (ttyS0) only carries the kernel's own log.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp

exec 3>/dev/ttyS1
say() { echo "$*" >&3; }

# run NAME COMMAND...: a framed block with the command's output and exit code.
run() {
	name=$1
	shift
	say "### begin $name"
	"$@" >&3 2>&1
	say "### end $name rc=$?"
}

load() {
	say "### load $*"
	insmod "$@" >&3 2>&1 || say "### load-failed $1"
}
