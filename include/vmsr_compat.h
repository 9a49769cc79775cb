/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Shims that let vmsr, written against the newest kernel API, build on older
 * kernels. One shim per API change, each naming the release that made it.
 */
#ifndef VMSR_COMPAT_H
#define VMSR_COMPAT_H

#include <linux/version.h>

/* 6.16 renamed the 64-bit MSR helpers rdmsrl_* to rdmsrq_* (5e404cb7ac4c). */
#if KERNEL_VERSION(6, 16, 0) > LINUX_VERSION_CODE
#define rdmsrq_safe_on_cpu(cpu, msr, q)	rdmsrl_safe_on_cpu(cpu, msr, q)
#endif

#endif /* VMSR_COMPAT_H */
