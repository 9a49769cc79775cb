// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench: threads busy a fixed share of every 10 ms period until told
 * to stop, and the ground truth of section 2: each thread reads its own
 * CLOCK_THREAD_CPUTIME_ID, with CLOCK_MONOTONIC around it (at most 20 us
 * apart), just after each wake-up, just before each sleep, and every 20 ms
 * while busy, into a log. Its CPU time at any instant is interpolated
 * between the two log entries around it: between them it either ran all
 * along or slept all along (but for the switches).
 *
 * Not more often: reading one's own CPU clock makes the kernel charge the
 * running slice (task_sched_runtime() calls update_curr()), which would make
 * the times /proc and a SAMPLE without F_FRESH report look fresher than they
 * are. A switch charges the slice anyway, and every 20 ms is five ticks
 * apart at HZ=250.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define DUTY_PERIOD_NS	(10 * NSEC_PER_MSEC)
#define DUTY_LOG_NS	(20 * NSEC_PER_MSEC)
#define DUTY_WINDOW_NS	(20 * NSEC_PER_USEC)

/*
 * Logs the thread's CPU time, dated to within DUTY_WINDOW_NS; with @must,
 * after WINDOW_TRIES tries even if it could not be, else not at all. Only
 * the thread itself touches its log until it is joined.
 */
static void duty_log(struct duty_thread *d, bool must)
{
	uint64_t before, cpu, after;
	int tries = 0;

	do {
		before = now_ns(CLOCK_MONOTONIC);
		cpu = now_ns(CLOCK_THREAD_CPUTIME_ID);
		after = now_ns(CLOCK_MONOTONIC);
	} while (after - before > DUTY_WINDOW_NS && ++tries < WINDOW_TRIES);
	if (after - before > DUTY_WINDOW_NS && !must)
		return;
	if (d->len == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 4096;
		d->log = realloc(d->log, d->cap * sizeof(*d->log));
		if (!d->log) {
			fprintf(stderr, "vmsr-bench: out of memory\n");
			exit(1);
		}
	}
	d->log[d->len++] = (struct duty_sample){
		.at_ns = before + (after - before) / 2,
		.cpu_ns = cpu,
	};
}

static void *duty_thread(void *arg)
{
	struct duty_thread *d = arg;
	uint64_t busy = DUTY_PERIOD_NS * d->duty_pct / 100;
	uint64_t period = now_ns(CLOCK_MONOTONIC);
	char name[16];

	snprintf(name, sizeof(name), "duty-%u%%", d->duty_pct);
	pthread_setname_np(pthread_self(), name);
	duty_log(d, true);
	__atomic_store_n(&d->tid, gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&d->stop, __ATOMIC_RELAXED)) {
		uint64_t now = now_ns(CLOCK_MONOTONIC);

		/* Descheduled for over a period: start afresh rather than catch up. */
		if (now - period > DUTY_PERIOD_NS)
			period = now;

		while (now - period < busy) {
			if (now - d->log[d->len - 1].at_ns >= DUTY_LOG_NS)
				duty_log(d, false);
			now = now_ns(CLOCK_MONOTONIC);
		}
		period += DUTY_PERIOD_NS;
		if (busy < DUTY_PERIOD_NS) {
			duty_log(d, true);
			sleep_until(period);
			duty_log(d, true);
		}
	}
	duty_log(d, true);
	return NULL;
}

int duty_start(struct duty_thread *d, unsigned int n, const unsigned int *duty_pct)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		int err;

		memset(&d[i], 0, sizeof(d[i]));
		d[i].duty_pct = duty_pct[i];
		err = pthread_create(&d[i].th, NULL, duty_thread, &d[i]);
		if (err)
			return -err;
	}
	/* Wait for every thread to have published its tid. */
	for (i = 0; i < n; i++)
		while (!__atomic_load_n(&d[i].tid, __ATOMIC_ACQUIRE))
			usleep(1000);
	for (i = 0; i < n; i++)
		pthread_getcpuclockid(d[i].th, &d[i].clock);
	return 0;
}

void duty_stop(struct duty_thread *d, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		__atomic_store_n(&d[i].stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		pthread_join(d[i].th, NULL);
}

/* The thread's CPU time at @at_ns, interpolated from its log; -ERANGE outside it. */
int duty_cpu_at(const struct duty_thread *d, uint64_t at_ns, double *cpu_ns)
{
	size_t lo = 0, hi = d->len;
	const struct duty_sample *a, *b;

	if (!d->len || at_ns < d->log[0].at_ns || at_ns > d->log[d->len - 1].at_ns)
		return -ERANGE;
	/* The last entry at or before @at_ns. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (d->log[mid].at_ns <= at_ns)
			lo = mid;
		else
			hi = mid;
	}
	a = &d->log[lo];
	if (lo + 1 == d->len) {
		*cpu_ns = a->cpu_ns;
		return 0;
	}
	b = &d->log[lo + 1];
	*cpu_ns = a->cpu_ns + (double)(b->cpu_ns - a->cpu_ns) *
		  (double)(at_ns - a->at_ns) / (double)(b->at_ns - a->at_ns);
	return 0;
}
