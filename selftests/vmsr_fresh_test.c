// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_fresh_test: with VMSR_SAMPLE_F_FRESH, a thread's cpu_ns never steps
 * back by more than one scheduler tick, the bound vmsr(4) states.
 *
 * Worker threads under SCHED_OTHER, SCHED_FIFO and SCHED_DEADLINE burn short
 * slices of CPU and then sleep, yield or (all but the deadline ones, which
 * the kernel keeps on every CPU) move to another CPU: many context switches,
 * wake-ups and migrations a second, each a moment at which an unlocked read
 * of a task's times can go wrong (module/fresh.h). For FRESH_SECONDS
 * (VMSR_FRESH_SECONDS overrides it), NR_SAMPLERS threads SAMPLE all workers
 * in a loop, each comparing every worker's cpu_ns with what its own previous
 * call returned. A drop of more than one tick fails the test; any drop is
 * reported. The tick is the resolution of CLOCK_MONOTONIC_COARSE, 1/HZ.
 *
 * check.sh runs it with sched_clock stable and, in a VM booted with
 * tsc=unstable, unstable.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define FRESH_SECONDS 10
#define WORKERS_PER_POLICY 2
#define NR_POLICIES 3
#define NR_WORKERS (WORKERS_PER_POLICY * NR_POLICIES)
#define NR_SAMPLERS 2

/* struct sched_attr of sched_setattr(2), which libc does not wrap. */
struct fresh_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime;
	uint64_t sched_deadline;
	uint64_t sched_period;
};

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif

struct fresh {
	int fd;
	long nr_cpus;
	uint64_t tick_ns;
	pid_t tids[NR_WORKERS];
	bool policy_set[NR_WORKERS];
	volatile int ready, stop_workers, stop_samplers;
	/* per sampler */
	uint64_t samples[NR_SAMPLERS], drops[NR_SAMPLERS], max_drop[NR_SAMPLERS];
	int max_drop_worker[NR_SAMPLERS];
	int failed_calls[NR_SAMPLERS];
};

struct worker_arg {
	struct fresh *f;
	int index;
};

static const char *const policy_names[NR_POLICIES] = { "SCHED_OTHER", "SCHED_FIFO",
							 "SCHED_DEADLINE" };

static int policy_of(int index)
{
	return index / WORKERS_PER_POLICY;
}

/* 0 or -errno. Deadline: 1 ms of CPU every 4 ms, well within the root domain's 95%. */
static int set_policy(int policy)
{
	struct fresh_sched_attr attr = { .size = sizeof(attr) };
	struct sched_param sp = { .sched_priority = 1 };

	switch (policy) {
	case 1:
		return sched_setscheduler(0, SCHED_FIFO, &sp) ? -errno : 0;
	case 2:
		attr.sched_policy = SCHED_DEADLINE;
		attr.sched_runtime = 1000000;
		attr.sched_deadline = 4000000;
		attr.sched_period = 4000000;
		return syscall(SYS_sched_setattr, 0, &attr, 0) ? -errno : 0;
	default:
		return 0;
	}
}

static void *worker(void *p)
{
	struct worker_arg *a = p;
	struct fresh *f = a->f;
	int policy = policy_of(a->index);
	unsigned int seed = a->index + 1, cpu = a->index;
	struct timespec nap = { 0, 0 };

	f->tids[a->index] = vmsr_gettid();
	f->policy_set[a->index] = set_policy(policy) == 0;
	__atomic_add_fetch(&f->ready, 1, __ATOMIC_SEQ_CST);
	while (!f->stop_workers) {
		/* 20 to 300 us of CPU, then one of: sleep, yield, move (not deadline). */
		vmsr_burn(20000 + rand_r(&seed) % 280000);
		switch (rand_r(&seed) % 3) {
		case 0:
			nap.tv_nsec = 10000 + rand_r(&seed) % 200000;
			nanosleep(&nap, NULL);
			break;
		case 1:
			sched_yield();
			break;
		default:
			if (policy != 2) {
				cpu_set_t set;

				cpu = (cpu + 1) % f->nr_cpus;
				CPU_ZERO(&set);
				CPU_SET(cpu, &set);
				sched_setaffinity(0, sizeof(set), &set);
			}
			break;
		}
	}
	return NULL;
}

struct sampler_arg {
	struct fresh *f;
	int index;
};

