// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rate-limited RAPL energy counters.
 *
 * Fine-grained energy readings are a side channel (CVE-2020-8694/8695), so
 * each package's counters are read from hardware at most once per
 * min_interval_us; a call within that interval gets the cached values and
 * the time they were read. Every CPU of a package therefore sees the same
 * value. AMD's per-core counter is rate-limited the same way, per core: SMT
 * siblings share the counter, and its cache.
 *
 * Callers hold cpus_read_lock(), so a CPU chosen for a read stays online.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpu.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/topology.h>

#include "vmsr_compat.h"
#include "vmsr.h"

struct vmsr_rapl vmsr_rapl;

unsigned int vmsr_min_interval_us = VMSR_DEFAULT_MIN_INTERVAL_US;
module_param_named(min_interval_us, vmsr_min_interval_us, uint, 0444);
MODULE_PARM_DESC(min_interval_us,
		 "Energy counters are read from hardware at most this often, per package (us)");

struct vmsr_energy_cache {
	struct mutex lock;	/* serialises refreshes of @energy */
	bool valid;
	struct vmsr_energy energy;
};

/* [nr_cpu_ids] each: package ids and core keys are below nr_cpu_ids too. */
static struct vmsr_energy_cache *pkg_cache;
static struct vmsr_energy_cache *cpu_cache;

/*
 * Registers that never change (units, power info), per package and
 * whitelist entry: read on a CPU of the package as it comes online, the
 * first time one does, so that READ never sends an IPI for them.
 */
struct vmsr_const {
	u64 value;
	s32 result;		/* 0, -EIO, or -ENXIO until read */
};

static struct vmsr_const *const_cache;	/* [nr_cpu_ids][nr_msrs of the vendor] */
static int const_hp_state = -1;

static struct vmsr_const *vmsr_const_slot(u32 pkg, const struct vmsr_msr_desc *desc)
{
	const struct vmsr_vendor_msrs *set = vmsr_vendor_msrs(vmsr_rapl.vendor);

	return &const_cache[pkg * set->nr_msrs + (desc - set->msrs)];
}

/* A CPU hotplug callback, so it runs on @cpu: the reads send no IPI. */
static int vmsr_const_online(unsigned int cpu)
{
	const struct vmsr_vendor_msrs *set = vmsr_vendor_msrs(vmsr_rapl.vendor);
	u32 pkg = vmsr_cpu_instance(cpu);
	unsigned int i;

	if (WARN_ON_ONCE(pkg >= nr_cpu_ids))
		return 0;
	for (i = 0; i < set->nr_msrs; i++) {
		struct vmsr_const *c = vmsr_const_slot(pkg, &set->msrs[i]);

		if (set->msrs[i].scope != VMSR_SCOPE_CONST || c->result != -ENXIO)
			continue;
		c->result = vmsr_hw_read(cpu, set->msrs[i].msr, &c->value) ? -EIO : 0;
	}
	return 0;
}

static int vmsr_const_init(void)
{
	const struct vmsr_vendor_msrs *set = vmsr_vendor_msrs(vmsr_rapl.vendor);
	unsigned int i;
	int ret;

	if (!set)
		return 0;
	const_cache = kvmalloc_array(array_size(nr_cpu_ids, set->nr_msrs),
				     sizeof(*const_cache), GFP_KERNEL);
	if (!const_cache)
		return -ENOMEM;
	for (i = 0; i < nr_cpu_ids * set->nr_msrs; i++)
		const_cache[i] = (struct vmsr_const){ .result = -ENXIO };
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "misc/vmsr:const", vmsr_const_online, NULL);
	if (ret < 0)
		return ret;
	const_hp_state = ret;
	return 0;
}

static void vmsr_const_exit(void)
{
	if (const_hp_state >= 0)
		cpuhp_remove_state(const_hp_state);
	const_hp_state = -1;
	kvfree(const_cache);
	const_cache = NULL;
}

static struct vmsr_energy_cache *vmsr_caches_alloc(void)
{
	struct vmsr_energy_cache *c;
	unsigned int i;

	c = kcalloc(nr_cpu_ids, sizeof(*c), GFP_KERNEL);
	if (c)
		for (i = 0; i < nr_cpu_ids; i++)
			mutex_init(&c[i].lock);
	return c;
}

int vmsr_energy_init(void)
{
	int ret;

	if (vmsr_check_min_interval(vmsr_min_interval_us)) {
		pr_err("min_interval_us must be %u to %u\n", VMSR_MIN_MIN_INTERVAL_US,
		       VMSR_MAX_MIN_INTERVAL_US);
		return -EINVAL;
	}
	memset(&vmsr_rapl, 0, sizeof(vmsr_rapl));
	ret = vmsr_hw_init(&vmsr_rapl);
	if (ret)
		return ret;

	pkg_cache = vmsr_caches_alloc();
	cpu_cache = vmsr_caches_alloc();
	ret = pkg_cache && cpu_cache ? vmsr_const_init() : -ENOMEM;
	if (ret)
		vmsr_energy_exit();
	return ret;
}

