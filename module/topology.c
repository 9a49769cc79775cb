// SPDX-License-Identifier: GPL-2.0-only
/*
 * CPU to RAPL instance and core maps. A CPU's instance and core are recorded
 * when it first comes online (a CPU hotplug callback) and kept when it goes
 * offline, so every CPU that has ever run keeps them. Energy reads addressed
 * to an instance go to one of its CPUs that is online right now; callers hold
 * cpus_read_lock() so that the choice stays valid until the read is done.
 *
 * A RAPL instance is what one set of RAPL registers counts: a package, or a
 * die of an Intel package that has several (Cascade Lake-AP). The ABI and
 * the rest of the module call instance ids "package" ids; vmsr_info's
 * VMSR_INFO_F_DIES says which they are.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/sched/isolation.h>
#include <linux/slab.h>
#include <linux/topology.h>
#include <asm/processor.h>

#include "vmsr_compat.h"
#include "vmsr.h"

static u32 *cpu_pkg;		/* [nr_cpu_ids]: RAPL instance, or VMSR_NO_PACKAGE */
static u32 *cpu_core;		/* [nr_cpu_ids]: per-core cache key, or VMSR_NO_CORE */
static u32 nr_packages;		/* one more than the largest instance id seen */
static bool die_scope;		/* instances are dies, not packages */
/*
 * The CPUs that neither isolcpus= nor nohz_full= isolate, as of the last CPU
 * online: written under the hotplug lock, read under cpus_read_lock().
 * (Isolated cpuset partitions created at run time are not followed.)
 */
static cpumask_var_t housekeeping;
static int hp_state;

/*
 * Whether RAPL counts per die rather than per package, as Linux's RAPL
 * drivers decide it: on Intel, when packages have more than one die (perf's
 * rapl PMU and powercap's intel_rapl key Intel instances by logical die id,
 * and powercap names them "package-N-die-M" then). AMD and Hygon count per
 * package, whatever the kernel calls a die there: from 6.10, on CPUs with
 * CPUID 0x80000026, a CCD, and both drivers key those by package.
 */
bool vmsr_rapl_die_scope(u32 vendor, unsigned int dies_per_package)
{
	return vendor == VMSR_VENDOR_INTEL && dies_per_package > 1;
}

/*
 * @cpu's RAPL instance: its logical die id with @dies, else its logical
 * package id. Both are dense from 0 across the machine, so below nr_cpu_ids.
 */
u32 vmsr_cpu_rapl_id(unsigned int cpu, bool dies)
{
	return dies ? topology_logical_die_id(cpu) : topology_logical_package_id(cpu);
}

/* Whether this machine's instance ids are dies (VMSR_INFO_F_DIES). */
bool vmsr_die_scope(void)
{
	return die_scope;
}

/* @cpu's RAPL instance on this machine, for a CPU that is online. */
u32 vmsr_cpu_instance(unsigned int cpu)
{
	return vmsr_cpu_rapl_id(cpu, die_scope);
}

static int vmsr_cpu_online(unsigned int cpu)
{
	u32 pkg = vmsr_cpu_instance(cpu);

	/* Instance ids are dense and below nr_cpu_ids; anything else is a bug. */
	if (WARN_ON_ONCE(pkg >= nr_cpu_ids))
		return 0;
	cpumask_and(housekeeping, housekeeping_cpumask(VMSR_HK_DOMAIN),
		    housekeeping_cpumask(VMSR_HK_TICK));
	WRITE_ONCE(cpu_pkg[cpu], pkg);
	WRITE_ONCE(cpu_core[cpu], vmsr_core_key(cpu_core, topology_sibling_cpumask(cpu), cpu));
	if (pkg >= READ_ONCE(nr_packages))
		WRITE_ONCE(nr_packages, pkg + 1);
	return 0;
}

