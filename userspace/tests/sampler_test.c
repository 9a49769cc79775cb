// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Host unit tests of libvmsr's sampler: no kernel, no device. Each test
 * scripts a host (packages, energy counters, threads and their CPU time),
 * ticks the sampler over it, and checks what the guest would read.
 *
 * The first group is one test per defect of QEMU's virtual RAPL
 * (NOTES.md §3); the rest cover the sampler's other promises, and the last
 * replays a stream recorded on the emulated module (tests/data/).
 * Prints "PASS libvmsr/NAME" or "FAIL libvmsr/NAME: why" per test.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler.h"

#define MS		1000000ULL
#define MAX_TASKS	16
#define AMD_UNIT	0xa1003ULL	/* energy unit 2^-16 J */

/* The scripted host. Tests change it between ticks. */
struct fake_task {
	int tid;
	int result;
	uint32_t package;
	uint64_t cpu_ns;
	uint32_t flags;
};

struct fake_host {
	uint64_t now_ns;
	uint32_t energy[2];	/* package domain, per host package */
	uint32_t dram[2];
	struct fake_task tasks[MAX_TASKS];
	int nr_tasks;
	int stale;		/* counters not refreshed on the next sample */
	uint64_t read_ns[2];
};

static int failures;
static const char *current_test;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		printf("FAIL libvmsr/%s: ", current_test);		\
		printf(__VA_ARGS__);					\
		printf(" (%s:%d)\n", __FILE__, __LINE__);		\
		failures++;						\
		return;							\
	}								\
} while (0)

static struct fake_task *task(struct fake_host *h, int tid)
{
	for (int i = 0; i < h->nr_tasks; i++)
		if (h->tasks[i].tid == tid)
			return &h->tasks[i];
	h->tasks[h->nr_tasks] = (struct fake_task){ .tid = tid };
	return &h->tasks[h->nr_tasks++];
}

static int fake_source(void *ctx, struct vmsr_snapshot *snap)
{
	struct fake_host *h = ctx;

	for (uint32_t p = 0; p < snap->nr_pkgs; p++) {
		struct vmsr_pkg_sample *ps = &snap->pkgs[p];

		if (!h->stale)
			h->read_ns[p] = h->now_ns;
		memset(ps->energy, 0, sizeof(ps->energy));
		memset(ps->result, 0, sizeof(ps->result));
		ps->read_ns = h->read_ns[p];
		ps->energy[VMSR_DOMAIN_PKG] = h->energy[p];
		ps->energy[VMSR_DOMAIN_DRAM] = h->dram[p];
	}
	h->stale = 0;
	for (uint32_t i = 0; i < snap->nr_tasks; i++) {
		struct vmsr_task_sample *ts = &snap->tasks[i];
		int tid = ts->tid;
		int k;

		memset(ts, 0, sizeof(*ts));
		ts->tid = tid;	/* unscripted threads exist and are idle */
		for (k = 0; k < h->nr_tasks; k++) {
			if (h->tasks[k].tid != tid)
				continue;
			ts->result = h->tasks[k].result;
			ts->package = h->tasks[k].package;
			ts->cpu_ns = h->tasks[k].cpu_ns;
			ts->flags = h->tasks[k].flags;
		}
	}
	snap->start_ns = h->now_ns;
	snap->end_ns = h->now_ns;
	return 0;
}

/* A host of @nr_pkgs packages with @cpus_per_pkg CPUs each. */
static struct vmsr_sampler *make_sampler(struct fake_host *h, uint32_t nr_pkgs,
					 uint32_t cpus_per_pkg, uint32_t vendor,
					 uint64_t power_unit, uint32_t nr_vpackages,
					 uint32_t flags)
{
	uint32_t cpu_map[16];
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
	};
	struct vmsr_sampler_config cfg = {
		.nr_vpackages = nr_vpackages, .max_vcpus = 8, .flags = flags,
	};
	struct vmsr_sampler *s;

	for (uint32_t c = 0; c < host.info.nr_cpus; c++)
		cpu_map[c] = c / cpus_per_pkg;
	memset(h, 0, sizeof(*h));
	h->now_ns = 1000 * MS;
	if (vmsr_sampler_create(&cfg, &host, fake_source, h, &s))
		return NULL;
	return s;
}

