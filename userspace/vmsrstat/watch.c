// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* vmsrstat: one process through the attribution core (watch.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rapl_units.h"
#include "task_scan.h"
#include "watch.h"

#define MSR_PKG_POWER_INFO	0x614

static int cpu_map_again(void *ctx, uint32_t *map)
{
	struct watch *w = ctx;
	struct vmsr_info info;

	return vmsr_get_info(w->fd, &info, map, w->acct.host.info.nr_cpus);
}

/* The TDP (MSR_PKG_POWER_INFO) tells how soon the counter can wrap; Intel only. */
static uint64_t read_power_info(int fd, const struct vmsr_info *info)
{
	struct vmsr_read_entry e = { .msr = MSR_PKG_POWER_INFO, .flags = VMSR_READ_F_PACKAGE };

	if (info->vendor != VMSR_VENDOR_INTEL || vmsr_read_msrs(fd, &e, 1) || e.result)
		return 0;
	return e.value;
}

int watch_open(struct watch *w, pid_t pid)
{
	struct vmsr_host host = { 0 };
	uint32_t *cpu_map = NULL;
	int ret;

	memset(w, 0, sizeof(*w));
	w->pid = pid;
	w->sample_flags = VMSR_SAMPLE_F_FRESH;
	w->fd = vmsr_open(NULL);
	if (w->fd < 0)
		return w->fd;
	ret = vmsr_get_info(w->fd, &host.info, NULL, 0);
	if (!ret) {
		cpu_map = calloc(host.info.nr_cpus ? host.info.nr_cpus : 1, sizeof(*cpu_map));
		ret = cpu_map ? vmsr_get_info(w->fd, &host.info, cpu_map, host.info.nr_cpus) :
				-ENOMEM;
	}
	if (!ret) {
		host.cpu_map = cpu_map;
		host.cpu_model = vmsr_host_cpu_model();
		host.pkg_power_info = read_power_info(w->fd, &host.info);
		host.refresh_cpu_map = cpu_map_again;
		host.refresh_ctx = w;
		ret = vmsr_account_init(&w->acct, &host);
	}
	free(cpu_map);
	if (!ret)
		ret = vmsr_registry_init(&w->reg, host.info.max_sample_tasks ?
					 host.info.max_sample_tasks : 1);
	if (!ret) {
		w->pkgs = calloc(host.info.nr_packages ? host.info.nr_packages : 1,
				 sizeof(*w->pkgs));
		ret = w->pkgs ? 0 : -ENOMEM;
	}
	w->has_energy = host.info.domains & VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG);
	if (ret)
		watch_close(w);
	return ret;
}

void watch_close(struct watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	vmsr_account_fini(&w->acct);
	vmsr_registry_fini(&w->reg);
	free(w->pkgs);
	free(w->tasks);
	memset(w, 0, sizeof(*w));
	w->fd = -1;
}

static int scan(struct watch *w)
{
	uint32_t nr = 0;
	int *tids = NULL, ret;

	ret = vmsr_task_scan(w->pid, &tids, &nr);
	if (ret == -ENOENT || ret == -ESRCH || (!ret && !nr))
		ret = -ESRCH;
	if (!ret)
		ret = vmsr_registry_sync(&w->reg, tids, nr);
	free(tids);
	if (ret < 0)
		return ret;
	if (w->reg.nr > w->cap_tasks) {
		void *p = realloc(w->tasks, w->reg.nr * sizeof(*w->tasks));

		if (!p)
			return -ENOMEM;
		w->tasks = p;
		w->cap_tasks = w->reg.nr;
	}
	return 0;
}

int watch_sample(struct watch *w)
{
	struct vmsr_snapshot snap = {
		.pkgs = w->pkgs,
		.nr_pkgs = w->acct.host.info.nr_packages,
	};
	int ret = scan(w);

	if (ret)
		return ret;
	if (!w->reg.nr)
		return -ESRCH;	/* every thread it had has left */
	vmsr_account_prepare(&w->acct, w->pkgs);
	for (uint32_t i = 0; i < w->reg.nr; i++)
		w->tasks[i] = (struct vmsr_task_sample){ .tid = w->reg.threads[i].tid };
	snap.tasks = w->tasks;
	snap.nr_tasks = w->reg.nr;
	ret = vmsr_snapshot_device(w->fd, &w->sample_flags, &snap);
	if (ret)
		return ret;
	for (uint32_t i = 0; i < snap.nr_tasks; i++)
		if (snap.tasks[i].result == -EACCES)
			return -EACCES;
	ret = vmsr_account_step(&w->acct, &w->reg, &snap);
	if (ret)
		return ret;
	if (!w->samples++)
		w->first_ns = snap.end_ns;
	w->last_ns = snap.end_ns;
	return 0;
}

int watch_done(struct watch *w)
{
	return vmsr_registry_reap(&w->reg);
}
