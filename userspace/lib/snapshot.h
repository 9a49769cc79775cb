/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * One sample of the host: the arrays of a VMSR_IOC_SAMPLE call and its time
 * stamps, from the device or from a test's script. Internal to libvmsr.
 */
#ifndef LIBVMSR_SNAPSHOT_H
#define LIBVMSR_SNAPSHOT_H

#include <stdint.h>

#include "libvmsr.h"

struct vmsr_snapshot {
	struct vmsr_pkg_sample *pkgs;	/* in: package, domains; out: the rest */
	uint32_t nr_pkgs;
	struct vmsr_task_sample *tasks;	/* in: tid; out: the rest */
	uint32_t nr_tasks;
	uint64_t start_ns, end_ns;	/* out */
};

/* Fills the out fields of @snap; returns 0 or -errno. */
typedef int (*vmsr_source_fn)(void *ctx, struct vmsr_snapshot *snap);

/*
 * One SAMPLE call on @fd with *@flags (VMSR_SAMPLE_F_*). A kernel that
 * refuses VMSR_SAMPLE_F_FRESH with -EOPNOTSUPP is asked again without it,
 * and *@flags loses it, so that it is asked only once.
 */
int vmsr_snapshot_device(int fd, uint32_t *flags, struct vmsr_snapshot *snap);

#endif /* LIBVMSR_SNAPSHOT_H */
