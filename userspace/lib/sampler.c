// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The sampler's life cycle: creation from the device, the registry of vCPUs
 * and threads, ticks (called by the VMM or on the library's own thread),
 * and statistics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rapl_units.h"
#include "sampler.h"
#include "task_scan.h"

#define MSR_PKG_POWER_LIMIT	0x610
#define MSR_PKG_POWER_INFO	0x614

/* The first layout of each public struct: what a caller must give at least. */
#define SIZE_TO(type, field)	(offsetof(type, field) + sizeof(((type *)0)->field))
#define CONFIG_SIZE_V1		SIZE_TO(struct vmsr_sampler_config, reserved)
#define VCPU_STATS_SIZE_V1	SIZE_TO(struct vmsr_vcpu_stats, joules)
#define VPACKAGE_STATS_SIZE_V1	SIZE_TO(struct vmsr_vpackage_stats, host_joules)
#define SIZE_MAX_ACCEPTED	4096	/* a larger size field is garbage, not a struct */

/*
 * Live samplers, so that vmsr_sampler_free() can refuse a pointer it
 * already freed without touching it.
 */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct vmsr_sampler **live;
static size_t nr_live, cap_live;

static int live_add(struct vmsr_sampler *s)
{
	int ret = 0;

	pthread_mutex_lock(&live_lock);
	if (nr_live == cap_live) {
		size_t cap = cap_live ? 2 * cap_live : 8;
		void *p = realloc(live, cap * sizeof(*live));

		if (p) {
			live = p;
			cap_live = cap;
		}
	}
	if (nr_live < cap_live)
		live[nr_live++] = s;
	else
		ret = -ENOMEM;
	pthread_mutex_unlock(&live_lock);
	return ret;
}

/* Removes @s from the live set; false if it was not there. */
static bool live_take(struct vmsr_sampler *s)
{
	bool found = false;

	pthread_mutex_lock(&live_lock);
	for (size_t i = 0; i < nr_live; i++) {
		if (live[i] == s) {
			live[i] = live[--nr_live];
			found = true;
			break;
		}
	}
	if (!nr_live) {
		free(live);
		live = NULL;
		cap_live = 0;
	}
	pthread_mutex_unlock(&live_lock);
	return found;
}

/*
 * Copies a caller's struct of @size bytes into @out, which this library
 * knows as @known bytes: shorter than @min is -EINVAL; bytes beyond @known
 * must be zero (-E2BIG); what the caller lacks reads as zero.
 */
static int copy_sized(void *out, size_t known, const void *in, size_t size, size_t min)
{
	if (size < min)
		return -EINVAL;
	if (size > SIZE_MAX_ACCEPTED)
		return -E2BIG;
	for (size_t i = known; i < size; i++)
		if (((const unsigned char *)in)[i])
			return -E2BIG;
	memset(out, 0, known);
	memcpy(out, in, size < known ? size : known);
	return 0;
}

/* Fills a caller's struct of st->size bytes from @full, zeroing what this library lacks. */
static int fill_sized(void *st, const void *full, size_t known, size_t min)
{
	uint32_t size = *(const uint32_t *)st;

	if (size < min)
		return -EINVAL;
	if (size > SIZE_MAX_ACCEPTED)
		return -E2BIG;
	memset(st, 0, size);
	memcpy(st, full, size < known ? size : known);
	*(uint32_t *)st = size;
	return 0;
}

static int device_source(void *ctx, struct vmsr_snapshot *snap)
{
	struct vmsr_sampler *s = ctx;

	return vmsr_snapshot_device(s->fd, &s->sample_flags, snap);
}

/* For a CPU that came online for the first time: INFO's map again. */
static int device_cpu_map(void *ctx, uint32_t *map)
{
	struct vmsr_sampler *s = ctx;
	struct vmsr_info info;

	return vmsr_get_info(s->fd, &info, map, s->acct.host.info.nr_cpus);
}

/* Room for the registry's threads in the SAMPLE array and the scratch. */
static int grow_samples(struct vmsr_sampler *s)
{
	uint32_t n = s->cap_task_samples ? s->cap_task_samples : 16;
	void *p;

	if (s->reg.nr <= s->cap_task_samples)
		return 0;
	while (n < s->reg.nr)
		n *= 2;
	p = realloc(s->task_samples, (size_t)n * sizeof(*s->task_samples));
	if (!p)
		return -ENOMEM;
	s->task_samples = p;
	p = realloc(s->spread, (size_t)n * sizeof(*s->spread));
	if (!p)
		return -ENOMEM;	/* the larger SAMPLE array is harmless */
	s->spread = p;
	s->cap_task_samples = n;
	return 0;
}

static void sampler_destroy(struct vmsr_sampler *s)
{
	if (s->trace)
		fclose(s->trace);
	if (s->fd >= 0)
		close(s->fd);
	pthread_cond_destroy(&s->wake);
	pthread_mutex_destroy(&s->lock);
	vmsr_account_fini(&s->acct);
	vmsr_registry_fini(&s->reg);
	free(s->pkg_samples);
	free(s->pkg_ticks);
	free(s->task_samples);
	free(s->spread);
	free(s->vcpus);
	free((void *)s->vcpu_vpackage);
	free(s->vpkgs);
	free(s);
}

/* Builds a sampler over any snapshot source: the device, or a test's. */
int vmsr_sampler_create(const struct vmsr_sampler_config *cfg, const struct vmsr_host *host,
			vmsr_source_fn source, void *ctx, struct vmsr_sampler **out)
{
	uint32_t nr_pkgs = host->info.nr_packages;
	struct vmsr_sampler_config c;
	struct vmsr_sampler *s;
	pthread_condattr_t attr;
	const char *trace;
	int ret;

	if (!cfg || !out)
		return -EINVAL;
	ret = copy_sized(&c, sizeof(c), cfg, cfg->size, CONFIG_SIZE_V1);
	if (ret)
		return ret;
	if (!c.nr_vpackages || !c.max_vcpus || (c.flags & ~VMSR_SAMPLER_F_SCAN_THREADS) ||
	    c.pid < 0 || c.reserved)
		return -EINVAL;
	if (nr_pkgs > host->info.max_sample_pkgs)
		return -E2BIG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->cfg = c;
	s->cfg.size = sizeof(s->cfg);
	s->cfg.device = NULL;	/* not owned; used only by vmsr_sampler_new() */
	s->source = source;
	s->source_ctx = ctx ? ctx : s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_condattr_destroy(&attr);

	ret = vmsr_account_init(&s->acct, host);
	if (!ret)
		ret = vmsr_registry_init(&s->reg, host->info.max_sample_tasks ?
					 host->info.max_sample_tasks : 1);
	s->pkg_samples = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*s->pkg_samples));
	s->pkg_ticks = calloc(nr_pkgs ? nr_pkgs : 1, sizeof(*s->pkg_ticks));
	s->vcpus = calloc(c.max_vcpus, sizeof(*s->vcpus));
	s->vcpu_vpackage = calloc(c.max_vcpus, sizeof(*s->vcpu_vpackage));
	s->vpkgs = calloc(c.nr_vpackages, sizeof(*s->vpkgs));
	if (!ret && (!s->pkg_samples || !s->pkg_ticks || !s->vcpus || !s->vcpu_vpackage ||
		     !s->vpkgs))
		ret = -ENOMEM;
	if (!ret)
		ret = live_add(s);
	if (ret) {
		sampler_destroy(s);
		return ret;
	}
	for (uint32_t v = 0; v < c.max_vcpus; v++)
		atomic_init(&s->vcpu_vpackage[v], UINT32_MAX);
	vmsr_vregs_init(s);

	trace = secure_getenv("LIBVMSR_TRACE");
	if (trace && *trace)
		s->trace = fopen(trace, "ae");
	*out = s;
	return 0;
}

