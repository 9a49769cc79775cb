/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The attribution core: turns consecutive samples into joules per host
 * package, per thread and per process (a registry's threads). The sampler
 * (virtual packages on top, attribution.c), vmsrstat and the exporter all
 * use it; it is internal to libvmsr, linked as objects, not exported.
 *
 * Per step, for each host package P with an online CPU and each domain d:
 *
 *   E(P,d)   = (counter now - counter before) mod 2^32 * unit(d): one wrap
 *              is undone; unit(d) per rapl_units.c
 *   share(T) = dcpu(T) / (online_cpus(P) * interval), clamped to [0, 1],
 *              for each registry thread T that the sample found on P
 *   E(T,d)   = share(T) * E(P,d)
 *   idle     = E(P,d) - sum of E(T,d) on P: not charged to any thread
 *
 * dcpu(T) is the thread's CPU time above the highest it ever reported (its
 * high-water mark): a reading that dips below it by at most
 * VMSR_DIP_MAX_NS (VMSR_SAMPLE_F_FRESH, a thread being switched out) is
 * charged nothing, and the time is charged once, when the thread passes
 * the mark again. A deeper drop is a reused TID: the mark restarts there.
 *
 * A package without online CPU (read_ns 0) is skipped: it gets no energy
 * and does not hold the step back; it restarts from its next reading when
 * a CPU comes back. Online CPUs are counted again at every step, from
 * /sys/devices/system/cpu/online, so hotplug takes effect at the next step.
 */
#ifndef LIBVMSR_ACCOUNT_H
#define LIBVMSR_ACCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "registry.h"
#include "snapshot.h"

/* The deepest dip of a thread's CPU time that is not a reused TID. */
#define VMSR_DIP_MAX_NS	1000000ULL

/* What an attribution knows of the host. */
struct vmsr_host {
	struct vmsr_info info;
	const uint32_t *cpu_map;	/* info.nr_cpus entries: INFO's cpu_map */
	uint64_t pkg_power_limit;	/* MSR 0x610, Intel hosts only, else 0 */
	uint64_t pkg_power_info;	/* MSR 0x614 (TDP), Intel hosts only, else 0 */
	uint32_t cpu_model;		/* vmsr_host_cpu_model(), 0 if unknown */
	const char *online_path;	/* NULL: /sys/devices/system/cpu/online */
	/*
	 * Optional: reads INFO's cpu_map again into @map (info.nr_cpus
	 * entries), for a CPU that came online for the first time.
	 */
	int (*refresh_cpu_map)(void *ctx, uint32_t *map);
	void *refresh_ctx;
};

/* One host package, as the last step left it. */
struct vmsr_account_pkg {
	uint32_t online_cpus;
	double joules[VMSR_NR_DOMAINS];		/* the last step */
	double idle_joules[VMSR_NR_DOMAINS];	/* the last step, charged to no thread */
	double total_joules[VMSR_NR_DOMAINS];	/* all steps */
	uint64_t wrap_ns;	/* shortest time the counter takes to wrap at TDP; 0 unknown */
};

struct vmsr_account {
	struct vmsr_host host;		/* host.cpu_map points at cpu_map */
	uint32_t *cpu_map;
	double joules_per_step[VMSR_NR_DOMAINS];
	struct vmsr_account_pkg *pkgs;	/* host.info.nr_packages entries */
	struct vmsr_pkg_sample *prev;	/* the previous sample's packages */
	bool has_prev;
	uint64_t prev_end_ns;
	/* the last step */
	uint64_t interval_ns;		/* 0 after the first sample */
	bool wrap_ambiguous;		/* interval_ns >= some package's wrap_ns */
};

/* Copies @host (and its cpu_map). Returns 0, -EINVAL or -ENOMEM. */
int vmsr_account_init(struct vmsr_account *a, const struct vmsr_host *host);
void vmsr_account_fini(struct vmsr_account *a);

/* Sets package and domains in @pkgs[host.info.nr_packages] for a sample. */
void vmsr_account_prepare(const struct vmsr_account *a, struct vmsr_pkg_sample *pkgs);

/*
 * Consumes @snap, whose tasks[] parallel r->threads[] (same TIDs, same
 * order), and charges every thread. Threads that exited or were reaped are
 * marked leaving; the caller removes them with vmsr_registry_reap() once it
 * has used their last step. Returns 0, or -EAGAIN, changing nothing, when a
 * package with an online CPU has not refreshed its counters since the
 * previous sample.
 */
int vmsr_account_step(struct vmsr_account *a, struct vmsr_registry *r,
		      const struct vmsr_snapshot *snap);

#endif /* LIBVMSR_ACCOUNT_H */
