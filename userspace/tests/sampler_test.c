// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Host unit tests of libvmsr's sampler: no kernel, no device. Each test
 * scripts a host (tests/fake_host.h: packages, energy counters, threads and
 * their CPU time, online CPUs), ticks the sampler over it, and checks what
 * the guest would read. The life cycle rules of libvmsr.h name these tests.
 *
 * The first group is one test per defect of QEMU's virtual RAPL, as
 * docs/design.md lists them; then the sampler's other promises; then one test
 * per defect found in the sampler's first version; then bad input and
 * struct sizes. One replays a stream recorded on the emulated module
 * (tests/data/, found at $VMSR_TEST_DATA).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stddef.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "fake_host.h"
#include "sampler.h"

/* Every test: a scripted host, and the sampler it builds over it (freed after). */
FIXTURE(sampler) {
	struct fake_host h;
	struct vmsr_sampler *s;
	uint32_t cpu_model;	/* of the host make_sampler() builds */
};

FIXTURE_SETUP(sampler)
{
	ASSERT_EQ(0, fake_host_init(&self->h));
	self->s = NULL;
	self->cpu_model = 0;
}

FIXTURE_TEARDOWN(sampler)
{
	vmsr_sampler_free(self->s);
	fake_host_fini(&self->h);
}

/*
 * A host of @nr_pkgs packages with @cpus_per_pkg CPUs each, all online, and
 * a sampler over it with @nr_vpackages virtual packages and 8 vCPU slots.
 */
static struct vmsr_sampler *make_sampler(FIXTURE_DATA(sampler) *self, uint32_t nr_pkgs,
					 uint32_t cpus_per_pkg, uint32_t vendor,
					 uint64_t power_unit, uint32_t nr_vpackages,
					 uint32_t flags)
{
	uint32_t cpu_map[16];
	char online[16];
	struct vmsr_host host = {
		.info = {
			.vendor = vendor,
			.domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG) |
				   VMSR_DOMAIN_BIT(VMSR_DOMAIN_DRAM),
			.power_unit_raw = power_unit,
			.energy_unit_shift = power_unit ? (power_unit >> 8) & 0x1f : 16,
			.nr_cpus = nr_pkgs * cpus_per_pkg,
			.nr_packages = nr_pkgs,
			.max_sample_pkgs = 64,
			.max_sample_tasks = 4096,
		},
		.cpu_map = cpu_map,
		.cpu_model = self->cpu_model,
		.online_path = self->h.online_path,
	};
	struct vmsr_sampler_config cfg = {
		.size = sizeof(cfg), .nr_vpackages = nr_vpackages, .max_vcpus = 8, .flags = flags,
	};

	for (uint32_t c = 0; c < host.info.nr_cpus; c++)
		cpu_map[c] = c / cpus_per_pkg;
	snprintf(online, sizeof(online), "0-%u", host.info.nr_cpus - 1);
	set_online(&self->h, online);
	self->s = NULL;
	if (vmsr_sampler_create(&cfg, &host, fake_host_source, &self->h, &self->s))
		return NULL;
	return self->s;
}

/*
 * The common start: an AMD host of @nr_pkgs packages of @cpus CPUs, one
 * virtual package, vCPU 0 on thread 100 (on package 0), and the baseline
 * tick taken.
 */
static struct vmsr_sampler *one_vcpu_sampler(FIXTURE_DATA(sampler) *self, uint32_t nr_pkgs,
					     uint32_t cpus)
{
	struct vmsr_sampler *s = make_sampler(self, nr_pkgs, cpus, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	if (s) {
		vmsr_sampler_add_vcpu(s, 0, 100, 0);
		run(&self->h, 100, 0, 0);
		vmsr_sampler_tick(s);
	}
	return s;
}

static uint64_t pkg_energy(struct vmsr_sampler *s, uint32_t vpackage)
{
	uint64_t v = ~0ULL;

	vmsr_sampler_read_msr(s, vpackage, VMSR_MSR_PKG_ENERGY_STATUS, &v);
	return v;
}

static double vcpu_joules(struct vmsr_sampler *s, uint32_t vcpu)
{
	struct vmsr_vcpu_stats st = { .size = sizeof(st) };

	return vmsr_sampler_vcpu_stats(s, vcpu, &st) ? -1 : st.joules[VMSR_DOMAIN_PKG];
}

static double vpackage_joules(struct vmsr_sampler *s, uint32_t vpackage)
{
	struct vmsr_vpackage_stats st = { .size = sizeof(st) };

	return vmsr_sampler_vpackage_stats(s, vpackage, &st) ? -1 : st.joules[VMSR_DOMAIN_PKG];
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 + 1e-9 * fabs(b);
}

#define J(steps)	((steps) / 65536.0)	/* AMD_UNIT steps to joules */

/* --- QEMU's defects, one test each --- */

TEST_F(sampler, counter_wrap_is_corrected)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	h->energy[0] = 0xffffff00u;
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 0x300);	/* wraps past 2^32 */
	run(h, 100, 0, 100 * MS);	/* busy: the whole package */
	ASSERT_TRUE(vmsr_sampler_tick(s) == 0) TH_LOG("tick failed");
	ASSERT_TRUE(near(vcpu_joules(s, 0), J(0x300))) TH_LOG("got %g J, want %g J",
	      vcpu_joules(s, 0), J(0x300));
	ASSERT_TRUE(pkg_energy(s, 0) == 0x300) TH_LOG("counter %#llx, want 0x300",
	      (unsigned long long)pkg_energy(s, 0));
}

