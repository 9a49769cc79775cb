// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_energy_test: the energy counters behave like RAPL. Needs RAPL: real,
 * or the test VMs' (QEMU's x-rapl-emu); SKIPs otherwise. The wrap test needs
 * a counter that wraps within seconds, as x-rapl-energy-unit=25 makes it.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define PKG_BIT VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG)

FIXTURE(energy) {
	int fd;
	struct vmsr_info info;
	const char *skip;
};

FIXTURE_SETUP(energy)
{
	self->skip = vmsr_fixture_open(&self->fd, &self->info);
	if (!self->skip && !(self->info.domains & PKG_BIT))
		self->skip = "no package RAPL here";
}

FIXTURE_TEARDOWN(energy)
{
	if (self->fd >= 0)
		close(self->fd);
}

static int sample_pkg0(int fd, struct vmsr_pkg_sample *p, struct vmsr_sample *s)
{
	*p = (struct vmsr_pkg_sample){ .package = 0, .domains = PKG_BIT };
	*s = (struct vmsr_sample){ .nr_pkgs = 1, .pkgs = (uintptr_t)p };
	return vmsr_ioctl(fd, VMSR_IOC_SAMPLE, s);
}

/* Package 0's counter now, waiting out the cache so the value is fresh. */
static uint32_t fresh_pkg0(int fd, const struct vmsr_info *info, uint64_t *read_ns)
{
	struct vmsr_pkg_sample p;
	struct vmsr_sample s;

	usleep(info->min_interval_us + 1000);
	if (sample_pkg0(fd, &p, &s) || p.result[0])
		return 0;
	*read_ns = p.read_ns;
	return p.energy[0];
}

/* Energy per second of package 0 over @ms, in counter steps. */
static double pkg0_rate(int fd, const struct vmsr_info *info, unsigned int ms)
{
	uint64_t t0 = 0, t1 = 1;
	uint32_t e0, e1;

	e0 = fresh_pkg0(fd, info, &t0);
	usleep(ms * 1000);
	e1 = fresh_pkg0(fd, info, &t1);
	return (double)(uint32_t)(e1 - e0) * 1e9 / (double)(t1 - t0);
}

static volatile int burners_stop;

static void *burner(void *arg)
{
	(void)arg;
	while (!burners_stop)
		;
	return NULL;
}

/*
 * Burns every CPU while watching package 0's counter wrap, if at that power
 * it wraps within a few seconds (2^32 steps: 2^18 J at the usual 2^-14 J
 * step, but 128 J at 2^-25 J).
 */
TEST_F_TIMEOUT(energy, a_counter_wrap_is_visible, 300)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	struct vmsr_pkg_sample p;
	struct vmsr_sample s;
	uint32_t prev, first;
	uint64_t deadline;
	pthread_t th[64];
	double rate, period;
	int wrapped = 0;

	NEED_FIXTURE();

	if (ncpu > 64)
		ncpu = 64;
	burners_stop = 0;
	for (i = 0; i < ncpu; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, burner, NULL));
	rate = pkg0_rate(self->fd, &self->info, 400);
	period = rate > 0 ? 4294967296.0 / rate : 1e9;
	TH_LOG("REPORT wrap: %.0f steps/s with every CPU busy, a wrap every %.1f s", rate, period);
	if (period > 30) {
		burners_stop = 1;
		for (i = 0; i < ncpu; i++)
			pthread_join(th[i], NULL);
		SKIP(return, "the counter wraps every %.0f s here: too slow to watch", period);
	}
	/* Three periods: a loaded host may run the VM at a fraction of the rate. */
	deadline = vmsr_now_ns() + (uint64_t)(3 * period * 1e9);
	ASSERT_EQ(0, sample_pkg0(self->fd, &p, &s));
	ASSERT_EQ(0, p.result[0]);
	first = prev = p.energy[0];
	while (!wrapped && vmsr_now_ns() < deadline) {
		usleep(50 * 1000);
		ASSERT_EQ(0, sample_pkg0(self->fd, &p, &s));
		ASSERT_EQ(0, p.result[0]);
		wrapped = p.energy[0] < prev;
		/* Forward modulo 2^32, across the wrap too: never back. */
		EXPECT_LT((uint32_t)(p.energy[0] - prev), 0x80000000U);
		prev = p.energy[0];
	}
	burners_stop = 1;
	for (i = 0; i < ncpu; i++)
		pthread_join(th[i], NULL);
	EXPECT_TRUE(wrapped) {
		TH_LOG("no wrap within 3 periods, from %#x to %#x", first, prev);
	}
}