/* Time passes: @ms milliseconds, @steps energy steps on package @pkg. */
static void advance(struct fake_host *h, uint64_t ms, uint32_t pkg, uint32_t steps)
{
	h->now_ns += ms * MS;
	h->energy[pkg] += steps;
}

static void run(struct fake_host *h, int tid, uint32_t pkg, uint64_t cpu_ns)
{
	struct fake_task *t = task(h, tid);

	t->package = pkg;
	t->cpu_ns += cpu_ns;
}

/*
 * The common start: an AMD host of @nr_pkgs packages of @cpus CPUs, one
 * virtual package, vCPU 0 on thread 100 (on package 0), and the baseline
 * tick taken.
 */
static struct vmsr_sampler *one_vcpu_sampler(struct fake_host *h, uint32_t nr_pkgs,
					     uint32_t cpus)
{
	struct vmsr_sampler *s = make_sampler(h, nr_pkgs, cpus, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	if (s) {
		vmsr_sampler_add_vcpu(s, 0, 100, 0);
		run(h, 100, 0, 0);
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
	struct vmsr_vcpu_stats st;

	return vmsr_sampler_vcpu_stats(s, vcpu, &st) ? -1 : st.joules[VMSR_DOMAIN_PKG];
}

static double vpackage_joules(struct vmsr_sampler *s, uint32_t vpackage)
{
	struct vmsr_vpackage_stats st;

	return vmsr_sampler_vpackage_stats(s, vpackage, &st) ? -1 : st.joules[VMSR_DOMAIN_PKG];
}

static int near(double a, double b)
{
	return fabs(a - b) <= 1e-9 + 1e-9 * fabs(b);
}

#define J(steps)	((steps) / 65536.0)	/* AMD_UNIT steps to joules */

/* --- QEMU's defects (NOTES.md §3), one test each --- */

static void test_counter_wrap_is_corrected(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	h.energy[0] = 0xffffff00u;
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 0x300);	/* wraps past 2^32 */
	run(&h, 100, 0, 100 * MS);	/* busy: the whole package */
	CHECK(vmsr_sampler_tick(s) == 0, "tick failed");
	CHECK(near(vcpu_joules(s, 0), J(0x300)), "got %g J, want %g J",
	      vcpu_joules(s, 0), J(0x300));
	CHECK(pkg_energy(s, 0) == 0x300, "counter %#llx, want 0x300",
	      (unsigned long long)pkg_energy(s, 0));
	vmsr_sampler_free(s);
}

static void test_exiting_thread_neither_underflows_nor_loses_energy(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	double before;

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_thread(s, 200);
	run(&h, 100, 0, 0);
	run(&h, 200, 0, 5000 * MS);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 6554);
	run(&h, 200, 0, 100 * MS);	/* half the package */
	vmsr_sampler_tick(s);
	before = vpackage_joules(s, 0);
	CHECK(near(before, J(6554) / 2), "before exit: %g J", before);

	/* Exits and is reaped mid-interval: the sample no longer finds it. */
	task(&h, 200)->result = -ESRCH;
	advance(&h, 100, 0, 6554);
	CHECK(vmsr_sampler_tick(s) == 0, "tick failed");
	CHECK(near(vpackage_joules(s, 0), before), "energy moved from %g to %g J", before,
	      vpackage_joules(s, 0));
	CHECK(vmsr_sampler_remove_thread(s, 200) == -ENOENT, "reaped thread not dropped");

	/* A zombie's final times still count, once. */
	vmsr_sampler_add_thread(s, 300);
	run(&h, 300, 0, 0);
	advance(&h, 100, 0, 0);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 6554);
	run(&h, 300, 0, 50 * MS);
	task(&h, 300)->flags = VMSR_TASK_F_EXITED;
	vmsr_sampler_tick(s);
	CHECK(near(vpackage_joules(s, 0), before + J(6554) / 4), "zombie: %g J",
	      vpackage_joules(s, 0));
	CHECK(vmsr_sampler_remove_thread(s, 300) == -ENOENT, "zombie not dropped");
	vmsr_sampler_free(s);
}

