// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * The sampler's life cycle: creation from the device, the registry of vCPUs
 * and threads, ticks (called by the VMM or on the library's own thread),
 * and statistics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sampler.h"

#define MSR_PKG_POWER_LIMIT	0x610
#define MSR_PKG_POWER_INFO	0x614

/*
 * One SAMPLE call. Fresh task times (with the running slice) where the
 * kernel offers them; a kernel that refuses them is asked once, then never.
 */
static int device_source(void *ctx, struct vmsr_snapshot *snap)
{
	struct vmsr_sampler *s = ctx;
	int ret;

	ret = vmsr_sample_flags(s->fd, s->sample_flags, snap->pkgs, snap->nr_pkgs, snap->tasks,
				snap->nr_tasks, &snap->start_ns, &snap->end_ns);
	if (ret == -EOPNOTSUPP && s->sample_flags) {
		s->sample_flags = 0;
		ret = device_source(ctx, snap);
	}
	return ret;
}

/* Room for @want threads, in both the registry and the SAMPLE array. */
static int grow_threads(struct vmsr_sampler *s, uint32_t want)
{
	uint32_t n = s->cap_threads ? s->cap_threads : 16;
	void *p;

	if (want <= s->cap_threads)
		return 0;
	while (n < want)
		n *= 2;
	p = realloc(s->threads, (size_t)n * sizeof(*s->threads));
	if (!p)
		return -ENOMEM;
	s->threads = p;
	p = realloc(s->task_samples, (size_t)n * sizeof(*s->task_samples));
	if (!p)
		return -ENOMEM;	/* the larger registry is harmless */
	s->task_samples = p;
	s->cap_threads = n;
	return 0;
}

struct vmsr_thread *vmsr_find_thread(struct vmsr_sampler *s, int tid)
{
	uint32_t lo = 0, hi = s->nr_threads;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->threads[mid].tid == tid)
			return &s->threads[mid];
		if (s->threads[mid].tid < tid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Adds a thread entry, keeping the array sorted by tid. No baseline yet. */
int vmsr_insert_thread(struct vmsr_sampler *s, int tid, uint32_t vcpu)
{
	uint32_t pos = s->nr_threads;
	int ret;

	if (s->nr_threads >= s->host.info.max_sample_tasks)
		return -E2BIG;
	ret = grow_threads(s, s->nr_threads + 1);
	if (ret)
		return ret;
	while (pos > 0 && s->threads[pos - 1].tid > tid)
		pos--;
	memmove(&s->threads[pos + 1], &s->threads[pos],
		(s->nr_threads - pos) * sizeof(*s->threads));
	memset(&s->threads[pos], 0, sizeof(*s->threads));
	s->threads[pos].tid = tid;
	s->threads[pos].vcpu = vcpu;
	s->nr_threads++;
	return 0;
}

void vmsr_drop_thread(struct vmsr_sampler *s, struct vmsr_thread *t)
{
	uint32_t pos = t - s->threads;

	memmove(t, t + 1, (s->nr_threads - pos - 1) * sizeof(*t));
	s->nr_threads--;
}

static int host_topology(struct vmsr_sampler *s)
{
	const struct vmsr_info *info = &s->host.info;

	s->cpu_map = calloc(info->nr_cpus ? info->nr_cpus : 1, sizeof(*s->cpu_map));
	s->cpus_in_pkg = calloc(info->nr_packages ? info->nr_packages : 1,
				sizeof(*s->cpus_in_pkg));
	s->pkg_samples = calloc(info->nr_packages ? info->nr_packages : 1,
				sizeof(*s->pkg_samples));
	s->prev_pkgs = calloc(info->nr_packages ? info->nr_packages : 1, sizeof(*s->prev_pkgs));
	s->pkg_ticks = calloc(info->nr_packages ? info->nr_packages : 1, sizeof(*s->pkg_ticks));
	if (!s->cpu_map || !s->cpus_in_pkg || !s->pkg_samples || !s->prev_pkgs || !s->pkg_ticks)
		return -ENOMEM;
	memcpy(s->cpu_map, s->host.cpu_map, info->nr_cpus * sizeof(*s->cpu_map));
	s->host.cpu_map = s->cpu_map;
	for (uint32_t c = 0; c < info->nr_cpus; c++)
		if (s->cpu_map[c] < info->nr_packages)
			s->cpus_in_pkg[s->cpu_map[c]]++;
	s->domains = info->domains;
	s->joules_per_step = vmsr_joules_per_step(info);
	for (uint32_t p = 0; p < info->nr_packages; p++) {
		s->pkg_samples[p].package = p;
		s->pkg_samples[p].domains = s->domains;
	}
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
	free(s->cpu_map);
	free(s->cpus_in_pkg);
	free(s->pkg_samples);
	free(s->prev_pkgs);
	free(s->pkg_ticks);
	free(s->vcpus);
	free((void *)s->vcpu_vpackage);
	free(s->vpkgs);
	free(s->threads);
	free(s->task_samples);
	free(s);
}

/* Builds a sampler over any snapshot source: the device, or a test's. */
int vmsr_sampler_create(const struct vmsr_sampler_config *cfg, const struct vmsr_host *host,
			vmsr_source_fn source, void *ctx, struct vmsr_sampler **out)
{
	struct vmsr_sampler *s;
	pthread_condattr_t attr;
	const char *trace;
	int ret;

	if (!cfg->nr_vpackages || !cfg->max_vcpus || (cfg->flags & ~VMSR_SAMPLER_F_SCAN_THREADS) ||
	    cfg->pid < 0)
		return -EINVAL;
	if (host->info.nr_packages > host->info.max_sample_pkgs)
		return -E2BIG;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = -1;
	s->cfg = *cfg;
	s->cfg.device = NULL;	/* not owned; used only by vmsr_sampler_new() */
	s->host = *host;
	s->source = source;
	s->source_ctx = ctx ? ctx : s;
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_condattr_destroy(&attr);

	ret = host_topology(s);
	s->vcpus = calloc(cfg->max_vcpus, sizeof(*s->vcpus));
	s->vcpu_vpackage = calloc(cfg->max_vcpus, sizeof(*s->vcpu_vpackage));
	s->vpkgs = calloc(cfg->nr_vpackages, sizeof(*s->vpkgs));
	if (ret || !s->vcpus || !s->vcpu_vpackage || !s->vpkgs) {
		sampler_destroy(s);
		return -ENOMEM;
	}
	for (uint32_t v = 0; v < cfg->max_vcpus; v++)
		atomic_init(&s->vcpu_vpackage[v], UINT32_MAX);
	vmsr_vregs_init(s);

	trace = getenv("LIBVMSR_TRACE");
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

int vmsr_sampler_new(const struct vmsr_sampler_config *cfg, struct vmsr_sampler **out)
{
	int fd, ret;

	fd = vmsr_open(cfg->device);
	if (fd < 0)
		return fd;
	ret = vmsr_sampler_new_fd(fd, cfg, out);
	if (ret)
		close(fd);
	return ret;
}

int vmsr_sampler_new_fd(int fd, const struct vmsr_sampler_config *cfg,
			struct vmsr_sampler **out)
{
	struct vmsr_host host = { 0 };
	uint32_t *cpu_map = NULL;
	int ret;

	ret = vmsr_get_info(fd, &host.info, NULL, 0);
	if (!ret) {
		cpu_map = calloc(host.info.nr_cpus ? host.info.nr_cpus : 1, sizeof(*cpu_map));
		ret = cpu_map ? vmsr_get_info(fd, &host.info, cpu_map, host.info.nr_cpus) : -ENOMEM;
	}
	if (!ret) {
		host.cpu_map = cpu_map;
		read_intel_limits(fd, &host);
		ret = vmsr_sampler_create(cfg, &host, device_source, NULL, out);
	}
	free(cpu_map);
	if (ret)
		return ret;
	(*out)->fd = fd;
	(*out)->sample_flags = VMSR_SAMPLE_F_FRESH;
	return 0;
}

void vmsr_sampler_free(struct vmsr_sampler *s)
{
	if (!s)
		return;
	vmsr_sampler_stop(s);
	sampler_destroy(s);
}

int vmsr_sampler_add_vcpu(struct vmsr_sampler *s, uint32_t vcpu, int tid, uint32_t vpackage)
{
	struct vmsr_thread *t;
	int ret = 0;

	if (vcpu >= s->cfg.max_vcpus || vpackage >= s->cfg.nr_vpackages || tid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	t = vmsr_find_thread(s, tid);
	if (s->vcpus[vcpu].present || (t && t->vcpu != VMSR_NO_VCPU))
		ret = -EEXIST;
	else if (t)	/* found by a scan: keep its baseline */
		t->vcpu = vcpu;
	else
		ret = vmsr_insert_thread(s, tid, vcpu);
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

	if (vcpu >= s->cfg.max_vcpus)
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
	t = vmsr_find_thread(s, v->tid);
	/* With scanning on, the thread lives on as a non-vCPU thread. */
	if (t && (s->cfg.flags & VMSR_SAMPLER_F_SCAN_THREADS))
		t->vcpu = VMSR_NO_VCPU;
	else if (t)
		vmsr_drop_thread(s, t);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

int vmsr_sampler_add_thread(struct vmsr_sampler *s, int tid)
{
	int ret;

	if (tid <= 0)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	ret = vmsr_find_thread(s, tid) ? -EEXIST : vmsr_insert_thread(s, tid, VMSR_NO_VCPU);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vmsr_sampler_remove_thread(struct vmsr_sampler *s, int tid)
{
	struct vmsr_thread *t;
	int ret = 0;

	pthread_mutex_lock(&s->lock);
	t = vmsr_find_thread(s, tid);
	if (!t || t->vcpu != VMSR_NO_VCPU)
		ret = t ? -EBUSY : -ENOENT;
	else
		vmsr_drop_thread(s, t);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static int tick_locked(struct vmsr_sampler *s)
{
	struct vmsr_snapshot snap = {
		.pkgs = s->pkg_samples,
		.nr_pkgs = s->host.info.nr_packages,
		.tasks = s->task_samples,
		.nr_tasks = s->nr_threads,
	};
	int ret;

	if (s->cfg.flags & VMSR_SAMPLER_F_SCAN_THREADS) {
		ret = vmsr_scan_threads(s);
		if (ret)
			return ret;
		snap.tasks = s->task_samples;
		snap.nr_tasks = s->nr_threads;
	}
	for (uint32_t i = 0; i < s->nr_threads; i++)
		s->task_samples[i].tid = s->threads[i].tid;
	ret = s->source(s->source_ctx, &snap);
	return ret ? ret : vmsr_attribute(s, &snap);
}

int vmsr_sampler_tick(struct vmsr_sampler *s)
{
	int ret;

	pthread_mutex_lock(&s->lock);
	ret = tick_locked(s);
	pthread_mutex_unlock(&s->lock);
	return ret;
}

static void *tick_thread(void *arg)
{
	struct vmsr_sampler *s = arg;
	struct timespec next;

	clock_gettime(CLOCK_MONOTONIC, &next);
	pthread_mutex_lock(&s->lock);
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
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int vmsr_sampler_start(struct vmsr_sampler *s, uint32_t interval_ms)
{
	sigset_t all, old;
	int ret;

	if (!interval_ms)
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
	pthread_mutex_lock(&s->lock);
	if (!s->running) {
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
	const struct vmsr_vcpu *v;
	int ret = 0;

	if (vcpu >= s->cfg.max_vcpus)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	v = &s->vcpus[vcpu];
	if (v->present) {
		memset(st, 0, sizeof(*st));
		st->tid = v->tid;
		st->vpackage = v->vpackage;
		st->host_package = v->host_package;
		st->last_cpu_ns = v->last_cpu_ns;
		st->last_interval_ns = v->last_interval_ns;
		st->cpu_ns = v->cpu_ns;
		memcpy(st->joules, v->joules, sizeof(st->joules));
	} else {
		ret = -EINVAL;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

int vmsr_sampler_vpackage_stats(struct vmsr_sampler *s, uint32_t vpackage,
				struct vmsr_vpackage_stats *st)
{
	const struct vmsr_vpackage *vp;

	if (vpackage >= s->cfg.nr_vpackages)
		return -EINVAL;
	pthread_mutex_lock(&s->lock);
	vp = &s->vpkgs[vpackage];
	memset(st, 0, sizeof(*st));
	st->nr_vcpus = vp->nr_vcpus;
	st->ticks = vp->ticks;
	memcpy(st->joules, vp->joules, sizeof(st->joules));
	memcpy(st->host_joules, vp->host_joules, sizeof(st->host_joules));
	pthread_mutex_unlock(&s->lock);
	return 0;
}
