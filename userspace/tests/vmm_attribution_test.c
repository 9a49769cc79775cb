// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * In-VM integration test of libvmsr: a mock VMM with four vCPU threads that
 * burn CPU at known duty cycles (100%, 50%, 10%, 0%), two per virtual
 * package, sampled through /dev/vmsr like a real VMM would.
 *
 * It checks, against each thread's own CPU clock (CLOCK_THREAD_CPUTIME_ID,
 * through pthread_getcpuclockid(), read right after each tick):
 *  - the CPU-time share the sampler measured over the run, within
 *    SHARE_BOUND_PCT points;
 *  - that the guest's energy counters are monotonic modulo 2^32;
 *  - that every vCPU of a virtual package reads the same counter.
 *
 * The bound: the module's task times leave out the slice a running thread
 * has used since its last scheduler tick. On real hardware that is at most
 * 4 ms (HZ=250) per tick. Under TCG a vCPU's timer tick arrives late
 * whenever the host deschedules that vCPU's thread (4 vCPUs on 2 host
 * cores), and task times can be tens of ms stale: single ticks were seen
 * 5.6 points off on a loaded host, and those errors cancel from one tick to
 * the next. So the test asserts on the whole run (NR_TICKS intervals),
 * where staleness counts only at its two ends, and prints the worst single
 * tick for the record. 2 points still catches a wrong share formula, which
 * is off by 10 points or more for these duty cycles.
 *
 * Output is TAP, then one line for the record:
 *   attribution: threads=4 interval_ms=1000 max_share_err_pct=E
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libvmsr.h"
#include "workload.h"

#define NR_VCPUS	4
#define INTERVAL_MS	1000
#define NR_TICKS	5
#define SHARE_BOUND_PCT	2.0
#define PERIOD_NS	10000000LL	/* one duty cycle: 10 ms */

static const int duty_pct[NR_VCPUS] = { 100, 50, 10, 0 };

struct vcpu {
	pthread_t thread;
	int index;
	_Atomic int tid;
	clockid_t clock;
	uint64_t truth_ns;	/* its CPU clock at the last tick */
	uint64_t first_truth_ns;	/* and at the first */
};

static atomic_bool stop;
static int test_nr;

static void tap(int ok, const char *name, const char *detail)
{
	printf("%sok %d %s%s%s\n", ok ? "" : "not ", ++test_nr, name, detail[0] ? " # " : "",
	       detail);
}

/* Busy for duty% of every period, asleep for the rest. */
static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	atomic_store(&v->tid, gettid());
	while (!atomic_load(&stop))
		workload_duty_period(PERIOD_NS, duty_pct[v->index]);
	return NULL;
}

static int tick(struct vmsr_sampler *s)
{
	int ret;

	while ((ret = vmsr_sampler_tick(s)) == -EAGAIN)
		usleep(1000);	/* the module's counters refresh at most every min_interval_us */
	return ret;
}

