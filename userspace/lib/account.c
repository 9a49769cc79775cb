// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The attribution core (account.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "account.h"
#include "rapl_units.h"

#define ONLINE_PATH	"/sys/devices/system/cpu/online"

/* Watts that MSR_PKG_POWER_INFO gives as the package's TDP; 0 if unknown. */
static double tdp_watts(const struct vmsr_host *h)
{
	unsigned int power_shift = h->info.power_unit_raw & 0xf;

	return (double)(h->pkg_power_info & 0x7fff) / (double)(1U << power_shift);
}

int vmsr_account_init(struct vmsr_account *a, const struct vmsr_host *host)
{
	uint32_t nr_pkgs = host->info.nr_packages, nr_cpus = host->info.nr_cpus;
	double tdp;

	memset(a, 0, sizeof(*a));
	if (nr_cpus && !host->cpu_map)
		return -EINVAL;
	a->host = *host;
	a->cpu_map = calloc(nr_cpus ? nr_cpus : 1, sizeof(*a->cpu_map));
	a->pkgs = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*a->pkgs));
	a->prev = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*a->prev));
	if (!a->cpu_map || !a->pkgs || !a->prev) {
		vmsr_account_fini(a);
		return -ENOMEM;
	}
	if (nr_cpus)
		memcpy(a->cpu_map, host->cpu_map, nr_cpus * sizeof(*a->cpu_map));
	a->host.cpu_map = a->cpu_map;
	vmsr_rapl_units(&host->info, host->cpu_model, a->joules_per_step);
	tdp = tdp_watts(host);
	for (uint32_t p = 0; p < nr_pkgs && tdp > 0; p++)
		a->pkgs[p].wrap_ns = (uint64_t)(4294967296.0 *
						a->joules_per_step[VMSR_DOMAIN_PKG] / tdp * 1e9);
	return 0;
}

void vmsr_account_fini(struct vmsr_account *a)
{
	free(a->cpu_map);
	free(a->pkgs);
	free(a->prev);
	memset(a, 0, sizeof(*a));
}

void vmsr_account_prepare(const struct vmsr_account *a, struct vmsr_pkg_sample *pkgs)
{
	for (uint32_t p = 0; p < a->host.info.nr_packages; p++) {
		memset(&pkgs[p], 0, sizeof(pkgs[p]));
		pkgs[p].package = p;
		pkgs[p].domains = a->host.info.domains;
	}
}

/*
 * Marks the CPUs listed in @path ("0-3,6,8-9") in @online[nr]. Returns false
 * if it cannot be read.
 */
static bool read_online(const char *path, bool *online, uint32_t nr)
{
	char buf[4096], *p = buf;
	ssize_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	while (*p >= '0' && *p <= '9') {
		unsigned long lo = strtoul(p, &p, 10), hi = lo;

		if (*p == '-')
			hi = strtoul(p + 1, &p, 10);
		for (unsigned long c = lo; c <= hi && c < nr; c++)
			online[c] = true;
		if (*p == ',')
			p++;
	}
	return true;
}

/* Online CPUs per package, now. Without the online file, every mapped CPU counts. */
static void count_online_cpus(struct vmsr_account *a)
{
	const struct vmsr_info *info = &a->host.info;
	bool *online = calloc(info->nr_cpus ? info->nr_cpus : 1, sizeof(*online));
	bool unmapped = false, known;

	known = online && read_online(a->host.online_path ? a->host.online_path : ONLINE_PATH,
				      online, info->nr_cpus);
	for (uint32_t c = 0; known && c < info->nr_cpus; c++)
		unmapped |= online[c] && a->cpu_map[c] >= info->nr_packages;
	/* A CPU online for the first time since INFO was read has no package yet. */
	if (unmapped && a->host.refresh_cpu_map)
		a->host.refresh_cpu_map(a->host.refresh_ctx, a->cpu_map);
	for (uint32_t p = 0; p < info->nr_packages; p++)
		a->pkgs[p].online_cpus = 0;
	for (uint32_t c = 0; c < info->nr_cpus; c++)
		if (a->cpu_map[c] < info->nr_packages && (!known || online[c]))
			a->pkgs[a->cpu_map[c]].online_cpus++;
	free(online);
}

static bool counters_refreshed(const struct vmsr_account *a, const struct vmsr_snapshot *snap)
{
	for (uint32_t p = 0; p < snap->nr_pkgs; p++)
		if (snap->pkgs[p].read_ns && snap->pkgs[p].read_ns == a->prev[p].read_ns)
			return false;
	return true;
}

