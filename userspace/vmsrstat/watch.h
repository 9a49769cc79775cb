/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * vmsrstat's view of one process: the device and libvmsr's attribution
 * core (lib/account.h), which the sampler uses too, so that both charge a
 * thread the same joules.
 */
#ifndef VMSRSTAT_WATCH_H
#define VMSRSTAT_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "account.h"
#include "registry.h"

struct watch {
	int fd;
	uint32_t sample_flags;
	pid_t pid;
	struct vmsr_account acct;
	struct vmsr_registry reg;
	struct vmsr_pkg_sample *pkgs;
	struct vmsr_task_sample *tasks;
	uint32_t cap_tasks;
	bool has_energy;		/* the host has package energy counters */
	uint64_t first_ns, last_ns;	/* end_ns of the first and the last sample */
	uint64_t samples;
};

/* Opens the device for watching @pid. Returns 0 or -errno (from vmsr_open() if < 0 there). */
int watch_open(struct watch *w, pid_t pid);
void watch_close(struct watch *w);

/*
 * One sample: scan, SAMPLE, the core's step. Returns 0, -EAGAIN (counters
 * not refreshed: try again), -ESRCH (the process is gone, or has no thread
 * left), -EACCES (another user's process) or -errno. After 0, the registry
 * holds this step's figures until watch_done().
 */
int watch_sample(struct watch *w);

/* Lets the threads that left in the last sample go. */
int watch_done(struct watch *w);

#endif /* VMSRSTAT_WATCH_H */
