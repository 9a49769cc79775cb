// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the parts of vmsr that decide things without hardware:
 * the MSR whitelist, the vendor set, ioctl input validation, RAPL's scope
 * (package or die) and a CPU's instance, the choice of a CPU for an instance,
 * and per-core cache keys.
 */
#include <kunit/test.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>
#include <linux/topology.h>
#include <asm/processor.h>

#include "fresh.h"
#include "vmsr.h"

static const u32 intel_allowed[] = {
	0x606, 0x610, 0x611, 0x614, 0x619, 0x639, 0x641, 0x64d,
};

static const u32 amd_allowed[] = { 0xc0010299, 0xc001029a, 0xc001029b };

static bool in_list(const u32 *list, unsigned int n, u32 msr)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (list[i] == msr)
			return true;
	return false;
}

/* Each allowed MSR is accepted; each neighbour that is not itself allowed is refused. */
static void check_set(struct kunit *test, u32 vendor, const u32 *list, unsigned int n)
{
	unsigned int i;
	int delta;

	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_NOT_ERR_OR_NULL(test, vmsr_msr_lookup(vendor, list[i]));
		for (delta = -1; delta <= 1; delta += 2) {
			u32 near = list[i] + delta;

			if (!in_list(list, n, near))
				KUNIT_EXPECT_NULL_MSG(test, vmsr_msr_lookup(vendor, near),
						      "vendor %u msr %#x", vendor, near);
		}
	}
}

static void vmsr_whitelist_intel_test(struct kunit *test)
{
	check_set(test, VMSR_VENDOR_INTEL, intel_allowed, ARRAY_SIZE(intel_allowed));
	KUNIT_EXPECT_EQ(test, vmsr_vendor_msrs(VMSR_VENDOR_INTEL)->nr_msrs,
			ARRAY_SIZE(intel_allowed));
}

static void vmsr_whitelist_amd_test(struct kunit *test)
{
	check_set(test, VMSR_VENDOR_AMD, amd_allowed, ARRAY_SIZE(amd_allowed));
	check_set(test, VMSR_VENDOR_HYGON, amd_allowed, ARRAY_SIZE(amd_allowed));
	KUNIT_EXPECT_EQ(test, vmsr_vendor_msrs(VMSR_VENDOR_AMD)->nr_msrs,
			ARRAY_SIZE(amd_allowed));
}

static void vmsr_whitelist_foreign_test(struct kunit *test)
{
	static const u32 others[] = { 0x0, 0x10, 0x1a0, 0x600, 0x612, 0x613, 0xc0000080 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(amd_allowed); i++)
		KUNIT_EXPECT_NULL(test, vmsr_msr_lookup(VMSR_VENDOR_INTEL, amd_allowed[i]));
	for (i = 0; i < ARRAY_SIZE(intel_allowed); i++)
		KUNIT_EXPECT_NULL(test, vmsr_msr_lookup(VMSR_VENDOR_AMD, intel_allowed[i]));
	for (i = 0; i < ARRAY_SIZE(intel_allowed); i++)
		KUNIT_EXPECT_NULL(test, vmsr_msr_lookup(VMSR_VENDOR_UNKNOWN, intel_allowed[i]));
	for (i = 0; i < ARRAY_SIZE(others); i++) {
		KUNIT_EXPECT_NULL(test, vmsr_msr_lookup(VMSR_VENDOR_INTEL, others[i]));
		KUNIT_EXPECT_NULL(test, vmsr_msr_lookup(VMSR_VENDOR_AMD, others[i]));
	}
}

static void check_desc(struct kunit *test, u32 vendor, u32 msr,
		       enum vmsr_msr_scope scope, int domain)
{
	const struct vmsr_msr_desc *d = vmsr_msr_lookup(vendor, msr);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, d);
	KUNIT_EXPECT_EQ_MSG(test, d->scope, scope, "msr %#x", msr);
	if (scope == VMSR_SCOPE_PKG_ENERGY || scope == VMSR_SCOPE_CPU_ENERGY)
		KUNIT_EXPECT_EQ_MSG(test, d->domain, domain, "msr %#x", msr);
}

