// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench section 2: how well each method measures each thread's share
 * of one CPU over an interval, against the thread's own clock.
 *
 * Four threads are busy 100, 50, 10 and 0 % of every 10 ms (duty.c). In a
 * first pass vmsr (with and without VMSR_SAMPLE_F_FRESH) and clock_gettime
 * sample them back to back at every tick; in a second, QEMU's loop runs as
 * QEMU runs it (begin, sleep the interval, end), since a tick of it can
 * take longer than the shortest interval. Each reading carries the instant
 * it was taken, and the truth at that instant comes from the thread's own
 * log; a reading that took longer than WINDOW_NS is taken again. The error
 * of one interval is |measured share - true share|, in % of one CPU:
 *
 *   vmsr, clock: measured = delta cpu_ns / delta t, truth over the same t
 *   QEMU:        measured = delta (utime + stime) ticks / USER_HZ over the
 *                time between its two stat reads, and truth over the same.
 *                (QEMU itself divides by its nominal interval; on this
 *                machine its helper round trips alone can take longer than
 *                the interval, so the actual time only helps it.)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define NR_DUTY		4
#define NR_METHODS	4
#define SETTLE_NS	(50 * NSEC_PER_MSEC)

static const unsigned int duties[NR_DUTY] = { 100, 50, 10, 0 };
static const uint64_t intervals_ns[3] = {
	10 * NSEC_PER_MSEC, 100 * NSEC_PER_MSEC, NSEC_PER_SEC,
};
static const char *const interval_names[3] = { "10 ms", "100 ms", "1 s" };

enum { M_FRESH, M_STALE, M_QEMU, M_CLOCK };

static const char *const method_names[NR_METHODS] = {
	"(a) vmsr, F_FRESH", "(a) vmsr, flags 0", "(b) QEMU", "(c) clock_gettime",
};

/* One method's readings at every boundary: [tick][thread]. */
struct readings {
	double *cpu_ns, *at_ns;
};

struct run {
	const char *name;
	unsigned int ticks;
	uint64_t interval_ns;
	struct duty_thread d[NR_DUTY];
	struct readings r[NR_METHODS];	/* QEMU: cpu_ns per interval, at_ns start/end */
	double *qemu_at_end;
	double *err[NR_METHODS][NR_DUTY];	/* [interval] */
	double *truth[NR_DUTY];			/* true share, % */
	bool have[NR_METHODS];
	unsigned int backwards;
	double backwards_max_ns;
};

static void store_vmsr(struct run *run, struct vmsr_method *m, unsigned int k, int method)
{
	unsigned int i;

	for (i = 0; i < NR_DUTY; i++) {
		run->r[method].cpu_ns[k * NR_DUTY + i] = m->tasks[i].cpu_ns;
		run->r[method].at_ns[k * NR_DUTY + i] = m->end_ns;
	}
}

static void store_clock(struct run *run, struct clock_method *m, unsigned int k)
{
	unsigned int i;

	for (i = 0; i < NR_DUTY; i++) {
		run->r[M_CLOCK].cpu_ns[k * NR_DUTY + i] = m->cpu_ns[i];
		run->r[M_CLOCK].at_ns[k * NR_DUTY + i] = m->at_ns[i];
	}
}

/* QEMU's threads come from /proc in any order: match them by tid. */
static void store_qemu(struct run *run, struct qemu_method *m, unsigned int k)
{
	unsigned int i, j;

	for (i = 0; i < NR_DUTY; i++)
		for (j = 0; j < m->nr; j++) {
			if (m->th[j].tid != run->d[i].tid || !m->th[j].ended)
				continue;
			run->r[M_QEMU].cpu_ns[k * NR_DUTY + i] = qemu_method_cpu_ns(m, j);
			run->r[M_QEMU].at_ns[k * NR_DUTY + i] = m->th[j].at_ns[0];
			run->qemu_at_end[k * NR_DUTY + i] = m->th[j].at_ns[1];
		}
}

/* A SAMPLE that itself took longer than WINDOW_NS is taken again. */
static int timed_tick(struct vmsr_method *m)
{
	int tries = 0, ret;

	do
		ret = vmsr_method_tick(m);
	while (!ret && m->end_ns - m->start_ns > WINDOW_NS && ++tries < WINDOW_TRIES);
	return ret;
}