TEST_F(sampler, exiting_thread_neither_underflows_nor_loses_energy)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	double before;

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_thread(s, 200);
	run(h, 100, 0, 0);
	run(h, 200, 0, 5000 * MS);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 6554);
	run(h, 200, 0, 100 * MS);	/* half the package */
	vmsr_sampler_tick(s);
	before = vpackage_joules(s, 0);
	ASSERT_TRUE(near(before, J(6554) / 2)) TH_LOG("before exit: %g J", before);

	/* Exits and is reaped mid-interval: the sample no longer finds it. */
	fake_task(h, 200)->result = -ESRCH;
	advance(h, 100, 0, 6554);
	ASSERT_TRUE(vmsr_sampler_tick(s) == 0) TH_LOG("tick failed");
	ASSERT_TRUE(near(vpackage_joules(s, 0), before)) TH_LOG("energy moved from %g to %g J", before,
	      vpackage_joules(s, 0));
	ASSERT_TRUE(vmsr_sampler_remove_thread(s, 200) == -ENOENT) TH_LOG("reaped thread not dropped");

	/* A zombie's final times still count, once. */
	vmsr_sampler_add_thread(s, 300);
	run(h, 300, 0, 0);
	advance(h, 100, 0, 0);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 6554);
	run(h, 300, 0, 50 * MS);
	fake_task(h, 300)->flags = VMSR_TASK_F_EXITED;
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vpackage_joules(s, 0), before + J(6554) / 4)) TH_LOG("zombie: %g J",
	      vpackage_joules(s, 0));
	ASSERT_TRUE(vmsr_sampler_remove_thread(s, 300) == -ENOENT) TH_LOG("zombie not dropped");
}

TEST_F(sampler, accumulators_reset_every_tick)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	double prev = 0;

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_thread(s, 200);
	run(h, 100, 0, 0);
	run(h, 200, 0, 0);
	vmsr_sampler_tick(s);
	/* The same load every tick must buy the same energy every tick. */
	for (int i = 0; i < 10; i++) {
		double now;

		advance(h, 100, 0, 65536);
		run(h, 100, 0, 50 * MS);
		run(h, 200, 0, 50 * MS);
		vmsr_sampler_tick(s);
		now = vpackage_joules(s, 0);
		ASSERT_TRUE(near(now - prev, 0.5)) TH_LOG("tick %d attributed %g J, want 0.5 J", i, now - prev);
		prev = now;
	}
}

TEST_F(sampler, vcpus_of_a_package_agree_idle_included)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 2, 0);
	uint64_t busy, idle, other;

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_vcpu(s, 1, 101, 0);	/* never runs */
	vmsr_sampler_add_vcpu(s, 2, 102, 1);
	run(h, 100, 0, 0);
	run(h, 101, 0, 0);
	run(h, 102, 0, 0);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	run(h, 100, 0, 100 * MS);
	vmsr_sampler_tick(s);
	vmsr_sampler_read_vcpu_msr(s, 0, VMSR_MSR_PKG_ENERGY_STATUS, &busy);
	vmsr_sampler_read_vcpu_msr(s, 1, VMSR_MSR_PKG_ENERGY_STATUS, &idle);
	vmsr_sampler_read_vcpu_msr(s, 2, VMSR_MSR_PKG_ENERGY_STATUS, &other);
	ASSERT_TRUE(busy == 32768) TH_LOG("busy vCPU reads %llu, want 32768", (unsigned long long)busy);
	ASSERT_TRUE(idle == busy) TH_LOG("idle vCPU reads %llu, busy one %llu", (unsigned long long)idle,
	      (unsigned long long)busy);
	ASSERT_TRUE(other == 0) TH_LOG("other package reads %llu", (unsigned long long)other);
}

TEST_F(sampler, vcpu_hotplug)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);
	uint64_t v;

	ASSERT_NE(NULL, s);
	advance(h, 100, 0, 65536);
	run(h, 100, 0, 100 * MS);
	vmsr_sampler_tick(s);

	/* Plug in vCPU 6: an index beyond the boot vCPUs. */
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 6, 106, 0) == 0) TH_LOG("add vCPU 6");
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 6, 107, 0) == -EEXIST) TH_LOG("vCPU 6 added twice");
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 8, 108, 0) == -EINVAL) TH_LOG("vCPU 8 >= max_vcpus");
	run(h, 106, 0, 0);
	advance(h, 100, 0, 0);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	run(h, 106, 0, 100 * MS);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 6), 1)) TH_LOG("vCPU 6 got %g J", vcpu_joules(s, 6));

	/* Unplug vCPU 0: the package keeps what it was given. */
	ASSERT_TRUE(vmsr_sampler_remove_vcpu(s, 0) == 0) TH_LOG("remove vCPU 0");
	ASSERT_TRUE(vmsr_sampler_read_vcpu_msr(s, 0, VMSR_MSR_PKG_ENERGY_STATUS, &v) == -EINVAL) TH_LOG("removed vCPU still readable");
	ASSERT_TRUE(vmsr_sampler_read_vcpu_msr(s, 6, VMSR_MSR_PKG_ENERGY_STATUS, &v) == 0 &&
	      v == 65536 * 2) TH_LOG("package reads %llu after unplug", (unsigned long long)v);
	ASSERT_TRUE(vmsr_sampler_remove_vcpu(s, 0) == -ENOENT) TH_LOG("removed twice");
}

TEST_F(sampler, migration_charges_the_end_package)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 2, 1);
	struct vmsr_vcpu_stats st = { .size = sizeof(st) };

	ASSERT_NE(NULL, s);
	advance(h, 100, 0, 65536);
	advance(h, 0, 1, 4 * 65536);
	run(h, 100, 1, 100 * MS);	/* was on package 0, now on 1 */
	vmsr_sampler_tick(s);
	vmsr_sampler_vcpu_stats(s, 0, &st);
	ASSERT_TRUE(st.host_package == 1) TH_LOG("host package %u", st.host_package);
	ASSERT_TRUE(near(st.joules[VMSR_DOMAIN_PKG], 4)) TH_LOG("charged %g J, want package 1's 4 J",
	      st.joules[VMSR_DOMAIN_PKG]);
}

TEST_F(sampler, shares_use_ns_not_ticks)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);

	ASSERT_NE(NULL, s);
	/* 3.7 ms of 100 ms: USER_HZ ticks would say 0 or 10 ms. */
	advance(h, 100, 0, 1000000);
	run(h, 100, 0, 3700000);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), J(1000000) * 0.037)) TH_LOG("got %g J, want %g J",
	      vcpu_joules(s, 0), J(1000000) * 0.037);
}

/* --- the sampler's other promises --- */