static void vmsr_whitelist_scope_test(struct kunit *test)
{
	check_desc(test, VMSR_VENDOR_INTEL, 0x606, VMSR_SCOPE_CONST, -1);
	check_desc(test, VMSR_VENDOR_INTEL, 0x610, VMSR_SCOPE_PLAIN, -1);
	check_desc(test, VMSR_VENDOR_INTEL, 0x614, VMSR_SCOPE_CONST, -1);
	check_desc(test, VMSR_VENDOR_INTEL, 0x611, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PKG);
	check_desc(test, VMSR_VENDOR_INTEL, 0x619, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_DRAM);
	check_desc(test, VMSR_VENDOR_INTEL, 0x639, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_CORE);
	check_desc(test, VMSR_VENDOR_INTEL, 0x641, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_UNCORE);
	check_desc(test, VMSR_VENDOR_INTEL, 0x64d, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PSYS);
	check_desc(test, VMSR_VENDOR_AMD, 0xc0010299, VMSR_SCOPE_CONST, -1);
	check_desc(test, VMSR_VENDOR_AMD, 0xc001029b, VMSR_SCOPE_PKG_ENERGY, VMSR_DOMAIN_PKG);
	/* AMD's core counter is per core, so it is no package domain. */
	check_desc(test, VMSR_VENDOR_AMD, 0xc001029a, VMSR_SCOPE_CPU_ENERGY, VMSR_DOMAIN_CORE);
}

static void vmsr_vendor_select_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmsr_vendor_from_x86(X86_VENDOR_INTEL), VMSR_VENDOR_INTEL);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_from_x86(X86_VENDOR_AMD), VMSR_VENDOR_AMD);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_from_x86(X86_VENDOR_HYGON), VMSR_VENDOR_HYGON);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_from_x86(X86_VENDOR_CENTAUR), VMSR_VENDOR_UNKNOWN);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_from_x86(X86_VENDOR_UNKNOWN), VMSR_VENDOR_UNKNOWN);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_msrs(VMSR_VENDOR_INTEL)->unit_msr, 0x606);
	KUNIT_EXPECT_EQ(test, vmsr_vendor_msrs(VMSR_VENDOR_AMD)->unit_msr, 0xc0010299);
	KUNIT_EXPECT_PTR_EQ(test, vmsr_vendor_msrs(VMSR_VENDOR_AMD),
			    vmsr_vendor_msrs(VMSR_VENDOR_HYGON));
	KUNIT_EXPECT_NULL(test, vmsr_vendor_msrs(VMSR_VENDOR_UNKNOWN));
	KUNIT_EXPECT_NULL(test, vmsr_vendor_msrs(VMSR_VENDOR_HYGON + 1));
}

static void vmsr_check_info_test(struct kunit *test)
{
	struct vmsr_info info = {};

	KUNIT_EXPECT_EQ(test, vmsr_check_info(&info), 0);
	info.reserved[0] = 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_info(&info), -EINVAL);
	info.reserved[0] = 0;
	info.reserved[1] = 1ULL << 63;
	KUNIT_EXPECT_EQ(test, vmsr_check_info(&info), -EINVAL);
}

static void vmsr_check_read_test(struct kunit *test)
{
	struct vmsr_read rd = { .count = 1 };

	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), 0);
	rd.count = VMSR_MAX_READ_ENTRIES;
	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), 0);
	rd.count = VMSR_MAX_READ_ENTRIES + 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), -E2BIG);
	rd.count = U32_MAX;
	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), -E2BIG);
	rd.count = 0;
	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), -EINVAL);
	rd.count = 1;
	rd.flags = 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_read(&rd), -EINVAL);
}

static void vmsr_check_read_entry_test(struct kunit *test)
{
	struct vmsr_read_entry e = { .msr = 0x611 };

	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_INTEL, &e),
			    vmsr_msr_lookup(VMSR_VENDOR_INTEL, 0x611));
	e.flags = VMSR_READ_F_PACKAGE;
	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_INTEL, &e),
			    vmsr_msr_lookup(VMSR_VENDOR_INTEL, 0x611));
	e.flags = VMSR_READ_F_PACKAGE << 1;
	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_INTEL, &e), ERR_PTR(-EINVAL));
	e.flags = 0;
	e.msr = 0x612;
	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_INTEL, &e), ERR_PTR(-EPERM));
	e.msr = 0x611;
	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_AMD, &e), ERR_PTR(-EPERM));
	/* Flags are checked before the MSR. */
	e.flags = U32_MAX;
	KUNIT_EXPECT_PTR_EQ(test, vmsr_check_read_entry(VMSR_VENDOR_AMD, &e), ERR_PTR(-EINVAL));
}