TEST_F(energy, counter_advances_faster_under_load)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), i;
	pthread_t th[64];
	double idle, busy;

	NEED_FIXTURE();

	if (ncpu > 64)
		ncpu = 64;
	idle = pkg0_rate(self->fd, &self->info, 400);
	burners_stop = 0;
	for (i = 0; i < ncpu; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, burner, NULL));
	busy = pkg0_rate(self->fd, &self->info, 400);
	burners_stop = 1;
	for (i = 0; i < ncpu; i++)
		pthread_join(th[i], NULL);
	TH_LOG("REPORT energy rate: idle %.0f steps/s, all CPUs busy %.0f steps/s", idle, busy);
	EXPECT_GT(idle, 0);
	EXPECT_GT(busy, idle * 1.2);
}

TEST_F(energy, every_cpu_of_a_package_sees_the_same_value)
{
	uint32_t *map = calloc(self->info.nr_cpus, sizeof(*map));
	struct vmsr_info info = { .cpu_map = (uintptr_t)map, .cpu_map_len = self->info.nr_cpus };
	struct vmsr_read_entry e[65];
	struct vmsr_read rd = { .entries = (uintptr_t)e };
	unsigned int cpu, n, i, attempt, agreed = 0;

	NEED_FIXTURE();

	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	for (attempt = 0; attempt < 5 && !agreed; attempt++) {
		n = 0;
		e[n++] = (struct vmsr_read_entry){ .msr = vmsr_pkg_energy_msr(&self->info),
						   .flags = VMSR_READ_F_PACKAGE };
		for (cpu = 0; cpu < self->info.nr_cpus && n < 65; cpu++)
			if (map[cpu] == 0)
				e[n++] = (struct vmsr_read_entry){
					.msr = vmsr_pkg_energy_msr(&self->info), .target = cpu };
		rd.count = n;
		ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
		agreed = 1;
		for (i = 0; i < n; i++) {
			if (e[i].result == -ENXIO)	/* an offline CPU */
				continue;
			ASSERT_EQ(0, e[i].result);
			if (e[i].value != e[0].value)
				agreed = 0;
		}
		/* A refresh can fall between two entries; then try again. */
	}
	EXPECT_TRUE(agreed);
	free(map);
}