/* Pass 1: vmsr (with and without F_FRESH) and clock_gettime, every interval. */
static int sample_periodic(const struct bench_config *cfg, struct run *run)
{
	pid_t tids[NR_DUTY];
	clockid_t clocks[NR_DUTY];
	struct vmsr_method fresh, stale;
	struct clock_method cm;
	bool fresh_open;
	uint64_t next;
	unsigned int i, k;
	int ret;

	for (i = 0; i < NR_DUTY; i++) {
		tids[i] = run->d[i].tid;
		clocks[i] = run->d[i].clock;
	}
	fresh_open = !vmsr_method_open(&fresh, cfg->device, tids, NR_DUTY, VMSR_SAMPLE_F_FRESH);
	run->have[M_FRESH] = fresh_open && !vmsr_method_tick(&fresh);
	ret = vmsr_method_open(&stale, cfg->device, tids, NR_DUTY, 0);
	if (ret)
		goto out;
	clock_method_open(&cm, clocks, NR_DUTY, true);
	run->have[M_STALE] = run->have[M_CLOCK] = true;

	/* Each tick an interval after the last one: a late tick delays the rest. */
	next = now_ns(CLOCK_MONOTONIC) + SETTLE_NS;
	for (k = 0; k <= run->ticks && !ret; k++) {
		sleep_until(next);
		next = now_ns(CLOCK_MONOTONIC) + run->interval_ns;
		if (run->have[M_FRESH])
			run->have[M_FRESH] = !timed_tick(&fresh);
		if (run->have[M_FRESH])
			store_vmsr(run, &fresh, k, M_FRESH);
		ret = timed_tick(&stale);
		store_vmsr(run, &stale, k, M_STALE);
		clock_method_tick(&cm);
		store_clock(run, &cm, k);
	}
	clock_method_close(&cm);
	vmsr_method_close(&stale);
out:
	if (fresh_open)
		vmsr_method_close(&fresh);
	return ret;
}

/* Pass 2: QEMU's loop as it is: begin, sleep the interval, end. */
static int sample_qemu(const struct bench_config *cfg, struct run *run)
{
	struct qemu_method qm;
	unsigned int k;
	int ret;

	ret = qemu_method_open(&qm, cfg->helper, true);
	for (k = 0; k < run->ticks && !ret; k++) {
		ret = qemu_method_begin(&qm);
		usleep(run->interval_ns / NSEC_PER_USEC);
		ret = ret ?: qemu_method_end(&qm);
		store_qemu(run, &qm, k);
	}
	qemu_method_close(&qm);
	run->have[M_QEMU] = !ret;
	return ret;
}

static int truth_share(const struct run *run, unsigned int i, double from, double to,
		       double *share)
{
	double a, b;

	if (duty_cpu_at(&run->d[i], from, &a) || duty_cpu_at(&run->d[i], to, &b))
		return -1;
	*share = (b - a) / (to - from);
	return 0;
}

static int score(struct run *run)
{
	unsigned int m, i, k;

	for (m = 0; m < NR_METHODS; m++) {
		const struct readings *r = &run->r[m];

		for (i = 0; i < NR_DUTY && run->have[m]; i++)
			for (k = 0; k < run->ticks; k++) {
				unsigned int x = k * NR_DUTY + i, y = (k + 1) * NR_DUTY + i;
				double from, to, meas, truth;

				if (m == M_QEMU) {
					from = r->at_ns[x];
					to = run->qemu_at_end[x];
					meas = r->cpu_ns[x] / (to - from);
				} else {
					from = r->at_ns[x];
					to = r->at_ns[y];
					meas = (r->cpu_ns[y] - r->cpu_ns[x]) / (to - from);
					if (m == M_FRESH && r->cpu_ns[y] < r->cpu_ns[x]) {
						run->backwards++;
						run->backwards_max_ns = fmax(run->backwards_max_ns,
									     r->cpu_ns[x] - r->cpu_ns[y]);
					}
				}
				if (truth_share(run, i, from, to, &truth)) {
					fprintf(stderr, "vmsr-bench: %s, %u%% thread: no truth for %.0f..%.0f ns\n",
						method_names[m], duties[i], from, to);
					return -1;
				}
				run->err[m][i][k] = fabs(meas - truth) * 100;
				if (m == M_CLOCK)
					run->truth[i][k] = truth * 100;
			}
	}
	return 0;
}

static void print_run(const struct run *run)
{
	unsigned int m, i;

	for (m = 0; m < NR_METHODS; m++) {
		printf("   %-8s  %-19s", m ? "" : run->name, method_names[m]);
		for (i = 0; i < NR_DUTY; i++) {
			if (run->have[m])
				printf("  %6.2f / %6.2f", mean_of(run->err[m][i], run->ticks),
				       max_of(run->err[m][i], run->ticks));
			else
				printf("  %15s", "n/a");
		}
		printf("\n");
	}
	printf("   %-8s  %-19s", "", "true share, mean");
	for (i = 0; i < NR_DUTY; i++)
		printf("  %15.1f", mean_of(run->truth[i], run->ticks));
	printf("\n");
}

static double worst_mean(const struct run *run, int m)
{
	double w = 0;
	unsigned int i;

	for (i = 0; i < NR_DUTY; i++)
		w = fmax(w, mean_of(run->err[m][i], run->ticks));
	return w;
}

static void run_free(struct run *run)
{
	unsigned int m, i;

	for (m = 0; m < NR_METHODS; m++) {
		free(run->r[m].cpu_ns);
		free(run->r[m].at_ns);
		for (i = 0; i < NR_DUTY; i++)
			free(run->err[m][i]);
	}
	for (i = 0; i < NR_DUTY; i++) {
		free(run->truth[i]);
		free(run->d[i].log);
	}
	free(run->qemu_at_end);
}

