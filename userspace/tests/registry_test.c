// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The thread registry (lib/registry.h): its life cycle rules, one test each. */
#include <errno.h>

#include "kselftest_harness.h"
#include "registry.h"

FIXTURE(registry) {
	struct vmsr_registry r;
};

FIXTURE_SETUP(registry)
{
	ASSERT_EQ(0, vmsr_registry_init(&self->r, 3));
}

FIXTURE_TEARDOWN(registry)
{
	vmsr_registry_fini(&self->r);
}

TEST_F(registry, kept_sorted_and_unique)
{
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 30, VMSR_NO_VCPU));
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 10, 0));
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 20, VMSR_NO_VCPU));
	EXPECT_EQ(-EEXIST, vmsr_registry_add(&self->r, 20, VMSR_NO_VCPU));
	EXPECT_EQ(-E2BIG, vmsr_registry_add(&self->r, 40, VMSR_NO_VCPU));
	EXPECT_EQ(10, self->r.threads[0].tid);
	EXPECT_EQ(20, self->r.threads[1].tid);
	EXPECT_EQ(30, self->r.threads[2].tid);
	EXPECT_FALSE(self->r.threads[1].has_baseline);
	EXPECT_EQ(NULL, vmsr_registry_find(&self->r, 25));
}

TEST_F(registry, scan_adds_and_drops_but_keeps_vcpus)
{
	static const int first[] = { 10, 20 }, second[] = { 20, 30 };

	ASSERT_EQ(0, vmsr_registry_add(&self->r, 5, 0));	/* a vCPU, not listed */
	ASSERT_EQ(0, vmsr_registry_sync(&self->r, first, 2));
	ASSERT_EQ(0, vmsr_registry_sync(&self->r, second, 2));
	EXPECT_NE(NULL, vmsr_registry_find(&self->r, 5));
	EXPECT_EQ(NULL, vmsr_registry_find(&self->r, 10));
	EXPECT_NE(NULL, vmsr_registry_find(&self->r, 30));
}

TEST_F(registry, threads_beyond_the_cap_are_counted_not_added)
{
	static const int tids[] = { 1, 2, 3, 4, 5 };

	EXPECT_EQ(2, vmsr_registry_sync(&self->r, tids, 5));
	EXPECT_EQ(3U, self->r.nr);
}

TEST_F(registry, removed_tid_is_ignored_while_listed)
{
	static const int listed[] = { 10, 20 }, gone[] = { 20 };

	ASSERT_EQ(0, vmsr_registry_sync(&self->r, listed, 2));
	ASSERT_EQ(0, vmsr_registry_remove(&self->r, vmsr_registry_find(&self->r, 10), true));
	ASSERT_EQ(0, vmsr_registry_sync(&self->r, listed, 2));
	EXPECT_EQ(NULL, vmsr_registry_find(&self->r, 10));
	/* Reaped: forgotten, so that a new thread with that TID enters again. */
	ASSERT_EQ(0, vmsr_registry_sync(&self->r, gone, 1));
	ASSERT_EQ(0, vmsr_registry_sync(&self->r, listed, 2));
	EXPECT_NE(NULL, vmsr_registry_find(&self->r, 10));
}

TEST_F(registry, totals_keep_what_leaving_threads_were_charged)
{
	double j[VMSR_NR_DOMAINS];
	uint64_t ns;

	ASSERT_EQ(0, vmsr_registry_add(&self->r, 10, VMSR_NO_VCPU));
	ASSERT_EQ(0, vmsr_registry_add(&self->r, 20, VMSR_NO_VCPU));
	self->r.threads[0].cpu_ns = 5;
	self->r.threads[0].joules[VMSR_DOMAIN_PKG] = 1.5;
	self->r.threads[1].cpu_ns = 7;
	self->r.threads[1].joules[VMSR_DOMAIN_PKG] = 2;
	self->r.threads[0].leaving = true;
	ASSERT_EQ(0, vmsr_registry_reap(&self->r));
	EXPECT_EQ(1U, self->r.nr);
	vmsr_registry_totals(&self->r, &ns, j);
	EXPECT_EQ(12ULL, ns);
	EXPECT_EQ(3.5, j[VMSR_DOMAIN_PKG]);
}

TEST(zero_capacity_is_refused)
{
	struct vmsr_registry r;

	EXPECT_EQ(-EINVAL, vmsr_registry_init(&r, 0));
}

TEST_HARNESS_MAIN
