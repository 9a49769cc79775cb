// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench section 1: the cost of one tick, sampling every thread of this
 * process (N sleeping threads) and every package, for each method: the
 * median wall time of its ticks, back to back, from a thread kept on one
 * CPU (pin_self()). What sampling at a steady rate costs, sleeps, wake-ups
 * and colder caches included, is section 3's.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"

/*
 * The ticks come in blocks, one method after the other, so that a slow
 * phase of a shared machine hits every method alike; the first tick of a
 * block, which pays for the method before it, is not counted.
 */
#define COST_BLOCKS	4

struct cost_row {
	double a, b, c;		/* median us per tick */
};

struct cost_ctx {
	struct vmsr_method vm;
	struct qemu_method qm;
	struct clock_method cm;
};

static int tick_vmsr(struct cost_ctx *c)
{
	return vmsr_method_tick(&c->vm);
}

/* One iteration of QEMU's loop: the end of the last, the begin of the next. */
static int tick_qemu(struct cost_ctx *c)
{
	return qemu_method_end(&c->qm) ?: qemu_method_begin(&c->qm);
}

static int tick_clock(struct cost_ctx *c)
{
	return clock_method_tick(&c->cm);
}

/* Appends one block of ticks to @us (from *@n on), after one warm-up tick. */
static int time_block(int (*tick)(struct cost_ctx *), struct cost_ctx *c,
		      unsigned int ticks, double *us, unsigned int *n)
{
	unsigned int r;
	int ret = 0;

	for (r = 0; r <= ticks && !ret; r++) {
		uint64_t t;

		t = now_ns(CLOCK_MONOTONIC);
		ret = tick(c);
		if (r)
			us[(*n)++] = (now_ns(CLOCK_MONOTONIC) - t) / 1e3;
	}
	return ret;
}

static int cost_one(const struct bench_config *cfg, unsigned int n, uint32_t flags,
		    struct cost_row *row)
{
	unsigned int per_block = (cfg->cost_ticks + COST_BLOCKS - 1) / COST_BLOCKS;
	unsigned int na = 0, nb = 0, nc = 0, r;
	double *a, *b, *cl;
	struct cost_ctx c;
	struct pool pool;
	int ret;

	if (pool_start(&pool, n))
		return -1;
	ret = vmsr_method_open(&c.vm, cfg->device, pool.tids, n, flags);
	if (ret) {
		fprintf(stderr, "vmsr-bench: %s: %s\n", cfg->device ? cfg->device : VMSR_DEVICE_PATH,
			vmsr_open_hint(ret));
		pool_stop(&pool);
		return ret;
	}
	ret = qemu_method_open(&c.qm, cfg->helper, false);
	if (ret) {
		fprintf(stderr, "vmsr-bench: cannot start %s\n", cfg->helper);
		goto out;
	}
	clock_method_open(&c.cm, pool.clocks, n, false);
	a = xcalloc(COST_BLOCKS * per_block, sizeof(*a));
	b = xcalloc(COST_BLOCKS * per_block, sizeof(*b));
	cl = xcalloc(COST_BLOCKS * per_block, sizeof(*cl));
	/* The first QEMU tick has no iteration to end. */
	ret = qemu_method_begin(&c.qm);
	pin_self(true);
	for (r = 0; r < COST_BLOCKS && !ret; r++)
		ret = time_block(tick_vmsr, &c, per_block, a, &na) ?:
		      time_block(tick_clock, &c, per_block, cl, &nc) ?:
		      time_block(tick_qemu, &c, per_block, b, &nb);
	pin_self(false);
	row->a = median(a, na);
	row->b = median(b, nb);
	row->c = median(cl, nc);
	if (!ret && c.qm.nr != n) {
		fprintf(stderr, "vmsr-bench: /proc lists %u threads, not %u\n", c.qm.nr, n);
		ret = -1;
	}
	free(a);
	free(b);
	free(cl);
	clock_method_close(&c.cm);
out:
	qemu_method_close(&c.qm);
	vmsr_method_close(&c.vm);
	pool_stop(&pool);
	return ret;
}

