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

/* A read dated by the midpoint of CLOCK_MONOTONIC around it (WINDOW_NS). */
static void timed_read(struct clock_method *m, unsigned int i)
{
	uint64_t before, after;
	int tries = 0;

	do {
		before = now_ns(CLOCK_MONOTONIC);
		m->cpu_ns[i] = now_ns(m->clocks[i]);
		after = now_ns(CLOCK_MONOTONIC);
	} while (after - before > WINDOW_NS && ++tries < WINDOW_TRIES);
	m->at_ns[i] = before + (after - before) / 2;
}

/* With m->timed (section 2) each read is dated; without, the tick is the reads alone. */
int clock_method_tick(struct clock_method *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		if (m->timed)
			timed_read(m, i);
		else
			m->cpu_ns[i] = now_ns(m->clocks[i]);
	}
	return 0;
}

void clock_method_close(struct clock_method *m)
{
	free(m->cpu_ns);
	free(m->at_ns);
}