TEST_F(sampler, intel_layout_on_amd_and_without_rapl)
{
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	uint64_t v;

	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, VMSR_MSR_RAPL_POWER_UNIT, &v) == 0 && v == AMD_UNIT) TH_LOG("AMD unit %#llx", (unsigned long long)v);
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, VMSR_MSR_PKG_POWER_INFO, &v) == 0 && v == 0) TH_LOG("power info %#llx", (unsigned long long)v);
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, VMSR_MSR_PP0_ENERGY_STATUS, &v) == -ENOENT) TH_LOG("PP0 served without a host core domain");
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, 0xc001029b, &v) == -ENOENT) TH_LOG("AMD MSR served");
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 1, VMSR_MSR_RAPL_POWER_UNIT, &v) == -EINVAL) TH_LOG("package 1 of 1 served");
	vmsr_sampler_free(s);

	s = make_sampler(self, 1, 1, VMSR_VENDOR_UNKNOWN, 0, 1, 0);
	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, VMSR_MSR_RAPL_POWER_UNIT, &v) == 0 && v == 0xa0e03) TH_LOG("no-RAPL unit %#llx", (unsigned long long)v);
}

TEST_F(sampler, guest_counter_is_monotonic_modulo_2_32)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);
	uint64_t prev = 0, now;
	uint64_t total = 0;

	ASSERT_NE(NULL, s);
	/* 3 * 2^31 steps in all: the guest counter wraps once on the way. */
	for (int i = 0; i < 6; i++) {
		advance(h, 1000, 0, 1U << 30);
		run(h, 100, 0, 1000 * MS);
		vmsr_sampler_tick(s);
		now = pkg_energy(s, 0);
		ASSERT_TRUE((uint32_t)(now - prev) == 1U << 30) TH_LOG("step %d: %#llx -> %#llx", i,
		      (unsigned long long)prev, (unsigned long long)now);
		ASSERT_TRUE(now <= UINT32_MAX) TH_LOG("counter has bits above 31");
		total += (uint32_t)(now - prev);
		prev = now;
	}
	ASSERT_TRUE(total == 6ULL << 30) TH_LOG("total %llu steps", (unsigned long long)total);
}

TEST_F(sampler, unrefreshed_counters_defer_the_tick)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);

	ASSERT_NE(NULL, s);
	advance(h, 1, 0, 0);
	run(h, 100, 0, 1 * MS);
	h->stale = 1;
	ASSERT_TRUE(vmsr_sampler_tick(s) == -EAGAIN) TH_LOG("stale counters accepted");
	advance(h, 99, 0, 65536);
	run(h, 100, 0, 99 * MS);
	ASSERT_TRUE(vmsr_sampler_tick(s) == 0) TH_LOG("tick after refresh failed");
	ASSERT_TRUE(near(vcpu_joules(s, 0), 1)) TH_LOG("deferred tick attributed %g J, want 1 J",
	      vcpu_joules(s, 0));
}

TEST_F(sampler, non_vcpu_energy_goes_to_vcpus_on_its_package)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 2, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_vcpu(s, 1, 101, 0);
	vmsr_sampler_add_thread(s, 200);
	run(h, 100, 0, 0);
	run(h, 101, 1, 0);
	run(h, 200, 1, 0);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	advance(h, 0, 1, 65536);
	run(h, 200, 1, 50 * MS);	/* I/O thread on package 1: 0.5 J */
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0)) TH_LOG("vCPU on package 0 got %g J", vcpu_joules(s, 0));
	ASSERT_TRUE(near(vcpu_joules(s, 1), 0.5)) TH_LOG("vCPU on package 1 got %g J", vcpu_joules(s, 1));

	/* No vCPU on the I/O thread's package: all vCPUs share it. */
	advance(h, 100, 0, 65536);
	advance(h, 0, 1, 65536);
	run(h, 101, 0, 0);
	run(h, 200, 1, 50 * MS);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0.25) && near(vcpu_joules(s, 1), 0.75)) TH_LOG("orphan energy split %g / %g J", vcpu_joules(s, 0), vcpu_joules(s, 1));
}

TEST_F(sampler, reused_tid_starts_from_zero)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(h, 100, 0, 900 * MS);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	fake_task(h, 100)->cpu_ns = 10 * MS;	/* a younger thread with the same TID */
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0)) TH_LOG("reused TID charged %g J", vcpu_joules(s, 0));
	advance(h, 100, 0, 65536);
	run(h, 100, 0, 50 * MS);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0.5)) TH_LOG("after reuse %g J", vcpu_joules(s, 0));
}

TEST_F(sampler, dram_is_attributed_like_the_package)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);
	uint64_t v;

	ASSERT_NE(NULL, s);
	advance(h, 100, 0, 0);
	h->dram[0] += 4000;
	run(h, 100, 0, 25 * MS);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(vmsr_sampler_read_msr(s, 0, VMSR_MSR_DRAM_ENERGY_STATUS, &v) == 0 && v == 1000) TH_LOG("DRAM counter %llu, want 1000", (unsigned long long)v);
}

/* Readers race a ticking sampler; each sees a counter that only moves up. */
struct reader {
	struct vmsr_sampler *s;
	volatile int *stop;
	int backwards, reads;
};

static void *read_loop(void *arg)
{
	struct reader *r = arg;
	uint64_t prev = 0, v;

	while (!*r->stop) {
		vmsr_sampler_read_vcpu_msr(r->s, 0, VMSR_MSR_PKG_ENERGY_STATUS, &v);
		if ((int32_t)(uint32_t)(v - prev) < 0)
			r->backwards++;
		prev = v;
		__atomic_add_fetch(&r->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

TEST_F(sampler, lock_free_reads_during_ticks)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	volatile int stop = 0;
	struct reader r[3];
	pthread_t th[3];

	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(h, 100, 0, 0);
	for (int i = 0; i < 3; i++) {
		r[i] = (struct reader){ .s = s, .stop = &stop };
		pthread_create(&th[i], NULL, read_loop, &r[i]);
	}
	for (int i = 0; i < 3; i++)	/* every reader is running */
		while (!__atomic_load_n(&r[i].reads, __ATOMIC_RELAXED))
			sched_yield();
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&s->lock);	/* the fake host is not thread-safe */
		advance(h, 10, 0, 7919);
		run(h, 100, 0, 10 * MS);
		pthread_mutex_unlock(&s->lock);
		vmsr_sampler_tick(s);
	}
	stop = 1;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		ASSERT_TRUE(r[i].backwards == 0) TH_LOG("reader %d saw the counter go back %d times", i,
		      r[i].backwards);
	}
}