static int accuracy_one(const struct bench_config *cfg, unsigned int j, struct run *run)
{
	unsigned int slots, m, i;
	int ret;

	memset(run, 0, sizeof(*run));
	run->ticks = cfg->accuracy_ticks[j];
	run->interval_ns = intervals_ns[j];
	run->name = interval_names[j];
	slots = (run->ticks + 1) * NR_DUTY;
	for (m = 0; m < NR_METHODS; m++) {
		run->r[m].cpu_ns = xcalloc(slots, sizeof(double));
		run->r[m].at_ns = xcalloc(slots, sizeof(double));
		for (i = 0; i < NR_DUTY; i++)
			run->err[m][i] = xcalloc(run->ticks, sizeof(double));
	}
	for (i = 0; i < NR_DUTY; i++)
		run->truth[i] = xcalloc(run->ticks, sizeof(double));
	run->qemu_at_end = xcalloc(slots, sizeof(double));

	ret = duty_start(run->d, NR_DUTY, duties);
	if (!ret)
		ret = sample_periodic(cfg, run) ?: sample_qemu(cfg, run);
	duty_stop(run->d, NR_DUTY);
	return ret ?: score(run);
}

/*
 * How fresh a spinning thread's time is: read it with SAMPLE, then its CPU
 * clock (which the kernel computes under the run-queue lock); the
 * difference is what the reading missed (or, negative, got ahead). Reading
 * the clock charges the thread's running slice, so the reads are a few
 * ticks apart: each SAMPLE without F_FRESH then lags as it would anyway.
 */
#define FRESHNESS_READS	100
#define FRESHNESS_GAP_US	(20 * 1000)

static bool freshness_one(const struct bench_config *cfg, const struct duty_thread *d,
			  uint32_t flags, double *median_us, double *max_us)
{
	double lag[FRESHNESS_READS];
	struct vmsr_method m;
	unsigned int i;

	if (vmsr_method_open(&m, cfg->device, &d->tid, 1, flags))
		return false;
	for (i = 0; i < FRESHNESS_READS; i++) {
		usleep(FRESHNESS_GAP_US);
		if (vmsr_method_tick(&m)) {
			vmsr_method_close(&m);
			return false;
		}
		lag[i] = ((double)now_ns(d->clock) - m.tasks[0].cpu_ns) / 1e3;
	}
	vmsr_method_close(&m);
	*median_us = median(lag, FRESHNESS_READS);
	*max_us = max_of(lag, FRESHNESS_READS);
	return true;
}

static void freshness(const struct bench_config *cfg)
{
	static const unsigned int full = 100;
	struct duty_thread d;
	double fm, fx, sm = -1, sx = -1;
	bool fresh;

	if (duty_start(&d, 1, &full))
		return;
	usleep(20000);
	fresh = freshness_one(cfg, &d, VMSR_SAMPLE_F_FRESH, &fm, &fx);
	freshness_one(cfg, &d, 0, &sm, &sx);
	duty_stop(&d, 1);
	free(d.log);
	printf("   A busy thread's cpu_ns, then its own CPU clock: behind by median / max\n");
	if (fresh)
		printf("   %.1f / %.1f us with F_FRESH,", fm, fx);
	else
		printf("   (F_FRESH n/a)");
	printf(" %.1f / %.1f us without (%u reads each)\n\n", sm, sx, FRESHNESS_READS);
}

int accuracy_section(const struct bench_config *cfg, struct bench_summary *sum)
{
	unsigned int j, i;

	printf("\n2. Attribution accuracy: |measured - true| CPU share, %% of one CPU,\n"
	       "   mean / max over the intervals; truth = each thread's own\n"
	       "   CLOCK_THREAD_CPUTIME_ID at the tick boundaries (interpolated)\n\n");
	freshness(cfg);
	printf("   %-8s  %-19s", "interval", "method");
	for (i = 0; i < NR_DUTY; i++)
		printf("  %10u%% duty", duties[i]);
	printf("\n");
	for (j = 0; j < 3; j++) {
		struct run run;

		if (accuracy_one(cfg, j, &run)) {
			fprintf(stderr, "vmsr-bench: accuracy run failed\n");
			run_free(&run);
			return -1;
		}
		print_run(&run);
		fflush(stdout);
		if (run.interval_ns == 100 * NSEC_PER_MSEC)
			sum->share_err_pct_100ms = worst_mean(&run, run.have[M_FRESH] ? M_FRESH : M_STALE);
		if (run.have[M_FRESH])
			printf("   %-8s  F_FRESH cpu_ns went backwards %u times (max %.1f us)\n", "",
			       run.backwards, run.backwards_max_ns / 1e3);
		run_free(&run);
	}
	return 0;
}
