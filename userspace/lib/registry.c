// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The thread registry (registry.h): a sorted array and a sorted ignore list. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int vmsr_registry_init(struct vmsr_registry *r, uint32_t max)
{
	memset(r, 0, sizeof(*r));
	if (!max)
		return -EINVAL;
	r->max = max;
	return 0;
}

void vmsr_registry_fini(struct vmsr_registry *r)
{
	free(r->threads);
	free(r->ignored);
	memset(r, 0, sizeof(*r));
}

/* Index of the first TID >= @tid in the sorted @v[@n]. */
static uint32_t lower_bound(const int *v, size_t stride, uint32_t n, int tid)
{
	uint32_t lo = 0, hi = n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (*(const int *)((const char *)v + mid * stride) < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static uint32_t thread_pos(const struct vmsr_registry *r, int tid)
{
	return lower_bound(&r->threads->tid, sizeof(*r->threads), r->nr, tid);
}

struct vmsr_thread *vmsr_registry_find(const struct vmsr_registry *r, int tid)
{
	uint32_t pos;

	if (!r->nr)
		return NULL;
	pos = thread_pos(r, tid);
	return pos < r->nr && r->threads[pos].tid == tid ? &r->threads[pos] : NULL;
}

static bool listed(const int *tids, uint32_t nr, int tid)
{
	uint32_t pos = lower_bound(tids, sizeof(int), nr, tid);

	return pos < nr && tids[pos] == tid;
}

static bool is_ignored(const struct vmsr_registry *r, int tid)
{
	return listed(r->ignored, r->nr_ignored, tid);
}

static int ignore_tid(struct vmsr_registry *r, int tid)
{
	uint32_t pos;

	if (is_ignored(r, tid))
		return 0;
	if (r->nr_ignored == r->cap_ignored) {
		uint32_t cap = r->cap_ignored ? 2 * r->cap_ignored : 16;
		int *p = realloc(r->ignored, (size_t)cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		r->ignored = p;
		r->cap_ignored = cap;
	}
	pos = lower_bound(r->ignored, sizeof(int), r->nr_ignored, tid);
	memmove(&r->ignored[pos + 1], &r->ignored[pos], (r->nr_ignored - pos) * sizeof(int));
	r->ignored[pos] = tid;
	r->nr_ignored++;
	return 0;
}

int vmsr_registry_add(struct vmsr_registry *r, int tid, uint32_t vcpu)
{
	struct vmsr_thread *t;
	uint32_t pos;

	if (vmsr_registry_find(r, tid))
		return -EEXIST;
	if (r->nr >= r->max)
		return -E2BIG;
	if (r->nr == r->cap) {
		uint32_t cap = r->cap ? 2 * r->cap : 16;

		t = realloc(r->threads, (size_t)cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		r->threads = t;
		r->cap = cap;
	}
	pos = r->nr ? thread_pos(r, tid) : 0;
	t = &r->threads[pos];
	memmove(t + 1, t, (r->nr - pos) * sizeof(*t));
	memset(t, 0, sizeof(*t));
	t->tid = tid;
	t->vcpu = vcpu;
	t->package = VMSR_NO_PACKAGE;
	r->nr++;
	/* Added by hand or found again after it was reaped: no longer ignored. */
	if (is_ignored(r, tid)) {
		pos = lower_bound(r->ignored, sizeof(int), r->nr_ignored, tid);
		memmove(&r->ignored[pos], &r->ignored[pos + 1],
			(r->nr_ignored - pos - 1) * sizeof(int));
		r->nr_ignored--;
	}
	return 0;
}

int vmsr_registry_remove(struct vmsr_registry *r, struct vmsr_thread *t, bool ignore)
{
	uint32_t pos = t - r->threads;
	int tid = t->tid;

	r->gone_cpu_ns += t->cpu_ns;
	for (int d = 0; d < VMSR_NR_DOMAINS; d++)
		r->gone_joules[d] += t->joules[d];
	memmove(t, t + 1, (r->nr - pos - 1) * sizeof(*t));
	r->nr--;
	return ignore ? ignore_tid(r, tid) : 0;
}

int vmsr_registry_reap(struct vmsr_registry *r)
{
	int ret = 0;

	for (uint32_t i = r->nr; i-- > 0;)
		if (r->threads[i].leaving) {
			int err = vmsr_registry_remove(r, &r->threads[i], true);

			ret = ret ? ret : err;
		}
	return ret;
}

int vmsr_registry_sync(struct vmsr_registry *r, const int *tids, uint32_t nr)
{
	uint32_t i, kept = 0, left_out = 0;

	/* Ignored TIDs that /proc no longer lists are reaped: forget them. */
	for (i = 0; i < r->nr_ignored; i++)
		if (listed(tids, nr, r->ignored[i]))
			r->ignored[kept++] = r->ignored[i];
	r->nr_ignored = kept;

	for (i = r->nr; i-- > 0;) {
		struct vmsr_thread *t = &r->threads[i];

		if (t->vcpu == VMSR_NO_VCPU && !listed(tids, nr, t->tid))
			vmsr_registry_remove(r, t, false);
	}
	for (i = 0; i < nr; i++) {
		int ret;

		if (is_ignored(r, tids[i]) || vmsr_registry_find(r, tids[i]))
			continue;
		ret = vmsr_registry_add(r, tids[i], VMSR_NO_VCPU);
		if (ret == -E2BIG)
			left_out++;
		else if (ret)
			return ret;
	}
	return left_out;
}

void vmsr_registry_totals(const struct vmsr_registry *r, uint64_t *cpu_ns,
			  double joules[VMSR_NR_DOMAINS])
{
	*cpu_ns = r->gone_cpu_ns;
	for (int d = 0; d < VMSR_NR_DOMAINS; d++)
		joules[d] = r->gone_joules[d];
	for (uint32_t i = 0; i < r->nr; i++) {
		*cpu_ns += r->threads[i].cpu_ns;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			joules[d] += r->threads[i].joules[d];
	}
}
