/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* The one /proc task scanner of libvmsr, vmsrstat and the exporter. Internal. */
#ifndef LIBVMSR_TASK_SCAN_H
#define LIBVMSR_TASK_SCAN_H

#include <stdint.h>

/*
 * The TIDs listed in /proc/@pid/task, sorted, in *@tids (malloc'd, the
 * caller frees it). Returns 0, -ENOENT when the process is gone, or -errno.
 */
int vmsr_task_scan(int pid, int **tids, uint32_t *nr);

#endif /* LIBVMSR_TASK_SCAN_H */
