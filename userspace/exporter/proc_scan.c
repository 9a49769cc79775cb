// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Reading /proc; see proc_scan.h. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_scan.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int proc_list_ids(const char *path, int **ids, uint32_t *nr)
{
	uint32_t cap = 256, n = 0;
	struct dirent *de;
	int *list, err = 0;
	DIR *d;

	d = opendir(path);
	if (!d)
		return -errno;
	list = malloc(cap * sizeof(*list));
	if (!list)
		err = -ENOMEM;
	while (!err && (de = readdir(d))) {
		char *end;
		long id = strtol(de->d_name, &end, 10);

		if (*end || id <= 0 || id > INT32_MAX)
			continue;
		if (n == cap) {
			int *bigger = realloc(list, 2 * cap * sizeof(*list));

			if (!bigger) {
				err = -ENOMEM;
				break;
			}
			list = bigger;
			cap *= 2;
		}
		list[n++] = id;
	}
	closedir(d);
	if (err) {
		free(list);
		return err;
	}
	qsort(list, n, sizeof(*list), cmp_int);
	*ids = list;
	*nr = n;
	return 0;
}

ssize_t proc_read(const char *root, int pid, const char *name, char *buf, size_t size)
{
	char path[256];
	ssize_t len = 0, n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/%s", root, pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* /proc files may come in more than one read. */
	while ((size_t)len < size && (n = read(fd, buf + len, size - len)) > 0)
		len += n;
	if (n < 0 && !len)
		len = -errno;
	close(fd);
	return len;
}

int proc_stat_field(const char *stat, size_t len, int field, unsigned long long *value)
{
	const char *p = memrchr(stat, ')', len), *end = stat + len;
	char tmp[24], *num_end;
	int at = 2;
	size_t n;

	if (!p || field < 3)
		return -EINVAL;
	/* After "pid (comm)", fields 3, 4, ... each follow one space. */
	for (p++; p < end && at < field; p++)
		if (*p == ' ')
			at++;
	if (at != field)
		return -EINVAL;
	for (n = 0; p + n < end && p[n] != ' ' && p[n] != '\n'; n++)
		;
	if (n == 0 || n >= sizeof(tmp))
		return -EINVAL;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	*value = strtoull(tmp, &num_end, 10);
	return *num_end ? -EINVAL : 0;
}

int proc_parse_starttime(const char *stat, size_t len, unsigned long long *starttime)
{
	return proc_stat_field(stat, len, 22, starttime);
}

int proc_parse_times(const char *stat, size_t len, unsigned long long *cpu_ticks,
		     unsigned int *cpu)
{
	unsigned long long utime, stime, processor;

	if (proc_stat_field(stat, len, 14, &utime) || proc_stat_field(stat, len, 15, &stime) ||
	    proc_stat_field(stat, len, 39, &processor))
		return -EINVAL;
	*cpu_ticks = utime + stime;
	*cpu = processor;
	return 0;
}

int proc_parse_cpu_busy(const char *stat, uint64_t *busy, uint32_t nr_cpus)
{
	const char *line = stat;
	bool any = false;

	memset(busy, 0, nr_cpus * sizeof(*busy));
	for (; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		unsigned long long user, nice, system, idle, iowait, irq, softirq, steal = 0;
		unsigned int cpu;
		int n;

		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		n = sscanf(line, "cpu%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &user,
			   &nice, &system, &idle, &iowait, &irq, &softirq, &steal);
		if (n < 8)
			return -EINVAL;
		if (cpu < nr_cpus)
			busy[cpu] = user + nice + system + irq + softirq + steal;
		any = true;
	}
	return any ? 0 : -EINVAL;
}
