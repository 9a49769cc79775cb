// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* libvmsr: what to do about an error from vmsr_open(). */
#include <errno.h>

#include "libvmsr.h"

/*
 * The file mode gives EACCES; a device cgroup (libvirt's) and an LSM
 * (AppArmor) both give EPERM, and nothing in the errno tells them apart.
 */
const char *vmsr_open_hint(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENXIO:
	case -ENODEV:
		return "the vmsr module is not loaded: run 'modprobe vmsr' (or install the vmsr-dkms package)";
	case -EACCES:
		return "the device's mode refuses you: add the user to group kvm ('usermod -aG kvm USER'), then log in again";
	case -EPERM:
		return "a device cgroup or a security module refuses the device: under libvirt, add \"/dev/vmsr\" to cgroup_device_acl in /etc/libvirt/qemu.conf; if 'journalctl -k | grep DENIED' shows an AppArmor denial, add '/dev/vmsr r,' to /etc/apparmor.d/local/abstractions/libvirt-qemu";
	default:
		return "cannot open the device";
	}
}