static void *sleeper(void *arg)
{
	volatile int *stop = arg;

	while (!*stop)
		usleep(1000);
	return NULL;
}

TEST_F(sampler, scan_finds_new_threads_and_drops_reaped_ones)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	volatile int stop = 0;
	pthread_t th;
	int me = gettid(), tid;

	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, me, 0) == 0) TH_LOG("add vCPU");
	run(h, me, 0, 0);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(s->reg.nr == 1) TH_LOG("%u threads after the first scan", s->reg.nr);

	pthread_create(&th, NULL, sleeper, (void *)&stop);
	while (s->reg.nr < 2) {	/* the new thread shows up in /proc */
		advance(h, 100, 0, 65536);
		vmsr_sampler_tick(s);
	}
	tid = s->reg.threads[0].tid == me ? s->reg.threads[1].tid : s->reg.threads[0].tid;
	/* What it runs after the sample that found it counts, spread over the one vCPU. */
	run(h, tid, 0, 30 * MS);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0.3)) TH_LOG("vCPU got %g J, want 0.3 J", vcpu_joules(s, 0));

	stop = 1;
	pthread_join(th, NULL);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(s->reg.nr == 1 && s->reg.threads[0].tid == me) TH_LOG("reaped thread kept");
}

TEST_F(sampler, own_thread_ticks_until_stopped)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	struct vmsr_vpackage_stats st = { .size = sizeof(st) };

	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_start(s, 0) == -EINVAL) TH_LOG("interval 0 accepted");
	ASSERT_TRUE(vmsr_sampler_start(s, 5) == 0) TH_LOG("start");
	ASSERT_TRUE(vmsr_sampler_start(s, 5) == -EBUSY) TH_LOG("started twice");
	/* Bounded wait for progress, not a timing assertion. */
	for (int i = 0; i < 2000 && st.ticks < 3; i++) {
		pthread_mutex_lock(&s->lock);
		advance(h, 5, 0, 100);
		pthread_mutex_unlock(&s->lock);
		usleep(5000);
		vmsr_sampler_vpackage_stats(s, 0, &st);
	}
	vmsr_sampler_stop(s);
	ASSERT_TRUE(st.ticks >= 3) TH_LOG("only %llu ticks", (unsigned long long)st.ticks);
	vmsr_sampler_stop(s);	/* a second stop is harmless */
}

TEST_F(sampler, bad_arguments)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 2, 0);
	struct vmsr_sampler_config bad = { .nr_vpackages = 0, .max_vcpus = 1 };
	struct vmsr_host host = { .info.max_sample_pkgs = 1 };
	struct vmsr_sampler *t;

	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_create(&bad, &host, fake_host_source, h, &t) == -EINVAL) TH_LOG("zero virtual packages accepted");
	bad = (struct vmsr_sampler_config){ .nr_vpackages = 1, .max_vcpus = 1, .flags = 2 };
	ASSERT_TRUE(vmsr_sampler_create(&bad, &host, fake_host_source, h, &t) == -EINVAL) TH_LOG("unknown flag accepted");
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, 100, 2) == -EINVAL) TH_LOG("virtual package 2 of 2");
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, 0, 0) == -EINVAL) TH_LOG("tid 0");
	ASSERT_TRUE(vmsr_sampler_add_thread(s, -1) == -EINVAL) TH_LOG("tid -1");
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, 100, 0) == 0) TH_LOG("add vCPU");
	ASSERT_TRUE(vmsr_sampler_add_thread(s, 100) == -EEXIST) TH_LOG("vCPU thread added again");
	ASSERT_TRUE(vmsr_sampler_remove_thread(s, 100) == -EBUSY) TH_LOG("vCPU thread removed as thread");
}


/* --- issue 18: defects found in the first version, one test each --- */

TEST_F(sampler, package_without_online_cpu_is_skipped)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 2, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	h->offline[1] = true;	/* no online CPU: read_ns 0, -ENXIO */
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(h, 100, 0, 0);
	vmsr_sampler_tick(s);
	run(h, 100, 0, 50 * MS);
	advance(h, 100, 0, 65536);
	ASSERT_TRUE(vmsr_sampler_tick(s) == 0) TH_LOG("tick returned %d", vmsr_sampler_tick(s));
	ASSERT_TRUE(near(vcpu_joules(s, 0), 0.5)) TH_LOG("vCPU got %g J, want 0.5 J", vcpu_joules(s, 0));
}

TEST_F(sampler, fresh_dips_are_charged_once)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);
	struct vmsr_vcpu_stats st = { .size = sizeof(st) };

	ASSERT_NE(NULL, s);
	run(h, 100, 0, 100 * MS);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	fake_task(h, 100)->cpu_ns -= 500000;	/* a FRESH reading 0.5 ms low */
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	run(h, 100, 0, 100 * MS + 500000);	/* back above the mark, 100 ms later */
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	vmsr_sampler_vcpu_stats(s, 0, &st);
	ASSERT_TRUE(st.cpu_ns == 200 * MS) TH_LOG("charged %llu ns of CPU time, the thread used %llu",
	      (unsigned long long)st.cpu_ns, 200 * MS);
}

TEST_F(sampler, server_dram_counts_in_its_fixed_unit)
{
	struct fake_host *h = &self->h;
	struct vmsr_vcpu_stats st = { .size = sizeof(st) };
	struct vmsr_sampler *s;

	/* A Skylake-X host (family 6 model 0x55) whose unit register says 2^-14 J. */
	self->cpu_model = 0x655;
	s = make_sampler(self, 1, 1, VMSR_VENDOR_INTEL, 0xa0e03, 1, 0);
	ASSERT_NE(NULL, s);
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(h, 100, 0, 0);
	vmsr_sampler_tick(s);
	run(h, 100, 0, 100 * MS);
	h->dram[0] += 65536;
	advance(h, 100, 0, 16384);
	vmsr_sampler_tick(s);
	vmsr_sampler_vcpu_stats(s, 0, &st);
	ASSERT_TRUE(near(st.joules[VMSR_DOMAIN_DRAM], 65536 * 15.3e-6)) TH_LOG("DRAM %g J, want 65536 steps of 15.3 uJ = %g J", st.joules[VMSR_DOMAIN_DRAM],
	      65536 * 15.3e-6);
}

