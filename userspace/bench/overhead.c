// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench section 3: the CPU cost of sampling 256 threads at a steady
 * rate, in % of one core: the median CPU time of one tick (the sampling
 * thread's, user and kernel, from one tick to the next, sleep included;
 * for QEMU's method plus its helper process's) times the ticks per second.
 * The median, not the total: in a VM, time the host takes from a vCPU
 * counts as the guest thread's CPU time, and would swamp what is measured.
 * A method slower than the rate runs back to back; its achieved rate is
 * shown. A loop that only sleeps and wakes shows the floor under both.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

#define OVERHEAD_THREADS	256

struct rate_result {
	double cpu_pct;
	double achieved_hz;
};

static uint64_t cpu_now(const clockid_t *extra_clock)
{
	return now_ns(CLOCK_THREAD_CPUTIME_ID) + (extra_clock ? now_ns(*extra_clock) : 0);
}

/* Ticks @tick(@arg) at @hz for @secs; CPU of this thread plus @extra_clock. */
static int run_rate(int (*tick)(void *), void *arg, unsigned int hz, double secs,
		    const clockid_t *extra_clock, struct rate_result *res)
{
	uint64_t period = NSEC_PER_SEC / hz, start, next, end, cpu;
	size_t max = (size_t)(secs * hz) + 2, ticks = 0;
	double *per_tick = xcalloc(max, sizeof(*per_tick));
	int ret = 0;

	start = now_ns(CLOCK_MONOTONIC);
	end = start + (uint64_t)(secs * NSEC_PER_SEC);
	cpu = cpu_now(extra_clock);
	for (next = start; next < end && ticks < max && !ret; ticks++) {
		uint64_t now, c;

		ret = tick(arg);
		next += period;
		now = now_ns(CLOCK_MONOTONIC);
		if (next < now)
			next = now;	/* late: no burst to catch up */
		else
			sleep_until(next);
		c = cpu_now(extra_clock);
		per_tick[ticks] = c - cpu;
		cpu = c;
	}
	end = now_ns(CLOCK_MONOTONIC);
	res->achieved_hz = ticks * 1e9 / (end - start);
	res->cpu_pct = 100.0 * median(per_tick, ticks) * res->achieved_hz / 1e9;
	free(per_tick);
	return ret;
}

static int no_tick(void *arg)
{
	return 0;
}

static int vmsr_tick(void *arg)
{
	return vmsr_method_tick(arg);
}

static int qemu_tick(void *arg)
{
	struct qemu_method *m = arg;

	return qemu_method_end(m) ?: qemu_method_begin(m);
}

static void print_row(const char *name, const struct rate_result *res, unsigned int n,
		      const unsigned int *hz)
{
	unsigned int i;

	printf("   %-22s", name);
	for (i = 0; i < n; i++) {
		char cell[40];

		if (res[i].achieved_hz < 0.9 * hz[i])
			snprintf(cell, sizeof(cell), "%.2f (%.0f Hz)", res[i].cpu_pct,
				 res[i].achieved_hz);
		else
			snprintf(cell, sizeof(cell), "%.3f", res[i].cpu_pct);
		printf("  %18s", cell);
	}
	printf("\n");
}

int overhead_section(const struct bench_config *cfg, struct bench_summary *sum)
{
	unsigned int n = cfg->nr_overhead_hz, i;
	struct rate_result *a = xcalloc(n, sizeof(*a)), *b = xcalloc(n, sizeof(*b));
	struct rate_result *idle = xcalloc(n, sizeof(*idle));
	uint32_t flags = vmsr_method_fresh_supported(cfg->device) ? VMSR_SAMPLE_F_FRESH : 0;
	struct vmsr_method vm;
	struct qemu_method qm;
	struct pool pool;
	clockid_t helper_clock;
	int ret;

	if (pool_start(&pool, OVERHEAD_THREADS))
		return -1;
	ret = vmsr_method_open(&vm, cfg->device, pool.tids, OVERHEAD_THREADS, flags);
	if (ret)
		goto out_pool;
	ret = qemu_method_open(&qm, cfg->helper, false);
	if (ret || clock_getcpuclockid(qm.helper, &helper_clock))
		goto out;
	ret = qemu_method_begin(&qm);
	pin_self(true);
	for (i = 0; i < n && !ret; i++)
		ret = run_rate(no_tick, NULL, cfg->overhead_hz[i], cfg->overhead_secs[i],
			       NULL, &idle[i]) ?:
		      run_rate(vmsr_tick, &vm, cfg->overhead_hz[i], cfg->overhead_secs[i],
			       NULL, &a[i]) ?:
		      run_rate(qemu_tick, &qm, cfg->overhead_hz[i], cfg->overhead_secs[i],
			       &helper_clock, &b[i]);
	pin_self(false);
	if (ret)
		goto out;

	printf("\n3. CPU overhead of sampling %u threads, %% of one core: median CPU time\n"
	       "   per tick (sampler thread; for (b) plus its helper) x ticks per second;\n"
	       "   the achieved rate where it falls below the target\n\n",
	       OVERHEAD_THREADS);
	printf("   %-22s", "method");
	for (i = 0; i < n; i++)
		printf("  %15u Hz", cfg->overhead_hz[i]);
	printf("\n");
	print_row("no sampling, wake-ups", idle, n, cfg->overhead_hz);
	print_row("(a) vmsr SAMPLE", a, n, cfg->overhead_hz);
	print_row("(b) QEMU /proc+helper", b, n, cfg->overhead_hz);
	for (i = 0; i < n; i++)
		if (cfg->overhead_hz[i] == 100)
			sum->cpu_pct_256_100hz = a[i].cpu_pct;
out:
	qemu_method_close(&qm);
	vmsr_method_close(&vm);
out_pool:
	pool_stop(&pool);
	free(idle);
	free(a);
	free(b);
	return ret;
}
