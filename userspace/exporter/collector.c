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
#include "rapl_units.h"
#include "task_scan.h"

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
		fprintf(stderr, "vmsr_exporter: %s: this host has no RAPL energy counters vmsr can read; VMs are listed, without energy or CPU time\n",
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
	free(c->labels);
	c->labels = NULL;
	if (c->have_energy) {
		vmsr_account_fini(&c->core);
		vmsr_registry_fini(&c->reg);
		split_free(&c->split);
	}
	c->have_energy = false;
	free(c->pkgs);
	free(c->busy);
	free(c->vm_joules);
	free(c->energy);
	free(c->scale);
	free(c->online);
	c->pkgs = NULL;
	c->busy = NULL;
	c->vm_joules = c->energy = c->scale = NULL;
	c->online = NULL;
}

/* The attribution core over the device's host, and the arrays of a sample. */
static int energy_init(struct collector *c)
{
	struct vmsr_host host = {
		.info = c->info,
		.cpu_map = c->cpu_map,
		.cpu_model = vmsr_host_cpu_model(),
	};
	size_t n = (size_t)c->info.nr_packages * VMSR_NR_DOMAINS;
	int ret;

	ret = vmsr_account_init(&c->core, &host);
	if (ret)
		return ret;
	/* Tasks come from /proc, not from SAMPLE: no device cap on their number. */
	ret = vmsr_registry_init(&c->reg, UINT32_MAX);
	if (!ret)
		ret = split_init(&c->split, c->info.nr_packages, c->info.nr_cpus, c->cpu_map,
				 c->hz);
	if (ret) {
		vmsr_account_fini(&c->core);
		vmsr_registry_fini(&c->reg);
		return ret;
	}
	c->have_energy = true;
	c->pkgs = calloc(c->info.nr_packages, sizeof(*c->pkgs));
	c->busy = calloc(c->info.nr_cpus, sizeof(*c->busy));
	c->vm_joules = calloc(n, sizeof(double));
	c->energy = calloc(n, sizeof(double));
	c->scale = calloc(n, sizeof(double));
	c->online = calloc(c->info.nr_packages, sizeof(*c->online));
	if (!c->pkgs || !c->busy || !c->vm_joules || !c->energy || !c->scale || !c->online)
		return -ENOMEM;
	return 0;
}

/* Opens the device if it is not open; sets the status. */
static void open_device(struct collector *c)
{
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
	if (!ret) {
		c->labels = calloc(c->info.nr_packages ? c->info.nr_packages : 1,
				   sizeof(*c->labels));
		if (c->labels)
			instance_labels(NULL, &c->info, c->cpu_map, c->labels);
		else
			ret = -ENOMEM;
	}
	if (ret) {
		c->errors[ERR_DEVICE_OPEN]++;
		close_device(c);
		set_status(c, DEVICE_ERROR, ret);
		return;
	}
	if (!c->info.domains || !c->info.power_unit_raw) {
		set_status(c, DEVICE_NO_RAPL, 0);
		return;
	}
	ret = energy_init(c);
	if (ret) {
		c->errors[ERR_DEVICE_OPEN]++;
		close_device(c);
		set_status(c, DEVICE_ERROR, ret);
		return;
	}
	set_status(c, DEVICE_OK, 0);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct task_owner *x = a, *y = b;

	return (x->tid > y->tid) - (x->tid < y->tid);
}