/* Run with /sys/devices/system/cpu/online bind-mounted over a file saying "0". */
TEST_F(sampler, host_cpu_hotplug_changes_shares)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 2);	/* CPUs 0 and 1 */

	ASSERT_NE(NULL, s);
	set_online(h, "0");	/* CPU 1 goes offline: a busy thread has the package */
	run(h, 100, 0, 100 * MS);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 1)) TH_LOG("vCPU got %g J of 1 J, shares counted 2 CPUs",
	      vcpu_joules(s, 0));
	set_online(h, "0-1");	/* and comes back: half the package again */
	run(h, 100, 0, 100 * MS);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(near(vcpu_joules(s, 0), 1.5)) TH_LOG("vCPU got %g J, want 1.5 J", vcpu_joules(s, 0));
}

TEST_F(sampler, scan_zombie_leader_is_not_charged_again)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	volatile int stop = 0;
	pthread_t th;
	int leader = getpid();
	double before;

	ASSERT_NE(NULL, s);
	pthread_create(&th, NULL, sleeper, (void *)&stop);
	for (int i = 0; i < 3; i++) {
		vmsr_sampler_tick(s);
		advance(h, 100, 0, 65536);
	}
	for (uint32_t i = 0; i < s->reg.nr; i++)
		if (s->reg.threads[i].tid != leader)
			vmsr_sampler_add_vcpu(s, 0, s->reg.threads[i].tid, 0);
	run(h, leader, 0, 10000 * MS);	/* 10 s of life before it exits */
	vmsr_sampler_tick(s);		/* baseline for the leader at 10 s */
	advance(h, 100, 0, 65536);
	fake_task(h, leader)->flags = VMSR_TASK_F_EXITED;	/* the leader exits: a zombie */
	vmsr_sampler_tick(s);
	before = vcpu_joules(s, 0);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);		/* /proc still lists the zombie */
	ASSERT_TRUE(near(vcpu_joules(s, 0), before)) TH_LOG("the zombie leader was charged again: %g J -> %g J",
	      before, vcpu_joules(s, 0));
	stop = 1;
	pthread_join(th, NULL);
}

TEST_F(sampler, scan_removed_thread_stays_removed)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	volatile int stop = 0;
	pthread_t th;
	int me = gettid(), other = 0;

	ASSERT_NE(NULL, s);
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, me, 0) == 0) TH_LOG("add vCPU");
	pthread_create(&th, NULL, sleeper, (void *)&stop);
	while (s->reg.nr < 2) {
		vmsr_sampler_tick(s);
		advance(h, 100, 0, 65536);
	}
	other = s->reg.threads[0].tid == me ? s->reg.threads[1].tid : s->reg.threads[0].tid;
	run(h, other, 0, 5000 * MS);	/* a long life already */
	vmsr_sampler_tick(s);
	ASSERT_TRUE(vmsr_sampler_remove_thread(s, other) == 0) TH_LOG("remove");
	double before = vcpu_joules(s, 0);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(vmsr_sampler_remove_thread(s, other) == -ENOENT) TH_LOG("the removed thread came back");
	ASSERT_TRUE(near(vcpu_joules(s, 0), before)) TH_LOG("the removed thread was charged: %g J -> %g J",
	      before, vcpu_joules(s, 0));
	stop = 1;
	pthread_join(th, NULL);
}

struct tsleeper {
	volatile int stop, tid;
};

static void *tsleeper(void *arg)
{
	struct tsleeper *t = arg;

	t->tid = gettid();
	while (!t->stop)
		usleep(1000);
	return NULL;
}

TEST_F(sampler, scan_threads_beyond_the_cap_enter_with_a_baseline)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	struct tsleeper sa = { 0 }, sb = { 0 };
	pthread_t a, b;
	int me = gettid();
	double before;

	ASSERT_NE(NULL, s);
	s->reg.max = 2;	/* the vCPU and one more */
	ASSERT_TRUE(vmsr_sampler_add_vcpu(s, 0, me, 0) == 0) TH_LOG("add vCPU");
	pthread_create(&a, NULL, tsleeper, &sa);
	pthread_create(&b, NULL, tsleeper, &sb);
	while (!sa.tid || !sb.tid)
		usleep(1000);
	for (int i = 0; i < 3; i++) {
		vmsr_sampler_tick(s);
		advance(h, 100, 0, 65536);
	}
	ASSERT_TRUE(s->reg.nr == 2) TH_LOG("%u threads at a cap of 2", s->reg.nr);
	/* Every thread but ours has lived 5 s already. */
	run(h, sa.tid, 0, 5000 * MS);
	run(h, sb.tid, 0, 5000 * MS);
	vmsr_sampler_tick(s);
	sa.stop = 1;
	pthread_join(a, NULL);	/* room for the one left out */
	before = vcpu_joules(s, 0);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	advance(h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	ASSERT_TRUE(vcpu_joules(s, 0) - before < 0.01) TH_LOG("the thread left out was charged its past: %g J",
	      vcpu_joules(s, 0) - before);
	sb.stop = 1;
	pthread_join(b, NULL);
}

/*
 * A recorded stream (record_stream.c): replayed through the sampler, and
 * checked against the rules of libvmsr.h applied here independently.
 */
#define MAX_SAMPLES	64
#define STREAM_TASKS	5

struct stream {
	struct vmsr_info info;
	uint32_t cpu_map[64];
	int nr_samples, next;
	uint64_t end_ns[MAX_SAMPLES], read_ns[MAX_SAMPLES];
	uint32_t energy[MAX_SAMPLES];
	struct fake_task tasks[MAX_SAMPLES][STREAM_TASKS];
};

