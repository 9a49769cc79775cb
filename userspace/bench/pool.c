// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench: N threads of this process that sleep in read() on a pipe until
 * its write end is closed: the sampled threads of sections 1 and 3.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define POOL_STACK	(64 * 1024)

struct pool_slot {
	struct pool *p;
	unsigned int i;
	pthread_barrier_t *ready;
};

static void *pool_thread(void *arg)
{
	struct pool_slot *s = arg;
	struct pool *p = s->p;
	char c;

	p->tids[s->i] = gettid();
	pthread_getcpuclockid(pthread_self(), &p->clocks[s->i]);
	pthread_barrier_wait(s->ready);
	while (read(p->pipe[0], &c, 1) < 0)
		;
	return NULL;
}

int pool_start(struct pool *p, unsigned int n)
{
	struct pool_slot *slots = xcalloc(n, sizeof(*slots));
	pthread_barrier_t ready;
	pthread_attr_t attr;
	unsigned int i;
	int err = 0;

	memset(p, 0, sizeof(*p));
	p->th = xcalloc(n, sizeof(*p->th));
	p->tids = xcalloc(n, sizeof(*p->tids));
	p->clocks = xcalloc(n, sizeof(*p->clocks));
	if (pipe(p->pipe))
		return -1;
	pthread_barrier_init(&ready, NULL, n + 1);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, POOL_STACK);
	for (i = 0; i < n; i++) {
		slots[i] = (struct pool_slot){ .p = p, .i = i, .ready = &ready };
		err = pthread_create(&p->th[i], &attr, pool_thread, &slots[i]);
		if (err) {
			fprintf(stderr, "vmsr-bench: pthread_create: %s\n", strerror(err));
			exit(1);
		}
	}
	p->n = n;
	pthread_barrier_wait(&ready);
	pthread_barrier_destroy(&ready);
	pthread_attr_destroy(&attr);
	free(slots);
	return 0;
}

void pool_stop(struct pool *p)
{
	unsigned int i;

	close(p->pipe[1]);
	for (i = 0; i < p->n; i++)
		pthread_join(p->th[i], NULL);
	close(p->pipe[0]);
	free(p->th);
	free(p->tids);
	free(p->clocks);
}
