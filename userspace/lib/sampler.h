/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libvmsr's sampler: the state shared by its source files. Not installed.
 *
 * A tick takes a snapshot (one SAMPLE call, or a test's scripted stream),
 * hands it to the attribution, which adds energy to the vCPUs and virtual
 * packages, then publishes the virtual MSRs for lock-free readers.
 */
#ifndef LIBVMSR_SAMPLER_H
#define LIBVMSR_SAMPLER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "libvmsr.h"

#define VMSR_NO_VCPU	UINT32_MAX

/* One sample: the arrays of a SAMPLE call and its time stamps. */
struct vmsr_snapshot {
	struct vmsr_pkg_sample *pkgs;
	uint32_t nr_pkgs;
	struct vmsr_task_sample *tasks;
	uint32_t nr_tasks;
	uint64_t start_ns, end_ns;
};

/* Fills the out fields of @snap; returns 0 or -errno. */
typedef int (*vmsr_source_fn)(void *ctx, struct vmsr_snapshot *snap);

/* What the sampler knows of the host: INFO, its CPU map, the limit MSRs. */
struct vmsr_host {
	struct vmsr_info info;
	const uint32_t *cpu_map;	/* info.nr_cpus entries */
	uint64_t pkg_power_limit;	/* Intel hosts only, else 0 */
	uint64_t pkg_power_info;
};

/* A thread of the VMM: a vCPU's, or another one. Sorted by tid. */
struct vmsr_thread {
	int tid;
	uint32_t vcpu;		/* VMSR_NO_VCPU if not a vCPU thread */
	bool has_baseline;	/* prev_cpu_ns is valid */
	bool drop;		/* gone: remove at the end of this step */
	uint64_t prev_cpu_ns;
	/* this tick */
	uint32_t package;
	double joules[VMSR_NR_DOMAINS];
};

struct vmsr_vcpu {
	bool present;
	int tid;
	uint32_t vpackage;
	uint32_t host_package;
	uint64_t last_cpu_ns, last_interval_ns, cpu_ns;
	double joules[VMSR_NR_DOMAINS];
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

	/* host */
	struct vmsr_host host;
	uint32_t *cpu_map;
	uint32_t *cpus_in_pkg;	/* host.info.nr_packages entries */
	double joules_per_step;
	uint32_t domains;	/* host domains the virtual package serves */

	/* guest */
	struct vmsr_vcpu *vcpus;		/* cfg.max_vcpus */
	_Atomic uint32_t *vcpu_vpackage;	/* lock-free view of vcpus[] */
	struct vmsr_vpackage *vpkgs;		/* cfg.nr_vpackages */
	unsigned int guest_unit_shift;		/* energy unit of the guest */
	uint32_t valid_vregs;			/* mask of 1 << enum vmsr_vreg */

	/* threads, and the SAMPLE arrays built from them */
	struct vmsr_thread *threads;
	uint32_t nr_threads, cap_threads;
	bool scanned_once;
	struct vmsr_pkg_sample *pkg_samples;
	struct vmsr_task_sample *task_samples;

	/* the previous snapshot */
	bool has_prev;
	uint64_t prev_end_ns;
	struct vmsr_pkg_sample *prev_pkgs;

	/* the library's own tick thread */
	pthread_t thread;
	bool running, stopping;
	pthread_cond_t wake;
	uint32_t interval_ms;

	FILE *trace;
};

/* sampler.c */
int vmsr_sampler_create(const struct vmsr_sampler_config *cfg, const struct vmsr_host *host,
			vmsr_source_fn source, void *ctx, struct vmsr_sampler **out);
struct vmsr_thread *vmsr_find_thread(struct vmsr_sampler *s, int tid);
int vmsr_insert_thread(struct vmsr_sampler *s, int tid, uint32_t vcpu);
void vmsr_drop_thread(struct vmsr_sampler *s, struct vmsr_thread *t);

/* attribution.c */
int vmsr_attribute(struct vmsr_sampler *s, const struct vmsr_snapshot *snap);

/* thread_scan.c */
int vmsr_scan_threads(struct vmsr_sampler *s);

/* virtual_msr.c */
void vmsr_vregs_init(struct vmsr_sampler *s);
void vmsr_vregs_publish(struct vmsr_sampler *s, uint32_t vpackage);

#endif /* LIBVMSR_SAMPLER_H */