static void vmsr_check_sample_test(struct kunit *test)
{
	struct vmsr_sample s = {};
	struct vmsr_pkg_sample p = {};

	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), 0);
	s.nr_pkgs = VMSR_MAX_SAMPLE_PKGS;
	s.nr_tasks = VMSR_MAX_SAMPLE_TASKS;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), 0);
	s.nr_pkgs = VMSR_MAX_SAMPLE_PKGS + 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), -E2BIG);
	s.nr_pkgs = 0;
	s.nr_tasks = VMSR_MAX_SAMPLE_TASKS + 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), -E2BIG);
	s.nr_tasks = 0;
	s.flags = VMSR_SAMPLE_F_FRESH << 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), -EINVAL);
	s.flags = VMSR_SAMPLE_F_FRESH;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), VMSR_HAVE_FRESH ? 0 : -EOPNOTSUPP);
	s.flags = 0;
	s.pad = 1;
	KUNIT_EXPECT_EQ(test, vmsr_check_sample(&s), -EINVAL);

	p.domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG) | VMSR_DOMAIN_BIT(VMSR_DOMAIN_PSYS);
	KUNIT_EXPECT_EQ(test, vmsr_check_pkg_sample(&p), 0);
	p.domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PSYS + 1);
	KUNIT_EXPECT_EQ(test, vmsr_check_pkg_sample(&p), -EINVAL);
	p.domains = 1U << 31;
	KUNIT_EXPECT_EQ(test, vmsr_check_pkg_sample(&p), -EINVAL);
}

static void vmsr_split_runtime_test(struct kunit *test)
{
	u64 ut = 3, st = 1;

	/* 4400 ns split 3:1 between user and system time. */
	vmsr_split_runtime(4400, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, 3300);
	KUNIT_EXPECT_EQ(test, st, 1100);
	/* Nothing sampled yet, or no system time: all to user time. */
	ut = 0;
	st = 0;
	vmsr_split_runtime(250, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, 250);
	KUNIT_EXPECT_EQ(test, st, 0);
	ut = 7;
	vmsr_split_runtime(250, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, 250);
	KUNIT_EXPECT_EQ(test, st, 0);
	/* All system time. */
	ut = 0;
	st = 9;
	vmsr_split_runtime(250, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, 0);
	KUNIT_EXPECT_EQ(test, st, 250);
	/*
	 * Products beyond 64 bits. The runtime differs from the sampled sum:
	 * with both the same constant, 6.1's x86 mul_u64_u64_div_u64() asm
	 * may get one register for both and divide by the product (#DE).
	 */
	ut = U64_MAX / 4;
	st = U64_MAX / 4;
	vmsr_split_runtime(U64_MAX - 1, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, U64_MAX / 2);
	KUNIT_EXPECT_EQ(test, ut + st, U64_MAX - 1);
	/* Sampled times above the runtime. */
	ut = 3000;
	st = 1000;
	vmsr_split_runtime(40, &ut, &st);
	KUNIT_EXPECT_EQ(test, ut, 30);
	KUNIT_EXPECT_EQ(test, st, 10);
}

/*
 * The caller is running: its fresh time is at least what was charged before,
 * and grows by at least the time it spins without being preempted.
 */
static void vmsr_task_runtime_test(struct kunit *test)
{
	u64 charged, a, b, until;

	if (!VMSR_HAVE_FRESH)
		kunit_skip(test, "this kernel's task clock is not sched_clock_cpu()");
	preempt_disable();
	charged = READ_ONCE(current->se.sum_exec_runtime);
	a = vmsr_task_runtime(current);
	until = local_clock() + 100 * NSEC_PER_USEC;
	while (local_clock() < until)
		cpu_relax();
	b = vmsr_task_runtime(current);
	preempt_enable();
	KUNIT_EXPECT_GE(test, a, charged);
	KUNIT_EXPECT_GE(test, b, a + 100 * NSEC_PER_USEC);
}

/* Four CPUs: 0 and 1 in package 0, 2 and 3 in package 1. */
static void vmsr_pick_cpu_test(struct kunit *test)
{
	static const u32 map[] = { 0, 0, 1, 1 };
	struct cpumask *online = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	struct cpumask *all = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, online);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, all);
	cpumask_set_cpu(0, online);
	cpumask_set_cpu(1, online);
	cpumask_set_cpu(2, online);
	cpumask_set_cpu(3, online);
	cpumask_copy(all, online);

	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 1, 3), 3);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 1, 0), 2);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 0, -1), 0);

	/* The preferred CPU is offline: another CPU of the package. */
	cpumask_clear_cpu(3, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 1, 3), 2);
	/* The first CPU of the package is offline. */
	cpumask_clear_cpu(0, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 0, 2), 1);
	/* A whole package offline. */
	cpumask_clear_cpu(2, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 1, 1), -ENXIO);
	/* A package that does not exist. */
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 2, -1), -ENXIO);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, VMSR_NO_PACKAGE, -1), -ENXIO);
	/* CPUs beyond the map are never chosen. */
	cpumask_set_cpu(5, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, all, 1, 5), -ENXIO);
}