static void test_accumulators_reset_every_tick(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	double prev = 0;

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_thread(s, 200);
	run(&h, 100, 0, 0);
	run(&h, 200, 0, 0);
	vmsr_sampler_tick(s);
	/* The same load every tick must buy the same energy every tick. */
	for (int i = 0; i < 10; i++) {
		double now;

		advance(&h, 100, 0, 65536);
		run(&h, 100, 0, 50 * MS);
		run(&h, 200, 0, 50 * MS);
		vmsr_sampler_tick(s);
		now = vpackage_joules(s, 0);
		CHECK(near(now - prev, 0.5), "tick %d attributed %g J, want 0.5 J", i, now - prev);
		prev = now;
	}
	vmsr_sampler_free(s);
}

static void test_vcpus_of_a_package_agree_idle_included(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 2, VMSR_VENDOR_AMD, AMD_UNIT, 2, 0);
	uint64_t busy, idle, other;

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_vcpu(s, 1, 101, 0);	/* never runs */
	vmsr_sampler_add_vcpu(s, 2, 102, 1);
	run(&h, 100, 0, 0);
	run(&h, 101, 0, 0);
	run(&h, 102, 0, 0);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 65536);
	run(&h, 100, 0, 100 * MS);
	vmsr_sampler_tick(s);
	vmsr_sampler_read_vcpu_msr(s, 0, VMSR_MSR_PKG_ENERGY_STATUS, &busy);
	vmsr_sampler_read_vcpu_msr(s, 1, VMSR_MSR_PKG_ENERGY_STATUS, &idle);
	vmsr_sampler_read_vcpu_msr(s, 2, VMSR_MSR_PKG_ENERGY_STATUS, &other);
	CHECK(busy == 32768, "busy vCPU reads %llu, want 32768", (unsigned long long)busy);
	CHECK(idle == busy, "idle vCPU reads %llu, busy one %llu", (unsigned long long)idle,
	      (unsigned long long)busy);
	CHECK(other == 0, "other package reads %llu", (unsigned long long)other);
	vmsr_sampler_free(s);
}

static void test_vcpu_hotplug(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 1, 1);
	uint64_t v;

	CHECK(s, "no sampler");
	advance(&h, 100, 0, 65536);
	run(&h, 100, 0, 100 * MS);
	vmsr_sampler_tick(s);

	/* Plug in vCPU 6: an index beyond the boot vCPUs. */
	CHECK(vmsr_sampler_add_vcpu(s, 6, 106, 0) == 0, "add vCPU 6");
	CHECK(vmsr_sampler_add_vcpu(s, 6, 107, 0) == -EEXIST, "vCPU 6 added twice");
	CHECK(vmsr_sampler_add_vcpu(s, 8, 108, 0) == -EINVAL, "vCPU 8 >= max_vcpus");
	run(&h, 106, 0, 0);
	advance(&h, 100, 0, 0);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 65536);
	run(&h, 106, 0, 100 * MS);
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 6), 1), "vCPU 6 got %g J", vcpu_joules(s, 6));

	/* Unplug vCPU 0: the package keeps what it was given. */
	CHECK(vmsr_sampler_remove_vcpu(s, 0) == 0, "remove vCPU 0");
	CHECK(vmsr_sampler_read_vcpu_msr(s, 0, VMSR_MSR_PKG_ENERGY_STATUS, &v) == -EINVAL,
	      "removed vCPU still readable");
	CHECK(vmsr_sampler_read_vcpu_msr(s, 6, VMSR_MSR_PKG_ENERGY_STATUS, &v) == 0 &&
	      v == 65536 * 2, "package reads %llu after unplug", (unsigned long long)v);
	CHECK(vmsr_sampler_remove_vcpu(s, 0) == -ENOENT, "removed twice");
	vmsr_sampler_free(s);
}

