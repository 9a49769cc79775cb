/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The thread registry: the threads an attribution follows, sorted by TID,
 * with what each has been charged. Internal to libvmsr, shared by the
 * sampler, vmsrstat and the exporter; not installed.
 *
 * Life cycle of an entry:
 *  - it enters without a baseline: the first sample that sees it sets one,
 *    and charges nothing;
 *  - it leaves when the VMM removes it, when a sample finds it exited (its
 *    final times are charged first) or reaped, or when a scan no longer
 *    lists it. What it was charged moves into the registry's "gone" totals,
 *    so per-process sums never go down;
 *  - a TID that left while /proc still lists it (a zombie group leader, a
 *    thread removed by hand) is ignored by later scans until /proc stops
 *    listing it.
 */
#ifndef LIBVMSR_REGISTRY_H
#define LIBVMSR_REGISTRY_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/vmsr.h>

#define VMSR_NO_VCPU	UINT32_MAX

struct vmsr_thread {
	int tid;
	uint32_t vcpu;		/* VMSR_NO_VCPU if not a vCPU's thread */
	bool has_baseline;	/* hwm_cpu_ns is valid */
	bool leaving;		/* exited or reaped: leaves at the end of this step */
	uint64_t hwm_cpu_ns;	/* highest CPU time seen: the baseline */
	uint64_t cpu_ns;	/* charged CPU time since it entered */
	double joules[VMSR_NR_DOMAINS];	/* charged energy since it entered */
	/* the last step */
	uint32_t cpu, package;	/* where it last ran; package VMSR_NO_PACKAGE if not charged */
	uint64_t step_cpu_ns;
	double step_joules[VMSR_NR_DOMAINS];
};

struct vmsr_registry {
	struct vmsr_thread *threads;	/* sorted by tid */
	uint32_t nr, cap;
	uint32_t max;			/* most entries: the device's max_sample_tasks */
	int *ignored;			/* sorted TIDs that scans skip */
	uint32_t nr_ignored, cap_ignored;
	/* charged to threads that have left, all time */
	uint64_t gone_cpu_ns;
	double gone_joules[VMSR_NR_DOMAINS];
};

/* @max: 1 or more. Returns 0 or -EINVAL. */
int vmsr_registry_init(struct vmsr_registry *r, uint32_t max);
void vmsr_registry_fini(struct vmsr_registry *r);

struct vmsr_thread *vmsr_registry_find(const struct vmsr_registry *r, int tid);

/* Adds @tid without a baseline. 0, -EEXIST, -E2BIG (at max) or -ENOMEM. */
int vmsr_registry_add(struct vmsr_registry *r, int tid, uint32_t vcpu);

/*
 * Removes @t (a pointer into r->threads), folding its totals into the gone
 * totals. With @ignore, later scans skip its TID while /proc lists it.
 * Returns 0 or -ENOMEM (the ignore list could not grow; @t is removed).
 */
int vmsr_registry_remove(struct vmsr_registry *r, struct vmsr_thread *t, bool ignore);

/* Removes every entry marked leaving, ignoring their TIDs (zombies). */
int vmsr_registry_reap(struct vmsr_registry *r);

/*
 * Brings the registry in line with a scan: @tids (sorted, @nr of them) is
 * what /proc lists now. Non-vCPU threads not listed are removed; listed
 * TIDs neither known nor ignored are added; ignored TIDs no longer listed
 * are forgotten. Returns the number of listed threads left out because the
 * registry is full, or -ENOMEM.
 */
int vmsr_registry_sync(struct vmsr_registry *r, const int *tids, uint32_t nr);

/* Sums of charged CPU time and energy: present threads plus gone ones. */
void vmsr_registry_totals(const struct vmsr_registry *r, uint64_t *cpu_ns,
			  double joules[VMSR_NR_DOMAINS]);

#endif /* LIBVMSR_REGISTRY_H */
