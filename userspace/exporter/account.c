// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The energy of each interval, split between VMs, other processes and idle; see account.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"

#define NSEC_PER_SEC 1000000000.0

int account_init(struct account *a, uint32_t nr_pkgs, uint32_t nr_cpus, const uint32_t *cpu_map,
		 double joules_per_step, uint32_t domains, long hz)
{
	memset(a, 0, sizeof(*a));
	a->nr_pkgs = nr_pkgs;
	a->nr_cpus = nr_cpus;
	a->cpu_map = cpu_map;
	a->joules_per_step = joules_per_step;
	a->domains = domains;
	a->ns_per_tick = NSEC_PER_SEC / hz;
	a->cpus_in_pkg = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*a->cpus_in_pkg));
	a->totals = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*a->totals));
	a->prev_pkgs = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*a->prev_pkgs));
	a->prev_busy = calloc(nr_cpus ? nr_cpus : 1, sizeof(*a->prev_busy));
	a->pkg_vm_joules = calloc((nr_pkgs ? nr_pkgs : 1) * VMSR_NR_DOMAINS, sizeof(double));
	a->pkg_vm_scale = calloc((nr_pkgs ? nr_pkgs : 1) * VMSR_NR_DOMAINS, sizeof(double));
	if (!a->cpus_in_pkg || !a->totals || !a->prev_pkgs || !a->prev_busy || !a->pkg_vm_joules ||
	    !a->pkg_vm_scale) {
		account_free(a);
		return -ENOMEM;
	}
	for (uint32_t c = 0; c < nr_cpus; c++)
		if (cpu_map[c] < nr_pkgs)
			a->cpus_in_pkg[cpu_map[c]]++;
	return 0;
}

void account_free(struct account *a)
{
	free(a->cpus_in_pkg);
	free(a->totals);
	free(a->prev_pkgs);
	free(a->prev_busy);
	free(a->task_joules);
	free(a->pkg_vm_joules);
	free(a->pkg_vm_scale);
	memset(a, 0, sizeof(*a));
}

static bool counters_refreshed(const struct account *a, const struct vmsr_pkg_sample *pkgs)
{
	for (uint32_t p = 0; p < a->nr_pkgs; p++)
		if (pkgs[p].read_ns == a->prev_pkgs[p].read_ns)
			return false;
	return true;
}

/* Energy of domain @d of package @p since the previous sample; 0 if unreadable. */
static double package_delta(const struct account *a, const struct vmsr_pkg_sample *now,
			    uint32_t p, int d)
{
	const struct vmsr_pkg_sample *prev = &a->prev_pkgs[p];

	if (!(a->domains & VMSR_DOMAIN_BIT(d)) || prev->result[d] || now[p].result[d])
		return 0;
	/* Unsigned 32-bit subtraction undoes one wrap of the counter. */
	return (uint32_t)(now[p].energy[d] - prev->energy[d]) * a->joules_per_step;
}

/*
 * Step vm(T) for every task: its joules per domain into a->task_joules,
 * their sums per package into a->pkg_vm_joules; CPU time and baselines.
 */
static void charge_tasks(struct account *a, const struct account_sample *s,
			 uint64_t interval_ns)
{
	memset(a->pkg_vm_joules, 0, a->nr_pkgs * VMSR_NR_DOMAINS * sizeof(double));
	for (uint32_t i = 0; i < s->nr_tasks; i++) {
		const struct vmsr_task_sample *ts = &s->tasks[i];
		struct vm_thread *t = s->threads[i];
		double *joules = &a->task_joules[i * VMSR_NR_DOMAINS];
		uint64_t cpu_ns = 0;
		double share;

		memset(joules, 0, VMSR_NR_DOMAINS * sizeof(double));
		if (ts->result)
			continue;
		/* A TID whose time went back was reused: it starts again. */
		if (t->has_baseline && ts->cpu_ns >= t->prev_cpu_ns)
			cpu_ns = ts->cpu_ns - t->prev_cpu_ns;
		t->prev_cpu_ns = ts->cpu_ns;
		t->has_baseline = true;
		s->owners[i]->cpu_seconds += cpu_ns / NSEC_PER_SEC;
		if (!interval_ns || ts->package >= a->nr_pkgs || !a->cpus_in_pkg[ts->package])
			continue;
		share = (double)cpu_ns / ((double)a->cpus_in_pkg[ts->package] * interval_ns);
		if (share > 1)
			share = 1;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			joules[d] = share * package_delta(a, s->pkgs, ts->package, d);
			a->pkg_vm_joules[ts->package * VMSR_NR_DOMAINS + d] += joules[d];
		}
	}
}