static void test_migration_charges_the_end_package(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 2, 1);
	struct vmsr_vcpu_stats st;

	CHECK(s, "no sampler");
	advance(&h, 100, 0, 65536);
	advance(&h, 0, 1, 4 * 65536);
	run(&h, 100, 1, 100 * MS);	/* was on package 0, now on 1 */
	vmsr_sampler_tick(s);
	vmsr_sampler_vcpu_stats(s, 0, &st);
	CHECK(st.host_package == 1, "host package %u", st.host_package);
	CHECK(near(st.joules[VMSR_DOMAIN_PKG], 4), "charged %g J, want package 1's 4 J",
	      st.joules[VMSR_DOMAIN_PKG]);
	vmsr_sampler_free(s);
}

static void test_shares_use_ns_not_ticks(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 1, 1);

	CHECK(s, "no sampler");
	/* 3.7 ms of 100 ms: USER_HZ ticks would say 0 or 10 ms. */
	advance(&h, 100, 0, 1000000);
	run(&h, 100, 0, 3700000);
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), J(1000000) * 0.037), "got %g J, want %g J",
	      vcpu_joules(s, 0), J(1000000) * 0.037);
	vmsr_sampler_free(s);
}

/* --- the sampler's other promises --- */

static void test_intel_layout_on_amd_and_without_rapl(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	uint64_t v;

	CHECK(s, "no sampler");
	CHECK(vmsr_sampler_read_msr(s, 0, VMSR_MSR_RAPL_POWER_UNIT, &v) == 0 && v == AMD_UNIT,
	      "AMD unit %#llx", (unsigned long long)v);
	CHECK(vmsr_sampler_read_msr(s, 0, VMSR_MSR_PKG_POWER_INFO, &v) == 0 && v == 0,
	      "power info %#llx", (unsigned long long)v);
	CHECK(vmsr_sampler_read_msr(s, 0, VMSR_MSR_PP0_ENERGY_STATUS, &v) == -ENOENT,
	      "PP0 served without a host core domain");
	CHECK(vmsr_sampler_read_msr(s, 0, 0xc001029b, &v) == -ENOENT, "AMD MSR served");
	CHECK(vmsr_sampler_read_msr(s, 1, VMSR_MSR_RAPL_POWER_UNIT, &v) == -EINVAL,
	      "package 1 of 1 served");
	vmsr_sampler_free(s);

	s = make_sampler(&h, 1, 1, VMSR_VENDOR_UNKNOWN, 0, 1, 0);
	CHECK(s, "no sampler");
	CHECK(vmsr_sampler_read_msr(s, 0, VMSR_MSR_RAPL_POWER_UNIT, &v) == 0 && v == 0xa0e03,
	      "no-RAPL unit %#llx", (unsigned long long)v);
	vmsr_sampler_free(s);
}

static void test_guest_counter_is_monotonic_modulo_2_32(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 1, 1);
	uint64_t prev = 0, now;
	uint64_t total = 0;

	CHECK(s, "no sampler");
	/* 3 * 2^31 steps in all: the guest counter wraps once on the way. */
	for (int i = 0; i < 6; i++) {
		advance(&h, 1000, 0, 1U << 30);
		run(&h, 100, 0, 1000 * MS);
		vmsr_sampler_tick(s);
		now = pkg_energy(s, 0);
		CHECK((uint32_t)(now - prev) == 1U << 30, "step %d: %#llx -> %#llx", i,
		      (unsigned long long)prev, (unsigned long long)now);
		CHECK(now <= UINT32_MAX, "counter has bits above 31");
		total += (uint32_t)(now - prev);
		prev = now;
	}
	CHECK(total == 6ULL << 30, "total %llu steps", (unsigned long long)total);
	vmsr_sampler_free(s);
}

static void test_unrefreshed_counters_defer_the_tick(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 1, 1);

	CHECK(s, "no sampler");
	advance(&h, 1, 0, 0);
	run(&h, 100, 0, 1 * MS);
	h.stale = 1;
	CHECK(vmsr_sampler_tick(s) == -EAGAIN, "stale counters accepted");
	advance(&h, 99, 0, 65536);
	run(&h, 100, 0, 99 * MS);
	CHECK(vmsr_sampler_tick(s) == 0, "tick after refresh failed");
	CHECK(near(vcpu_joules(s, 0), 1), "deferred tick attributed %g J, want 1 J",
	      vcpu_joules(s, 0));
	vmsr_sampler_free(s);
}

