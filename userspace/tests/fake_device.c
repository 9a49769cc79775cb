// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A stand-in for lib/device.c, for testing vmsrstat and the sampler on a
 * host without /dev/vmsr: linked instead of it, into test builds only.
 *
 * One package holding every CPU; its energy counter advances at a constant
 * power over CLOCK_MONOTONIC. Task times come from /proc/TID/schedstat
 * (ns), the CPU from /proc/TID/stat, and the module's rules are mimicked:
 * -ESRCH for a thread that does not exist, -EACCES for another user's
 * (unless root), VMSR_TASK_F_EXITED for a zombie.
 *
 * Environment: VMSR_FAKE_WATTS (default 10), VMSR_FAKE_NO_RAPL=1,
 * VMSR_FAKE_OPEN_ERRNO=N (vmsr_open fails with -N), VMSR_FAKE_FROZEN_CLOCK=1
 * (SAMPLE's start_ns and end_ns stand still; the counters still refresh),
 * VMSR_FAKE_SHIFT (energy unit, default 16), VMSR_FAKE_TDP_W (an Intel
 * host with that TDP) and VMSR_FAKE_DIES=1 (an Intel host whose RAPL is
 * die-scoped: its one instance is a die).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <unistd.h>

#include "snapshot.h"
#include "workload.h"

static uint64_t start_ns;

static long env(const char *name, long dflt)
{
	const char *v = getenv(name);

	return v && *v ? strtol(v, NULL, 10) : dflt;
}

int vmsr_open(const char *path)
{
	int fd;

	if (env("VMSR_FAKE_OPEN_ERRNO", 0))
		return -(int)env("VMSR_FAKE_OPEN_ERRNO", 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	start_ns = workload_now_ns(CLOCK_MONOTONIC);
	return fd < 0 ? -errno : fd;
}

int vmsr_get_info(int fd, struct vmsr_info *info, uint32_t *cpu_map, uint32_t cpu_map_len)
{
	unsigned int shift = env("VMSR_FAKE_SHIFT", 16);

	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	info->abi_version = VMSR_ABI_VERSION;
	info->vendor = env("VMSR_FAKE_TDP_W", 0) || env("VMSR_FAKE_DIES", 0) ?
		       VMSR_VENDOR_INTEL : VMSR_VENDOR_AMD;
	info->flags = env("VMSR_FAKE_DIES", 0) ? VMSR_INFO_F_DIES : 0;
	info->nr_cpus = get_nprocs_conf();
	info->nr_packages = 1;
	info->min_interval_us = 1000;
	info->max_read_entries = 64;
	info->max_sample_pkgs = 64;
	info->max_sample_tasks = 4096;
	if (!env("VMSR_FAKE_NO_RAPL", 0)) {
		info->domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG);
		info->power_unit_raw = 0xa0003 | shift << 8;
		info->energy_unit_shift = shift;
	}
	for (uint32_t c = 0; cpu_map && c < cpu_map_len && c < info->nr_cpus; c++)
		cpu_map[c] = 0;
	return 0;
}

int vmsr_read_msrs(int fd, struct vmsr_read_entry *entries, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++) {
		entries[i].result = -ENXIO;
		entries[i].value = 0;
		if (entries[i].msr == 0x614 && env("VMSR_FAKE_TDP_W", 0)) {
			entries[i].result = 0;
			entries[i].value = env("VMSR_FAKE_TDP_W", 0) * 8;	/* 1/8 W units */
		}
	}
	return 0;
}

/* Field @n (1-based) of /proc/@tid/stat, after the command's parenthesis. */
static int stat_field(int tid, int n, char *out, size_t len)
{
	char path[64], buf[1024], *p;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -ESRCH;
	p += 2;		/* field 3 */
	for (i = 3; i < n && p; i++)
		p = strchr(p, ' ') ? strchr(p, ' ') + 1 : NULL;
	if (!p)
		return -ESRCH;
	snprintf(out, len, "%.*s", (int)strcspn(p, " \n"), p);
	return 0;
}

static uid_t task_uid(int tid)
{
	char path[64], line[256];
	unsigned int ruid, euid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Uid: %u %u", &ruid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

static void fake_task(struct vmsr_task_sample *ts)
{
	char path[64], field[32];
	unsigned long long ns = 0;
	FILE *f;
	int tid = ts->tid;

	memset(ts, 0, sizeof(*ts));
	ts->tid = tid;
	if (stat_field(tid, 3, field, sizeof(field))) {
		ts->result = -ESRCH;
		return;
	}
	if (geteuid() && task_uid(tid) != geteuid()) {
		ts->result = -EACCES;
		return;
	}
	if (field[0] == 'Z' || field[0] == 'X')
		ts->flags = VMSR_TASK_F_EXITED;
	if (!stat_field(tid, 39, field, sizeof(field)))
		ts->cpu = strtoul(field, NULL, 10);
	snprintf(path, sizeof(path), "/proc/%d/schedstat", tid);
	f = fopen(path, "re");
	if (f) {
		if (fscanf(f, "%llu", &ns) != 1)
			ns = 0;
		fclose(f);
	}
	ts->cpu_ns = ts->user_ns = ns;
}

int vmsr_sample_flags(int fd, uint32_t flags, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		      struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		      uint64_t *start, uint64_t *end)
{
	uint64_t now = workload_now_ns(CLOCK_MONOTONIC);
	double steps = (double)(now - start_ns) / 1e9 * env("VMSR_FAKE_WATTS", 10) *
		       (double)(1ULL << env("VMSR_FAKE_SHIFT", 16));

	if (flags & ~VMSR_SAMPLE_F_FRESH)
		return -EINVAL;
	for (uint32_t p = 0; p < nr_pkgs; p++) {
		uint32_t domains = pkgs[p].domains, package = pkgs[p].package;

		memset(&pkgs[p], 0, sizeof(pkgs[p]));
		pkgs[p].package = package;
		pkgs[p].domains = domains;
		pkgs[p].read_ns = now;
		if (package)
			pkgs[p].result[0] = -ENXIO, pkgs[p].read_ns = 0;
		else if (env("VMSR_FAKE_NO_RAPL", 0))
			pkgs[p].result[0] = -ENODEV;
		else
			pkgs[p].energy[0] = (uint32_t)(uint64_t)steps;
	}
	for (uint32_t i = 0; i < nr_tasks; i++)
		fake_task(&tasks[i]);
	if (env("VMSR_FAKE_FROZEN_CLOCK", 0))
		now = start_ns;
	if (start)
		*start = now;
	if (end)
		*end = now;
	return 0;
}

int vmsr_sample(int fd, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		struct vmsr_task_sample *tasks, uint32_t nr_tasks, uint64_t *start, uint64_t *end)
{
	return vmsr_sample_flags(fd, 0, pkgs, nr_pkgs, tasks, nr_tasks, start, end);
}
