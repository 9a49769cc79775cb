// SPDX-License-Identifier: GPL-2.0-only
/*
 * Emulated RAPL, for tests only: built into the "emulated" flavour of
 * vmsr.ko, never into the normal or DKMS build.
 *
 * QEMU's TCG returns 0 for every RAPL MSR, so the energy path needs a model.
 * Each package draws an idle floor plus a fixed power per CPU-second of busy
 * time, its CPUs' user, nice, system, irq and softirq time from the kernel's
 * per-CPU cpustat. Values use the running vendor's MSR layout and real RAPL
 * units, in 32-bit counters that wrap; emu_start puts them just below the wrap.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel_stat.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <asm/processor.h>

#include "vmsr.h"

static unsigned int emu_idle_mw = 8000;
module_param(emu_idle_mw, uint, 0444);
MODULE_PARM_DESC(emu_idle_mw, "Emulated idle power per package (mW)");

static unsigned int emu_busy_mw = 12000;
module_param(emu_busy_mw, uint, 0444);
MODULE_PARM_DESC(emu_busy_mw, "Emulated power per busy CPU (mW)");

static unsigned int emu_dram_mw = 1500;
module_param(emu_dram_mw, uint, 0444);
MODULE_PARM_DESC(emu_dram_mw, "Emulated DRAM power per package (mW)");

static unsigned int emu_start;
module_param(emu_start, uint, 0444);
MODULE_PARM_DESC(emu_start, "Initial raw value of every emulated energy counter");

/* Time units 2^-10 s, power units 2^-3 W; energy 2^-14 J (Intel), 2^-16 J (AMD). */
#define EMU_UNIT_INTEL	0x000a0e03ULL
#define EMU_UNIT_AMD	0x000a1003ULL
#define EMU_TDP_W	65
/* PKG_POWER_LIMIT: PL1 at TDP, enabled; PKG_POWER_INFO: TDP. In 1/8 W. */
#define EMU_POWER_LIMIT	(BIT_ULL(15) | (EMU_TDP_W * 8))
#define EMU_POWER_INFO	(EMU_TDP_W * 8)

static unsigned int emu_fault_msr;
module_param(emu_fault_msr, uint, 0644);
MODULE_PARM_DESC(emu_fault_msr, "An MSR whose reads fault, to test the -EIO path");

static u64 emu_epoch_ns;
static u64 *emu_busy_base;	/* [nr_cpu_ids]: busy ns at load, so energy starts at emu_start */

/* The raw counter after @energy_uj, in steps of 2^-@energy_shift J, from @start. */
u32 vmsr_emu_counter(u32 start, u64 energy_uj, unsigned int energy_shift)
{
	return start + (u32)mul_u64_u32_div(energy_uj, 1U << energy_shift, USEC_PER_SEC);
}

static u64 emu_cpustat_busy_ns(unsigned int cpu)
{
	struct kernel_cpustat kcs;

	kcpustat_cpu_fetch(&kcs, cpu);
	return kcs.cpustat[CPUTIME_USER] + kcs.cpustat[CPUTIME_NICE] +
	       kcs.cpustat[CPUTIME_SYSTEM] + kcs.cpustat[CPUTIME_IRQ] +
	       kcs.cpustat[CPUTIME_SOFTIRQ];
}

/* Busy time of @cpu since the module was loaded. */
static u64 emu_busy_ns(unsigned int cpu)
{
	return emu_cpustat_busy_ns(cpu) - emu_busy_base[cpu];
}

static u64 emu_pkg_busy_ns(u32 pkg)
{
	unsigned int cpu;
	u64 sum = 0;

	for_each_possible_cpu(cpu)
		if (vmsr_cpu_package(cpu) == pkg)
			sum += emu_busy_ns(cpu);
	return sum;
}

/* Energy in uJ drawn at @mw for @ns. */
static u64 emu_uj(u64 ns, unsigned int mw)
{
	return mul_u64_u32_div(ns, mw, NSEC_PER_MSEC);
}

static unsigned int emu_shift(void)
{
	return vmsr_rapl.vendor == VMSR_VENDOR_INTEL ? 14 : 16;
}

static u64 emu_energy(u64 energy_uj)
{
	return vmsr_emu_counter(emu_start, energy_uj, emu_shift());
}

int vmsr_hw_read(unsigned int cpu, u32 msr, u64 *val)
{
	u64 elapsed = ktime_get_ns() - emu_epoch_ns;
	u32 pkg = vmsr_cpu_package(cpu);

	if (msr == READ_ONCE(emu_fault_msr)) {
		*val = 0;
		return -EIO;
	}
	switch (msr) {
	case 0x606:
		*val = EMU_UNIT_INTEL;
		break;
	case 0xc0010299:
		*val = EMU_UNIT_AMD;
		break;
	case 0x610:
		*val = EMU_POWER_LIMIT;
		break;
	case 0x614:
		*val = EMU_POWER_INFO;
		break;
	case 0x611:
	case 0xc001029b:
		*val = emu_energy(emu_uj(elapsed, emu_idle_mw) +
				  emu_uj(emu_pkg_busy_ns(pkg), emu_busy_mw));
		break;
	case 0x639:
		*val = emu_energy(emu_uj(emu_pkg_busy_ns(pkg), emu_busy_mw));
		break;
	case 0x619:
		*val = emu_energy(emu_uj(elapsed, emu_dram_mw));
		break;
	case 0xc001029a:
		*val = emu_energy(emu_uj(emu_busy_ns(cpu), emu_busy_mw));
		break;
	default:
		/* PP1 and PSYS are not modelled: they fault, as on many CPUs. */
		*val = 0;
		return -EIO;
	}
	return 0;
}

int vmsr_hw_init(struct vmsr_rapl *rapl)
{
	unsigned int cpu;

	emu_busy_base = kcalloc(nr_cpu_ids, sizeof(*emu_busy_base), GFP_KERNEL);
	if (!emu_busy_base)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		emu_busy_base[cpu] = emu_cpustat_busy_ns(cpu);
	emu_epoch_ns = ktime_get_ns();

	rapl->vendor = vmsr_vendor_from_x86(boot_cpu_data.x86_vendor);
	rapl->emulated = true;

	switch (rapl->vendor) {
	case VMSR_VENDOR_INTEL:
		rapl->unit_raw = EMU_UNIT_INTEL;
		rapl->domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG) |
				VMSR_DOMAIN_BIT(VMSR_DOMAIN_DRAM) |
				VMSR_DOMAIN_BIT(VMSR_DOMAIN_CORE);
		break;
	case VMSR_VENDOR_AMD:
	case VMSR_VENDOR_HYGON:
		rapl->unit_raw = EMU_UNIT_AMD;
		rapl->domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG);
		rapl->cpu_domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_CORE);
		break;
	default:
		return 0;
	}
	pr_warn("RAPL is emulated: this build is for tests only\n");
	return 0;
}

void vmsr_hw_exit(void)
{
	kfree(emu_busy_base);
	emu_busy_base = NULL;
}
