// SPDX-License-Identifier: GPL-2.0-only
/*
 * The hardware backend: RAPL MSRs read on a given CPU.
 *
 * RAPL has no CPUID bit on Intel, and a missing MSR does not always fault
 * (QEMU's TCG returns 0 for all of them), so a domain counts as present only
 * if its energy counter reads without a fault and is non-zero, the test the
 * kernel's intel_rapl driver also applies. A zero unit MSR means no RAPL.
 */
#include <linux/cpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/processor.h>

#include "vmsr_compat.h"
#include "vmsr.h"

int vmsr_hw_read(unsigned int cpu, u32 msr, u64 *val)
{
	return rdmsrq_safe_on_cpu(cpu, msr, val);
}

/* Fills @rapl with what this machine has; no RAPL is not an error. */
int vmsr_hw_init(struct vmsr_rapl *rapl)
{
	const struct vmsr_vendor_msrs *set;
	unsigned int cpu, i;
	u64 val;

	rapl->vendor = vmsr_vendor_from_x86(boot_cpu_data.x86_vendor);
	set = vmsr_vendor_msrs(rapl->vendor);
	if (!set)
		return 0;
	if (rapl->vendor != VMSR_VENDOR_INTEL && !vmsr_has_amd_rapl())
		return 0;

	cpus_read_lock();
	cpu = cpumask_first(cpu_online_mask);
	if (rdmsrq_safe_on_cpu(cpu, set->unit_msr, &val) || !val)
		goto out;
	rapl->unit_raw = val;
	for (i = 0; i < set->nr_msrs; i++) {
		const struct vmsr_msr_desc *desc = &set->msrs[i];

		/* Only energy counters make a domain present. */
		if ((desc->scope != VMSR_SCOPE_PKG_ENERGY &&
		     desc->scope != VMSR_SCOPE_CPU_ENERGY) ||
		    rdmsrq_safe_on_cpu(cpu, desc->msr, &val) || !(u32)val)
			continue;
		if (desc->scope == VMSR_SCOPE_PKG_ENERGY)
			rapl->domains |= VMSR_DOMAIN_BIT(desc->domain);
		else
			rapl->cpu_domains |= VMSR_DOMAIN_BIT(desc->domain);
	}
out:
	cpus_read_unlock();
	return 0;
}

void vmsr_hw_exit(void)
{
}