TEST_F(energy, reads_within_min_interval_return_the_cached_value)
{
	uint64_t interval = self->info.min_interval_us * 1000ULL;
	struct vmsr_pkg_sample a, b;
	struct vmsr_sample sa, sb;
	int i, checked = 0, refreshed = 0;

	NEED_FIXTURE();

	if (!interval)
		SKIP(return, "min_interval_us is 0: no caching");
	for (i = 0; i < 40; i++) {
		ASSERT_EQ(0, sample_pkg0(self->fd, &a, &sa));
		ASSERT_EQ(0, sample_pkg0(self->fd, &b, &sb));
		/*
		 * The module decides after start_ns, and the MSR read itself
		 * may wait for another vCPU: so either the very same reading,
		 * or a new one at least the interval after it.
		 */
		if (a.read_ns == b.read_ns) {
			EXPECT_EQ(a.energy[0], b.energy[0]);
			checked++;
		} else {
			EXPECT_LE(a.read_ns + interval, b.read_ns);
		}
		usleep(i % 2 ? 0 : interval / 1000 / 3);
	}
	EXPECT_GT(checked, 0);

	/* After the interval, a new reading. */
	for (i = 0; i < 5 && !refreshed; i++) {
		ASSERT_EQ(0, sample_pkg0(self->fd, &a, &sa));
		usleep(interval / 1000 + 1000);
		ASSERT_EQ(0, sample_pkg0(self->fd, &b, &sb));
		refreshed = b.read_ns >= a.read_ns + interval;
	}
	EXPECT_TRUE(refreshed);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * One SAMPLE reads the energy and then the task times: end_ns - start_ns
 * bounds the skew between them. Reports the figures; asserts only order.
 */
TEST_F(energy, sample_skew_between_energy_and_task_times)
{
	enum { CALLS = 200, TASKS = 16 };
	struct vmsr_task_sample t[TASKS];
	struct vmsr_pkg_sample p;
	struct vmsr_sample s;
	uint64_t skew[CALLS];
	int i, j;

	NEED_FIXTURE();
	for (i = 0; i < CALLS; i++) {
		for (j = 0; j < TASKS; j++)
			t[j] = (struct vmsr_task_sample){ .tid = vmsr_gettid() };
		p = (struct vmsr_pkg_sample){ .domains = PKG_BIT };
		s = (struct vmsr_sample){ .nr_pkgs = 1, .pkgs = (uintptr_t)&p,
					  .nr_tasks = TASKS, .tasks = (uintptr_t)t };
		ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
		ASSERT_EQ(0, p.result[0]);
		ASSERT_LE(s.start_ns, s.end_ns);
		ASSERT_LE(p.read_ns, s.end_ns);
		skew[i] = s.end_ns - s.start_ns;
		usleep(i % 4 ? 0 : self->info.min_interval_us);
	}
	qsort(skew, CALLS, sizeof(skew[0]), cmp_u64);
	TH_LOG("REPORT skew: energy to task times in one SAMPLE (1 package, %d tasks): median %llu ns, p99 %llu ns, max %llu ns",
	       TASKS, (unsigned long long)skew[CALLS / 2],
	       (unsigned long long)skew[CALLS * 99 / 100], (unsigned long long)skew[CALLS - 1]);
}

struct cache_reader {
	int fd;
	uint64_t interval;
	int violations;
	int checked;
};

/* Readers record (read_ns, value) pairs; the same read_ns must mean the same value. */
static void *cache_reader(void *p)
{
	struct cache_reader *r = p;
	struct vmsr_pkg_sample a;
	struct vmsr_sample s;
	uint64_t last_ns = 0;
	uint32_t last_val = 0;
	int i;

	for (i = 0; i < 500; i++) {
		if (sample_pkg0(r->fd, &a, &s) || a.result[0]) {
			r->violations++;
			continue;
		}
		if (a.read_ns == last_ns && a.energy[0] != last_val)
			r->violations++;
		/* A fresh read never happens within the interval of the previous one. */
		if (last_ns && a.read_ns != last_ns && a.read_ns - last_ns < r->interval)
			r->violations++;
		last_ns = a.read_ns;
		last_val = a.energy[0];
		r->checked++;
	}
	return NULL;
}

/* 3000 calls: under KASAN on a busy TCG host, more than the default 30 s. */
TEST_F_TIMEOUT(energy, caching_holds_under_concurrent_readers, 300)
{
	struct cache_reader r[6];
	pthread_t th[6];
	int i;

	NEED_FIXTURE();

	if (!self->info.min_interval_us)
		SKIP(return, "min_interval_us is 0: no caching");
	for (i = 0; i < 6; i++) {
		r[i] = (struct cache_reader){ .fd = self->fd,
					      .interval = self->info.min_interval_us * 1000ULL };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, cache_reader, &r[i]));
	}
	for (i = 0; i < 6; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, r[i].violations);
		EXPECT_EQ(500, r[i].checked);
	}
}

TEST_HARNESS_MAIN
