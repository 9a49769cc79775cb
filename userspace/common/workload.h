/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The clock and the busy loop shared by the demo, the benchmark, the tests
 * and the module's selftests: header-only, so that each builds it in.
 */
#ifndef VMSR_WORKLOAD_H
#define VMSR_WORKLOAD_H

#include <stdint.h>
#include <time.h>

#define WORKLOAD_NS_PER_SEC	1000000000ULL

/* @clock (CLOCK_MONOTONIC, CLOCK_THREAD_CPUTIME_ID, ...) in ns. */
static inline uint64_t workload_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * WORKLOAD_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

/* Spins until this thread has used @cpu_ns more CPU time. */
static inline void workload_burn_cpu(uint64_t cpu_ns)
{
	uint64_t end = workload_now_ns(CLOCK_THREAD_CPUTIME_ID) + cpu_ns;

	while (workload_now_ns(CLOCK_THREAD_CPUTIME_ID) < end)
		;
}

/* Busy (wall clock) for @duty_pct % of one @period_ns, asleep for the rest. */
static inline void workload_duty_period(uint64_t period_ns, unsigned int duty_pct)
{
	uint64_t busy = period_ns * duty_pct / 100, start = workload_now_ns(CLOCK_MONOTONIC);
	struct timespec rest = { 0, (long)(period_ns - busy) };

	while (workload_now_ns(CLOCK_MONOTONIC) - start < busy)
		;
	if (rest.tv_nsec)
		nanosleep(&rest, NULL);
}

#endif /* VMSR_WORKLOAD_H */