/* The limit registers exist on Intel only, and only real ones are copied. */
static void read_intel_limits(int fd, struct vmsr_host *host)
{
	struct vmsr_read_entry e[2] = {
		{ .msr = MSR_PKG_POWER_LIMIT, .flags = VMSR_READ_F_PACKAGE },
		{ .msr = MSR_PKG_POWER_INFO, .flags = VMSR_READ_F_PACKAGE },
	};

	if (host->info.vendor != VMSR_VENDOR_INTEL || (host->info.flags & VMSR_INFO_F_EMULATED))
		return;
	if (vmsr_read_msrs(fd, e, 2))
		return;
	host->pkg_power_limit = e[0].result ? 0 : e[0].value;
	host->pkg_power_info = e[1].result ? 0 : e[1].value;
}

int vmsr_sampler_new_fd(int fd, const struct vmsr_sampler_config *cfg, struct vmsr_sampler **out)
{
	struct vmsr_host host = { 0 };
	uint32_t *cpu_map = NULL;
	int ret;

	if (fd < 0 || !cfg || !out)
		return -EINVAL;
	ret = vmsr_get_info(fd, &host.info, NULL, 0);
	if (!ret) {
		cpu_map = calloc(host.info.nr_cpus ? host.info.nr_cpus : 1, sizeof(*cpu_map));
		ret = cpu_map ? vmsr_get_info(fd, &host.info, cpu_map, host.info.nr_cpus) : -ENOMEM;
	}
	if (!ret) {
		host.cpu_map = cpu_map;
		host.cpu_model = vmsr_host_cpu_model();
		host.refresh_cpu_map = device_cpu_map;
		read_intel_limits(fd, &host);
		ret = vmsr_sampler_create(cfg, &host, device_source, NULL, out);
	}
	free(cpu_map);
	if (ret)
		return ret;
	/* Only now is @fd ours: a failed call leaves it to the caller. */
	(*out)->fd = fd;
	(*out)->sample_flags = VMSR_SAMPLE_F_FRESH;
	(*out)->check_tids = true;
	(*out)->acct.host.refresh_ctx = *out;
	return 0;
}

