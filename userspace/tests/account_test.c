// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The attribution core (lib/account.h) on its own: energy per package and
 * thread, idle energy, dips and reuse, packages without CPU, wrap warnings.
 */
#include <math.h>

#include "kselftest_harness.h"
#include "account.h"
#include "fake_host.h"

/* One AMD package of 2 CPUs, unit 2^-16 J, and a registry of threads 100 and 200. */
FIXTURE(core) {
	struct fake_host h;
	struct vmsr_account a;
	struct vmsr_registry r;
	struct vmsr_pkg_sample pkgs[2];
	struct vmsr_task_sample tasks[4];
};

static int step(FIXTURE_DATA(core) *self)
{
	struct vmsr_snapshot snap = {
		.pkgs = self->pkgs, .nr_pkgs = self->a.host.info.nr_packages,
		.tasks = self->tasks, .nr_tasks = self->r.nr,
	};

	vmsr_account_prepare(&self->a, self->pkgs);
	for (uint32_t i = 0; i < self->r.nr; i++)
		self->tasks[i].tid = self->r.threads[i].tid;
	fake_host_source(&self->h, &snap);
	return vmsr_account_step(&self->a, &self->r, &snap);
}

FIXTURE_SETUP(core)
{
	uint32_t cpu_map[2] = { 0, 0 };
	struct vmsr_host host = {
		.info = { .vendor = VMSR_VENDOR_AMD, .domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG),
			  .power_unit_raw = AMD_UNIT, .energy_unit_shift = 16, .nr_cpus = 2,
			  .nr_packages = 1, .max_sample_pkgs = 2, .max_sample_tasks = 4 },
		.cpu_map = cpu_map,
	};

	ASSERT_EQ(0, fake_host_init(&self->h));
	set_online(&self->h, "0-1");
	host.online_path = self->h.online_path;
	ASSERT_EQ(0, vmsr_account_init(&self->a, &host));
	ASSERT_EQ(0, vmsr_registry_init(&self->r, 4));
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 100, VMSR_NO_VCPU));
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 200, VMSR_NO_VCPU));
	ASSERT_EQ(0, step(self));
}

FIXTURE_TEARDOWN(core)
{
	vmsr_registry_fini(&self->r);
	vmsr_account_fini(&self->a);
	fake_host_fini(&self->h);
}

TEST_F(core, idle_energy_is_what_no_thread_used)
{
	run(&self->h, 100, 0, 50 * MS);	/* a quarter of 2 CPUs over 100 ms */
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	EXPECT_EQ(1.0, self->a.pkgs[0].joules[VMSR_DOMAIN_PKG]);
	EXPECT_EQ(0.25, self->r.threads[0].step_joules[VMSR_DOMAIN_PKG]);
	EXPECT_EQ(0.75, self->a.pkgs[0].idle_joules[VMSR_DOMAIN_PKG]);
	EXPECT_EQ(100 * MS, self->a.interval_ns);
}

TEST_F(core, dip_within_a_millisecond_is_not_a_new_thread)
{
	run(&self->h, 100, 0, 100 * MS);
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	fake_task(&self->h, 100)->cpu_ns -= VMSR_DIP_MAX_NS;	/* the deepest dip */
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	EXPECT_EQ(100 * MS, self->r.threads[0].hwm_cpu_ns);
	fake_task(&self->h, 100)->cpu_ns -= 1;	/* one ns deeper: a reused TID */
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	EXPECT_EQ(100 * MS - VMSR_DIP_MAX_NS - 1, self->r.threads[0].hwm_cpu_ns);
	EXPECT_EQ(100 * MS, self->r.threads[0].cpu_ns);
}

TEST_F(core, exited_thread_is_charged_then_leaves)
{
	run(&self->h, 200, 0, 100 * MS);
	fake_task(&self->h, 200)->flags = VMSR_TASK_F_EXITED;
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	EXPECT_TRUE(self->r.threads[1].leaving);
	EXPECT_EQ(0.5, self->r.threads[1].step_joules[VMSR_DOMAIN_PKG]);
	fake_task(&self->h, 100)->result = -ESRCH;	/* reaped: leaves, charged nothing */
	advance(&self->h, 100, 0, 65536);
	ASSERT_EQ(0, step(self));
	EXPECT_TRUE(self->r.threads[0].leaving);
}

TEST_F(core, wrap_is_ambiguous_beyond_the_wrap_time_at_tdp)
{
	struct vmsr_account a;
	uint32_t cpu_map[1] = { 0 };
	struct vmsr_host host = {
		/* 2^-14 J steps and a TDP of 4096 W (32768 eighths): 2^18 J wrap in 64 s */
		.info = { .vendor = VMSR_VENDOR_INTEL, .domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG),
			  .power_unit_raw = 0xa0e03, .energy_unit_shift = 14, .nr_cpus = 1,
			  .nr_packages = 1, .max_sample_pkgs = 1, .max_sample_tasks = 4 },
		.cpu_map = cpu_map,
		.pkg_power_info = 32767,
	};

	ASSERT_EQ(0, vmsr_account_init(&a, &host));
	EXPECT_GT(a.pkgs[0].wrap_ns, 63ULL * 1000000000);
	EXPECT_LT(a.pkgs[0].wrap_ns, 65ULL * 1000000000);
	vmsr_account_fini(&a);
	EXPECT_EQ(0ULL, self->a.pkgs[0].wrap_ns);	/* AMD: no TDP, no warning */
}

TEST_F(core, mismatched_snapshot_is_refused)
{
	struct vmsr_snapshot snap = { .pkgs = self->pkgs, .nr_pkgs = 1, .tasks = self->tasks,
				      .nr_tasks = 1 };

	EXPECT_EQ(-EINVAL, vmsr_account_step(&self->a, &self->r, &snap));
}

TEST_HARNESS_MAIN