static void *sampler(void *p)
{
	struct sampler_arg *a = p;
	struct fresh *f = a->f;
	struct vmsr_task_sample t[NR_WORKERS];
	uint64_t last[NR_WORKERS] = { 0 };
	struct vmsr_sample s = {
		.nr_tasks = NR_WORKERS,
		.tasks = (uintptr_t)t,
		.flags = VMSR_SAMPLE_F_FRESH,
	};
	int i;

	while (!f->stop_samplers) {
		for (i = 0; i < NR_WORKERS; i++)
			t[i] = (struct vmsr_task_sample){ .tid = f->tids[i] };
		if (vmsr_ioctl(f->fd, VMSR_IOC_SAMPLE, &s)) {
			f->failed_calls[a->index]++;
			continue;
		}
		f->samples[a->index]++;
		for (i = 0; i < NR_WORKERS; i++) {
			uint64_t drop;

			if (t[i].result) {
				f->failed_calls[a->index]++;
				continue;
			}
			if (t[i].cpu_ns < last[i]) {
				drop = last[i] - t[i].cpu_ns;
				f->drops[a->index]++;
				if (drop > f->max_drop[a->index]) {
					f->max_drop[a->index] = drop;
					f->max_drop_worker[a->index] = i;
				}
			}
			last[i] = t[i].cpu_ns;
		}
	}
	return NULL;
}

static unsigned int fresh_seconds(void)
{
	const char *env = getenv("VMSR_FRESH_SECONDS");

	return env && atoi(env) > 0 ? atoi(env) : FRESH_SECONDS;
}

TEST(cpu_ns_never_steps_back_by_more_than_a_tick)
{
	struct vmsr_sample probe = { .flags = VMSR_SAMPLE_F_FRESH };
	struct worker_arg wa[NR_WORKERS];
	struct sampler_arg sa[NR_SAMPLERS];
	pthread_t wt[NR_WORKERS], st[NR_SAMPLERS];
	struct timespec res;
	struct fresh f = { 0 };
	uint64_t max_drop = 0, drops = 0, samples = 0;
	int i, worst = -1, failed = 0;

	f.fd = open(VMSR_DEV, O_RDWR | O_CLOEXEC);
	if (f.fd < 0)
		SKIP(return, "cannot open " VMSR_DEV " (is vmsr.ko loaded?)");
	if (vmsr_ioctl(f.fd, VMSR_IOC_SAMPLE, &probe) == -EOPNOTSUPP)
		SKIP(return, "VMSR_SAMPLE_F_FRESH is not supported by this kernel's build");
	ASSERT_EQ(0, clock_getres(CLOCK_MONOTONIC_COARSE, &res));
	f.tick_ns = res.tv_sec * 1000000000ULL + res.tv_nsec;
	f.nr_cpus = sysconf(_SC_NPROCESSORS_ONLN);
	ASSERT_GT(f.nr_cpus, 0);

	for (i = 0; i < NR_WORKERS; i++) {
		wa[i] = (struct worker_arg){ .f = &f, .index = i };
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, worker, &wa[i]));
	}
	while (__atomic_load_n(&f.ready, __ATOMIC_SEQ_CST) < NR_WORKERS)
		usleep(1000);
	for (i = 0; i < NR_WORKERS; i++)
		if (!f.policy_set[i])
			TH_LOG("worker %d could not get %s: it runs as SCHED_OTHER", i,
			       policy_names[policy_of(i)]);
	for (i = 0; i < NR_SAMPLERS; i++) {
		sa[i] = (struct sampler_arg){ .f = &f, .index = i };
		ASSERT_EQ(0, pthread_create(&st[i], NULL, sampler, &sa[i]));
	}
	sleep(fresh_seconds());
	/* Samplers first: a worker that has exited is -ESRCH. */
	f.stop_samplers = 1;
	for (i = 0; i < NR_SAMPLERS; i++)
		pthread_join(st[i], NULL);
	f.stop_workers = 1;
	for (i = 0; i < NR_WORKERS; i++)
		pthread_join(wt[i], NULL);

	for (i = 0; i < NR_SAMPLERS; i++) {
		samples += f.samples[i];
		drops += f.drops[i];
		failed += f.failed_calls[i];
		if (f.max_drop[i] > max_drop) {
			max_drop = f.max_drop[i];
			worst = f.max_drop_worker[i];
		}
	}
	TH_LOG("REPORT fresh: %llu samples of %d threads; %llu drops, largest %llu ns (%s); tick %llu ns",
	       (unsigned long long)samples, NR_WORKERS, (unsigned long long)drops,
	       (unsigned long long)max_drop, worst < 0 ? "-" : policy_names[policy_of(worst)],
	       (unsigned long long)f.tick_ns);
	EXPECT_EQ(0, failed);
	EXPECT_GT(samples, 0);
	EXPECT_LE(max_drop, f.tick_ns);
	close(f.fd);
}

TEST_HARNESS_MAIN
