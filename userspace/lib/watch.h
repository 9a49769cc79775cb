/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * One process watched through the attribution core (account.h): its
 * threads found in /proc at every sample, one SAMPLE call each time. What
 * vmsrstat shows, and what an exporter of many processes can keep one of
 * per process. Internal to libvmsr, linked as an object, not exported.
 */
#ifndef LIBVMSR_WATCH_H
#define LIBVMSR_WATCH_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "account.h"
#include "registry.h"

struct vmsr_watch {
	int fd;
	bool own_fd;			/* opened here: closed by vmsr_watch_close() */
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

/*
 * Prepares to watch @pid over @fd, a /dev/vmsr descriptor that stays the
 * caller's (several watches can share one), or over a descriptor of its
 * own if @fd is -1. Returns 0, or -errno (vmsr_open()'s when it opens one).
 */
int vmsr_watch_open(struct vmsr_watch *w, int fd, pid_t pid);
void vmsr_watch_close(struct vmsr_watch *w);

/*
 * One sample: scan, SAMPLE, the core's step. Returns 0, -EAGAIN (counters
 * not refreshed: try again), -ESRCH (the process is gone, or has no thread
 * left), -EACCES (another user's process) or -errno. After 0, the registry
 * holds this step's figures until vmsr_watch_done().
 */
int vmsr_watch_sample(struct vmsr_watch *w);

/* Lets the threads that left in the last sample go. */
int vmsr_watch_done(struct vmsr_watch *w);

#endif /* LIBVMSR_WATCH_H */