/* Energy of each package since the previous sample; packages without CPU get 0. */
static void package_energy(struct vmsr_account *a, const struct vmsr_snapshot *snap)
{
	for (uint32_t p = 0; p < snap->nr_pkgs; p++) {
		const struct vmsr_pkg_sample *prev = &a->prev[p], *now = &snap->pkgs[p];
		struct vmsr_account_pkg *ap = &a->pkgs[p];

		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			ap->joules[d] = 0;
			if (!a->interval_ns || !(a->host.info.domains & VMSR_DOMAIN_BIT(d)) ||
			    !prev->read_ns || !now->read_ns || prev->result[d] || now->result[d])
				continue;
			/* Unsigned 32-bit subtraction undoes one wrap of the counter. */
			ap->joules[d] = (uint32_t)(now->energy[d] - prev->energy[d]) *
					a->joules_per_step[d];
			ap->idle_joules[d] = ap->joules[d];
			ap->total_joules[d] += ap->joules[d];
		}
		if (ap->wrap_ns && a->interval_ns >= ap->wrap_ns)
			a->wrap_ambiguous = true;
	}
}

/* The CPU time @t used since its mark, per the dip and reuse rules of account.h. */
static uint64_t cpu_since_mark(struct vmsr_thread *t, uint64_t cpu_ns, bool interval)
{
	uint64_t used = 0;

	if (!interval || !t->has_baseline)
		t->hwm_cpu_ns = cpu_ns;		/* the first sample that sees it */
	else if (cpu_ns >= t->hwm_cpu_ns)
		used = cpu_ns - t->hwm_cpu_ns, t->hwm_cpu_ns = cpu_ns;
	else if (t->hwm_cpu_ns - cpu_ns > VMSR_DIP_MAX_NS)
		t->hwm_cpu_ns = cpu_ns;		/* a reused TID */
	t->has_baseline = true;
	return used;
}

static void charge_thread(struct vmsr_account *a, struct vmsr_thread *t,
			  const struct vmsr_task_sample *ts)
{
	uint32_t pkg = ts->package;
	uint64_t used;
	double share;

	memset(t->step_joules, 0, sizeof(t->step_joules));
	t->step_cpu_ns = 0;
	t->package = VMSR_NO_PACKAGE;
	if (ts->result) {	/* reaped, or not ours to read */
		t->leaving = true;
		return;
	}
	used = cpu_since_mark(t, ts->cpu_ns, a->interval_ns);
	t->cpu = ts->cpu;
	t->step_cpu_ns = used;
	t->cpu_ns += used;
	/* A zombie's times are final: charged now, then it leaves. */
	t->leaving = ts->flags & VMSR_TASK_F_EXITED;
	if (pkg >= a->host.info.nr_packages)
		return;
	t->package = pkg;
	if (!a->interval_ns || !a->pkgs[pkg].online_cpus)
		return;
	share = (double)used / ((double)a->pkgs[pkg].online_cpus * (double)a->interval_ns);
	if (share > 1)
		share = 1;
	for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
		t->step_joules[d] = share * a->pkgs[pkg].joules[d];
		t->joules[d] += t->step_joules[d];
		a->pkgs[pkg].idle_joules[d] -= t->step_joules[d];
	}
}

int vmsr_account_step(struct vmsr_account *a, struct vmsr_registry *r,
		      const struct vmsr_snapshot *snap)
{
	uint32_t nr_pkgs = a->host.info.nr_packages;

	if (snap->nr_pkgs != nr_pkgs || snap->nr_tasks != r->nr)
		return -EINVAL;
	if (a->has_prev && !counters_refreshed(a, snap))
		return -EAGAIN;

	count_online_cpus(a);
	a->interval_ns = a->has_prev ? snap->end_ns - a->prev_end_ns : 0;
	a->wrap_ambiguous = false;
	for (uint32_t p = 0; p < nr_pkgs; p++)
		memset(a->pkgs[p].idle_joules, 0, sizeof(a->pkgs[p].idle_joules));
	package_energy(a, snap);
	for (uint32_t i = 0; i < r->nr; i++)
		charge_thread(a, &r->threads[i], &snap->tasks[i]);
	/* Shares are clamped, not normalised: rounding may leave -0.0 idle. */
	for (uint32_t p = 0; p < nr_pkgs; p++)
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			if (a->pkgs[p].idle_joules[d] < 0)
				a->pkgs[p].idle_joules[d] = 0;

	memcpy(a->prev, snap->pkgs, nr_pkgs * sizeof(*snap->pkgs));
	a->prev_end_ns = snap->end_ns;
	a->has_prev = true;
	return 0;
}
