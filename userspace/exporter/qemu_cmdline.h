/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Which processes are VMs, and who they are, from /proc/PID/cmdline.
 *
 * A VM is a process whose argv[0] is a QEMU system emulator: any
 * qemu-system-* (Debian, libvirt), qemu-kvm (/usr/libexec/qemu-kvm on
 * RHEL-like hosts) or kvm (Proxmox's /usr/bin/kvm), by file name, whatever
 * the directory.
 *
 * Its identity: "-uuid UUID", normalised to lower case, and the guest name
 * from "-name", either "-name NAME[,opts]" or "-name guest=NAME[,opts]",
 * with QEMU's option syntax decoded: a doubled comma is a literal comma
 * (libvirt doubles every comma of a domain name). "--uuid" and "--name"
 * are the same options. When an option is repeated, the last one counts.
 */
#ifndef VMSR_EXPORTER_QEMU_CMDLINE_H
#define VMSR_EXPORTER_QEMU_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

#define QEMU_UUID_LEN	36
#define QEMU_NAME_MAX	255	/* bytes of a name kept; longer ones are cut */

/* qemu_vm_id.problems: why an identity is incomplete */
#define QEMU_ID_NO_CMDLINE	(1U << 0)	/* empty or unreadable command line */
#define QEMU_ID_BAD_UUID	(1U << 1)	/* -uuid without a valid UUID */
#define QEMU_ID_BAD_NAME	(1U << 2)	/* -name without a value, or not UTF-8 */

struct qemu_vm_id {
	char uuid[QEMU_UUID_LEN + 1];	/* "" when not given */
	char name[QEMU_NAME_MAX + 1];	/* "" when not given; valid UTF-8 */
	unsigned int problems;		/* QEMU_ID_* */
};

/* Whether @argv0 names a QEMU system emulator. */
bool qemu_is_vmm(const char *argv0);

/*
 * Whether the NUL-separated argument list @cmdline (@len bytes, as read
 * from /proc/PID/cmdline) is a VM's; if so, fills @id.
 */
bool qemu_parse_cmdline(const char *cmdline, size_t len, struct qemu_vm_id *id);

/*
 * Decodes the guest name from the value of -name into @out (@size bytes,
 * NUL-terminated, cut at a UTF-8 character boundary). Returns false if the
 * value names no guest, or the name is not valid UTF-8 (invalid bytes are
 * then written as '?').
 */
bool qemu_decode_name(const char *value, char *out, size_t size);

/* Normalises a UUID in QEMU's 8-4-4-4-12 hex form to lower case; false if it is not one. */
bool qemu_parse_uuid(const char *value, char out[QEMU_UUID_LEN + 1]);

#endif /* VMSR_EXPORTER_QEMU_CMDLINE_H */
