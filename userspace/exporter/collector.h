/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The collector: a background thread that samples /dev/vmsr and /proc at a
 * fixed rate, whatever the scrape interval, so that a counter wrap between
 * two scrapes is never missed, and keeps the totals that a scrape renders.
 *
 * A scrape takes the collector's lock only to render the totals into a
 * buffer; the HTTP server sends that buffer without the lock, so a slow
 * client never holds up sampling.
 */
#ifndef VMSR_EXPORTER_COLLECTOR_H
#define VMSR_EXPORTER_COLLECTOR_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "account.h"
#include "energy_split.h"
#include "instances.h"
#include "expo.h"
#include "registry.h"
#include "vms.h"

/* What the device looks like; each state is logged once, with its fix. */
enum device_status {
	DEVICE_OK,
	DEVICE_MISSING,		/* no /dev/vmsr: the module is not loaded */
	DEVICE_DENIED,		/* /dev/vmsr is there, we may not open it */
	DEVICE_NO_RAPL,		/* opened, but the host has no RAPL counters */
	DEVICE_ERROR,		/* anything else */
	NR_DEVICE_STATUS,
};

enum collect_error {
	ERR_DEVICE_OPEN,	/* opening or querying /dev/vmsr failed */
	ERR_SAMPLE,		/* VMSR_IOC_SAMPLE failed */
	ERR_PROC,		/* a /proc listing or read failed */
	ERR_VM_IDENTITY,	/* a VM's command line could not be parsed */
	NR_COLLECT_ERRORS,
};

/* Which VM a task of the registry belongs to, for this sample. */
struct task_owner {
	int tid;
	struct vm *vm;
};

struct collector_config {
	const char *device;	/* NULL: /dev/vmsr */
	const char *proc_root;	/* NULL: /proc */
	uint32_t interval_ms;
	double retention_s;	/* how long a gone VM's counters stay */
};

struct collector {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stopping;
	struct collector_config cfg;
	long hz;

	/* the device */
	int fd;
	int stat_fd;		/* /proc/stat, kept open: each sample preads it */
	enum device_status status;
	bool status_logged;
	struct vmsr_info info;
	uint32_t *cpu_map;
	struct instance_label *labels;	/* [info.nr_packages] */
	bool have_energy;

	/* the attribution core (lib/account.h), and the split on top of it */
	struct vmsr_account core;
	struct vmsr_registry reg;	/* VM threads, or VM processes as one */
	struct energy_split split;

	struct vm_set vms;
	uint64_t samples;
	uint64_t errors[NR_COLLECT_ERRORS];

	/* one sample's arrays, reused */
	struct vmsr_pkg_sample *pkgs;
	struct vmsr_task_sample *tasks;	/* parallel to reg.threads */
	uint32_t cap_tasks;
	struct task_owner *owners;	/* sorted by tid */
	uint32_t nr_owners, cap_owners;
	uint64_t *busy;
	double *vm_joules, *energy, *scale;	/* [package * VMSR_NR_DOMAINS + domain] */
	uint32_t *online;
};


/* Starts the sampling thread. Returns 0 or -errno. */
int collector_start(struct collector *c, const struct collector_config *cfg);
void collector_stop(struct collector *c);

/* One sampling tick now (the thread calls it; tests too). */
void collector_tick(struct collector *c);

/* Renders every metric. Takes the lock. */
void collector_render(struct collector *c, struct expo *e);

const char *device_status_name(enum device_status status);

#endif /* VMSR_EXPORTER_COLLECTOR_H */
