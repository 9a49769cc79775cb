// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fixed set of MSRs that vmsr will read. Nothing outside it is ever
 * touched, and there is no write path at all. Only the running vendor's set
 * is accepted: an AMD address on an Intel host is refused, and vice versa.
 */
#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/processor.h>

#include "vmsr_compat.h"
#include "vmsr.h"

#define MSR_ENTRY(addr, sc, dom) { .msr = (addr), .scope = (sc), .domain = (dom) }

static const struct vmsr_msr_desc intel_msrs[] = {
	MSR_ENTRY(MSR_RAPL_POWER_UNIT, VMSR_SCOPE_CONST, -1),
	MSR_ENTRY(MSR_PKG_POWER_LIMIT, VMSR_SCOPE_PLAIN, -1),
	MSR_ENTRY(MSR_PKG_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PKG),
	MSR_ENTRY(MSR_PKG_POWER_INFO, VMSR_SCOPE_CONST, -1),
	MSR_ENTRY(MSR_DRAM_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_DRAM),
	MSR_ENTRY(MSR_PP0_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_CORE),
	MSR_ENTRY(MSR_PP1_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_UNCORE),
	MSR_ENTRY(MSR_PLATFORM_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PSYS),
};

/* AMD and Hygon share one layout; the core counter is per core, not per package. */
static const struct vmsr_msr_desc amd_msrs[] = {
	MSR_ENTRY(MSR_AMD_RAPL_POWER_UNIT, VMSR_SCOPE_CONST, -1),
	MSR_ENTRY(MSR_AMD_CORE_ENERGY_STATUS, VMSR_SCOPE_CPU_ENERGY, VMSR_DOMAIN_CORE),
	MSR_ENTRY(MSR_AMD_PKG_ENERGY_STATUS, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PKG),
};

static const struct vmsr_vendor_msrs intel_set = {
	.unit_msr = MSR_RAPL_POWER_UNIT,
	.msrs = intel_msrs,
	.nr_msrs = ARRAY_SIZE(intel_msrs),
};

static const struct vmsr_vendor_msrs amd_set = {
	.unit_msr = MSR_AMD_RAPL_POWER_UNIT,
	.msrs = amd_msrs,
	.nr_msrs = ARRAY_SIZE(amd_msrs),
};

u32 vmsr_vendor_from_x86(u8 x86_vendor)
{
	switch (x86_vendor) {
	case X86_VENDOR_INTEL:
		return VMSR_VENDOR_INTEL;
	case X86_VENDOR_AMD:
		return VMSR_VENDOR_AMD;
	case X86_VENDOR_HYGON:
		return VMSR_VENDOR_HYGON;
	default:
		return VMSR_VENDOR_UNKNOWN;
	}
}

/* The set for @vendor, or NULL for a vendor without RAPL MSRs. */
const struct vmsr_vendor_msrs *vmsr_vendor_msrs(u32 vendor)
{
	switch (vendor) {
	case VMSR_VENDOR_INTEL:
		return &intel_set;
	case VMSR_VENDOR_AMD:
	case VMSR_VENDOR_HYGON:
		return &amd_set;
	default:
		return NULL;
	}
}

/* The description of @msr if @vendor's set allows it, else NULL. */
const struct vmsr_msr_desc *vmsr_msr_lookup(u32 vendor, u32 msr)
{
	const struct vmsr_vendor_msrs *set = vmsr_vendor_msrs(vendor);
	unsigned int i;

	if (!set)
		return NULL;
	for (i = 0; i < set->nr_msrs; i++)
		if (set->msrs[i].msr == msr)
			return &set->msrs[i];
	return NULL;
}
