// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * VMSR_SAMPLER_F_SCAN_THREADS: the VMM's threads, from /proc/<pid>/task.
 *
 * A thread found after the first scan started after the previous tick, so
 * its baseline is zero and its whole CPU time counts. Threads found by the
 * first scan, or registered by hand, get their baseline from the next
 * sample. A thread no longer listed has been reaped and is dropped, unless
 * it is a vCPU's: the VMM unregisters those itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sampler.h"

static int cmp_tid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The TIDs listed in @dir, sorted, in *tids (malloc'd). */
static int list_tids(const char *dir, int **tids, uint32_t *nr)
{
	uint32_t cap = 64, n = 0;
	struct dirent *de;
	int *list;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return -errno;
	list = malloc(cap * sizeof(*list));
	while (list && (de = readdir(d))) {
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		if (n == cap) {
			int *bigger = realloc(list, 2 * cap * sizeof(*list));

			if (!bigger) {
				free(list);
				list = NULL;
				break;
			}
			list = bigger;
			cap *= 2;
		}
		list[n++] = tid;
	}
	closedir(d);
	if (!list)
		return -ENOMEM;
	qsort(list, n, sizeof(*list), cmp_tid);
	*tids = list;
	*nr = n;
	return 0;
}

int vmsr_scan_threads(struct vmsr_sampler *s)
{
	char dir[64];
	uint32_t nr = 0, i;
	int *tids = NULL, ret;

	snprintf(dir, sizeof(dir), "/proc/%d/task", s->cfg.pid ? s->cfg.pid : getpid());
	ret = list_tids(dir, &tids, &nr);
	if (ret)
		return ret;

	/* Drop what is gone: both lists are sorted by tid. */
	for (i = s->nr_threads; i-- > 0;) {
		struct vmsr_thread *t = &s->threads[i];

		if (t->vcpu == VMSR_NO_VCPU &&
		    !bsearch(&t->tid, tids, nr, sizeof(*tids), cmp_tid))
			vmsr_drop_thread(s, t);
	}
	for (i = 0; i < nr && !ret; i++) {
		struct vmsr_thread *t;

		if (vmsr_find_thread(s, tids[i]))
			continue;
		ret = vmsr_insert_thread(s, tids[i], VMSR_NO_VCPU);
		if (ret == -E2BIG)	/* at the device's cap: sample the rest */
			ret = 0;
		else if (!ret && s->scanned_once) {
			t = vmsr_find_thread(s, tids[i]);
			t->has_baseline = true;
		}
	}
	s->scanned_once = true;
	free(tids);
	return ret;
}