int vmsr_topology_init(void)
{
	unsigned int cpu;
	int ret;

	die_scope = vmsr_rapl_die_scope(vmsr_vendor_from_x86(boot_cpu_data.x86_vendor),
					topology_max_dies_per_package());
	cpu_pkg = kmalloc_array(nr_cpu_ids, sizeof(*cpu_pkg), GFP_KERNEL);
	cpu_core = kmalloc_array(nr_cpu_ids, sizeof(*cpu_core), GFP_KERNEL);
	if (!cpu_pkg || !cpu_core || !zalloc_cpumask_var(&housekeeping, GFP_KERNEL)) {
		ret = -ENOMEM;
		goto err;
	}
	for (cpu = 0; cpu < nr_cpu_ids; cpu++) {
		cpu_pkg[cpu] = VMSR_NO_PACKAGE;
		cpu_core[cpu] = VMSR_NO_CORE;
	}

	/* Runs vmsr_cpu_online() on every CPU online now, then on each new one. */
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "misc/vmsr:online",
				vmsr_cpu_online, NULL);
	if (ret < 0)
		goto err;
	hp_state = ret;
	return 0;
err:
	free_cpumask_var(housekeeping);
	kfree(cpu_pkg);
	kfree(cpu_core);
	return ret;
}

void vmsr_topology_exit(void)
{
	cpuhp_remove_state(hp_state);
	free_cpumask_var(housekeeping);
	kfree(cpu_pkg);
	kfree(cpu_core);
}

u32 vmsr_cpu_package(unsigned int cpu)
{
	return cpu < nr_cpu_ids ? READ_ONCE(cpu_pkg[cpu]) : VMSR_NO_PACKAGE;
}

u32 vmsr_nr_packages(void)
{
	return READ_ONCE(nr_packages);
}

static bool vmsr_pick_ok(const u32 *map, unsigned int nr_cpus, const struct cpumask *online,
			 const struct cpumask *housekeeping, u32 pkg, int cpu)
{
	return cpu >= 0 && cpu < nr_cpus && cpumask_test_cpu(cpu, online) &&
	       (!housekeeping || cpumask_test_cpu(cpu, housekeeping)) &&
	       READ_ONCE(map[cpu]) == pkg;
}

static int vmsr_pick_from(const u32 *map, unsigned int nr_cpus, const struct cpumask *online,
			  const struct cpumask *housekeeping, u32 pkg, int prefer)
{
	unsigned int cpu;

	if (vmsr_pick_ok(map, nr_cpus, online, housekeeping, pkg, prefer))
		return prefer;
	for_each_cpu(cpu, online)
		if (vmsr_pick_ok(map, nr_cpus, online, housekeeping, pkg, cpu))
			return cpu;
	return -ENXIO;
}

/*
 * An online CPU of package @pkg to read its registers on: a housekeeping one
 * (isolcpus= and nohz_full= take CPUs out of @housekeeping) where the
 * package has one online, else any. Among those, @prefer if it qualifies
 * (the caller's own CPU, so that the read needs no IPI), else the first.
 * -ENXIO if the package has no online CPU.
 */
int vmsr_pick_cpu(const u32 *map, unsigned int nr_cpus, const struct cpumask *online,
		  const struct cpumask *housekeeping, u32 pkg, int prefer)
{
	int cpu = vmsr_pick_from(map, nr_cpus, online, housekeeping, pkg, prefer);

	return cpu >= 0 ? cpu : vmsr_pick_from(map, nr_cpus, online, NULL, pkg, prefer);
}

/* Callers hold cpus_read_lock(), so the CPU returned stays online. */
int vmsr_package_cpu(u32 pkg)
{
	return vmsr_pick_cpu(cpu_pkg, nr_cpu_ids, cpu_online_mask, housekeeping, pkg,
			     raw_smp_processor_id());
}

/*
 * The key of @cpu's per-core energy cache, as it comes online with the
 * online SMT siblings @siblings (itself included), given the keys @keys
 * recorded so far. SMT siblings share one per-core counter and must share one
 * cache, or alternating them would bypass the rate limit. A core keeps its
 * key while offline: that of an online sibling, else the one @cpu had, else
 * @cpu itself for a core seen for the first time.
 */
u32 vmsr_core_key(const u32 *keys, const struct cpumask *siblings, unsigned int cpu)
{
	unsigned int sib;

	for_each_cpu(sib, siblings)
		if (sib != cpu && READ_ONCE(keys[sib]) != VMSR_NO_CORE)
			return READ_ONCE(keys[sib]);
	return READ_ONCE(keys[cpu]) != VMSR_NO_CORE ? READ_ONCE(keys[cpu]) : cpu;
}

/* Below nr_cpu_ids for a CPU that has been online, as the caller's target is. */
u32 vmsr_cpu_core(unsigned int cpu)
{
	return READ_ONCE(cpu_core[cpu]);
}
