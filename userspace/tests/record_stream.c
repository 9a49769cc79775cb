// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Records a snapshot stream for sampler_test's replay: four threads of this
 * process burn at 100, 50, 10 and 0 % duty while the main thread makes one
 * SAMPLE call every 100 ms, for every package and all five threads, and
 * prints the results as text on stdout.
 *
 * The streams in userspace/tests/data/ were recorded this way in the test VM, on
 * the emulated module loaded with emu_start close to the wrap, so that the
 * stream crosses it. Format, one record per line:
 *   H vendor energy_unit_shift domains power_unit nr_cpus nr_pkgs cpu_map...
 *   S end_ns
 *   P package read_ns energy[8] result[8]
 *   T tid result package cpu_ns flags
 */
#define _GNU_SOURCE
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

#define NR_BURNERS	4
#define NR_SAMPLES	40
#define PERIOD_NS	10000000LL

static const int duty_pct[NR_BURNERS] = { 100, 50, 10, 0 };
static _Atomic int tids[NR_BURNERS];
static atomic_bool stop;

static void *burn(void *arg)
{
	int i = (int)(long)arg;

	atomic_store(&tids[i], gettid());
	while (!atomic_load(&stop))
		workload_duty_period(PERIOD_NS, duty_pct[i]);
	return NULL;
}

int main(void)
{
	struct vmsr_task_sample tasks[NR_BURNERS + 1];
	struct vmsr_pkg_sample *pkgs;
	pthread_t th[NR_BURNERS];
	struct vmsr_info info;
	uint32_t *map;
	uint64_t end_ns;
	int fd, ret;

	fd = vmsr_open(NULL);
	if (fd < 0) {
		fprintf(stderr, "record_stream: %s\n", vmsr_open_hint(fd));
		return 1;
	}
	vmsr_get_info(fd, &info, NULL, 0);
	map = calloc(info.nr_cpus, sizeof(*map));
	pkgs = calloc(info.nr_packages, sizeof(*pkgs));
	vmsr_get_info(fd, &info, map, info.nr_cpus);
	printf("H %u %u %#x %#llx %u %u", info.vendor, info.energy_unit_shift, info.domains,
	       (unsigned long long)info.power_unit_raw, info.nr_cpus, info.nr_packages);
	for (uint32_t c = 0; c < info.nr_cpus; c++)
		printf(" %u", map[c]);
	printf("\n");

	for (long i = 0; i < NR_BURNERS; i++) {
		pthread_create(&th[i], NULL, burn, (void *)i);
		while (!atomic_load(&tids[i]))
			usleep(100);
	}
	for (int n = 0; n < NR_SAMPLES; n++) {
		memset(tasks, 0, sizeof(tasks));
		tasks[0].tid = gettid();
		for (int i = 0; i < NR_BURNERS; i++)
			tasks[i + 1].tid = tids[i];
		for (uint32_t p = 0; p < info.nr_packages; p++) {
			memset(&pkgs[p], 0, sizeof(pkgs[p]));
			pkgs[p].package = p;
			pkgs[p].domains = info.domains;
		}
		ret = vmsr_sample(fd, pkgs, info.nr_packages, tasks, NR_BURNERS + 1, NULL, &end_ns);
		if (ret) {
			fprintf(stderr, "record_stream: SAMPLE: %s\n", strerror(-ret));
			return 1;
		}
		printf("S %llu\n", (unsigned long long)end_ns);
		for (uint32_t p = 0; p < info.nr_packages; p++) {
			printf("P %u %llu", p, (unsigned long long)pkgs[p].read_ns);
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				printf(" %u", pkgs[p].energy[d]);
			for (int d = 0; d < VMSR_NR_DOMAINS; d++)
				printf(" %d", pkgs[p].result[d]);
			printf("\n");
		}
		for (int i = 0; i <= NR_BURNERS; i++)
			printf("T %u %d %u %llu %u\n", tasks[i].tid, tasks[i].result,
			       tasks[i].package, (unsigned long long)tasks[i].cpu_ns, tasks[i].flags);
		usleep(100000);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < NR_BURNERS; i++)
		pthread_join(th[i], NULL);
	return 0;
}