/*
 * Isolated CPUs (outside the housekeeping mask) are left alone while their
 * package has a housekeeping CPU online, even when the caller prefers one;
 * a package of isolated CPUs only is still read, on one of them.
 */
static void vmsr_pick_cpu_housekeeping_test(struct kunit *test)
{
	static const u32 map[] = { 0, 0, 1, 1 };
	struct cpumask *online = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	struct cpumask *hk = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, online);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, hk);
	cpumask_set_cpu(0, online);
	cpumask_set_cpu(1, online);
	cpumask_set_cpu(2, online);
	cpumask_set_cpu(3, online);
	/* CPUs 1 and 3 isolated. */
	cpumask_set_cpu(0, hk);
	cpumask_set_cpu(2, hk);

	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 0, 1), 0);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 1, 3), 2);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 1, -1), 2);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 1, 2), 2);
	/* Package 1's housekeeping CPU offline: its isolated one, the caller's first. */
	cpumask_clear_cpu(2, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 1, 3), 3);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, hk, 1, 0), 3);
}

/* RAPL is die-scoped only on Intel packages of several dies, as in Linux's drivers. */
static void vmsr_rapl_die_scope_test(struct kunit *test)
{
	KUNIT_EXPECT_FALSE(test, vmsr_rapl_die_scope(VMSR_VENDOR_INTEL, 1));
	KUNIT_EXPECT_TRUE(test, vmsr_rapl_die_scope(VMSR_VENDOR_INTEL, 2));
	KUNIT_EXPECT_TRUE(test, vmsr_rapl_die_scope(VMSR_VENDOR_INTEL, 4));
	KUNIT_EXPECT_FALSE(test, vmsr_rapl_die_scope(VMSR_VENDOR_AMD, 1));
	KUNIT_EXPECT_FALSE(test, vmsr_rapl_die_scope(VMSR_VENDOR_AMD, 8));
	KUNIT_EXPECT_FALSE(test, vmsr_rapl_die_scope(VMSR_VENDOR_HYGON, 4));
	KUNIT_EXPECT_FALSE(test, vmsr_rapl_die_scope(VMSR_VENDOR_UNKNOWN, 2));
}

/*
 * On the running machine, in either scope: ids are below nr_cpu_ids, and two
 * online CPUs share an id exactly when the kernel puts them in one package
 * (core cpumask) or, for dies, one die (die cpumask).
 */
static void vmsr_cpu_rapl_id_test(struct kunit *test)
{
	unsigned int a, b;
	int dies;

	cpus_read_lock();
	for (dies = 0; dies <= 1; dies++) {
		for_each_online_cpu(a) {
			const struct cpumask *same = dies ? topology_die_cpumask(a) :
							    topology_core_cpumask(a);

			KUNIT_EXPECT_LT(test, vmsr_cpu_rapl_id(a, dies), nr_cpu_ids);
			for_each_online_cpu(b)
				KUNIT_EXPECT_EQ_MSG(test, cpumask_test_cpu(b, same),
						    vmsr_cpu_rapl_id(a, dies) ==
						    vmsr_cpu_rapl_id(b, dies),
						    "dies %d, cpu%u and cpu%u", dies, a, b);
		}
	}
	cpus_read_unlock();
}

/*
 * Two packages of two dies, one CPU each: dies 0-1 in package 0, 2-3 in
 * package 1. Reads stay in the die asked for. cpumask iterators stop at
 * nr_cpu_ids, so the CPUs must exist on this machine: four, as the test VMs
 * have.
 */
static void vmsr_pick_cpu_die_test(struct kunit *test)
{
	static const u32 map[] = { 0, 1, 2, 3 };
	struct cpumask *online = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	unsigned int cpu;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, online);
	if (nr_cpu_ids < 4)
		kunit_skip(test, "needs 4 CPUs, has %u", nr_cpu_ids);
	for (cpu = 0; cpu < 4; cpu++)
		cpumask_set_cpu(cpu, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, online, 1, 0), 1);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, online, 3, 2), 3);
	/* Die 1 offline: not served by its package's other die. */
	cpumask_clear_cpu(1, online);
	KUNIT_EXPECT_EQ(test, vmsr_pick_cpu(map, 4, online, online, 1, 0), -ENXIO);
}

