// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench method (b): QEMU 9.1+'s virtual RAPL sampling
 * (kvm_msr_energy_thread), reproduced call for call. One iteration of its
 * loop is:
 *
 *   begin: opendir /proc/PID/task and list every thread but the main one;
 *          per thread, fopen + fscanf + fclose /proc/PID/task/TID/stat
 *          (utime, stime, processor) and read sysfs physical_package_id of
 *          that CPU; per package, one round trip to the helper
 *   (QEMU sleeps here: the interval)
 *   end:   per package, one round trip to the helper; per thread, the stat
 *          file again
 *
 * A helper round trip writes {msr, cpu, tid} to a Unix socket and reads a
 * u64; the helper (msr-helper.c) opens /dev/cpu/CPU/msr, preads and closes
 * it. QEMU reads MSR_PKG_ENERGY_STATUS; under TCG there is no RAPL, so this
 * reads the TSC, which costs the helper the same.
 *
 * Not reproduced: QEMU's glib string and array allocations and its
 * coroutine-based helper loop, which only add to its cost.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "helper-wire.h"

#define QEMU_BENCH_MSR	0x10	/* the TSC: TCG has no MSR_PKG_ENERGY_STATUS */

/* /proc/PID/task/TID/stat: utime and stime are fields 14 and 15, the CPU 39. */
static const char stat_format[] =
	"%*d (%*[^)]) %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu"
	" %*d %*d %*d %*d %*d %*d %*u %*u %*d %*u %*u %*u %*u %*u %*u %*u %*u"
	" %*u %*u %*u %*u %*u %*d %u";

long user_hz(void)
{
	return sysconf(_SC_CLK_TCK);
}

static int read_stat(struct qemu_method *m, struct qemu_thread *t, int which)
{
	char path[64];
	int n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)m->pid, (int)t->tid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	n = fscanf(f, stat_format, &t->utime[which], &t->stime[which], &t->cpu);
	fclose(f);
	return n == 3 ? 0 : -EIO;
}

/* Like QEMU's g_file_get_contents() and atoi(): open, read to EOF, close. */
static int package_of(unsigned int cpu)
{
	char path[80], buf[32];
	ssize_t n, len = 0;
	int fd;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/cpu/cpu%u/topology/physical_package_id", cpu);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return atoi(buf);
}

static unsigned long long helper_read(struct qemu_method *m, unsigned int cpu, pid_t tid)
{
	uint32_t req[3] = { QEMU_BENCH_MSR, cpu, (uint32_t)tid };
	unsigned long long val = 0;

	if (full_io(m->sock, req, sizeof(req), 1) || full_io(m->sock, &val, sizeof(val), 0))
		return 0;
	return val;
}

/* Starts the helper, waits for it to listen, and connects. */
static int helper_connect(struct qemu_method *m, const char *helper)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int out[2];
	char ready[8] = "";

	snprintf(addr.sun_path, sizeof(addr.sun_path), "/tmp/vmsr-bench-helper.%d", (int)m->pid);
	if (pipe2(out, O_CLOEXEC))
		return -errno;
	m->helper = fork();
	if (m->helper < 0)
		return -errno;
	if (!m->helper) {
		dup2(out[1], STDOUT_FILENO);
		execl(helper, helper, addr.sun_path, (char *)NULL);
		perror("vmsr-bench: exec helper");
		_exit(127);
	}
	close(out[1]);
	if (read(out[0], ready, sizeof(ready) - 1) <= 0 || strncmp(ready, "ready", 5)) {
		close(out[0]);
		return -ECHILD;
	}
	close(out[0]);
	m->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->sock < 0 || connect(m->sock, (struct sockaddr *)&addr, sizeof(addr)))
		return -errno;
	return 0;
}