static void test_non_vcpu_energy_goes_to_vcpus_on_its_package(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 2, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	vmsr_sampler_add_vcpu(s, 1, 101, 0);
	vmsr_sampler_add_thread(s, 200);
	run(&h, 100, 0, 0);
	run(&h, 101, 1, 0);
	run(&h, 200, 1, 0);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 65536);
	advance(&h, 0, 1, 65536);
	run(&h, 200, 1, 50 * MS);	/* I/O thread on package 1: 0.5 J */
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), 0), "vCPU on package 0 got %g J", vcpu_joules(s, 0));
	CHECK(near(vcpu_joules(s, 1), 0.5), "vCPU on package 1 got %g J", vcpu_joules(s, 1));

	/* No vCPU on the I/O thread's package: all vCPUs share it. */
	advance(&h, 100, 0, 65536);
	advance(&h, 0, 1, 65536);
	run(&h, 101, 0, 0);
	run(&h, 200, 1, 50 * MS);
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), 0.25) && near(vcpu_joules(s, 1), 0.75),
	      "orphan energy split %g / %g J", vcpu_joules(s, 0), vcpu_joules(s, 1));
	vmsr_sampler_free(s);
}

static void test_reused_tid_starts_from_zero(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(&h, 100, 0, 900 * MS);
	vmsr_sampler_tick(s);
	advance(&h, 100, 0, 65536);
	task(&h, 100)->cpu_ns = 10 * MS;	/* a younger thread with the same TID */
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), 0), "reused TID charged %g J", vcpu_joules(s, 0));
	advance(&h, 100, 0, 65536);
	run(&h, 100, 0, 50 * MS);
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), 0.5), "after reuse %g J", vcpu_joules(s, 0));
	vmsr_sampler_free(s);
}

static void test_dram_is_attributed_like_the_package(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = one_vcpu_sampler(&h, 1, 1);
	uint64_t v;

	CHECK(s, "no sampler");
	advance(&h, 100, 0, 0);
	h.dram[0] += 4000;
	run(&h, 100, 0, 25 * MS);
	vmsr_sampler_tick(s);
	CHECK(vmsr_sampler_read_msr(s, 0, VMSR_MSR_DRAM_ENERGY_STATUS, &v) == 0 && v == 1000,
	      "DRAM counter %llu, want 1000", (unsigned long long)v);
	vmsr_sampler_free(s);
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

static void test_lock_free_reads_during_ticks(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	volatile int stop = 0;
	struct reader r[3];
	pthread_t th[3];

	CHECK(s, "no sampler");
	vmsr_sampler_add_vcpu(s, 0, 100, 0);
	run(&h, 100, 0, 0);
	for (int i = 0; i < 3; i++) {
		r[i] = (struct reader){ .s = s, .stop = &stop };
		pthread_create(&th[i], NULL, read_loop, &r[i]);
	}
	for (int i = 0; i < 3; i++)	/* every reader is running */
		while (!__atomic_load_n(&r[i].reads, __ATOMIC_RELAXED))
			sched_yield();
	for (int i = 0; i < 20000; i++) {
		pthread_mutex_lock(&s->lock);	/* the fake host is not thread-safe */
		advance(&h, 10, 0, 7919);
		run(&h, 100, 0, 10 * MS);
		pthread_mutex_unlock(&s->lock);
		vmsr_sampler_tick(s);
	}
	stop = 1;
	for (int i = 0; i < 3; i++) {
		pthread_join(th[i], NULL);
		CHECK(r[i].backwards == 0, "reader %d saw the counter go back %d times", i,
		      r[i].backwards);
	}
	vmsr_sampler_free(s);
}

static void *sleeper(void *arg)
{
	volatile int *stop = arg;

	while (!*stop)
		usleep(1000);
	return NULL;
}

static void test_scan_finds_new_threads_and_drops_reaped_ones(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1,
					      VMSR_SAMPLER_F_SCAN_THREADS);
	volatile int stop = 0;
	pthread_t th;
	int self = gettid(), tid;

	CHECK(s, "no sampler");
	CHECK(vmsr_sampler_add_vcpu(s, 0, self, 0) == 0, "add vCPU");
	run(&h, self, 0, 0);
	vmsr_sampler_tick(s);
	CHECK(s->nr_threads == 1, "%u threads after the first scan", s->nr_threads);

	pthread_create(&th, NULL, sleeper, (void *)&stop);
	while (s->nr_threads < 2) {	/* the new thread shows up in /proc */
		vmsr_sampler_tick(s);
		advance(&h, 100, 0, 65536);
	}
	tid = s->threads[0].tid == self ? s->threads[1].tid : s->threads[0].tid;
	CHECK(vmsr_find_thread(s, tid)->has_baseline, "new thread has no zero baseline");
	/* Its whole life counts, spread over the one vCPU. */
	run(&h, tid, 0, 30 * MS);
	advance(&h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	CHECK(near(vcpu_joules(s, 0), 0.3), "vCPU got %g J, want 0.3 J", vcpu_joules(s, 0));

	stop = 1;
	pthread_join(th, NULL);
	advance(&h, 100, 0, 65536);
	vmsr_sampler_tick(s);
	CHECK(s->nr_threads == 1 && s->threads[0].tid == self, "reaped thread kept");
	vmsr_sampler_free(s);
}

static void test_own_thread_ticks_until_stopped(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 1, 0);
	struct vmsr_vpackage_stats st = { 0 };

	CHECK(s, "no sampler");
	CHECK(vmsr_sampler_start(s, 0) == -EINVAL, "interval 0 accepted");
	CHECK(vmsr_sampler_start(s, 5) == 0, "start");
	CHECK(vmsr_sampler_start(s, 5) == -EBUSY, "started twice");
	/* Bounded wait for progress, not a timing assertion. */
	for (int i = 0; i < 2000 && st.ticks < 3; i++) {
		pthread_mutex_lock(&s->lock);
		advance(&h, 5, 0, 100);
		pthread_mutex_unlock(&s->lock);
		usleep(5000);
		vmsr_sampler_vpackage_stats(s, 0, &st);
	}
	vmsr_sampler_stop(s);
	CHECK(st.ticks >= 3, "only %llu ticks", (unsigned long long)st.ticks);
	vmsr_sampler_stop(s);	/* a second stop is harmless */
	vmsr_sampler_free(s);
}