void vmsr_energy_exit(void)
{
	vmsr_const_exit();
	vmsr_hw_exit();
	kfree(pkg_cache);
	kfree(cpu_cache);
	pkg_cache = NULL;
	cpu_cache = NULL;
}

/* Reads every domain in @domains on @cpu; the others are -ENODEV. */
static void vmsr_energy_refresh(struct vmsr_energy *e, unsigned int cpu,
				u32 domains, bool per_cpu)
{
	const struct vmsr_vendor_msrs *set = vmsr_vendor_msrs(vmsr_rapl.vendor);
	enum vmsr_msr_scope scope = per_cpu ? VMSR_SCOPE_CPU_ENERGY : VMSR_SCOPE_PKG_ENERGY;
	unsigned int i;
	int d;

	for (d = 0; d < VMSR_NR_DOMAINS; d++) {
		e->value[d] = 0;
		e->result[d] = -ENODEV;
	}
	for (i = 0; set && i < set->nr_msrs; i++) {
		const struct vmsr_msr_desc *desc = &set->msrs[i];
		u64 val;

		if (desc->scope != scope || !(domains & VMSR_DOMAIN_BIT(desc->domain)))
			continue;
		e->result[desc->domain] = vmsr_hw_read(cpu, desc->msr, &val) ? -EIO : 0;
		if (!e->result[desc->domain])
			e->value[desc->domain] = (u32)val;
	}
	e->read_ns = ktime_get_ns();
}

static void vmsr_energy_cached(struct vmsr_energy_cache *c, unsigned int cpu,
			       u32 domains, bool per_cpu, struct vmsr_energy *out)
{
	mutex_lock(&c->lock);
	/* The clock is read under the lock: a waiter must see the refresh it waited for. */
	if (!c->valid ||
	    ktime_get_ns() - c->energy.read_ns >= (u64)vmsr_min_interval_us * NSEC_PER_USEC) {
		vmsr_energy_refresh(&c->energy, cpu, domains, per_cpu);
		c->valid = true;
	}
	*out = c->energy;
	mutex_unlock(&c->lock);
}

static void vmsr_energy_fail(struct vmsr_energy *out, int err)
{
	int d;

	out->read_ns = 0;
	for (d = 0; d < VMSR_NR_DOMAINS; d++) {
		out->value[d] = 0;
		out->result[d] = err;
	}
}

/*
 * All package-scope counters of @pkg, read on a housekeeping CPU of it where
 * it has one: -ENXIO if it has no online CPU.
 */
void vmsr_energy_pkg(u32 pkg, struct vmsr_energy *out)
{
	int cpu;

	vmsr_assert_cpus_held();
	cpu = pkg < nr_cpu_ids ? vmsr_package_cpu(pkg) : -ENXIO;
	if (cpu < 0) {
		vmsr_energy_fail(out, cpu);
		return;
	}
	vmsr_energy_cached(&pkg_cache[pkg], cpu, vmsr_rapl.domains, false, out);
}

static int vmsr_target_cpu(u32 target, bool by_pkg)
{
	vmsr_assert_cpus_held();
	if (by_pkg)
		return target < nr_cpu_ids ? vmsr_package_cpu(target) : -ENXIO;
	if (target >= nr_cpu_ids || !cpu_online(target))
		return -ENXIO;
	return target;
}

/*
 * One READ entry; @desc is from the whitelist. Every register but AMD's
 * per-core counter is package-scoped: it is read, or served from memory, for
 * the target's package, so that a READ aimed at an isolated CPU does not
 * interrupt it (AMD's core counter only as often as the rate limit allows).
 */
int vmsr_read_msr(const struct vmsr_msr_desc *desc, u32 target, bool by_pkg, u64 *val)
{
	struct vmsr_const *c;
	struct vmsr_energy e;
	int cpu = vmsr_target_cpu(target, by_pkg);
	u32 pkg;

	*val = 0;
	if (cpu < 0)
		return cpu;
	pkg = vmsr_cpu_package(cpu);
	if (pkg >= nr_cpu_ids)
		return -ENXIO;

	switch (desc->scope) {
	case VMSR_SCOPE_CONST:
		c = vmsr_const_slot(pkg, desc);
		*val = c->result ? 0 : c->value;
		return c->result;
	case VMSR_SCOPE_PLAIN:
		cpu = vmsr_package_cpu(pkg);
		if (cpu < 0)
			return cpu;
		return vmsr_hw_read(cpu, desc->msr, val) ? -EIO : 0;
	case VMSR_SCOPE_PKG_ENERGY:
		if (!(vmsr_rapl.domains & VMSR_DOMAIN_BIT(desc->domain)))
			return -ENODEV;
		vmsr_energy_pkg(pkg, &e);
		break;
	case VMSR_SCOPE_CPU_ENERGY:
		if (!(vmsr_rapl.cpu_domains & VMSR_DOMAIN_BIT(desc->domain)))
			return -ENODEV;
		vmsr_energy_cached(&cpu_cache[vmsr_cpu_core(cpu)], cpu,
				   vmsr_rapl.cpu_domains, true, &e);
		break;
	default:
		return -EIO;
	}
	*val = e.value[desc->domain];
	return e.result[desc->domain];
}
