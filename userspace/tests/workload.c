// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Workloads for vmsrstat_test, linked with the fake device.
 *
 *   workload thread-burns MS   a thread that burns MS ms of CPU, then exits,
 *                              while the main thread sleeps
 *   workload sampler MS        the same burning thread as vCPU 0 of a
 *                              sampler, which ticks just before and just
 *                              after the burn and prints what it charged:
 *                              "sampler tid=TID joules=J"
 *
 * The burn starts 300 ms after the thread does, so that a watcher ticking
 * faster than that has seen the thread first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvmsr.h"
#include "workload.h"

static uint64_t burn_ms;
static int go[2], done[2], leave[2];	/* pipes: the burner blocks, costing no CPU time */
static atomic_int burner_tid;

static void wait_on(int fd)
{
	char c;

	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
}

static void post(int fd)
{
	if (write(fd, "x", 1) != 1)
		abort();
}

static void *burner(void *arg)
{
	atomic_store(&burner_tid, gettid());
	wait_on(go[0]);
	workload_burn_cpu(burn_ms * 1000000);
	post(done[1]);
	wait_on(leave[0]);
	return NULL;
}

static int tick(struct vmsr_sampler *s)
{
	int ret;

	while ((ret = vmsr_sampler_tick(s)) == -EAGAIN)
		usleep(1000);
	return ret;
}

static int with_sampler(pthread_t th)
{
	struct vmsr_sampler_config cfg = {
		.size = sizeof(cfg), .nr_vpackages = 1, .max_vcpus = 1,
	};
	struct vmsr_vcpu_stats st = { .size = sizeof(st) };
	struct vmsr_sampler *s;
	int ret;

	ret = vmsr_sampler_new(&cfg, &s);
	if (!ret)
		ret = vmsr_sampler_add_vcpu(s, 0, atomic_load(&burner_tid), 0);
	if (!ret)
		ret = tick(s);
	if (ret) {
		fprintf(stderr, "workload: sampler: %s\n", strerror(-ret));
		return 1;
	}
	usleep(300000);
	ret = tick(s);
	post(go[1]);
	wait_on(done[0]);
	ret = ret ? ret : tick(s);
	ret = ret ? ret : vmsr_sampler_vcpu_stats(s, 0, &st);
	if (ret) {
		fprintf(stderr, "workload: sampler: %s\n", strerror(-ret));
		return 1;
	}
	printf("sampler tid=%d joules=%.9f\n", st.tid, st.joules[VMSR_DOMAIN_PKG]);
	fflush(stdout);
	usleep(300000);	/* the watcher's next sample, then the thread goes */
	post(leave[1]);
	pthread_join(th, NULL);
	vmsr_sampler_free(s);
	return 0;
}

int main(int argc, char **argv)
{
	bool sampler = argc == 3 && !strcmp(argv[1], "sampler");
	pthread_t th;

	if (argc != 3 || (!sampler && strcmp(argv[1], "thread-burns"))) {
		fprintf(stderr, "usage: workload thread-burns|sampler MS\n");
		return 2;
	}
	burn_ms = strtoull(argv[2], NULL, 10);
	if (pipe(go) || pipe(done) || pipe(leave))
		return 1;
	pthread_create(&th, NULL, burner, NULL);
	while (!atomic_load(&burner_tid))
		usleep(1000);
	if (sampler)
		return with_sampler(th);
	usleep(300000);
	post(go[1]);
	post(leave[1]);
	pthread_join(th, NULL);
	usleep(500000);
	return 0;
}
