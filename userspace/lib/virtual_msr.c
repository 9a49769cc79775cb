// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The virtual MSRs in Intel layout, published for lock-free readers.
 *
 * Each register is one atomic 64-bit word per virtual package, written by
 * the tick with a release store and read with an acquire load: a guest's
 * RDMSR never waits for a tick, and always sees a value some tick wrote.
 */
#include <errno.h>
#include <math.h>

#include "sampler.h"

/* Intel's usual unit: power 1/8 W, energy 2^-14 J, time 2^-10 s. */
#define DEFAULT_POWER_UNIT	0xa0e03ULL
#define POWER_UNIT_MASK		0xf1f0fULL	/* power, energy, time unit fields */
#define ENERGY_UNIT(raw)	(((raw) >> 8) & 0x1f)

static const uint32_t vreg_msr[NR_VREGS] = {
	[VREG_POWER_UNIT] = VMSR_MSR_RAPL_POWER_UNIT,
	[VREG_PKG_LIMIT] = VMSR_MSR_PKG_POWER_LIMIT,
	[VREG_PKG_ENERGY] = VMSR_MSR_PKG_ENERGY_STATUS,
	[VREG_PKG_INFO] = VMSR_MSR_PKG_POWER_INFO,
	[VREG_DRAM_ENERGY] = VMSR_MSR_DRAM_ENERGY_STATUS,
	[VREG_PP0_ENERGY] = VMSR_MSR_PP0_ENERGY_STATUS,
};

static int vreg_of(uint32_t msr)
{
	for (int r = 0; r < NR_VREGS; r++)
		if (vreg_msr[r] == msr)
			return r;
	return -1;
}

void vmsr_vregs_init(struct vmsr_sampler *s)
{
	const struct vmsr_host *host = &s->acct.host;
	const struct vmsr_info *info = &host->info;
	/* AMD's unit register has Intel's layout, so either host's serves. */
	uint64_t unit = info->power_unit_raw ? info->power_unit_raw & POWER_UNIT_MASK :
					       DEFAULT_POWER_UNIT;

	s->guest_unit_shift = ENERGY_UNIT(unit);
	s->valid_vregs = 1U << VREG_POWER_UNIT | 1U << VREG_PKG_LIMIT | 1U << VREG_PKG_INFO |
			 1U << VREG_PKG_ENERGY;
	if (info->domains & VMSR_DOMAIN_BIT(VMSR_DOMAIN_DRAM))
		s->valid_vregs |= 1U << VREG_DRAM_ENERGY;
	if (info->domains & VMSR_DOMAIN_BIT(VMSR_DOMAIN_CORE))
		s->valid_vregs |= 1U << VREG_PP0_ENERGY;
	for (uint32_t p = 0; p < s->cfg.nr_vpackages; p++) {
		struct vmsr_vpackage *vp = &s->vpkgs[p];

		for (int r = 0; r < NR_VREGS; r++)
			atomic_init(&vp->vreg[r], 0);
		atomic_init(&vp->vreg[VREG_POWER_UNIT], unit);
		atomic_init(&vp->vreg[VREG_PKG_LIMIT], host->pkg_power_limit);
		atomic_init(&vp->vreg[VREG_PKG_INFO], host->pkg_power_info);
	}
}

/* Joules as a 32-bit counter in the guest's unit: monotonic modulo 2^32. */
static uint64_t energy_status(const struct vmsr_sampler *s, double joules)
{
	return (uint32_t)(uint64_t)ldexp(joules, (int)s->guest_unit_shift);
}

void vmsr_vregs_publish(struct vmsr_sampler *s, uint32_t vpackage)
{
	struct vmsr_vpackage *vp = &s->vpkgs[vpackage];

	atomic_store_explicit(&vp->vreg[VREG_PKG_ENERGY],
			      energy_status(s, vp->joules[VMSR_DOMAIN_PKG]), memory_order_release);
	atomic_store_explicit(&vp->vreg[VREG_DRAM_ENERGY],
			      energy_status(s, vp->joules[VMSR_DOMAIN_DRAM]), memory_order_release);
	atomic_store_explicit(&vp->vreg[VREG_PP0_ENERGY],
			      energy_status(s, vp->joules[VMSR_DOMAIN_CORE]), memory_order_release);
}

int vmsr_sampler_read_msr(const struct vmsr_sampler *s, uint32_t vpackage, uint32_t msr,
			  uint64_t *value)
{
	int r = vreg_of(msr);

	if (!s || !value)
		return -EINVAL;
	*value = 0;
	if (vpackage >= s->cfg.nr_vpackages)
		return -EINVAL;
	if (r < 0 || !(s->valid_vregs & 1U << r))
		return -ENOENT;
	/* Readers only ever load; the cast drops the const the API promises. */
	*value = atomic_load_explicit((_Atomic uint64_t *)&s->vpkgs[vpackage].vreg[r],
				      memory_order_acquire);
	return 0;
}

int vmsr_sampler_read_vcpu_msr(const struct vmsr_sampler *s, uint32_t vcpu, uint32_t msr,
			       uint64_t *value)
{
	uint32_t vpackage;

	if (!s || !value)
		return -EINVAL;
	*value = 0;
	if (vcpu >= s->cfg.max_vcpus)
		return -EINVAL;
	vpackage = atomic_load_explicit((_Atomic uint32_t *)&s->vcpu_vpackage[vcpu],
					memory_order_acquire);
	return vmsr_sampler_read_msr(s, vpackage, msr, value);
}