static void test_bad_arguments(void)
{
	struct fake_host h;
	struct vmsr_sampler *s = make_sampler(&h, 1, 1, VMSR_VENDOR_AMD, AMD_UNIT, 2, 0);
	struct vmsr_sampler_config bad = { .nr_vpackages = 0, .max_vcpus = 1 };
	struct vmsr_host host = { .info.max_sample_pkgs = 1 };
	struct vmsr_sampler *t;

	CHECK(s, "no sampler");
	CHECK(vmsr_sampler_create(&bad, &host, fake_source, &h, &t) == -EINVAL,
	      "zero virtual packages accepted");
	bad = (struct vmsr_sampler_config){ .nr_vpackages = 1, .max_vcpus = 1, .flags = 2 };
	CHECK(vmsr_sampler_create(&bad, &host, fake_source, &h, &t) == -EINVAL,
	      "unknown flag accepted");
	CHECK(vmsr_sampler_add_vcpu(s, 0, 100, 2) == -EINVAL, "virtual package 2 of 2");
	CHECK(vmsr_sampler_add_vcpu(s, 0, 0, 0) == -EINVAL, "tid 0");
	CHECK(vmsr_sampler_add_thread(s, -1) == -EINVAL, "tid -1");
	CHECK(vmsr_sampler_add_vcpu(s, 0, 100, 0) == 0, "add vCPU");
	CHECK(vmsr_sampler_add_thread(s, 100) == -EEXIST, "vCPU thread added again");
	CHECK(vmsr_sampler_remove_thread(s, 100) == -EBUSY, "vCPU thread removed as thread");
	vmsr_sampler_free(s);
}

