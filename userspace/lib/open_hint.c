// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libvmsr: what to do about an error from vmsr_open().
 *
 * EACCES comes from the file mode, or from a security module (AppArmor)
 * that denies the open although the mode allows it; the mode tells them
 * apart. EPERM comes from a device cgroup (libvirt's cgroup_device_acl).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libvmsr.h"

static bool in_group(gid_t gid)
{
	int n = getgroups(0, NULL);
	gid_t *groups;
	bool found = getegid() == gid;

	if (found || n <= 0)
		return found;
	groups = calloc(n, sizeof(*groups));
	if (!groups)
		return false;
	n = getgroups(n, groups);
	for (int i = 0; i < n && !found; i++)
		found = groups[i] == gid;
	free(groups);
	return found;
}

/* Whether the file mode of /dev/vmsr lets this process read it. */
static bool mode_allows_read(void)
{
	struct stat st;

	if (stat(VMSR_DEVICE_PATH, &st))
		return false;
	if (!geteuid())
		return true;
	if (st.st_uid == geteuid())
		return st.st_mode & S_IRUSR;
	if (in_group(st.st_gid))
		return st.st_mode & S_IRGRP;
	return st.st_mode & S_IROTH;
}

const char *vmsr_open_hint(int err)
{
	switch (err) {
	case -ENOENT:
	case -ENXIO:
	case -ENODEV:
		return "the vmsr module is not loaded: run 'modprobe vmsr' (or install the vmsr-dkms package)";
	case -EACCES:
		if (mode_allows_read())
			return "a security module denies the device although its mode allows it: if 'journalctl -k | grep DENIED' shows AppArmor, add '/dev/vmsr r,' to /etc/apparmor.d/local/abstractions/libvirt-qemu (or the program's profile) and reload apparmor";
		return "the device's mode refuses you: add the user to group kvm ('usermod -aG kvm USER'), then log in again";
	case -EPERM:
		return "a device cgroup refuses the device: under libvirt, add \"/dev/vmsr\" to cgroup_device_acl in /etc/libvirt/qemu.conf, then restart libvirtd and the domain";
	default:
		return "cannot open the device";
	}
}
