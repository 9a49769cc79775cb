/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Where each host package's energy went during one step of the attribution
 * core (lib/account.h): VMs, other processes, idle.
 *
 * The core gives, per package P and domain d, the step's energy dE(P) (wrap
 * corrected) and each VM thread's (or, on a one-package host, each VM
 * process's) charge: dcpu / (online_cpus(P) * interval) * dE(P). Here:
 *
 *   VMs(P)     the sum of the VM charges on P, scaled down to dE(P) in the
 *              rare step where CPU time accounting lets it pass dE(P); each
 *              VM's charge on P is scaled by the same factor
 *   busy(P)    the non-idle time of P's CPUs in /proc/stat, as a share of
 *              online_cpus(P) * interval, clamped to [0, 1]
 *   other(P)   max(0, busy(P) * dE(P) - VMs(P))
 *   idle(P)    dE(P) - VMs(P) - other(P)
 *
 * so that VMs + other + idle = package for every package, domain and step,
 * up to floating-point rounding (docs/exporter.md).
 */
#ifndef VMSR_EXPORTER_ENERGY_SPLIT_H
#define VMSR_EXPORTER_ENERGY_SPLIT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/vmsr.h>

/* Totals of one host package since the exporter started, in joules. */
struct pkg_totals {
	double energy[VMSR_NR_DOMAINS];
	double vms[VMSR_NR_DOMAINS];
	double other[VMSR_NR_DOMAINS];
	double idle[VMSR_NR_DOMAINS];
};

struct energy_split {
	uint32_t nr_pkgs, nr_cpus;
	const uint32_t *cpu_map;	/* nr_cpus entries: each CPU's package */
	double ns_per_tick;		/* of /proc/stat */
	struct pkg_totals *totals;	/* nr_pkgs entries */
	uint64_t *prev_busy;		/* nr_cpus entries, clock ticks */
	bool has_prev_busy;
};

/* One step, all arrays indexed [package * VMSR_NR_DOMAINS + domain]. */
struct split_step {
	const double *energy;		/* dE(P) */
	const double *vms;		/* the VM charges' sum on P */
	const uint32_t *online_cpus;	/* nr_pkgs entries */
	const uint64_t *busy;		/* nr_cpus entries from /proc/stat, or NULL */
	uint64_t interval_ns;		/* 0: the first step, which only sets the baseline */
	double *scale;			/* out: what each VM charge on P is multiplied by */
};

int split_init(struct energy_split *s, uint32_t nr_pkgs, uint32_t nr_cpus,
	       const uint32_t *cpu_map, long hz);
void split_free(struct energy_split *s);

/* Adds one step to the totals. */
void split_add(struct energy_split *s, const struct split_step *step);

#endif /* VMSR_EXPORTER_ENERGY_SPLIT_H */
