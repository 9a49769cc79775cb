/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/* Joules per counter step, per RAPL domain and host CPU model. Internal. */
#ifndef LIBVMSR_RAPL_UNITS_H
#define LIBVMSR_RAPL_UNITS_H

#include <stdint.h>

#include <linux/vmsr.h>

/* The host CPU as family << 8 | model (CPUID leaf 1, display values); 0 if unknown. */
uint32_t vmsr_host_cpu_model(void);

/*
 * Fills @jps with the joules of one counter step of each domain: INFO's
 * energy unit, except where the CPU model fixes a domain's unit.
 */
void vmsr_rapl_units(const struct vmsr_info *info, uint32_t cpu_model,
		     double jps[VMSR_NR_DOMAINS]);

#endif /* LIBVMSR_RAPL_UNITS_H */