int main(void)
{
	struct vmsr_sampler_config cfg = {
		.size = sizeof(cfg),
		.nr_vpackages = NR_VCPUS / 2,
		.max_vcpus = NR_VCPUS,
		.flags = VMSR_SAMPLER_F_SCAN_THREADS,
	};
	struct vcpu vcpus[NR_VCPUS];
	uint64_t prev_energy[NR_VCPUS / 2] = { 0 }, truth_wall;
	double max_tick_err = 0, max_err = 0;
	uint64_t first_wall, measured_ns[NR_VCPUS] = { 0 };
	int backwards = 0, disagree = 0, ret, i;
	struct vmsr_vpackage_stats vp0 = { .size = sizeof(vp0) };
	struct vmsr_sampler *s;
	char detail[160];

	printf("TAP version 13\n1..5\n");
	ret = vmsr_sampler_new(&cfg, &s);
	if (ret) {
		printf("ok 1 # SKIP cannot use /dev/vmsr: %s\n", strerror(-ret));
		return 0;
	}

	for (i = 0; i < NR_VCPUS; i++) {
		vcpus[i] = (struct vcpu){ .index = i };
		pthread_create(&vcpus[i].thread, NULL, vcpu_thread, &vcpus[i]);
		while (!atomic_load(&vcpus[i].tid))
			usleep(100);
		pthread_getcpuclockid(vcpus[i].thread, &vcpus[i].clock);
		ret = vmsr_sampler_add_vcpu(s, i, vcpus[i].tid, i / 2);
		if (ret) {
			printf("Bail out! add_vcpu: %s\n", strerror(-ret));
			return 1;
		}
	}

	ret = tick(s);
	for (i = 0; i < NR_VCPUS; i++)
		vcpus[i].first_truth_ns = vcpus[i].truth_ns = workload_now_ns(vcpus[i].clock);
	first_wall = truth_wall = workload_now_ns(CLOCK_MONOTONIC);

	for (int t = 0; t < NR_TICKS && !ret; t++) {
		uint64_t wall;

		usleep(INTERVAL_MS * 1000);
		ret = tick(s);
		if (ret)
			break;
		wall = workload_now_ns(CLOCK_MONOTONIC);
		for (i = 0; i < NR_VCPUS; i++) {
			uint64_t truth = workload_now_ns(vcpus[i].clock);
			struct vmsr_vcpu_stats st = { .size = sizeof(st) };
			double measured, expected;

			vmsr_sampler_vcpu_stats(s, i, &st);
			measured = 100.0 * st.last_cpu_ns / st.last_interval_ns;
			expected = 100.0 * (truth - vcpus[i].truth_ns) / (wall - truth_wall);
			max_tick_err = fmax(max_tick_err, fabs(measured - expected));
			measured_ns[i] += st.last_cpu_ns;
			printf("# tick %d vcpu %d duty %3d%%: measured %6.2f%%, truth %6.2f%%\n", t,
			       i, duty_pct[i], measured, expected);
			vcpus[i].truth_ns = truth;
		}
		truth_wall = wall;
		for (int p = 0; p < NR_VCPUS / 2; p++) {
			uint64_t a, b;

			vmsr_sampler_read_vcpu_msr(s, 2 * p, VMSR_MSR_PKG_ENERGY_STATUS, &a);
			vmsr_sampler_read_vcpu_msr(s, 2 * p + 1, VMSR_MSR_PKG_ENERGY_STATUS, &b);
			disagree += a != b;
			backwards += (int32_t)(uint32_t)(a - prev_energy[p]) < 0 || a > UINT32_MAX;
			prev_energy[p] = a;
		}
	}
	atomic_store(&stop, true);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(vcpus[i].thread, NULL);

	snprintf(detail, sizeof(detail), "%s", ret ? strerror(-ret) : "");
	tap(!ret, "ticks", detail);
	for (i = 0; i < NR_VCPUS && !ret; i++) {
		double window = (double)(truth_wall - first_wall);
		double measured = 100.0 * measured_ns[i] / window;
		double expected = 100.0 * (vcpus[i].truth_ns - vcpus[i].first_truth_ns) / window;

		max_err = fmax(max_err, fabs(measured - expected));
		printf("# vcpu %d over %.1f s: measured %6.2f%%, truth %6.2f%%\n", i, window / 1e9,
		       measured, expected);
	}
	printf("# worst single tick: %.2f points\n", max_tick_err);
	snprintf(detail, sizeof(detail), "worst %.2f points, bound %.1f", max_err,
		 SHARE_BOUND_PCT);
	tap(!ret && max_err <= SHARE_BOUND_PCT, "shares_match_thread_cpu_clocks", detail);
	tap(!ret && !backwards, "counters_monotonic_modulo_2_32", "");
	tap(!ret && !disagree, "vcpus_of_a_package_agree", "");
	vmsr_sampler_vpackage_stats(s, 0, &vp0);
	snprintf(detail, sizeof(detail), "attributed %.6f J of the host's %.6f J",
		 vp0.joules[VMSR_DOMAIN_PKG], vp0.host_joules[VMSR_DOMAIN_PKG]);
	if (vp0.host_joules[VMSR_DOMAIN_PKG] == 0)
		printf("ok %d busy_package_gets_energy_within_the_host # SKIP no package energy on this host\n",
		       ++test_nr);
	else
		tap(vp0.joules[VMSR_DOMAIN_PKG] > 0 &&
		    vp0.joules[VMSR_DOMAIN_PKG] <= vp0.host_joules[VMSR_DOMAIN_PKG] * (1 + 1e-9),
		    "busy_package_gets_energy_within_the_host", detail);
	printf("attribution: threads=%d interval_ms=%d max_share_err_pct=%.2f\n", NR_VCPUS,
	       INTERVAL_MS, max_err);
	vmsr_sampler_free(s);
	return 0;
}
