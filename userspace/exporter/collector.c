// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* The sampling thread and the totals it keeps; see collector.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "libvmsr.h"
#include "proc_scan.h"

#define PROC_STAT_MAX	(1 << 20)

static const char *const status_names[NR_DEVICE_STATUS] = {
	[DEVICE_OK] = "ok",
	[DEVICE_MISSING] = "missing",
	[DEVICE_DENIED] = "denied",
	[DEVICE_NO_RAPL] = "no_rapl",
	[DEVICE_ERROR] = "error",
};

const char *device_status_name(enum device_status status)
{
	return status_names[status];
}

static double now_s(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One log line per change of the device's state, telling what to do. */
static void set_status(struct collector *c, enum device_status status, int err)
{
	const char *dev = c->cfg.device ? c->cfg.device : VMSR_DEVICE_PATH;

	if (c->status == status && c->status_logged)
		return;
	c->status = status;
	c->status_logged = true;
	switch (status) {
	case DEVICE_OK:
		fprintf(stderr, "vmsr_exporter: %s: sampling %u package(s) every %u ms\n", dev,
			c->info.nr_packages, c->cfg.interval_ms);
		break;
	case DEVICE_MISSING:
		fprintf(stderr, "vmsr_exporter: %s: %s; the vmsr module is not loaded: install vmsr-dkms or run 'modprobe vmsr'; until then only VMs are listed, without energy\n",
			dev, strerror(-err));
		break;
	case DEVICE_DENIED:
		fprintf(stderr, "vmsr_exporter: %s: %s; the exporter must run in group kvm (the packaged unit has SupplementaryGroups=kvm) and the udev rule 60-vmsr.rules must have made the device root:kvm 0660\n",
			dev, strerror(-err));
		break;
	case DEVICE_NO_RAPL:
		fprintf(stderr, "vmsr_exporter: %s: this host has no RAPL energy counters vmsr can read; VM CPU time is exported, energy is not\n",
			dev);
		break;
	case DEVICE_ERROR:
		fprintf(stderr, "vmsr_exporter: %s: %s; retrying every %u ms\n", dev, strerror(-err),
			c->cfg.interval_ms);
		break;
	default:
		break;
	}
}

static void close_device(struct collector *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	free(c->cpu_map);
	c->cpu_map = NULL;
	account_free(&c->acct);
	c->have_energy = false;
}

/* Opens the device if it is not open; sets the status. */
static void open_device(struct collector *c)
{
	uint32_t domains;
	int fd, ret;

	if (c->fd >= 0)
		return;
	/* Read-only: the ioctls need no more, and the unit allows no more. */
	fd = open(c->cfg.device ? c->cfg.device : VMSR_DEVICE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fd = -errno;
	if (fd < 0) {
		c->errors[ERR_DEVICE_OPEN]++;
		set_status(c, fd == -ENOENT || fd == -ENODEV || fd == -ENXIO ? DEVICE_MISSING :
			   fd == -EACCES || fd == -EPERM ? DEVICE_DENIED : DEVICE_ERROR, fd);
		return;
	}
	c->fd = fd;
	ret = vmsr_get_info(fd, &c->info, NULL, 0);
	if (!ret) {
		c->cpu_map = calloc(c->info.nr_cpus ? c->info.nr_cpus : 1, sizeof(*c->cpu_map));
		ret = c->cpu_map ? vmsr_get_info(fd, &c->info, c->cpu_map, c->info.nr_cpus) :
			-ENOMEM;
	}
	if (!ret && c->info.nr_packages > c->info.max_sample_pkgs)
		ret = -E2BIG;
	if (!ret)
		ret = account_init(&c->acct, c->info.nr_packages, c->info.nr_cpus, c->cpu_map,
				   vmsr_joules_per_step(&c->info), c->info.domains, c->hz);
	if (!ret) {
		struct vmsr_pkg_sample *pkgs = realloc(c->pkgs, (c->info.nr_packages + 1) *
						       sizeof(*pkgs));
		uint64_t *busy = realloc(c->busy, (c->info.nr_cpus + 1) * sizeof(*busy));

		if (pkgs)
			c->pkgs = pkgs;
		if (busy)
			c->busy = busy;
		if (!pkgs || !busy)
			ret = -ENOMEM;
	}
	if (ret) {
		c->errors[ERR_DEVICE_OPEN]++;
		close_device(c);
		set_status(c, DEVICE_ERROR, ret);
		return;
	}
	domains = c->info.domains;
	c->have_energy = domains && c->info.power_unit_raw;
	set_status(c, c->have_energy ? DEVICE_OK : DEVICE_NO_RAPL, 0);
}

static bool grow_tasks(struct collector *c, uint32_t total)
{
	struct vmsr_task_sample *tasks;
	struct vm_thread **threads;
	struct vm **owners;

	if (total <= c->cap_tasks)
		return true;
	tasks = realloc(c->tasks, total * sizeof(*tasks));
	if (tasks)
		c->tasks = tasks;
	threads = realloc(c->threads, total * sizeof(*threads));
	if (threads)
		c->threads = threads;
	owners = realloc(c->owners, total * sizeof(*owners));
	if (owners)
		c->owners = owners;
	if (!tasks || !threads || !owners)
		return false;
	c->cap_tasks = total;
	return true;
}

/*
 * One task's CPU time and CPU from @root/@path's stat; result -ESRCH if it
 * is gone.
 */
static void read_task(struct collector *c, const char *root, int pid, const char *path,
		      struct vmsr_task_sample *ts)
{
	unsigned long long ticks;
	unsigned int cpu;
	char stat[1024];
	ssize_t len;

	len = proc_read(root, pid, path, stat, sizeof(stat) - 1);
	if (len <= 0 || proc_parse_times(stat, len, &ticks, &cpu)) {
		ts->result = -ESRCH;
		return;
	}
	ts->cpu = cpu;
	ts->package = cpu < c->info.nr_cpus ? c->cpu_map[cpu] : VMSR_NO_PACKAGE;
	ts->cpu_ns = ticks * (1000000000ULL / c->hz);
}

/*
 * Every running VM's CPU time, from /proc, which any user may read: the
 * device gives task times only for the caller's own uid (or with
 * CAP_SYS_PTRACE). A host with one package needs the process's total only;
 * with more, each thread's, to know which package it ran on.
 */
static int read_tasks(struct collector *c, const char *root, bool per_thread, uint32_t *nr)
{
	uint32_t n = 0, total = 0;
	char path[64];

	for (uint32_t i = 0; i < c->vms.nr_vms; i++)
		if (!c->vms.vms[i].gone_at)
			total += per_thread ? c->vms.vms[i].nr_threads : 1;
	if (!grow_tasks(c, total))
		return -ENOMEM;
	for (uint32_t i = 0; i < c->vms.nr_vms; i++) {
		struct vm *vm = &c->vms.vms[i];
		uint32_t nr_threads = per_thread ? vm->nr_threads : 1;

		for (uint32_t t = 0; t < nr_threads && !vm->gone_at; t++) {
			struct vmsr_task_sample *ts = &c->tasks[n];

			memset(ts, 0, sizeof(*ts));
			c->threads[n] = per_thread ? &vm->threads[t] : &vm->process;
			c->owners[n] = vm;
			ts->tid = c->threads[n]->tid;
			if (per_thread) {
				snprintf(path, sizeof(path), "task/%d/stat", ts->tid);
				read_task(c, root, vm->pid, path, ts);
			} else {
				read_task(c, root, vm->pid, "stat", ts);
			}
			n++;
		}
	}
	*nr = n;
	return 0;
}

/* /proc/stat's busy time per CPU into c->busy; false if unreadable. */
static bool read_cpu_busy(struct collector *c, const char *root)
{
	static char buf[PROC_STAT_MAX];
	char path[256];
	FILE *f;
	size_t len;

	snprintf(path, sizeof(path), "%s/stat", root);
	f = fopen(path, "re");
	if (!f)
		return false;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	return !proc_parse_cpu_busy(buf, c->busy, c->info.nr_cpus);
}

static void sample(struct collector *c, const char *root, bool per_thread)
{
	struct account_sample s = { 0 };
	uint32_t nr_pkgs = c->info.nr_packages;
	uint32_t nr_tasks = 0;
	int ret;

	if (read_tasks(c, root, per_thread, &nr_tasks)) {
		c->errors[ERR_SAMPLE]++;
		return;
	}
	if (c->have_energy) {
		for (uint32_t p = 0; p < nr_pkgs; p++)
			c->pkgs[p] = (struct vmsr_pkg_sample){ .package = p,
							       .domains = c->info.domains };
		ret = vmsr_sample(c->fd, c->pkgs, nr_pkgs, NULL, 0, NULL, &s.end_ns);
		if (ret) {
			c->errors[ERR_SAMPLE]++;
			if (ret == -ENODEV) {	/* the module went away */
				close_device(c);
				set_status(c, DEVICE_MISSING, ret);
			}
			return;
		}
	} else {
		/* CPU time only: no interval, so no energy, and every sample counts. */
		memset(c->pkgs, 0, nr_pkgs * sizeof(*c->pkgs));
		c->acct.has_prev = false;
	}
	s.pkgs = c->pkgs;
	s.tasks = c->tasks;
	s.threads = c->threads;
	s.owners = c->owners;
	s.nr_tasks = nr_tasks;
	if (read_cpu_busy(c, root))
		s.busy = c->busy;
	else
		c->errors[ERR_PROC]++;
	ret = account_sample(&c->acct, &s);
	if (!ret)
		c->samples++;
	else if (ret != -EAGAIN)
		c->errors[ERR_SAMPLE]++;
}

void collector_tick(struct collector *c)
{
	const char *root = c->cfg.proc_root ? c->cfg.proc_root : "/proc";
	double boot = now_s(CLOCK_BOOTTIME);
	bool per_thread;

	pthread_mutex_lock(&c->lock);
	open_device(c);
	if (vms_scan(&c->vms, root, now_s(CLOCK_MONOTONIC), (unsigned long long)(boot * c->hz),
		     c->hz, c->cfg.retention_s))
		c->errors[ERR_PROC]++;
	c->errors[ERR_VM_IDENTITY] = c->vms.ids_incomplete;
	per_thread = c->fd >= 0 && c->info.nr_packages > 1;
	for (uint32_t i = 0; per_thread && i < c->vms.nr_vms; i++) {
		struct vm *vm = &c->vms.vms[i];
		int ret = vm->gone_at ? 0 : vm_scan_threads(vm, root);

		/* A VM that exited since the scan is found gone by the next one. */
		if (ret && ret != -ENOENT)
			c->errors[ERR_PROC]++;
	}
	if (c->fd >= 0)
		sample(c, root, per_thread);
	pthread_mutex_unlock(&c->lock);
}

static void *sampling_thread(void *arg)
{
	struct collector *c = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		pthread_mutex_unlock(&c->lock);
		collector_tick(c);
		pthread_mutex_lock(&c->lock);

		/* Fixed rate: the next deadline, or now if the tick overran it. */
		next.tv_nsec += (long)(c->cfg.interval_ms % 1000) * 1000000;
		next.tv_sec += c->cfg.interval_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (!c->stopping &&
		       pthread_cond_timedwait(&c->wake, &c->lock, &next) != ETIMEDOUT)
			;
		if (now_s(CLOCK_MONOTONIC) > next.tv_sec + next.tv_nsec / 1e9 + 1)
			clock_gettime(CLOCK_MONOTONIC, &next);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

int collector_start(struct collector *c, const struct collector_config *cfg)
{
	pthread_condattr_t attr;
	sigset_t all, old;
	int ret;

	memset(c, 0, sizeof(*c));
	c->cfg = *cfg;
	c->fd = -1;
	c->hz = sysconf(_SC_CLK_TCK);
	pthread_mutex_init(&c->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->wake, &attr);
	pthread_condattr_destroy(&attr);

	/* Signals are the main thread's to handle. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&c->thread, NULL, sampling_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	c->running = !ret;
	return ret;
}

void collector_stop(struct collector *c)
{
	if (c->running) {
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
		c->running = false;
	}
	close_device(c);
	vms_free(&c->vms);
	free(c->pkgs);
	free(c->tasks);
	free(c->threads);
	free(c->owners);
	free(c->busy);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
}
