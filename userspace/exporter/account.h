/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * Where each host package's energy went during one sampling interval:
 * VMs, other processes, idle. The rules (docs/exporter.md):
 *
 *   dE(P)      package P's energy since the previous sample, per domain,
 *              wrap-corrected (the counters are 32 bits wide)
 *   vm(T)      for each VM thread T the sample found on P:
 *              dcpu(T) / (cpus_in(P) * interval) * dE(P), the rule of
 *              libvmsr and QEMU; summed per VM
 *   busy(P)    the non-idle time of P's CPUs in /proc/stat, as a share of
 *              cpus_in(P) * interval, clamped to [0, 1]
 *   VMs(P)     the sum of vm(T) over P's threads, scaled down to dE(P)
 *              in the rare interval where CPU time accounting lets it pass
 *              dE(P)
 *   other(P)   max(0, busy(P) * dE(P) - VMs(P))
 *   idle(P)    dE(P) - VMs(P) - other(P)
 *
 * so that VMs + other + idle = package for every package, domain and
 * interval, up to floating-point rounding.
 */
#ifndef VMSR_EXPORTER_ACCOUNT_H
#define VMSR_EXPORTER_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/vmsr.h>

#include "vms.h"

/* Totals of one host package since the exporter started, in joules. */
struct pkg_totals {
	double energy[VMSR_NR_DOMAINS];
	double vms[VMSR_NR_DOMAINS];
	double other[VMSR_NR_DOMAINS];
	double idle[VMSR_NR_DOMAINS];
};

struct account {
	/* the host */
	uint32_t nr_pkgs, nr_cpus;
	const uint32_t *cpu_map;	/* nr_cpus entries: each CPU's package */
	uint32_t *cpus_in_pkg;		/* nr_pkgs entries */
	double joules_per_step;
	uint32_t domains;		/* VMSR_DOMAIN_BIT()s present */
	double ns_per_tick;		/* of /proc/stat */

	struct pkg_totals *totals;	/* nr_pkgs entries */

	/* the previous sample */
	bool has_prev;
	uint64_t prev_end_ns;
	struct vmsr_pkg_sample *prev_pkgs;
	uint64_t *prev_busy;		/* nr_cpus entries, clock ticks */

	/* scratch for one interval */
	double *task_joules;		/* cap_tasks * VMSR_NR_DOMAINS */
	uint32_t cap_tasks;
	double *pkg_vm_joules;		/* nr_pkgs * VMSR_NR_DOMAINS: VM energy */
	double *pkg_vm_scale;		/* the same: what it is scaled by */
};

/* One sample: the SAMPLE call's arrays, and the /proc/stat read after it. */
struct account_sample {
	const struct vmsr_pkg_sample *pkgs;	/* nr_pkgs entries, package order */
	const struct vmsr_task_sample *tasks;
	struct vm_thread *const *threads;	/* the thread each task is */
	struct vm *const *owners;		/* the VM each task belongs to */
	uint32_t nr_tasks;
	uint64_t end_ns;
	const uint64_t *busy;			/* nr_cpus entries, or NULL */
};

int account_init(struct account *a, uint32_t nr_pkgs, uint32_t nr_cpus, const uint32_t *cpu_map,
		 double joules_per_step, uint32_t domains, long hz);
void account_free(struct account *a);

/*
 * Consumes one sample: updates the threads' baselines, the VMs' and the
 * packages' totals. Returns 0, -EAGAIN if the counters were not refreshed
 * since the previous sample (nothing changes), or -ENOMEM.
 */
int account_sample(struct account *a, const struct account_sample *s);

#endif /* VMSR_EXPORTER_ACCOUNT_H */