static int load_stream(const char *data_dir, const char *name, struct stream *st)
{
	char path[512], line[512];
	int n = -1, t = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	memset(st, 0, sizeof(*st));
	while (fgets(line, sizeof(line), f)) {
		struct vmsr_info *i = &st->info;
		unsigned long long a, b;
		int off = 0;

		if (line[0] == 'H') {
			sscanf(line, "H %u %u %x %llx %u %u%n", &i->vendor, &i->energy_unit_shift,
			       &i->domains, &a, &i->nr_cpus, &i->nr_packages, &off);
			i->power_unit_raw = a;
			i->max_sample_pkgs = 64;
			i->max_sample_tasks = 4096;
			for (uint32_t c = 0; c < i->nr_cpus && c < 64; c++) {
				int used;

				sscanf(line + off, " %u%n", &st->cpu_map[c], &used);
				off += used;
			}
		} else if (line[0] == 'S' && n + 1 < MAX_SAMPLES) {
			sscanf(line, "S %llu", &a);
			st->end_ns[++n] = a;
			t = 0;
		} else if (line[0] == 'P' && n >= 0) {
			sscanf(line, "P %*u %llu %llu", &a, &b);
			st->read_ns[n] = a;
			st->energy[n] = (uint32_t)b;
		} else if (line[0] == 'T' && n >= 0 && t < STREAM_TASKS) {
			struct fake_task *ft = &st->tasks[n][t++];

			sscanf(line, "T %d %d %u %llu %u", &ft->tid, &ft->result, &ft->package, &a,
			       &ft->flags);
			ft->cpu_ns = a;
		}
	}
	fclose(f);
	st->nr_samples = n + 1;
	return 0;
}

static int stream_source(void *ctx, struct vmsr_snapshot *snap)
{
	struct stream *st = ctx;
	int n = st->next++;

	if (n >= st->nr_samples)
		return -ENODATA;
	memset(snap->pkgs, 0, sizeof(*snap->pkgs));
	snap->pkgs[0].read_ns = st->read_ns[n];
	snap->pkgs[0].energy[VMSR_DOMAIN_PKG] = st->energy[n];
	for (uint32_t i = 0; i < snap->nr_tasks; i++) {
		int tid = snap->tasks[i].tid;

		memset(&snap->tasks[i], 0, sizeof(snap->tasks[i]));
		snap->tasks[i].tid = tid;
		snap->tasks[i].result = -ESRCH;
		for (int k = 0; k < STREAM_TASKS; k++) {
			const struct fake_task *ft = &st->tasks[n][k];

			if (ft->tid != tid)
				continue;
			snap->tasks[i].result = ft->result;
			snap->tasks[i].package = ft->package;
			snap->tasks[i].cpu_ns = ft->cpu_ns;
			snap->tasks[i].flags = ft->flags;
		}
	}
	snap->end_ns = st->end_ns[n];
	return 0;
}

TEST_F(sampler, recorded_stream_replays_by_the_rules)
{
	struct fake_host *h = &self->h;
	static struct stream st;
	struct vmsr_sampler_config cfg = { .size = sizeof(cfg), .nr_vpackages = 2, .max_vcpus = 4 };
	struct vmsr_host host = { .cpu_map = st.cpu_map, .online_path = h->online_path };
	double want[STREAM_TASKS - 1] = { 0 }, host_j = 0, got_j = 0;
	const char *data_dir = getenv("VMSR_TEST_DATA") ? getenv("VMSR_TEST_DATA") : "tests/data";
	struct vmsr_sampler *s;
	char online[16];
	int wraps = 0, ret;

	ret = load_stream(data_dir, "tcg-amd-emulated-wrap.stream", &st);
	ASSERT_TRUE(!ret) TH_LOG("cannot read %s/tcg-amd-emulated-wrap.stream: %s", data_dir, strerror(-ret));
	ASSERT_TRUE(st.nr_samples >= 10 && st.info.nr_packages == 1) TH_LOG("%d samples, %u packages",
	      st.nr_samples, st.info.nr_packages);
	host.info = st.info;
	snprintf(online, sizeof(online), "0-%u", st.info.nr_cpus - 1);
	set_online(h, online);
	ASSERT_TRUE(!vmsr_sampler_create(&cfg, &host, stream_source, &st, &s)) TH_LOG("no sampler");
	self->s = s;
	vmsr_sampler_add_thread(s, st.tasks[0][0].tid);	/* the main thread */
	for (int v = 0; v < STREAM_TASKS - 1; v++)
		vmsr_sampler_add_vcpu(s, v, st.tasks[0][v + 1].tid, v / 2);

	for (int n = 0; n < st.nr_samples; n++) {
		ASSERT_TRUE(vmsr_sampler_tick(s) == 0) TH_LOG("tick %d failed", n);
		if (!n)
			continue;
		/* The rules, restated: wrap-corrected energy, ns shares, spread. */
		double dt = (double)(st.end_ns[n] - st.end_ns[n - 1]);
		double de = ldexp((uint32_t)(st.energy[n] - st.energy[n - 1]),
				  -(int)st.info.energy_unit_shift);
		double per_cpu = de / (st.info.nr_cpus * dt);

		wraps += st.energy[n] < st.energy[n - 1];
		host_j += de;
		for (int k = 0; k < STREAM_TASKS; k++) {
			double used = (double)(st.tasks[n][k].cpu_ns - st.tasks[n - 1][k].cpu_ns);
			double joules = fmin(used * per_cpu, de);	/* share <= 1 */

			for (int v = 0; v < STREAM_TASKS - 1; v++)
				if (k == 0)
					want[v] += joules / (STREAM_TASKS - 1);
				else if (k == v + 1)
					want[v] += joules;
		}
	}
	ASSERT_TRUE(wraps >= 1) TH_LOG("the stream never wraps: re-record it");
	for (int v = 0; v < STREAM_TASKS - 1; v++) {
		ASSERT_TRUE(fabs(vcpu_joules(s, v) - want[v]) < 1e-9 * (1 + want[v])) TH_LOG("vCPU %d: %.9f J, the rules give %.9f J", v, vcpu_joules(s, v), want[v]);
		got_j += vcpu_joules(s, v);
	}
	ASSERT_TRUE(got_j <= host_j) TH_LOG("attributed %g J of the host's %g J", got_j, host_j);
	ASSERT_TRUE(pkg_energy(s, 0) == (uint32_t)ldexp(want[0] + want[1], 16)) TH_LOG("package 0 reads %llu, want %u", (unsigned long long)pkg_energy(s, 0),
	      (uint32_t)ldexp(want[0] + want[1], 16));
}

/* --- life cycle rules of libvmsr.h without a test above --- */