int vmsr_sampler_new(const struct vmsr_sampler_config *cfg, struct vmsr_sampler **out)
{
	int fd, ret;

	if (!cfg || !out || cfg->size < CONFIG_SIZE_V1)
		return -EINVAL;
	fd = vmsr_open(cfg->device);
	if (fd < 0)
		return fd;
	ret = vmsr_sampler_new_fd(fd, cfg, out);
	if (ret)
		close(fd);
	return ret;
}

int vmsr_sampler_free(struct vmsr_sampler *s)
{
	if (!s)
		return 0;
	if (!live_take(s))
		return -EBADF;
	vmsr_sampler_stop(s);
	sampler_destroy(s);
	return 0;
}

/* Whether @tid is a thread of the sampled process. */
static bool tid_is_ours(const struct vmsr_sampler *s, int tid)
{
	char path[64];

	if (!s->check_tids)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/task/%d", s->cfg.pid ? s->cfg.pid : getpid(), tid);
	return !access(path, F_OK);
}

int vmsr_sampler_add_vcpu(struct vmsr_sampler *s, uint32_t vcpu, int tid, uint32_t vpackage)
{
	struct vmsr_thread *t;
	int ret = 0;

	if (!s || vcpu >= s->cfg.max_vcpus || vpackage >= s->cfg.nr_vpackages || tid <= 0)
		return -EINVAL;
	if (!tid_is_ours(s, tid))
		return -ESRCH;
	pthread_mutex_lock(&s->lock);
	t = vmsr_registry_find(&s->reg, tid);
	if (s->vcpus[vcpu].present || (t && t->vcpu != VMSR_NO_VCPU))
		ret = -EEXIST;
	else if (t)	/* found by a scan: keep its baseline */
		t->vcpu = vcpu;
	else
		ret = vmsr_registry_add(&s->reg, tid, vcpu);
	if (!ret) {
		memset(&s->vcpus[vcpu], 0, sizeof(s->vcpus[vcpu]));
		s->vcpus[vcpu].present = true;
		s->vcpus[vcpu].tid = tid;
		s->vcpus[vcpu].vpackage = vpackage;
		s->vcpus[vcpu].host_package = VMSR_NO_PACKAGE;
		s->vpkgs[vpackage].nr_vcpus++;
		atomic_store_explicit(&s->vcpu_vpackage[vcpu], vpackage, memory_order_release);
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vmsr_sampler_remove_vcpu(struct vmsr_sampler *s, uint32_t vcpu)
{
	struct vmsr_vcpu *v;
	struct vmsr_thread *t;

	if (!s || vcpu >= s->cfg.max_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	v = &s->vcpus[vcpu];
	if (!v->present) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	atomic_store_explicit(&s->vcpu_vpackage[vcpu], UINT32_MAX, memory_order_release);
	s->vpkgs[v->vpackage].nr_vcpus--;
	v->present = false;
	t = vmsr_registry_find(&s->reg, v->tid);
	/* With scanning on, the thread lives on as a non-vCPU thread. */
	if (t && (s->cfg.flags & VMSR_SAMPLER_F_SCAN_THREADS))
		t->vcpu = VMSR_NO_VCPU;
	else if (t)
		vmsr_registry_remove(&s->reg, t, false);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int vmsr_sampler_add_thread(struct vmsr_sampler *s, int tid)
{
	int ret;

	if (!s || tid <= 0)
		return -EINVAL;
	if (!tid_is_ours(s, tid))
		return -ESRCH;
	pthread_mutex_lock(&s->lock);
	ret = vmsr_registry_add(&s->reg, tid, VMSR_NO_VCPU);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vmsr_sampler_remove_thread(struct vmsr_sampler *s, int tid)
{
	struct vmsr_thread *t;
	int ret = 0;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	t = vmsr_registry_find(&s->reg, tid);
	if (!t)
		ret = -ENOENT;
	else if (t->vcpu != VMSR_NO_VCPU)
		ret = -EBUSY;
	else	/* a scan must not bring it back */
		ret = vmsr_registry_remove(&s->reg, t,
					   s->cfg.flags & VMSR_SAMPLER_F_SCAN_THREADS);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int scan_threads(struct vmsr_sampler *s)
{
	uint32_t nr = 0;
	int *tids = NULL;
	int ret;

	ret = vmsr_task_scan(s->cfg.pid ? s->cfg.pid : getpid(), &tids, &nr);
	if (ret)
		return ret;
	ret = vmsr_registry_sync(&s->reg, tids, nr);
	free(tids);
	return ret < 0 ? ret : 0;	/* threads beyond the cap wait for room */
}

static int tick_locked(struct vmsr_sampler *s)
{
	struct vmsr_snapshot snap = {
		.pkgs = s->pkg_samples,
		.nr_pkgs = s->acct.host.info.nr_packages,
	};
	int ret;

	if (s->cfg.flags & VMSR_SAMPLER_F_SCAN_THREADS) {
		ret = scan_threads(s);
		if (ret)
			return ret;
	}
	ret = grow_samples(s);
	if (ret)
		return ret;
	vmsr_account_prepare(&s->acct, s->pkg_samples);
	for (uint32_t i = 0; i < s->reg.nr; i++) {
		memset(&s->task_samples[i], 0, sizeof(s->task_samples[i]));
		s->task_samples[i].tid = s->reg.threads[i].tid;
	}
	snap.tasks = s->task_samples;
	snap.nr_tasks = s->reg.nr;
	ret = s->source(s->source_ctx, &snap);
	if (!ret)
		ret = vmsr_account_step(&s->acct, &s->reg, &snap);
	if (ret)
		return ret;
	vmsr_attribute_vcpus(s);
	/* Exited and reaped threads leave; their energy stays where it went. */
	return vmsr_registry_reap(&s->reg);
}

int vmsr_sampler_tick(struct vmsr_sampler *s)
{
	int ret;

	if (!s)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = s->running ? -EBUSY : tick_locked(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void *tick_thread(void *arg)
{
	struct vmsr_sampler *s = arg;
	struct timespec next;
	int tid = gettid();

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&s->lock);
	/* The sampler's own CPU time is the VMM's overhead: charged like an I/O thread's. */
	if (!vmsr_registry_add(&s->reg, tid, VMSR_NO_VCPU))
		s->thread_tid = tid;
	while (!s->stopping) {
		next.tv_nsec += (long)(s->interval_ms % 1000) * 1000000;
		next.tv_sec += s->interval_ms / 1000 + next.tv_nsec / 1000000000;
		next.tv_nsec %= 1000000000;
		while (!s->stopping &&
		       pthread_cond_timedwait(&s->wake, &s->lock, &next) != ETIMEDOUT)
			;
		if (!s->stopping)
			tick_locked(s);	/* errors: the next tick tries again */
	}
	if (s->thread_tid) {
		struct vmsr_thread *t = vmsr_registry_find(&s->reg, s->thread_tid);

		if (t)
			vmsr_registry_remove(&s->reg, t, false);
		s->thread_tid = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int vmsr_sampler_start(struct vmsr_sampler *s, uint32_t interval_ms)
{
	sigset_t all, old;
	int ret;

	if (!s || !interval_ms)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	if (s->running) {
		pthread_mutex_unlock(&s->lock);
		return -EBUSY;
	}
	s->interval_ms = interval_ms;
	s->stopping = false;
	/* The new thread inherits this mask: signals stay with the VMM's threads. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = -pthread_create(&s->thread, NULL, tick_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!ret) {
		s->running = true;
		pthread_setname_np(s->thread, "vmsr-sampler");
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

void vmsr_sampler_stop(struct vmsr_sampler *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->running || s->stopping) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	s->stopping = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	pthread_mutex_lock(&s->lock);
	s->running = false;
	pthread_mutex_unlock(&s->lock);
}

int vmsr_sampler_vcpu_stats(struct vmsr_sampler *s, uint32_t vcpu, struct vmsr_vcpu_stats *st)
{
	struct vmsr_vcpu_stats full = { .size = sizeof(full) };
	const struct vmsr_vcpu *v;
	int ret = -ENOENT;

	if (!s || !st || vcpu >= s->cfg.max_vcpus || st->size < VCPU_STATS_SIZE_V1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	v = &s->vcpus[vcpu];
	if (v->present) {
		full.tid = v->tid;
		full.vpackage = v->vpackage;
		full.host_package = v->host_package;
		full.last_cpu_ns = v->last_cpu_ns;
		full.last_interval_ns = v->last_interval_ns;
		full.cpu_ns = v->cpu_ns;
		memcpy(full.joules, v->joules, sizeof(full.joules));
		ret = 0;
	}
	pthread_mutex_unlock(&s->lock);
	return ret ? ret : fill_sized(st, &full, sizeof(full), VCPU_STATS_SIZE_V1);
}

int vmsr_sampler_vpackage_stats(struct vmsr_sampler *s, uint32_t vpackage,
				struct vmsr_vpackage_stats *st)
{
	struct vmsr_vpackage_stats full = { .size = sizeof(full) };
	const struct vmsr_vpackage *vp;

	if (!s || !st || vpackage >= s->cfg.nr_vpackages || st->size < VPACKAGE_STATS_SIZE_V1)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	vp = &s->vpkgs[vpackage];
	full.nr_vcpus = vp->nr_vcpus;
	full.ticks = vp->ticks;
	memcpy(full.joules, vp->joules, sizeof(full.joules));
	memcpy(full.host_joules, vp->host_joules, sizeof(full.host_joules));
	pthread_mutex_unlock(&s->lock);
	return fill_sized(st, &full, sizeof(full), VPACKAGE_STATS_SIZE_V1);
}
