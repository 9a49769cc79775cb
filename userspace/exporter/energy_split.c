// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Package energy split between VMs, other processes and idle; see energy_split.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "energy_split.h"

int split_init(struct energy_split *s, uint32_t nr_pkgs, uint32_t nr_cpus,
	       const uint32_t *cpu_map, long hz)
{
	memset(s, 0, sizeof(*s));
	s->nr_pkgs = nr_pkgs;
	s->nr_cpus = nr_cpus;
	s->cpu_map = cpu_map;
	s->ns_per_tick = 1e9 / hz;
	s->totals = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*s->totals));
	s->prev_busy = calloc(nr_cpus ? nr_cpus : 1, sizeof(*s->prev_busy));
	if (!s->totals || !s->prev_busy) {
		split_free(s);
		return -ENOMEM;
	}
	return 0;
}

void split_free(struct energy_split *s)
{
	free(s->totals);
	free(s->prev_busy);
	memset(s, 0, sizeof(*s));
}

/* Non-idle share of package @p's online CPUs over the step, in [0, 1]. */
static double busy_share(const struct energy_split *s, const struct split_step *step,
			 uint32_t p)
{
	uint64_t ticks = 0;
	double share;

	if (!step->busy || !s->has_prev_busy || !step->online_cpus[p])
		return 0;
	for (uint32_t c = 0; c < s->nr_cpus; c++)
		if (s->cpu_map[c] == p && step->busy[c] >= s->prev_busy[c])
			ticks += step->busy[c] - s->prev_busy[c];
	share = ticks * s->ns_per_tick / ((double)step->online_cpus[p] * step->interval_ns);
	return share > 1 ? 1 : share;
}

void split_add(struct energy_split *s, const struct split_step *step)
{
	for (uint32_t p = 0; step->interval_ns && p < s->nr_pkgs; p++) {
		struct pkg_totals *tot = &s->totals[p];
		double busy = busy_share(s, step, p);

		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			uint32_t i = p * VMSR_NR_DOMAINS + d;
			double de = step->energy[i], vms = step->vms[i], other;

			/* More CPU time than the package had: scale the VMs down to dE. */
			step->scale[i] = 1;
			if (vms > de) {
				step->scale[i] = vms > 0 ? de / vms : 0;
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
	if (step->busy) {
		memcpy(s->prev_busy, step->busy, s->nr_cpus * sizeof(*step->busy));
		s->has_prev_busy = true;
	}
}
