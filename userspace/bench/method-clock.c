// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench method (c): clock_gettime() on each thread's
 * pthread_getcpuclockid() clock, one system call per thread. It works for
 * the caller's own threads only, and reads no energy.
 */
#include <stdlib.h>

#include "bench.h"

int clock_method_open(struct clock_method *m, const clockid_t *clocks, unsigned int n,
		      bool timed)
{
	m->nr = n;
	m->timed = timed;
	m->clocks = clocks;
	m->cpu_ns = xcalloc(n, sizeof(*m->cpu_ns));
	m->at_ns = xcalloc(n, sizeof(*m->at_ns));
	return 0;
}

/*
 * With m->timed, at_ns[i] is the midpoint of CLOCK_MONOTONIC read around
 * each thread's read (for section 2); without, the tick is the reads alone.
 */
int clock_method_tick(struct clock_method *m)
{
	uint64_t before = m->timed ? now_ns(CLOCK_MONOTONIC) : 0;
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		uint64_t after;

		m->cpu_ns[i] = now_ns(m->clocks[i]);
		if (!m->timed)
			continue;
		after = now_ns(CLOCK_MONOTONIC);
		m->at_ns[i] = before + (after - before) / 2;
		before = after;
	}
	return 0;
}

void clock_method_close(struct clock_method *m)
{
	free(m->cpu_ns);
	free(m->at_ns);
}
