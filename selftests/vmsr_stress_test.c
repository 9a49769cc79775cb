// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_stress_test: SAMPLE and READ from 16 threads while CPUs 1 to 3 go
 * offline and come back, and short-lived threads come and go.
 *
 * For STRESS_SECONDS (VMSR_STRESS_SECONDS overrides it), NR_CALLERS threads
 * issue a SAMPLE of every package and of four TIDs (their own, another
 * caller's, the main thread's and the newest short-lived thread's), and a
 * READ of every whitelisted MSR on every CPU and every package, then pause
 * for CALLER_PAUSE_US: without the pause, under TCG, they starve CPU hotplug
 * of the vCPUs it needs to stop, and it hardly ever completes. One
 * thread takes CPUs 1 to 3 offline and online, one at a time and all
 * together; another starts threads that exit at once. Every call must return
 * 0 and every result be one vmsr(4) allows for that entry: -ENXIO only for
 * a CPU that is being unplugged, -ESRCH only for a short-lived thread. A hang
 * trips the harness's timeout; the host counts splats in the kernel log.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define STRESS_SECONDS 15
#define NR_CALLERS 16
#define CALLER_PAUSE_US 1000
#define FIRST_HOTPLUG_CPU 1
#define LAST_HOTPLUG_CPU 3

struct stress {
	int fd;
	struct vmsr_info info;
	uint32_t *cpu_map;
	bool hotplug[LAST_HOTPLUG_CPU + 1];	/* the CPUs that go offline and back */
	unsigned int nr_hotplug;
	struct vmsr_msr_rule msrs[VMSR_MAX_MSR_RULES];
	unsigned int nr_msrs;
	uint32_t nr_pkgs;			/* sampled each time: all, up to the cap */
	pid_t main_tid;
	pid_t caller_tid[NR_CALLERS];
	volatile pid_t newest_tid;		/* of the short-lived threads */
	volatile int go, stop;
	/* results */
	uint64_t samples[NR_CALLERS], reads[NR_CALLERS], undocumented[NR_CALLERS];
	uint64_t hotplug_cycles, hotplug_failures, spawned;
	pthread_mutex_t lock;			/* for first_bad */
	char first_bad[160];
};

static bool unplugged_sometimes(const struct stress *st, uint32_t cpu)
{
	return cpu <= LAST_HOTPLUG_CPU && st->hotplug[cpu];
}

/* Whether package @pkg keeps an online CPU throughout: one that is never unplugged. */
static bool package_stays(const struct stress *st, uint32_t pkg)
{
	uint32_t cpu;

	for (cpu = 0; cpu < st->info.nr_cpus; cpu++)
		if (st->cpu_map[cpu] == pkg && !unplugged_sometimes(st, cpu))
			return true;
	return false;
}

static void bad(struct stress *st, int caller, const char *what, uint32_t id, int result)
{
	st->undocumented[caller]++;
	pthread_mutex_lock(&st->lock);
	if (!st->first_bad[0])
		snprintf(st->first_bad, sizeof(st->first_bad), "caller %d: %s %u: %d",
			 caller, what, id, result);
	pthread_mutex_unlock(&st->lock);
}

static void check_entry(struct stress *st, int caller, vmsr_errset want, const char *what,
			uint32_t id, int result)
{
	if (!vmsr_errset_has(want, result))
		bad(st, caller, what, id, result);
}

static void sample(struct stress *st, int caller, struct vmsr_pkg_sample *p,
		   struct vmsr_task_sample *t)
{
	uint32_t nr_pkgs = st->nr_pkgs, i;
	pid_t tids[4] = {
		st->caller_tid[caller], st->caller_tid[(caller + 1) % NR_CALLERS],
		st->main_tid, st->newest_tid,
	};
	struct vmsr_sample s = { .pkgs = (uintptr_t)p, .nr_pkgs = nr_pkgs,
				 .tasks = (uintptr_t)t, .nr_tasks = 4 };
	int ret, d;

	for (i = 0; i < nr_pkgs; i++)
		p[i] = (struct vmsr_pkg_sample){ .package = i, .domains = 0x1f };
	for (i = 0; i < 4; i++)
		t[i] = (struct vmsr_task_sample){ .tid = tids[i] };
	ret = vmsr_ioctl(st->fd, VMSR_IOC_SAMPLE, &s);
	st->samples[caller]++;
	if (ret) {
		bad(st, caller, "SAMPLE returned", 0, ret);
		return;
	}
	for (i = 0; i < nr_pkgs; i++) {
		for (d = 0; d < VMSR_NR_DOMAINS; d++) {
			vmsr_errset want = d > VMSR_DOMAIN_PSYS ? VMSR_ERR(0) :
					   vmsr_domain_expect(&st->info, d);

			if (d <= VMSR_DOMAIN_PSYS && !package_stays(st, i))
				want |= VMSR_ERR(ENXIO);
			check_entry(st, caller, want, "package", i, p[i].result[d]);
		}
	}
	/* The short-lived thread may be gone; the other caller too, once told to stop. */
	check_entry(st, caller, VMSR_ERR(0), "own tid", t[0].tid, t[0].result);
	check_entry(st, caller, VMSR_ERR(0) | (st->stop ? VMSR_ERR(ESRCH) : 0),
		    "other caller's tid", t[1].tid, t[1].result);
	check_entry(st, caller, VMSR_ERR(0), "main tid", t[2].tid, t[2].result);
	check_entry(st, caller, VMSR_ERR(0) | VMSR_ERR(ESRCH), "short-lived tid",
		    t[3].tid, t[3].result);
}

static void read_all(struct stress *st, int caller, struct vmsr_read_entry *e,
		     vmsr_errset *want)
{
	uint32_t nr_cpus = st->info.nr_cpus, nr_pkgs = st->info.nr_packages, n = 0, i, cpu;
	struct vmsr_read rd = { .entries = (uintptr_t)e };
	int ret;

	for (i = 0; i < st->nr_msrs; i++) {
		for (cpu = 0; cpu < nr_cpus && n < st->info.max_read_entries; cpu++) {
			want[n] = st->msrs[i].expect;
			if (unplugged_sometimes(st, cpu))
				want[n] |= VMSR_ERR(ENXIO);
			e[n++] = (struct vmsr_read_entry){ .msr = st->msrs[i].msr, .target = cpu };
		}
		for (cpu = 0; cpu < nr_pkgs && n < st->info.max_read_entries; cpu++) {
			want[n] = st->msrs[i].expect;
			if (!package_stays(st, cpu))
				want[n] |= VMSR_ERR(ENXIO);
			e[n++] = (struct vmsr_read_entry){ .msr = st->msrs[i].msr, .target = cpu,
							   .flags = VMSR_READ_F_PACKAGE };
		}
	}
	if (!n)
		return;
	rd.count = n;
	ret = vmsr_ioctl(st->fd, VMSR_IOC_READ, &rd);
	st->reads[caller]++;
	if (ret) {
		bad(st, caller, "READ returned", 0, ret);
		return;
	}
	for (i = 0; i < n; i++)
		check_entry(st, caller, want[i], "READ msr", e[i].msr, e[i].result);
}

struct caller_arg {
	struct stress *st;
	int id;
	volatile int ready;
};

static void *caller(void *p)
{
	struct caller_arg *a = p;
	struct stress *st = a->st;
	struct vmsr_pkg_sample *pkgs = calloc(st->nr_pkgs, sizeof(*pkgs));
	struct vmsr_read_entry *e = calloc(st->info.max_read_entries, sizeof(*e));
	vmsr_errset *want = calloc(st->info.max_read_entries, sizeof(*want));
	struct vmsr_task_sample t[4];

	st->caller_tid[a->id] = vmsr_gettid();
	a->ready = 1;
	while (!st->go)
		sched_yield();
	while (pkgs && e && want && !st->stop) {
		sample(st, a->id, pkgs, t);
		read_all(st, a->id, e, want);
		usleep(CALLER_PAUSE_US);
	}
	if (!pkgs || !e || !want)
		bad(st, a->id, "calloc", 0, -ENOMEM);
	free(pkgs);
	free(e);
	free(want);
	return NULL;
}

static int set_all(struct stress *st, int online)
{
	uint32_t cpu;
	int ret = 0;

	for (cpu = FIRST_HOTPLUG_CPU; cpu <= LAST_HOTPLUG_CPU; cpu++)
		if (st->hotplug[cpu] && vmsr_set_cpu_online(cpu, online))
			ret = -1;
	return ret;
}

/* One CPU at a time, then all together; a cycle is one CPU's offline and online. */
static void *hotplugger(void *p)
{
	struct stress *st = p;
	uint32_t cpu;

	while (!st->stop) {
		for (cpu = FIRST_HOTPLUG_CPU; cpu <= LAST_HOTPLUG_CPU && !st->stop; cpu++) {
			if (!st->hotplug[cpu])
				continue;
			if (vmsr_set_cpu_online(cpu, 0) || vmsr_set_cpu_online(cpu, 1))
				st->hotplug_failures++;
			st->hotplug_cycles++;
		}
		if (st->stop)
			break;
		if (set_all(st, 0) || set_all(st, 1))
			st->hotplug_failures++;
		st->hotplug_cycles += st->nr_hotplug;
	}
	return NULL;
}

static void *short_lived(void *p)
{
	((struct stress *)p)->newest_tid = vmsr_gettid();
	return NULL;
}

static void *spawner(void *p)
{
	struct stress *st = p;
	pthread_t th;

	while (!st->stop) {
		if (pthread_create(&th, NULL, short_lived, st))
			continue;
		pthread_join(th, NULL);
		st->spawned++;
	}
	return NULL;
}

FIXTURE(stress) {
	struct stress *st;
	const char *skip;
};

FIXTURE_SETUP(stress)
{
	struct stress *st = calloc(1, sizeof(*st));
	struct vmsr_info info;
	uint32_t cpu;

	ASSERT_NE(NULL, st);
	self->st = st;
	self->skip = vmsr_fixture_open(&st->fd, &st->info);
	if (self->skip)
		return;
	if (geteuid() != 0) {
		self->skip = "must run as root to unplug CPUs";
		return;
	}
	st->cpu_map = calloc(st->info.nr_cpus, sizeof(*st->cpu_map));
	ASSERT_NE(NULL, st->cpu_map);
	info = (struct vmsr_info){ .cpu_map_len = st->info.nr_cpus,
				   .cpu_map = (uintptr_t)st->cpu_map };
	ASSERT_EQ(0, vmsr_ioctl(st->fd, VMSR_IOC_INFO, &info));
	for (cpu = FIRST_HOTPLUG_CPU; cpu <= LAST_HOTPLUG_CPU && cpu < st->info.nr_cpus; cpu++) {
		/* Only CPUs that can go offline and come back take part. */
		if (!vmsr_set_cpu_online(cpu, 0) && !vmsr_set_cpu_online(cpu, 1)) {
			st->hotplug[cpu] = true;
			st->nr_hotplug++;
		}
	}
	if (!st->nr_hotplug)
		self->skip = "no CPU among 1 to 3 can go offline here";
	st->nr_msrs = vmsr_msr_rules(&st->info, st->msrs);
	st->nr_pkgs = st->info.nr_packages < st->info.max_sample_pkgs ?
		      st->info.nr_packages : st->info.max_sample_pkgs;
	pthread_mutex_init(&st->lock, NULL);
	st->main_tid = vmsr_gettid();
	st->newest_tid = st->main_tid;
}

FIXTURE_TEARDOWN(stress)
{
	if (self->st->nr_hotplug)
		set_all(self->st, 1);
	if (self->st->fd >= 0)
		close(self->st->fd);
	free(self->st->cpu_map);
	free(self->st);
}

TEST_F_TIMEOUT(stress, sample_and_read_while_cpus_and_threads_come_and_go, 300)
{
	struct stress *st = self->st;
	struct caller_arg args[NR_CALLERS];
	pthread_t callers[NR_CALLERS], plug, spawn;
	const char *env = getenv("VMSR_STRESS_SECONDS");
	unsigned int seconds = env ? atoi(env) : STRESS_SECONDS;
	uint64_t samples = 0, reads = 0, undocumented = 0, start;
	double elapsed;
	int i;

	NEED_FIXTURE();

	start = vmsr_now_ns();
	for (i = 0; i < NR_CALLERS; i++) {
		args[i] = (struct caller_arg){ .st = st, .id = i };
		ASSERT_EQ(0, pthread_create(&callers[i], NULL, caller, &args[i]));
		while (!args[i].ready)
			sched_yield();
	}
	/* Every caller's TID is known before any samples it. */
	st->go = 1;
	ASSERT_EQ(0, pthread_create(&plug, NULL, hotplugger, st));
	ASSERT_EQ(0, pthread_create(&spawn, NULL, spawner, st));
	sleep(seconds);
	st->stop = 1;
	pthread_join(plug, NULL);
	pthread_join(spawn, NULL);
	for (i = 0; i < NR_CALLERS; i++) {
		pthread_join(callers[i], NULL);
		samples += st->samples[i];
		reads += st->reads[i];
		undocumented += st->undocumented[i];
	}
	elapsed = (vmsr_now_ns() - start) / 1e9;

	TH_LOG("REPORT stress: %.1f s, %d callers: %llu SAMPLE and %llu READ calls; %u CPUs unplugged %llu times (%llu failed); %llu short-lived threads",
	       elapsed, NR_CALLERS, (unsigned long long)samples, (unsigned long long)reads,
	       st->nr_hotplug, (unsigned long long)st->hotplug_cycles,
	       (unsigned long long)st->hotplug_failures, (unsigned long long)st->spawned);
	if (st->first_bad[0])
		TH_LOG("first undocumented outcome: %s", st->first_bad);
	TH_LOG("SUMMARY stress: seconds=%.0f samples=%llu hotplug_cycles=%llu splats=?",
	       elapsed, (unsigned long long)samples, (unsigned long long)st->hotplug_cycles);
	EXPECT_EQ(0, undocumented);
	EXPECT_EQ(0, st->hotplug_failures);
	/* Every part ran: these count events, they do not time anything. */
	EXPECT_GT(samples, 0);
	if (st->nr_msrs) {
		EXPECT_GT(reads, 0);
	}
	EXPECT_GT(st->hotplug_cycles, 0);
	EXPECT_GT(st->spawned, 0);
}

TEST_HARNESS_MAIN