static int add_owner(struct collector *c, int tid, struct vm *vm)
{
	if (c->nr_owners == c->cap_owners) {
		uint32_t cap = c->cap_owners ? 2 * c->cap_owners : 256;
		struct task_owner *bigger = realloc(c->owners, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		c->owners = bigger;
		c->cap_owners = cap;
	}
	c->owners[c->nr_owners++] = (struct task_owner){ .tid = tid, .vm = vm };
	return 0;
}

static struct vm *owner_of(const struct collector *c, int tid)
{
	struct task_owner key = { .tid = tid }, *o;

	o = bsearch(&key, c->owners, c->nr_owners, sizeof(key), cmp_owner);
	return o ? o->vm : NULL;
}

/*
 * What the registry follows: on a host with one package, each running VM
 * process as one task (its pid), whose /proc/PID/stat times include every
 * thread's, exited ones too; with more packages, each thread, from the
 * core's task scanner, to know which package it ran on.
 */
static int list_tasks(struct collector *c, bool per_thread)
{
	c->nr_owners = 0;
	for (uint32_t i = 0; i < c->vms.nr_vms; i++) {
		struct vm *vm = &c->vms.vms[i];
		uint32_t nr;
		int *tids, ret;

		if (vm->gone_at)
			continue;
		if (!per_thread) {
			if (add_owner(c, vm->pid, vm))
				return -ENOMEM;
			continue;
		}
		ret = vmsr_task_scan(vm->pid, &tids, &nr);
		if (ret == -ENOENT)	/* exited: the next scan finds it gone */
			continue;
		if (ret)
			return ret;
		for (uint32_t t = 0; t < nr && !ret; t++)
			ret = add_owner(c, tids[t], vm);
		free(tids);
		if (ret)
			return ret;
	}
	qsort(c->owners, c->nr_owners, sizeof(*c->owners), cmp_owner);
	return 0;
}

/*
 * A task's CPU time and last CPU, from /proc, which any user may read: the
 * device gives task times only to the same uid or CAP_SYS_PTRACE. Result
 * -ESRCH if it is gone.
 */
static void read_task(struct collector *c, const char *root, bool per_thread,
		      struct vmsr_task_sample *ts)
{
	struct vm *vm = owner_of(c, ts->tid);
	unsigned long long ticks;
	char stat[1024], path[64];
	unsigned int cpu;
	ssize_t len = -ESRCH;

	if (vm && per_thread) {
		snprintf(path, sizeof(path), "task/%d/stat", ts->tid);
		len = proc_read(root, vm->pid, path, stat, sizeof(stat) - 1);
	} else if (vm) {
		len = vm_read_stat(root, vm, stat, sizeof(stat) - 1);
	}
	if (len <= 0 || proc_parse_times(stat, len, &ticks, &cpu)) {
		ts->result = -ESRCH;
		return;
	}
	ts->cpu = cpu;
	ts->package = cpu < c->info.nr_cpus ? c->cpu_map[cpu] : VMSR_NO_PACKAGE;
	ts->cpu_ns = ticks * (1000000000ULL / c->hz);
}

static int read_tasks(struct collector *c, const char *root, bool per_thread)
{
	int *tids, ret;

	ret = list_tasks(c, per_thread);
	if (ret)
		return ret;
	tids = malloc((c->nr_owners ? c->nr_owners : 1) * sizeof(*tids));
	if (!tids)
		return -ENOMEM;
	for (uint32_t i = 0; i < c->nr_owners; i++)
		tids[i] = c->owners[i].tid;
	ret = vmsr_registry_sync(&c->reg, tids, c->nr_owners);
	free(tids);
	if (ret < 0)
		return ret;
	if (c->reg.nr > c->cap_tasks) {
		struct vmsr_task_sample *tasks = realloc(c->tasks, c->reg.nr * sizeof(*tasks));

		if (!tasks)
			return -ENOMEM;
		c->tasks = tasks;
		c->cap_tasks = c->reg.nr;
	}
	for (uint32_t i = 0; i < c->reg.nr; i++) {
		memset(&c->tasks[i], 0, sizeof(c->tasks[i]));
		c->tasks[i].tid = c->reg.threads[i].tid;
		read_task(c, root, per_thread, &c->tasks[i]);
	}
	return 0;
}

/*
 * /proc/stat's busy time per CPU into c->busy; false if unreadable. The
 * file stays open: a read from offset 0 makes the kernel generate it anew,
 * without the open and the buffer allocation of each sample (in the
 * benchmark VM, 0.3 ms instead of 0.8 to 1.1 ms after a pause).
 */
static bool read_cpu_busy(struct collector *c, const char *root)
{
	static char buf[PROC_STAT_MAX];
	size_t len = 0;
	ssize_t n;

	if (c->stat_fd < 0) {
		char path[256];

		snprintf(path, sizeof(path), "%s/stat", root);
		c->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (c->stat_fd < 0)
			return false;
	}
	while (len < sizeof(buf) - 1 &&
	       (n = pread(c->stat_fd, buf + len, sizeof(buf) - 1 - len, len)) > 0)
		len += n;
	if (!len) {
		close(c->stat_fd);
		c->stat_fd = -1;
		return false;
	}
	buf[len] = '\0';
	return !proc_parse_cpu_busy(buf, c->busy, c->info.nr_cpus);
}

/* After a step of the core: its charges into the VMs, the split into the totals. */
static void distribute(struct collector *c, bool have_busy)
{
	uint32_t nr_pkgs = c->info.nr_packages;
	size_t n = (size_t)nr_pkgs * VMSR_NR_DOMAINS;
	struct split_step step = {
		.energy = c->energy, .vms = c->vm_joules, .online_cpus = c->online,
		.busy = have_busy ? c->busy : NULL, .interval_ns = c->core.interval_ns,
		.scale = c->scale,
	};

	memset(c->vm_joules, 0, n * sizeof(double));
	for (uint32_t p = 0; p < nr_pkgs; p++) {
		c->online[p] = c->core.pkgs[p].online_cpus;
		for (int d = 0; d < VMSR_NR_DOMAINS; d++) {
			c->energy[p * VMSR_NR_DOMAINS + d] = c->core.pkgs[p].joules[d];
			c->scale[p * VMSR_NR_DOMAINS + d] = 1;
		}
	}
	for (uint32_t i = 0; i < c->reg.nr; i++) {
		const struct vmsr_thread *t = &c->reg.threads[i];

		if (t->package < nr_pkgs)
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				c->vm_joules[t->package * VMSR_NR_DOMAINS + d] += t->step_joules[d];
	}
	split_add(&c->split, &step);
	for (uint32_t i = 0; i < c->reg.nr; i++) {
		const struct vmsr_thread *t = &c->reg.threads[i];
		struct vm *vm = owner_of(c, t->tid);

		if (!vm)
			continue;
		vm->cpu_seconds += t->step_cpu_ns / 1e9;
		if (t->package < nr_pkgs)
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				vm->joules[d] += t->step_joules[d] *
						 c->scale[t->package * VMSR_NR_DOMAINS + d];
	}
}

static void sample(struct collector *c, const char *root, bool per_thread)
{
	struct vmsr_snapshot snap = { 0 };
	bool have_busy;
	int ret;

	if (read_tasks(c, root, per_thread)) {
		c->errors[ERR_PROC]++;
		return;
	}
	snap.pkgs = c->pkgs;
	snap.nr_pkgs = c->info.nr_packages;
	snap.tasks = c->tasks;
	snap.nr_tasks = c->reg.nr;
	vmsr_account_prepare(&c->core, c->pkgs);
	ret = vmsr_sample(c->fd, c->pkgs, snap.nr_pkgs, NULL, 0, &snap.start_ns, &snap.end_ns);
	if (ret) {
		c->errors[ERR_SAMPLE]++;
		if (ret == -ENODEV) {	/* the module went away */
			close_device(c);
			set_status(c, DEVICE_MISSING, ret);
		}
		return;
	}
	have_busy = read_cpu_busy(c, root);
	if (!have_busy)
		c->errors[ERR_PROC]++;
	ret = vmsr_account_step(&c->core, &c->reg, &snap);
	if (ret) {
		if (ret != -EAGAIN)
			c->errors[ERR_SAMPLE]++;
		return;
	}
	distribute(c, have_busy);
	vmsr_registry_reap(&c->reg);
	c->samples++;
}

void collector_tick(struct collector *c)
{
	const char *root = c->cfg.proc_root ? c->cfg.proc_root : "/proc";
	double boot = now_s(CLOCK_BOOTTIME);

	pthread_mutex_lock(&c->lock);
	open_device(c);
	if (vms_scan(&c->vms, root, now_s(CLOCK_MONOTONIC), (unsigned long long)(boot * c->hz),
		     c->hz, c->cfg.retention_s))
		c->errors[ERR_PROC]++;
	c->errors[ERR_VM_IDENTITY] = c->vms.ids_incomplete;
	if (c->have_energy)
		sample(c, root, c->info.nr_packages > 1);
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
	c->stat_fd = -1;
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
	if (c->stat_fd >= 0)
		close(c->stat_fd);
	vms_free(&c->vms);
	free(c->tasks);
	free(c->owners);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
}