TEST_F(sampler, first_tick_only_takes_a_baseline)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	struct vmsr_vpackage_stats st = { .size = sizeof(st) };

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, vmsr_sampler_add_vcpu(s, 0, 100, 0));
	run(h, 100, 0, 5000 * MS);	/* a long past, and a counter far from 0 */
	h->energy[0] = 123456789;
	ASSERT_EQ(0, vmsr_sampler_tick(s));
	EXPECT_EQ(0ULL, pkg_energy(s, 0));
	EXPECT_EQ(0, vmsr_sampler_vpackage_stats(s, 0, &st));
	EXPECT_EQ(0ULL, st.ticks);
	EXPECT_EQ(0, vcpu_joules(s, 0));
}

/* A thread found by a scan enters with a baseline: its past is not charged. */
TEST_F(sampler, scan_new_thread_enters_with_a_baseline)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	struct tsleeper sl = { 0 };
	pthread_t th;
	int me = gettid();

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, vmsr_sampler_add_vcpu(s, 0, me, 0));
	ASSERT_EQ(0, vmsr_sampler_tick(s));
	pthread_create(&th, NULL, tsleeper, &sl);
	while (!sl.tid)
		usleep(1000);
	run(h, sl.tid, 0, 5000 * MS);	/* born before the scan that finds it */
	advance(h, 100, 0, 65536);
	ASSERT_EQ(0, vmsr_sampler_tick(s));
	EXPECT_NE(NULL, vmsr_registry_find(&s->reg, sl.tid));
	EXPECT_TRUE(near(vcpu_joules(s, 0), 0)) TH_LOG("its past was charged: %g J", vcpu_joules(s, 0));
	run(h, sl.tid, 0, 30 * MS);
	advance(h, 100, 0, 65536);
	ASSERT_EQ(0, vmsr_sampler_tick(s));
	EXPECT_TRUE(near(vcpu_joules(s, 0), 0.3)) TH_LOG("vCPU got %g J, want 0.3 J", vcpu_joules(s, 0));
	sl.stop = 1;
	pthread_join(th, NULL);
}

/* The library's own thread is registered while it runs, like an I/O thread. */
TEST_F(sampler, own_thread_is_charged_like_an_io_thread)
{
	struct fake_host *h = &self->h;
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	int tid = 0;

	ASSERT_NE(NULL, s);
	ASSERT_EQ(0, vmsr_sampler_add_vcpu(s, 0, 100, 0));
	ASSERT_EQ(0, vmsr_sampler_start(s, 1));
	for (int i = 0; i < 5000 && !tid; i++) {	/* bounded wait, not a timing assertion */
		pthread_mutex_lock(&s->lock);
		tid = s->thread_tid;
		pthread_mutex_unlock(&s->lock);
		usleep(1000);
	}
	ASSERT_NE(0, tid);
	pthread_mutex_lock(&s->lock);
	EXPECT_NE(NULL, vmsr_registry_find(&s->reg, tid));
	EXPECT_EQ(VMSR_NO_VCPU, vmsr_registry_find(&s->reg, tid)->vcpu);
	pthread_mutex_unlock(&s->lock);
	EXPECT_EQ(-EBUSY, vmsr_sampler_tick(s));
	vmsr_sampler_stop(s);
	EXPECT_EQ(NULL, vmsr_registry_find(&s->reg, tid));
	/* After stop, ticks by hand go on from the last sample. */
	advance(h, 100, 0, 65536);
	run(h, 100, 0, 100 * MS);
	EXPECT_EQ(0, vmsr_sampler_tick(s));
}

/* --- bad input: each gives the errno libvmsr.h documents --- */

TEST_F(sampler, bad_input_gives_documented_errnos)
{
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 2, 0);
	struct vmsr_vcpu_stats vst = { .size = sizeof(vst) };
	struct vmsr_vpackage_stats pst = { .size = sizeof(pst) };
	uint64_t v;

	ASSERT_NE(NULL, s);
	/* NULL */
	EXPECT_EQ(-EINVAL, vmsr_sampler_new(NULL, &s));
	EXPECT_EQ(-EINVAL, vmsr_sampler_tick(NULL));
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_vcpu(NULL, 0, 100, 0));
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_thread(NULL, 100));
	EXPECT_EQ(-EINVAL, vmsr_sampler_remove_thread(NULL, 100));
	EXPECT_EQ(-EINVAL, vmsr_sampler_remove_vcpu(NULL, 0));
	EXPECT_EQ(-EINVAL, vmsr_sampler_start(NULL, 10));
	EXPECT_EQ(-EINVAL, vmsr_sampler_read_msr(NULL, 0, VMSR_MSR_PKG_ENERGY_STATUS, &v));
	EXPECT_EQ(-EINVAL, vmsr_sampler_read_msr(s, 0, VMSR_MSR_PKG_ENERGY_STATUS, NULL));
	EXPECT_EQ(-EINVAL, vmsr_sampler_read_vcpu_msr(NULL, 0, VMSR_MSR_PKG_ENERGY_STATUS, &v));
	EXPECT_EQ(-EINVAL, vmsr_sampler_vcpu_stats(s, 0, NULL));
	EXPECT_EQ(-EINVAL, vmsr_sampler_vpackage_stats(NULL, 0, &pst));
	EXPECT_EQ(-EINVAL, vmsr_get_info(-1, NULL, NULL, 0));
	EXPECT_EQ(0, vmsr_joules_per_step(NULL));
	EXPECT_EQ(0, vmsr_sampler_free(NULL));
	vmsr_sampler_stop(NULL);
	/* indexes out of range */
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_vcpu(s, 8, 100, 0));
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_vcpu(s, 0, 100, 2));
	EXPECT_EQ(-EINVAL, vmsr_sampler_remove_vcpu(s, 8));
	EXPECT_EQ(-EINVAL, vmsr_sampler_read_vcpu_msr(s, 8, VMSR_MSR_PKG_ENERGY_STATUS, &v));
	EXPECT_EQ(-EINVAL, vmsr_sampler_read_msr(s, 2, VMSR_MSR_PKG_ENERGY_STATUS, &v));
	EXPECT_EQ(-EINVAL, vmsr_sampler_vcpu_stats(s, 8, &vst));
	EXPECT_EQ(-EINVAL, vmsr_sampler_vpackage_stats(s, 2, &pst));
	/* bad TIDs, and things not registered or registered twice */
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_vcpu(s, 0, 0, 0));
	EXPECT_EQ(-EINVAL, vmsr_sampler_add_thread(s, -1));
	EXPECT_EQ(-ENOENT, vmsr_sampler_vcpu_stats(s, 0, &vst));
	EXPECT_EQ(-ENOENT, vmsr_sampler_remove_vcpu(s, 0));
	EXPECT_EQ(-ENOENT, vmsr_sampler_remove_thread(s, 100));
	EXPECT_EQ(0, vmsr_sampler_add_vcpu(s, 0, 100, 0));
	EXPECT_EQ(-EEXIST, vmsr_sampler_add_vcpu(s, 0, 101, 0));
	EXPECT_EQ(-EEXIST, vmsr_sampler_add_vcpu(s, 1, 100, 0));
	EXPECT_EQ(-EEXIST, vmsr_sampler_add_thread(s, 100));
	EXPECT_EQ(-EBUSY, vmsr_sampler_remove_thread(s, 100));
	EXPECT_EQ(-EINVAL, vmsr_sampler_start(s, 0));
	EXPECT_EQ(-ENOENT, vmsr_sampler_read_msr(s, 0, 0xc001029b, &v));
}