/* Non-idle share of package @p's CPUs over @interval_ns, in [0, 1]. */
static double busy_share(const struct account *a, const uint64_t *busy, uint32_t p,
			 uint64_t interval_ns)
{
	uint64_t ticks = 0;
	double share;

	for (uint32_t c = 0; c < a->nr_cpus; c++)
		if (a->cpu_map[c] == p && busy[c] >= a->prev_busy[c])
			ticks += busy[c] - a->prev_busy[c];
	share = ticks * a->ns_per_tick / ((double)a->cpus_in_pkg[p] * interval_ns);
	return share > 1 ? 1 : share;
}

int account_sample(struct account *a, const struct account_sample *s)
{
	uint64_t interval_ns = 0;

	if (a->has_prev && !counters_refreshed(a, s->pkgs))
		return -EAGAIN;
	if (s->nr_tasks > a->cap_tasks) {
		double *bigger = realloc(a->task_joules,
					 (size_t)s->nr_tasks * VMSR_NR_DOMAINS * sizeof(double));

		if (!bigger)
			return -ENOMEM;
		a->task_joules = bigger;
		a->cap_tasks = s->nr_tasks;
	}
	if (a->has_prev && s->end_ns > a->prev_end_ns)
		interval_ns = s->end_ns - a->prev_end_ns;

	charge_tasks(a, s, interval_ns);
	for (uint32_t p = 0; interval_ns && p < a->nr_pkgs; p++) {
		struct pkg_totals *tot = &a->totals[p];
		double busy = s->busy && a->cpus_in_pkg[p] ?
			busy_share(a, s->busy, p, interval_ns) : 0;

		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			double de = package_delta(a, s->pkgs, p, d);
			double vms = a->pkg_vm_joules[p * VMSR_NR_DOMAINS + d];
			double *scale = &a->pkg_vm_scale[p * VMSR_NR_DOMAINS + d];
			double other;

			/* More CPU time than the package had: scale the VMs down to dE. */
			*scale = 1;
			if (vms > de) {
				*scale = de / vms;
				vms = de;
			}
			other = busy * de - vms;
			if (other < 0)
				other = 0;
			tot->energy[d] += de;
			tot->vms[d] += vms;
			tot->other[d] += other;
			tot->idle[d] += de - vms - other;
		}
	}
	/* Each task's energy into its VM, scaled as its package's VM sum was. */
	for (uint32_t i = 0; interval_ns && i < s->nr_tasks; i++) {
		const struct vmsr_task_sample *ts = &s->tasks[i];
		const double *joules = &a->task_joules[i * VMSR_NR_DOMAINS];

		if (ts->result || ts->package >= a->nr_pkgs)
			continue;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++)
			s->owners[i]->joules[d] +=
				joules[d] * a->pkg_vm_scale[ts->package * VMSR_NR_DOMAINS + d];
	}

	memcpy(a->prev_pkgs, s->pkgs, a->nr_pkgs * sizeof(*s->pkgs));
	if (s->busy)
		memcpy(a->prev_busy, s->busy, a->nr_cpus * sizeof(*s->busy));
	a->prev_end_ns = s->end_ns;
	a->has_prev = true;
	return 0;
}