/* min_interval_us: from 1 ms, the RAPL counters' own update interval, to 10 s. */
static void vmsr_check_min_interval_test(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(VMSR_DEFAULT_MIN_INTERVAL_US), 0);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(1000), 0);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(VMSR_MAX_MIN_INTERVAL_US), 0);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(999), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(VMSR_MAX_MIN_INTERVAL_US + 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, vmsr_check_min_interval(UINT_MAX), -EINVAL);
}

/*
 * Four CPUs, two cores of two SMT siblings: (0, 2) and (1, 3), as x86
 * numbers them. Siblings share one per-core counter, so they must share one
 * cache: one key per core, whichever sibling comes online first, kept while
 * the core is offline. cpumask iterators stop at nr_cpu_ids, so the CPUs
 * must exist on this machine.
 */
static void vmsr_core_key_test(struct kunit *test)
{
	struct cpumask *sib = kunit_kzalloc(test, cpumask_size(), GFP_KERNEL);
	u32 keys[4];
	unsigned int cpu;

	if (nr_cpu_ids < 4)
		kunit_skip(test, "needs 4 possible CPUs, this machine has %u", nr_cpu_ids);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sib);
	for (cpu = 0; cpu < 4; cpu++)
		keys[cpu] = VMSR_NO_CORE;

	/* Boot: CPUs come online in order, each sees its online siblings. */
	for (cpu = 0; cpu < 4; cpu++) {
		cpumask_clear(sib);
		cpumask_set_cpu(cpu, sib);
		if (cpu >= 2)
			cpumask_set_cpu(cpu - 2, sib);
		keys[cpu] = vmsr_core_key(keys, sib, cpu);
	}
	KUNIT_EXPECT_EQ(test, keys[2], keys[0]);
	KUNIT_EXPECT_EQ(test, keys[3], keys[1]);
	KUNIT_EXPECT_NE(test, keys[1], keys[0]);

	/* Core 1 offline, then its second sibling back first, alone. */
	cpumask_clear(sib);
	cpumask_set_cpu(3, sib);
	KUNIT_EXPECT_EQ(test, vmsr_core_key(keys, sib, 3), keys[1]);
	cpumask_set_cpu(1, sib);
	KUNIT_EXPECT_EQ(test, vmsr_core_key(keys, sib, 1), keys[3]);

	/* A core whose second sibling comes online first of all. */
	keys[0] = VMSR_NO_CORE;
	keys[2] = VMSR_NO_CORE;
	cpumask_clear(sib);
	cpumask_set_cpu(2, sib);
	keys[2] = vmsr_core_key(keys, sib, 2);
	cpumask_set_cpu(0, sib);
	keys[0] = vmsr_core_key(keys, sib, 0);
	KUNIT_EXPECT_EQ(test, keys[0], keys[2]);
	KUNIT_EXPECT_LT(test, keys[0], 4U);
}

static struct kunit_case vmsr_test_cases[] = {
	KUNIT_CASE(vmsr_whitelist_intel_test),
	KUNIT_CASE(vmsr_whitelist_amd_test),
	KUNIT_CASE(vmsr_whitelist_foreign_test),
	KUNIT_CASE(vmsr_whitelist_scope_test),
	KUNIT_CASE(vmsr_vendor_select_test),
	KUNIT_CASE(vmsr_check_info_test),
	KUNIT_CASE(vmsr_check_read_test),
	KUNIT_CASE(vmsr_check_read_entry_test),
	KUNIT_CASE(vmsr_check_sample_test),
	KUNIT_CASE(vmsr_split_runtime_test),
	KUNIT_CASE(vmsr_task_runtime_test),
	KUNIT_CASE(vmsr_pick_cpu_test),
	KUNIT_CASE(vmsr_pick_cpu_housekeeping_test),
	KUNIT_CASE(vmsr_rapl_die_scope_test),
	KUNIT_CASE(vmsr_cpu_rapl_id_test),
	KUNIT_CASE(vmsr_pick_cpu_die_test),
	KUNIT_CASE(vmsr_check_min_interval_test),
	KUNIT_CASE(vmsr_core_key_test),
	{}
};

static struct kunit_suite vmsr_test_suite = {
	.name = "vmsr",
	.test_cases = vmsr_test_cases,
};

kunit_test_suite(vmsr_test_suite);

MODULE_DESCRIPTION("KUnit tests for vmsr");
MODULE_LICENSE("GPL");
