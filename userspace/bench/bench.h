/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * vmsr-bench: what its parts share. Each method of sampling threads' CPU
 * time has its own file (method-*.c); each section of the report too.
 */
#ifndef VMSR_BENCH_H
#define VMSR_BENCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "libvmsr.h"

#define NSEC_PER_SEC	1000000000ULL
#define NSEC_PER_MSEC	1000000ULL
#define NSEC_PER_USEC	1000ULL

/*
 * Section 2 dates every reading by CLOCK_MONOTONIC read before and after it.
 * A reading that took longer than this (its thread was preempted, or its
 * vCPU stopped by the host) is taken again, up to WINDOW_TRIES times, so
 * that its instant is known to within this.
 */
#define WINDOW_NS	(100 * NSEC_PER_USEC)
#define WINDOW_TRIES	8

/* util.c */
uint64_t now_ns(clockid_t clk);
void sleep_until(uint64_t mono_ns);
double median(const double *v, size_t n);
double max_of(const double *v, size_t n);
double mean_of(const double *v, size_t n);
void *xcalloc(size_t n, size_t size);
void pin_self(bool pin);

/* The run's settings: the full benchmark, or a short smoke test. */
struct bench_config {
	bool smoke;
	const char *device;	/* /dev/vmsr */
	const char *helper;	/* path of vmsr-bench-helper */
	unsigned int cost_ticks;
	const unsigned int *cost_threads;
	unsigned int nr_cost_threads;
	unsigned int accuracy_ticks[3];	/* per interval: 10 ms, 100 ms, 1 s */
	const unsigned int *overhead_hz;
	unsigned int nr_overhead_hz;
	double overhead_secs[3];	/* per rate */
	const char *exporter;	/* path of vmsr_exporter */
	const unsigned int *exporter_vms;	/* stand-in VMs, growing */
	unsigned int nr_exporter_vms;
	unsigned int exporter_secs;	/* CPU window per size */
	unsigned int exporter_scrapes;	/* scrapes timed per size */
};

/* What the sections hand to the summary line; negative when not measured. */
struct bench_summary {
	double qemu_over_vmsr_256;
	double clock_over_vmsr_256;
	double share_err_pct_100ms;
	double cpu_pct_256_100hz;
	double vmsr_growth_max;		/* (a) per thread, worst size over 256 threads' */
	double clock_over_vmsr_min;	/* c/a, worst at 256 threads and above */
	double floor_times_100hz;	/* (a) at 100 Hz over the wake-up floor */
	double exporter_cpu_pct_128vm;
	double exporter_scrape_ms_128vm;
};

/* pool.c: N threads of this process that sleep until stopped */
struct pool {
	unsigned int n;
	pthread_t *th;
	pid_t *tids;
	clockid_t *clocks;
	int pipe[2];
};

int pool_start(struct pool *p, unsigned int n);
void pool_stop(struct pool *p);

/* method-vmsr.c: (a) one VMSR_IOC_SAMPLE for every package and thread */
struct vmsr_method {
	int fd;
	uint32_t flags;		/* VMSR_SAMPLE_F_* */
	uint32_t nr_pkgs;
	struct vmsr_pkg_sample *pkgs;
	uint32_t nr;
	struct vmsr_task_sample *tasks;
	uint64_t start_ns, end_ns;
};

int vmsr_method_open(struct vmsr_method *m, const char *device, const pid_t *tids,
		     unsigned int n, uint32_t flags);
int vmsr_method_tick(struct vmsr_method *m);
void vmsr_method_close(struct vmsr_method *m);
bool vmsr_method_fresh_supported(const char *device);

/* method-qemu.c: (b) QEMU 9.1+'s /proc parsing and helper round trips */
struct qemu_thread {
	pid_t tid;
	unsigned long long utime[2], stime[2];	/* [0] start, [1] end, in USER_HZ ticks */
	uint64_t at_ns[2];	/* when each was read */
	unsigned int cpu;
	int pkg;
	bool ended;		/* [1] is valid */
};

struct qemu_method {
	pid_t pid;
	bool timed;		/* record when each thread's stat was read */
	int sock;
	pid_t helper;
	unsigned int nr_pkgs;
	unsigned long long *e_start, *e_end;
	struct qemu_thread *th;
	unsigned int nr, cap;
	bool begun;
};

int qemu_method_open(struct qemu_method *m, const char *helper, bool timed);
int qemu_method_begin(struct qemu_method *m);
int qemu_method_end(struct qemu_method *m);
uint64_t qemu_method_cpu_ns(const struct qemu_method *m, unsigned int i);
void qemu_method_close(struct qemu_method *m);
long user_hz(void);

/* method-clock.c: (c) clock_gettime() on each thread's CPU-time clock */
struct clock_method {
	unsigned int nr;
	bool timed;		/* also record when each thread was read */
	const clockid_t *clocks;
	uint64_t *cpu_ns, *at_ns;
};

int clock_method_open(struct clock_method *m, const clockid_t *clocks, unsigned int n,
		      bool timed);
int clock_method_tick(struct clock_method *m);
void clock_method_close(struct clock_method *m);

/* duty.c: threads busy a given share of every period, logging their own CPU time */
struct duty_sample {
	uint64_t at_ns;		/* CLOCK_MONOTONIC */
	uint64_t cpu_ns;	/* the thread's own CLOCK_THREAD_CPUTIME_ID */
};

struct duty_thread {
	unsigned int duty_pct;
	bool stop;
	pthread_t th;
	pid_t tid;
	clockid_t clock;
	struct duty_sample *log;
	size_t len, cap;
};

int duty_start(struct duty_thread *d, unsigned int n, const unsigned int *duty_pct);
void duty_stop(struct duty_thread *d, unsigned int n);
int duty_cpu_at(const struct duty_thread *d, uint64_t at_ns, double *cpu_ns);

/* The sections; each prints its part of the table. */
int cost_section(const struct bench_config *cfg, struct bench_summary *sum);
int accuracy_section(const struct bench_config *cfg, struct bench_summary *sum);
int overhead_section(const struct bench_config *cfg, struct bench_summary *sum);
int exporter_section(const struct bench_config *cfg, struct bench_summary *sum);

/* exporter.c: a stand-in VM, this program run as qemu-system-x86_64 */
int standin_main(void);

#endif /* VMSR_BENCH_H */
