// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench method (a): one VMSR_IOC_SAMPLE per tick, for every package's
 * energy counters and every thread's CPU time, through libvmsr.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "bench.h"

int vmsr_method_open(struct vmsr_method *m, const char *device, const pid_t *tids,
		     unsigned int n, uint32_t flags)
{
	struct vmsr_info info;
	unsigned int i;
	int ret;

	m->fd = vmsr_open(device);
	if (m->fd < 0)
		return m->fd;
	ret = vmsr_get_info(m->fd, &info, NULL, 0);
	if (ret) {
		close(m->fd);
		return ret;
	}
	m->flags = flags;
	m->nr_pkgs = info.nr_packages;
	m->pkgs = xcalloc(m->nr_pkgs, sizeof(*m->pkgs));
	for (i = 0; i < m->nr_pkgs; i++) {
		m->pkgs[i].package = i;
		m->pkgs[i].domains = info.domains;
	}
	m->nr = n;
	m->tasks = xcalloc(n, sizeof(*m->tasks));
	for (i = 0; i < n; i++)
		m->tasks[i].tid = tids[i];
	return 0;
}

int vmsr_method_tick(struct vmsr_method *m)
{
	return vmsr_sample_flags(m->fd, m->flags, m->pkgs, m->nr_pkgs, m->tasks, m->nr,
				 &m->start_ns, &m->end_ns);
}

void vmsr_method_close(struct vmsr_method *m)
{
	close(m->fd);
	free(m->pkgs);
	free(m->tasks);
}

/* Whether the module takes VMSR_SAMPLE_F_FRESH: it refuses flags it lacks. */
bool vmsr_method_fresh_supported(const char *device)
{
	int fd = vmsr_open(device);
	bool ok;

	if (fd < 0)
		return false;
	ok = !vmsr_sample_flags(fd, VMSR_SAMPLE_F_FRESH, NULL, 0, NULL, 0, NULL, NULL);
	close(fd);
	return ok;
}