int qemu_method_open(struct qemu_method *m, const char *helper, bool timed)
{
	long cpu, ncpus = sysconf(_SC_NPROCESSORS_CONF);

	memset(m, 0, sizeof(*m));
	m->pid = getpid();
	m->timed = timed;
	m->sock = -1;
	/* QEMU's maxpkgs: the highest physical_package_id + 1, at least 1. */
	for (cpu = 0; cpu < ncpus; cpu++) {
		int pkg = package_of(cpu);

		if (pkg >= (int)m->nr_pkgs)
			m->nr_pkgs = pkg + 1;
	}
	if (!m->nr_pkgs)
		m->nr_pkgs = 1;
	m->e_start = xcalloc(m->nr_pkgs, sizeof(*m->e_start));
	m->e_end = xcalloc(m->nr_pkgs, sizeof(*m->e_end));
	return helper_connect(m, helper);
}

static int list_threads(struct qemu_method *m)
{
	char path[32];
	struct dirent *ent;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)m->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	m->nr = 0;
	while ((ent = readdir(dir))) {
		pid_t tid;

		if (ent->d_name[0] == '.')
			continue;
		tid = atoi(ent->d_name);
		if (tid == m->pid)
			continue;
		if (m->nr == m->cap) {
			m->cap = m->cap ? 2 * m->cap : 64;
			m->th = realloc(m->th, m->cap * sizeof(*m->th));
			if (!m->th)
				return -ENOMEM;
		}
		m->th[m->nr++] = (struct qemu_thread){ .tid = tid };
	}
	closedir(dir);
	return 0;
}

/* The first thread found on @pkg, as QEMU picks where to read its counter. */
static struct qemu_thread *thread_on(struct qemu_method *m, unsigned int pkg)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		if (m->th[i].pkg == (int)pkg)
			return &m->th[i];
	return NULL;
}

/* With m->timed, a stat read dated by CLOCK_MONOTONIC around it (WINDOW_NS). */
static int timed_read_stat(struct qemu_method *m, struct qemu_thread *t, int which)
{
	uint64_t before, after;
	int tries = 0, ret;

	if (!m->timed)
		return read_stat(m, t, which);
	do {
		before = now_ns(CLOCK_MONOTONIC);
		ret = read_stat(m, t, which);
		after = now_ns(CLOCK_MONOTONIC);
	} while (!ret && after - before > WINDOW_NS && ++tries < WINDOW_TRIES);
	t->at_ns[which] = before + (after - before) / 2;
	return ret;
}

static void read_stats(struct qemu_method *m, int which)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++) {
		struct qemu_thread *t = &m->th[i];

		if (timed_read_stat(m, t, which))
			continue;
		if (which == 0)
			t->pkg = package_of(t->cpu);
		else
			t->ended = true;
	}
}

int qemu_method_begin(struct qemu_method *m)
{
	unsigned int p;
	int ret = list_threads(m);

	if (ret)
		return ret;
	read_stats(m, 0);
	for (p = 0; p < m->nr_pkgs; p++) {
		struct qemu_thread *t = thread_on(m, p);

		if (t)
			m->e_start[p] = helper_read(m, t->cpu, t->tid);
	}
	m->begun = true;
	return 0;
}

int qemu_method_end(struct qemu_method *m)
{
	unsigned int p;

	if (!m->begun)
		return -EINVAL;
	for (p = 0; p < m->nr_pkgs; p++) {
		struct qemu_thread *t = thread_on(m, p);

		if (t)
			m->e_end[p] = helper_read(m, t->cpu, t->tid);
	}
	read_stats(m, 1);
	m->begun = false;
	return 0;
}

/* CPU time, in ns, of @m->th[i] between begin and end, from whole ticks. */
uint64_t qemu_method_cpu_ns(const struct qemu_method *m, unsigned int i)
{
	const struct qemu_thread *t = &m->th[i];
	unsigned long long ticks = t->utime[1] + t->stime[1] - t->utime[0] - t->stime[0];

	return ticks * NSEC_PER_SEC / user_hz();
}

void qemu_method_close(struct qemu_method *m)
{
	if (m->sock >= 0)
		close(m->sock);
	if (m->helper > 0) {
		kill(m->helper, SIGTERM);
		waitpid(m->helper, NULL, 0);
	}
	free(m->th);
	free(m->e_start);
	free(m->e_end);
}
