// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-burn: a known workload. One thread per duty cycle given (percent of
 * one CPU), each busy that share of every 10 ms period, for SECONDS.
 *
 * usage: vmsr-burn SECONDS DUTY...     e.g. vmsr-burn 5 100 50 10 0
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

#define PERIOD_NS 10000000ULL

static uint64_t deadline_ns;

static void *burn(void *arg)
{
	unsigned int duty = (uintptr_t)arg;
	char name[16];

	snprintf(name, sizeof(name), "burn-%u%%", duty);
	pthread_setname_np(pthread_self(), name);
	while (workload_now_ns(CLOCK_MONOTONIC) < deadline_ns)
		workload_duty_period(PERIOD_NS, duty);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th[64];
	int i, n = argc - 2;
	double secs;

	if (argc < 3 || n > 64 || (secs = atof(argv[1])) <= 0) {
		fprintf(stderr, "usage: vmsr-burn SECONDS DUTY... (up to 64 duty cycles, 0-100)\n");
		return 2;
	}
	deadline_ns = workload_now_ns(CLOCK_MONOTONIC) + (uint64_t)(secs * 1e9);
	for (i = 0; i < n; i++) {
		unsigned long duty = strtoul(argv[i + 2], NULL, 10);

		if (duty > 100) {
			fprintf(stderr, "vmsr-burn: duty %lu is over 100\n", duty);
			return 2;
		}
		if (pthread_create(&th[i], NULL, burn, (void *)(uintptr_t)duty)) {
			perror("vmsr-burn: pthread_create");
			return 1;
		}
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	return 0;
}