/*
 * Issue 17's targets for (a), from the rows of this run: its cost per thread
 * at every size above COST_REF_THREADS within COST_MAX_GROWTH times that at
 * COST_REF_THREADS, and at least COST_MIN_LEAD times cheaper than (c) at
 * COST_REF_THREADS threads and above. Below, a SAMPLE's fixed cost (one
 * system call and the energy read) outweighs a few clock_gettime() calls.
 */
#define COST_REF_THREADS	256
#define COST_MAX_GROWTH		1.2
#define COST_MIN_LEAD		4.0

static void print_targets(const struct bench_config *cfg, const struct cost_row *rows,
			  struct bench_summary *sum)
{
	double ref = -1, growth = -1, lead = -1;
	unsigned int i, lead_n = 0;

	for (i = 0; i < cfg->nr_cost_threads; i++)
		if (cfg->cost_threads[i] == COST_REF_THREADS)
			ref = rows[i].a / COST_REF_THREADS;
	if (ref <= 0)
		return;
	printf("\n");
	for (i = 0; i < cfg->nr_cost_threads; i++) {
		unsigned int n = cfg->cost_threads[i];
		double g = rows[i].a / n / ref, l = rows[i].c / rows[i].a;

		if (n < COST_REF_THREADS)
			continue;
		if (n > COST_REF_THREADS) {
			printf("   (a) per thread at %u threads is %.2fx that at %u, target at most %.1fx: %s\n",
			       n, g, COST_REF_THREADS, COST_MAX_GROWTH,
			       g <= COST_MAX_GROWTH ? "met" : "missed");
			if (g > growth)
				growth = g;
		}
		if (lead < 0 || l < lead) {
			lead = l;
			lead_n = n;
		}
	}
	printf("   (c)/(a) at %u threads and above is %.2f at worst (%u threads), target at least %.1f: %s\n",
	       COST_REF_THREADS, lead, lead_n, COST_MIN_LEAD, lead >= COST_MIN_LEAD ? "met" : "missed");
	sum->vmsr_growth_max = growth;
	sum->clock_over_vmsr_min = lead;
}

int cost_section(const struct bench_config *cfg, struct bench_summary *sum)
{
	uint32_t flags = vmsr_method_fresh_supported(cfg->device) ? VMSR_SAMPLE_F_FRESH : 0;
	struct cost_row *rows = xcalloc(cfg->nr_cost_threads, sizeof(*rows));
	unsigned int i;

	printf("\n1. Cost of one tick: all N threads of one process and every package\n"
	       "   median of %u ticks back to back, us per tick (us per thread)\n\n",
	       COST_BLOCKS * ((cfg->cost_ticks + COST_BLOCKS - 1) / COST_BLOCKS));
	printf("   %5s  %-20s  %-22s  %-20s  %7s  %5s\n", "N", "(a) vmsr SAMPLE",
	       "(b) QEMU /proc+helper", "(c) clock_gettime", "b/a", "c/a");
	for (i = 0; i < cfg->nr_cost_threads; i++) {
		unsigned int n = cfg->cost_threads[i];
		struct cost_row row;
		char a[32], b[32], c[32];

		if (cost_one(cfg, n, flags, &row)) {
			free(rows);
			return -1;
		}
		rows[i] = row;
		snprintf(a, sizeof(a), "%.1f (%.3f)", row.a, row.a / n);
		snprintf(b, sizeof(b), "%.1f (%.2f)", row.b, row.b / n);
		snprintf(c, sizeof(c), "%.1f (%.3f)", row.c, row.c / n);
		printf("   %5u  %-20s  %-22s  %-20s  %7.1f  %5.2f\n", n, a, b, c,
		       row.b / row.a, row.c / row.a);
		fflush(stdout);
		if (n == 256) {
			sum->qemu_over_vmsr_256 = row.b / row.a;
			sum->clock_over_vmsr_256 = row.c / row.a;
		}
	}
	printf("\n   (a) with %s\n", flags ? "VMSR_SAMPLE_F_FRESH" : "flags 0 (the module lacks F_FRESH)");
	print_targets(cfg, rows, sum);
	free(rows);
	return 0;
}
