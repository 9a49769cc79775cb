// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* vmsr-bench: clocks, statistics and allocation. */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "workload.h"

uint64_t now_ns(clockid_t clk)
{
	return workload_now_ns(clk);
}

void sleep_until(uint64_t mono_ns)
{
	struct timespec ts = {
		.tv_sec = mono_ns / NSEC_PER_SEC,
		.tv_nsec = mono_ns % NSEC_PER_SEC,
	};

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double median(const double *v, size_t n)
{
	double *s, m;

	if (!n)
		return -1;
	s = xcalloc(n, sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	m = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
	free(s);
	return m;
}

double max_of(const double *v, size_t n)
{
	double m = -1;
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

double mean_of(const double *v, size_t n)
{
	double s = 0;
	size_t i;

	for (i = 0; i < n; i++)
		s += v[i];
	return n ? s / n : -1;
}

/*
 * Keeps the calling thread on the CPU it runs on (@pin) or lets it run
 * anywhere again. In a TCG VM every vCPU has its own software TLB, refilled
 * page by page: a sampler that moves pays for that, not for its method.
 */
void pin_self(bool pin)
{
	cpu_set_t set;
	long cpu, n = sysconf(_SC_NPROCESSORS_CONF);

	CPU_ZERO(&set);
	if (pin)
		CPU_SET(sched_getcpu(), &set);
	else
		for (cpu = 0; cpu < n; cpu++)
			CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fprintf(stderr, "vmsr-bench: out of memory\n");
		exit(1);
	}
	return p;
}