/* A TID that is not a thread of the sampled process. */
TEST_F(sampler, tid_not_ours_is_refused)
{
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	s->check_tids = true;	/* as over the device */
	EXPECT_EQ(-ESRCH, vmsr_sampler_add_thread(s, 1));	/* init's, not ours */
	EXPECT_EQ(-ESRCH, vmsr_sampler_add_vcpu(s, 0, 1, 0));
	EXPECT_EQ(0, vmsr_sampler_add_vcpu(s, 0, gettid(), 0));
}

TEST_F(sampler, double_free_is_refused)
{
	struct vmsr_sampler *s = make_sampler(self, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	ASSERT_NE(NULL, s);
	EXPECT_EQ(0, vmsr_sampler_free(s));
	self->s = NULL;
	EXPECT_EQ(-EBADF, vmsr_sampler_free(s));
}

/* --- structs that can grow: sizes of older and newer callers --- */

TEST_F(sampler, config_size_older_and_newer_callers)
{
	struct {
		struct vmsr_sampler_config cfg;
		uint64_t newer_field;
	} big = { .cfg = { .nr_vpackages = 1, .max_vcpus = 1 } };
	struct vmsr_host host = { .info = { .nr_packages = 1, .nr_cpus = 1, .max_sample_pkgs = 1,
					    .max_sample_tasks = 8 },
				  .cpu_map = (uint32_t[]){ 0 },
				  .online_path = self->h.online_path };
	struct vmsr_sampler *s;

	big.cfg.size = 4;	/* shorter than the first layout */
	EXPECT_EQ(-EINVAL, vmsr_sampler_create(&big.cfg, &host, fake_host_source, &self->h, &s));
	big.cfg.size = sizeof(big);	/* a newer caller, its new field zero */
	ASSERT_EQ(0, vmsr_sampler_create(&big.cfg, &host, fake_host_source, &self->h, &s));
	vmsr_sampler_free(s);
	big.newer_field = 1;	/* a newer caller asking for what this library lacks */
	EXPECT_EQ(-E2BIG, vmsr_sampler_create(&big.cfg, &host, fake_host_source, &self->h, &s));
	big.cfg.size = sizeof(big.cfg);
	big.cfg.reserved = 1;
	EXPECT_EQ(-EINVAL, vmsr_sampler_create(&big.cfg, &host, fake_host_source, &self->h, &s));
}

TEST_F(sampler, stats_fill_only_the_callers_size)
{
	struct vmsr_sampler *s = one_vcpu_sampler(self, 1, 1);
	struct {
		struct vmsr_vpackage_stats st;
		uint64_t newer_field;
	} big;

	ASSERT_NE(NULL, s);
	memset(&big, 0xaa, sizeof(big));
	big.st.size = sizeof(big);	/* newer caller: what this library lacks reads 0 */
	ASSERT_EQ(0, vmsr_sampler_vpackage_stats(s, 0, &big.st));
	EXPECT_EQ(0ULL, big.newer_field);
	EXPECT_EQ((uint32_t)sizeof(big), big.st.size);
	EXPECT_EQ(1U, big.st.nr_vcpus);
	big.st.size = offsetof(struct vmsr_vpackage_stats, ticks);	/* too small */
	EXPECT_EQ(-EINVAL, vmsr_sampler_vpackage_stats(s, 0, &big.st));
}

/* A descriptor that is not /dev/vmsr is refused, and stays the caller's. */
TEST(new_fd_leaves_a_refused_fd_open)
{
	struct vmsr_sampler_config cfg = { .size = sizeof(cfg), .nr_vpackages = 1, .max_vcpus = 1 };
	struct vmsr_sampler *s = NULL;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, vmsr_sampler_new_fd(-1, &cfg, &s));
	EXPECT_EQ(-EINVAL, vmsr_sampler_new_fd(fd, NULL, &s));
	EXPECT_EQ(-ENOTTY, vmsr_sampler_new_fd(fd, &cfg, &s));
	EXPECT_LE(0, fcntl(fd, F_GETFD)) TH_LOG("the refused fd was closed");
	close(fd);
}

/* The open hint names the real cause of each error. */
TEST(open_hint_names_the_cause)
{
	struct stat st;

	/* EACCES: the mode (group kvm), unless the mode allows us (AppArmor). */
	if (stat(VMSR_DEVICE_PATH, &st))
		EXPECT_NE(NULL, strstr(vmsr_open_hint(-EACCES), "group kvm"));
	if (!stat(VMSR_DEVICE_PATH, &st) && !geteuid())
		EXPECT_NE(NULL, strstr(vmsr_open_hint(-EACCES), "AppArmor"));
	EXPECT_NE(NULL, strstr(vmsr_open_hint(-EPERM), "cgroup_device_acl"));
	EXPECT_NE(NULL, strstr(vmsr_open_hint(-ENOENT), "modprobe vmsr"));
	EXPECT_NE(NULL, vmsr_open_hint(-EIO));
}

TEST_HARNESS_MAIN
