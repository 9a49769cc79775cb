/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * A scripted host for the host unit tests: packages with energy counters,
 * threads with CPU time, and which CPUs are online. Tests change it between
 * samples; fake_host_source() is a vmsr_source_fn over it.
 */
#ifndef VMSR_FAKE_HOST_H
#define VMSR_FAKE_HOST_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"

#define MS		1000000ULL
#define FAKE_TASKS	16
#define FAKE_PKGS	2
#define AMD_UNIT	0xa1003ULL	/* energy unit 2^-16 J */

struct fake_task {
	int tid;
	int result;
	uint32_t package;
	uint64_t cpu_ns;
	uint32_t flags;
};

struct fake_host {
	uint64_t now_ns;
	uint32_t energy[FAKE_PKGS];	/* package domain, per host package */
	uint32_t dram[FAKE_PKGS];
	struct fake_task tasks[FAKE_TASKS];
	int nr_tasks;
	int stale;		/* counters not refreshed on the next sample */
	bool offline[FAKE_PKGS];	/* no online CPU: read_ns 0, -ENXIO */
	uint64_t read_ns[FAKE_PKGS];
	char online_path[64];	/* the host's /sys/devices/system/cpu/online */
};

/* Thread @tid of the script, added idle if new. */
static inline struct fake_task *fake_task(struct fake_host *h, int tid)
{
	for (int i = 0; i < h->nr_tasks; i++)
		if (h->tasks[i].tid == tid)
			return &h->tasks[i];
	if (h->nr_tasks == FAKE_TASKS)
		abort();
	h->tasks[h->nr_tasks] = (struct fake_task){ .tid = tid };
	return &h->tasks[h->nr_tasks++];
}

/* Time passes: @ms milliseconds, @steps energy steps on package @pkg. */
static inline void advance(struct fake_host *h, uint64_t ms, uint32_t pkg, uint32_t steps)
{
	h->now_ns += ms * MS;
	h->energy[pkg] += steps;
}

/* Thread @tid runs @cpu_ns more, and ends up on package @pkg. */
static inline void run(struct fake_host *h, int tid, uint32_t pkg, uint64_t cpu_ns)
{
	struct fake_task *t = fake_task(h, tid);

	t->package = pkg;
	t->cpu_ns += cpu_ns;
}

/* Writes the online CPU list, e.g. "0-3" or "0,2". */
static inline void set_online(struct fake_host *h, const char *cpus)
{
	FILE *f = fopen(h->online_path, "we");

	if (!f)
		abort();
	fprintf(f, "%s\n", cpus);
	fclose(f);
}

static inline int fake_host_source(void *ctx, struct vmsr_snapshot *snap)
{
	struct fake_host *h = ctx;

	for (uint32_t p = 0; p < snap->nr_pkgs && p < FAKE_PKGS; p++) {
		struct vmsr_pkg_sample *ps = &snap->pkgs[p];

		memset(ps->energy, 0, sizeof(ps->energy));
		memset(ps->result, 0, sizeof(ps->result));
		if (h->offline[p]) {
			ps->read_ns = 0;
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				ps->result[d] = -ENXIO;
			continue;
		}
		if (!h->stale)
			h->read_ns[p] = h->now_ns;
		ps->read_ns = h->read_ns[p];
		ps->energy[VMSR_DOMAIN_PKG] = h->energy[p];
		ps->energy[VMSR_DOMAIN_DRAM] = h->dram[p];
	}
	h->stale = 0;
	for (uint32_t i = 0; i < snap->nr_tasks; i++) {
		struct vmsr_task_sample *ts = &snap->tasks[i];
		int tid = ts->tid;

		memset(ts, 0, sizeof(*ts));
		ts->tid = tid;	/* unscripted threads exist and are idle */
		for (int k = 0; k < h->nr_tasks; k++) {
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

/* Starts a script: its online file in a fresh temporary file, time at 1 s. */
static inline int fake_host_init(struct fake_host *h)
{
	int fd;

	memset(h, 0, sizeof(*h));
	h->now_ns = 1000 * MS;
	snprintf(h->online_path, sizeof(h->online_path), "/tmp/vmsr-online.XXXXXX");
	fd = mkstemp(h->online_path);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static inline void fake_host_fini(struct fake_host *h)
{
	unlink(h->online_path);
}

#endif /* VMSR_FAKE_HOST_H */
