/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libvmsr's sampler: the state shared by its source files. Not installed.
 *
 * A tick takes a snapshot (one SAMPLE call, or a test's scripted stream),
 * hands it to the attribution core (account.h), which charges the
 * registry's threads; attribution.c then applies the VMM policy (non-vCPU
 * energy spread over the vCPUs, vCPUs summed into virtual packages), and
 * virtual_msr.c publishes the virtual MSRs for lock-free readers.
 */
#ifndef LIBVMSR_SAMPLER_H
#define LIBVMSR_SAMPLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "account.h"
#include "libvmsr.h"
#include "registry.h"
#include "snapshot.h"

struct vmsr_vcpu {
	bool present;
	int tid;
	uint32_t vpackage;
	uint32_t host_package;
	uint64_t last_cpu_ns, last_interval_ns, cpu_ns;
	double joules[VMSR_NR_DOMAINS];
};

/* One host package during one tick: the policy's scratch, zeroed every tick. */
struct vmsr_pkg_tick {
	uint32_t nr_vcpus;			/* vCPU threads found on it */
	double per_vcpu[VMSR_NR_DOMAINS];	/* non-vCPU energy each of them gets */
};

/* The virtual MSRs one virtual package serves, indexed by enum vmsr_vreg. */
enum vmsr_vreg {
	VREG_POWER_UNIT,
	VREG_PKG_LIMIT,
	VREG_PKG_ENERGY,
	VREG_PKG_INFO,
	VREG_DRAM_ENERGY,
	VREG_PP0_ENERGY,
	NR_VREGS,
};

struct vmsr_vpackage {
	_Atomic uint64_t vreg[NR_VREGS];
	uint32_t nr_vcpus;
	uint64_t ticks;
	double joules[VMSR_NR_DOMAINS];
	double host_joules[VMSR_NR_DOMAINS];
};

struct vmsr_sampler {
	pthread_mutex_t lock;
	struct vmsr_sampler_config cfg;
	int fd;			/* -1 with a test source */
	uint32_t sample_flags;	/* VMSR_SAMPLE_F_* the device accepts */
	vmsr_source_fn source;
	void *source_ctx;
	bool check_tids;	/* added TIDs must be in /proc/<pid>/task */

	struct vmsr_account acct;	/* host packages, the core */
	struct vmsr_registry reg;	/* threads */
	struct vmsr_pkg_sample *pkg_samples;
	struct vmsr_task_sample *task_samples;
	double (*spread)[VMSR_NR_DOMAINS];	/* per thread, the policy's scratch */
	uint32_t cap_task_samples;		/* entries of task_samples and spread */
	struct vmsr_pkg_tick *pkg_ticks;	/* host.info.nr_packages entries */

	/* guest */
	struct vmsr_vcpu *vcpus;		/* cfg.max_vcpus */
	_Atomic uint32_t *vcpu_vpackage;	/* lock-free view of vcpus[] */
	struct vmsr_vpackage *vpkgs;		/* cfg.nr_vpackages */
	unsigned int guest_unit_shift;		/* energy unit of the guest */
	uint32_t valid_vregs;			/* mask of 1 << enum vmsr_vreg */

	/* the library's own tick thread */
	pthread_t thread;
	int thread_tid;		/* registered while it runs, else 0 */
	bool running, stopping;
	pthread_cond_t wake;
	uint32_t interval_ms;

	FILE *trace;
};

/* sampler.c */
int vmsr_sampler_create(const struct vmsr_sampler_config *cfg, const struct vmsr_host *host,
			vmsr_source_fn source, void *ctx, struct vmsr_sampler **out);

/* attribution.c: the VMM policy on top of the core, after a step. */
void vmsr_attribute_vcpus(struct vmsr_sampler *s);

/* virtual_msr.c */
void vmsr_vregs_init(struct vmsr_sampler *s);
void vmsr_vregs_publish(struct vmsr_sampler *s, uint32_t vpackage);

#endif /* LIBVMSR_SAMPLER_H */
