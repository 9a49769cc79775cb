// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* /proc/<pid>/task, read into a sorted array (task_scan.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "task_scan.h"

static int cmp_tid(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int vmsr_task_scan(int pid, int **tids, uint32_t *nr)
{
	uint32_t cap = 64, n = 0;
	struct dirent *de;
	char dir[40];
	int *list;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
	d = opendir(dir);
	if (!d)
		return -errno;
	list = malloc(cap * sizeof(*list));
	while (list && (de = readdir(d))) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end || tid <= 0)
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
		list[n++] = (int)tid;
	}
	closedir(d);
	if (!list)
		return -ENOMEM;
	qsort(list, n, sizeof(*list), cmp_tid);
	*tids = list;
	*nr = n;
	return 0;
}
