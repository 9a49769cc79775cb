// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * RAPL energy units. MSR_RAPL_POWER_UNIT gives one energy unit for every
 * domain, but Intel's server parts from Haswell-X to Ice Lake-X count DRAM
 * energy in a fixed 15.3 uJ step whatever that register says. This is the
 * table Linux's powercap driver applies (drivers/powercap/intel_rapl_msr.c,
 * rapl_defaults_hsw_server), with the same models.
 */
#include <cpuid.h>
#include <stddef.h>

#include "libvmsr.h"
#include "rapl_units.h"

#define DRAM_FIXED_JOULES	15.3e-6

static const uint32_t dram_fixed_unit_models[] = {
	0x63f,	/* Haswell-X */
	0x64f,	/* Broadwell-X */
	0x655,	/* Skylake-X, Cascade Lake-X, Cooper Lake-X */
	0x66a,	/* Ice Lake-X */
	0x66c,	/* Ice Lake-D */
	0x657,	/* Xeon Phi Knights Landing */
	0x685,	/* Xeon Phi Knights Mill */
};

uint32_t vmsr_host_cpu_model(void)
{
	unsigned int eax, ebx, ecx, edx, family, model;

	if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
		return 0;
	family = (eax >> 8) & 0xf;
	model = (eax >> 4) & 0xf;
	if (family == 0xf)
		family += (eax >> 20) & 0xff;
	if (family == 0x6 || family >= 0xf)
		model |= ((eax >> 16) & 0xf) << 4;
	return family << 8 | model;
}

static int dram_unit_is_fixed(uint32_t cpu_model)
{
	for (unsigned int i = 0; i < sizeof(dram_fixed_unit_models) / sizeof(uint32_t); i++)
		if (dram_fixed_unit_models[i] == cpu_model)
			return 1;
	return 0;
}

void vmsr_rapl_units(const struct vmsr_info *info, uint32_t cpu_model,
		     double jps[VMSR_NR_DOMAINS])
{
	double unit = vmsr_joules_per_step(info);

	for (int d = 0; d < VMSR_NR_DOMAINS; d++)
		jps[d] = unit;
	/* Emulated counters count in INFO's unit, whatever the CPU. */
	if (info->vendor == VMSR_VENDOR_INTEL && !(info->flags & VMSR_INFO_F_EMULATED) &&
	    dram_unit_is_fixed(cpu_model))
		jps[VMSR_DOMAIN_DRAM] = DRAM_FIXED_JOULES;
}
