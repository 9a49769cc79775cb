/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libvmsr: userspace access to /dev/vmsr.
 *
 * Thin wrappers around the ioctls of <linux/vmsr.h>. Every function that
 * can fail returns 0 or a negative errno; none of them sets errno for the
 * caller to read.
 */
#ifndef LIBVMSR_H
#define LIBVMSR_H

#include <stdint.h>
#include <linux/vmsr.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library's exported functions: it is built with -fvisibility=hidden, so
 * a function is part of libvmsr.so only if its declaration here carries
 * VMSR_API.
 */
#define VMSR_API __attribute__((visibility("default")))

#define VMSR_DEVICE_PATH "/dev/vmsr"

/* Opens @path (NULL: /dev/vmsr). Returns a file descriptor or -errno. */
VMSR_API int vmsr_open(const char *path);

/* VMSR_IOC_INFO; @cpu_map (may be NULL) receives @cpu_map_len entries at most. */
VMSR_API int vmsr_get_info(int fd, struct vmsr_info *info, uint32_t *cpu_map, uint32_t cpu_map_len);

/* VMSR_IOC_READ over @count entries. */
VMSR_API int vmsr_read_msrs(int fd, struct vmsr_read_entry *entries, uint32_t count);

/* VMSR_IOC_SAMPLE; on success *start_ns and *end_ns (may be NULL) bracket the call. */
VMSR_API int vmsr_sample(int fd, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		uint64_t *start_ns, uint64_t *end_ns);

/* Joules per counter step, from INFO's energy_unit_shift. */
VMSR_API double vmsr_joules_per_step(const struct vmsr_info *info);

/* A one-line explanation of an error from vmsr_open() that tells what to do. */
VMSR_API const char *vmsr_open_hint(int err);

#ifdef __cplusplus
}
#endif

#endif /* LIBVMSR_H */