/* A descriptor that is not /dev/vmsr is refused, and stays the caller's. */
static void test_new_fd_leaves_a_refused_fd_open(void)
{
	struct vmsr_sampler_config cfg = { .nr_vpackages = 1, .max_vcpus = 1 };
	struct vmsr_sampler *s = NULL;
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	CHECK(fd >= 0, "cannot open /dev/null");
	CHECK(vmsr_sampler_new_fd(-1, &cfg, &s) == -EINVAL, "fd -1 accepted");
	CHECK(vmsr_sampler_new_fd(fd, NULL, &s) == -EINVAL, "NULL config accepted");
	CHECK(vmsr_sampler_new_fd(fd, &cfg, &s) == -ENOTTY, "/dev/null accepted");
	CHECK(fcntl(fd, F_GETFD) >= 0, "the refused fd was closed");
	close(fd);
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

static const char *data_dir = "tests/data";

static int load_stream(const char *name, struct stream *st)
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

static void test_recorded_stream_replays_by_the_rules(void)
{
	static struct stream st;
	struct vmsr_sampler_config cfg = { .nr_vpackages = 2, .max_vcpus = 4 };
	struct vmsr_host host = { .cpu_map = st.cpu_map };
	double want[STREAM_TASKS - 1] = { 0 }, host_j = 0, got_j = 0;
	struct vmsr_sampler *s;
	int wraps = 0, ret;

	ret = load_stream("tcg-amd-emulated-wrap.stream", &st);
	CHECK(!ret, "cannot read %s/tcg-amd-emulated-wrap.stream: %s", data_dir, strerror(-ret));
	CHECK(st.nr_samples >= 10 && st.info.nr_packages == 1, "%d samples, %u packages",
	      st.nr_samples, st.info.nr_packages);
	host.info = st.info;
	CHECK(!vmsr_sampler_create(&cfg, &host, stream_source, &st, &s), "no sampler");
	vmsr_sampler_add_thread(s, st.tasks[0][0].tid);	/* the main thread */
	for (int v = 0; v < STREAM_TASKS - 1; v++)
		vmsr_sampler_add_vcpu(s, v, st.tasks[0][v + 1].tid, v / 2);

	for (int n = 0; n < st.nr_samples; n++) {
		CHECK(vmsr_sampler_tick(s) == 0, "tick %d failed", n);
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
	CHECK(wraps >= 1, "the stream never wraps: re-record it");
	for (int v = 0; v < STREAM_TASKS - 1; v++) {
		CHECK(fabs(vcpu_joules(s, v) - want[v]) < 1e-9 * (1 + want[v]),
		      "vCPU %d: %.9f J, the rules give %.9f J", v, vcpu_joules(s, v), want[v]);
		got_j += vcpu_joules(s, v);
	}
	CHECK(got_j <= host_j, "attributed %g J of the host's %g J", got_j, host_j);
	CHECK(pkg_energy(s, 0) == (uint32_t)ldexp(want[0] + want[1], 16),
	      "package 0 reads %llu, want %u", (unsigned long long)pkg_energy(s, 0),
	      (uint32_t)ldexp(want[0] + want[1], 16));
	vmsr_sampler_free(s);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
#define T(f) { #f, test_##f }
		T(counter_wrap_is_corrected),
		T(exiting_thread_neither_underflows_nor_loses_energy),
		T(accumulators_reset_every_tick),
		T(vcpus_of_a_package_agree_idle_included),
		T(vcpu_hotplug),
		T(migration_charges_the_end_package),
		T(shares_use_ns_not_ticks),
		T(intel_layout_on_amd_and_without_rapl),
		T(guest_counter_is_monotonic_modulo_2_32),
		T(unrefreshed_counters_defer_the_tick),
		T(non_vcpu_energy_goes_to_vcpus_on_its_package),
		T(reused_tid_starts_from_zero),
		T(dram_is_attributed_like_the_package),
		T(lock_free_reads_during_ticks),
		T(scan_finds_new_threads_and_drops_reaped_ones),
		T(own_thread_ticks_until_stopped),
		T(bad_arguments),
		T(new_fd_leaves_a_refused_fd_open),
		T(recorded_stream_replays_by_the_rules),
#undef T
	};
	int failed_before;

	if (argc > 1)
		data_dir = argv[1];	/* where tests/data is when not run from userspace/ */

	for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
		current_test = tests[i].name;
		failed_before = failures;
		tests[i].fn();
		if (failures == failed_before)
			printf("PASS libvmsr/%s\n", tests[i].name);
	}
	return failures ? 1 : 0;
}
