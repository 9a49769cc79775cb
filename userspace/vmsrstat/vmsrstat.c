// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsrstat: per-package, per-process and per-thread power from /dev/vmsr.
 *
 * Each interval makes one SAMPLE call for every package and every thread of
 * the process. A thread's energy is its package's energy times the share of
 * the package's CPU capacity it used: cpu_ns / (cpus_in_package * interval),
 * the rule QEMU's virtual RAPL applies. Idle energy is not attributed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libvmsr.h"

#define MAX_PKGS 64

struct thread {
	uint32_t tid;
	char comm[32];
	bool seen;		/* sampled at least once */
	uint64_t prev_cpu_ns;
	double joules;		/* attributed since start */
	/* this interval */
	double cpu_pct, watts;
	uint32_t cpu, package;
	bool alive;
};

struct state {
	int fd;
	bool json;
	pid_t pid;
	struct vmsr_info info;
	uint32_t *cpu_map;
	unsigned int cpus_in_pkg[MAX_PKGS];
	unsigned int nr_pkgs;
	bool has_energy;
	/* packages */
	uint32_t prev_energy[MAX_PKGS];
	uint64_t prev_read_ns[MAX_PKGS];
	double pkg_joules[MAX_PKGS], pkg_watts[MAX_PKGS], pkg_delta_j[MAX_PKGS];
	/* threads, sorted by tid */
	struct thread *threads;
	size_t nr_threads, cap_threads;
	uint64_t prev_end_ns, first_ns;
	char comm[32];
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vmsrstat [-i INTERVAL] [-n COUNT] [--json] (-p PID | -- COMMAND [ARGS...])\n"
		"\n"
		"Shows each package's power and each thread's share of it, from /dev/vmsr.\n"
		"\n"
		"  -i, --interval SECONDS  time between reports (default 1, at least 0.01)\n"
		"  -n, --count N           stop after N reports (default: until the process exits)\n"
		"  -p, --pid PID           watch a running process\n"
		"      --json              one JSON object per report, one per line\n"
		"  -h, --help              this text\n"
		"\n"
		"With -- COMMAND, vmsrstat runs COMMAND and watches it until it exits\n"
		"(or, with -n, until the last report, then stops it with SIGTERM).\n"
		"Access needs membership of group kvm (see vmsrstat(1)).\n");
}

static void read_comm(const char *path, char *out, size_t len)
{
	FILE *f = fopen(path, "r");

	snprintf(out, len, "?");
	if (!f)
		return;
	if (fgets(out, len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

/* Names change (exec, prctl), so they are read again for each report. */
static void refresh_names(struct state *st)
{
	char path[64];
	size_t i;

	snprintf(path, sizeof(path), "/proc/%d/comm", st->pid);
	read_comm(path, st->comm, sizeof(st->comm));
	for (i = 0; i < st->nr_threads; i++) {
		snprintf(path, sizeof(path), "/proc/%d/task/%u/comm", st->pid, st->threads[i].tid);
		read_comm(path, st->threads[i].comm, sizeof(st->threads[i].comm));
	}
}

static int cmp_thread(const void *a, const void *b)
{
	const struct thread *x = a, *y = b;

	return x->tid < y->tid ? -1 : x->tid > y->tid;
}

/* Looks @tid up among the first @n threads, which are sorted. */
static struct thread *find_thread(struct state *st, size_t n, uint32_t tid)
{
	struct thread key = { .tid = tid };

	return bsearch(&key, st->threads, n, sizeof(key), cmp_thread);
}

/* Refreshes the thread list from /proc/PID/task: new ones are added, gone ones dropped. */
static int scan_threads(struct state *st)
{
	char path[64];
	struct dirent *de;
	DIR *dir;
	size_t i, n = 0, known = st->nr_threads;

	snprintf(path, sizeof(path), "/proc/%d/task", st->pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	for (i = 0; i < st->nr_threads; i++)
		st->threads[i].alive = false;
	while ((de = readdir(dir))) {
		uint32_t tid = strtoul(de->d_name, NULL, 10);
		struct thread *t;

		if (!tid)
			continue;
		/* New threads are appended unsorted; readdir lists each tid once. */
		t = find_thread(st, known, tid);
		if (t) {
			t->alive = true;
			continue;
		}
		if (st->nr_threads == st->cap_threads) {
			size_t cap = st->cap_threads ? 2 * st->cap_threads : 64;
			struct thread *nt = realloc(st->threads, cap * sizeof(*nt));

			if (!nt) {
				closedir(dir);
				return -ENOMEM;
			}
			st->threads = nt;
			st->cap_threads = cap;
		}
		t = &st->threads[st->nr_threads++];
		memset(t, 0, sizeof(*t));
		t->tid = tid;
		t->alive = true;
	}
	closedir(dir);
	for (i = 0; i < st->nr_threads; i++)
		if (st->threads[i].alive)
			st->threads[n++] = st->threads[i];
	st->nr_threads = n;
	/* Sorted again for the next scan's find_thread(). */
	qsort(st->threads, st->nr_threads, sizeof(*st->threads), cmp_thread);
	return 0;
}

/* One SAMPLE; fills this interval's figures. Returns false before the first full interval. */
static int sample(struct state *st, bool *have_interval)
{
	struct vmsr_pkg_sample pkgs[MAX_PKGS] = {};
	struct vmsr_task_sample *tasks;
	uint64_t end_ns, interval_ns;
	size_t i;
	int ret;

	tasks = calloc(st->nr_threads ? st->nr_threads : 1, sizeof(*tasks));
	if (!tasks)
		return -ENOMEM;
	for (i = 0; i < st->nr_pkgs; i++)
		pkgs[i] = (struct vmsr_pkg_sample){
			.package = i, .domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG) };
	for (i = 0; i < st->nr_threads; i++)
		tasks[i].tid = st->threads[i].tid;
	ret = vmsr_sample(st->fd, st->has_energy ? pkgs : NULL, st->has_energy ? st->nr_pkgs : 0,
			  tasks, st->nr_threads, NULL, &end_ns);
	if (ret) {
		free(tasks);
		return ret;
	}

	*have_interval = st->prev_end_ns != 0;
	interval_ns = end_ns - st->prev_end_ns;
	for (i = 0; st->has_energy && i < st->nr_pkgs; i++) {
		uint64_t dt = pkgs[i].read_ns - st->prev_read_ns[i];
		double dj;

		if (pkgs[i].result[0])
			continue;
		dj = (uint32_t)(pkgs[i].energy[0] - st->prev_energy[i]) *
		     vmsr_joules_per_step(&st->info);
		if (*have_interval) {
			st->pkg_delta_j[i] = dj;
			st->pkg_joules[i] += dj;
			st->pkg_watts[i] = dt ? dj * 1e9 / dt : 0;
		}
		st->prev_energy[i] = pkgs[i].energy[0];
		st->prev_read_ns[i] = pkgs[i].read_ns;
	}
	for (i = 0; i < st->nr_threads; i++) {
		struct thread *t = &st->threads[i];
		uint64_t dcpu;
		uint32_t pkg;

		if (tasks[i].result) {
			t->alive = false;
			continue;
		}
		dcpu = t->seen ? tasks[i].cpu_ns - t->prev_cpu_ns : 0;
		t->prev_cpu_ns = tasks[i].cpu_ns;
		t->cpu = tasks[i].cpu;
		t->package = pkg = tasks[i].package;
		if (!t->seen || !*have_interval) {
			t->seen = true;
			t->cpu_pct = t->watts = 0;
			continue;
		}
		t->cpu_pct = 100.0 * dcpu / interval_ns;
		t->watts = 0;
		if (st->has_energy && pkg < st->nr_pkgs && st->cpus_in_pkg[pkg]) {
			double share = (double)dcpu / ((double)st->cpus_in_pkg[pkg] * interval_ns);

			t->watts = st->pkg_watts[pkg] * share;
			t->joules += st->pkg_delta_j[pkg] * share;
		}
	}
	if (!st->first_ns)
		st->first_ns = end_ns;
	st->prev_end_ns = end_ns;
	free(tasks);
	return 0;
}

/* The process: the sum of its threads. */
static void process_totals(const struct state *st, double *cpu, double *watts, double *joules)
{
	size_t i;

	*cpu = *watts = *joules = 0;
	for (i = 0; i < st->nr_threads; i++) {
		*cpu += st->threads[i].cpu_pct;
		*watts += st->threads[i].watts;
		*joules += st->threads[i].joules;
	}
}

static void print_text(struct state *st, double interval_s)
{
	double cpu, watts, joules;
	size_t i;

	printf("\n-- %.2f s elapsed, interval %.3f s %s\n",
	       (st->prev_end_ns - st->first_ns) / 1e9, interval_s,
	       st->info.flags & VMSR_INFO_F_EMULATED ? "(emulated RAPL)" : "");
	for (i = 0; i < st->nr_pkgs; i++) {
		if (st->has_energy)
			printf("   package %zu: %8.2f W %10.2f J  (%u CPUs)\n", i, st->pkg_watts[i],
			       st->pkg_joules[i], st->cpus_in_pkg[i]);
		else
			printf("   package %zu:        - W          - J  (%u CPUs, no RAPL)\n",
			       i, st->cpus_in_pkg[i]);
	}
	process_totals(st, &cpu, &watts, &joules);
	printf("   %7s %7s %-16s %3s %7s %8s %10s\n", "PID", "TID", "COMMAND", "CPU", "CPU%",
	       "W", "J");
	if (st->has_energy)
		printf("   %7d %7s %-16s %3s %7.1f %8.2f %10.2f\n", st->pid, "-", st->comm, "-",
		       cpu, watts, joules);
	else
		printf("   %7d %7s %-16s %3s %7.1f %8s %10s\n", st->pid, "-", st->comm, "-", cpu,
		       "-", "-");
	for (i = 0; i < st->nr_threads; i++) {
		const struct thread *t = &st->threads[i];

		if (st->has_energy)
			printf("   %7s %7u %-16s %3u %7.1f %8.2f %10.2f\n", "", t->tid, t->comm,
			       t->cpu, t->cpu_pct, t->watts, t->joules);
		else
			printf("   %7s %7u %-16s %3u %7.1f %8s %10s\n", "", t->tid, t->comm,
			       t->cpu, t->cpu_pct, "-", "-");
	}
	fflush(stdout);
}

static void json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_number(double v, bool valid)
{
	if (valid && isfinite(v))
		printf("%.6g", v);
	else
		printf("null");
}

static void print_json(struct state *st, double interval_s)
{
	double cpu, watts, joules;
	size_t i;

	process_totals(st, &cpu, &watts, &joules);
	printf("{\"elapsed_s\":%.6f,\"interval_s\":%.6f,\"emulated\":%s,\"packages\":[",
	       (st->prev_end_ns - st->first_ns) / 1e9, interval_s,
	       st->info.flags & VMSR_INFO_F_EMULATED ? "true" : "false");
	for (i = 0; i < st->nr_pkgs; i++) {
		printf("%s{\"package\":%zu,\"cpus\":%u,\"watts\":", i ? "," : "", i,
		       st->cpus_in_pkg[i]);
		json_number(st->pkg_watts[i], st->has_energy);
		printf(",\"joules\":");
		json_number(st->pkg_joules[i], st->has_energy);
		printf("}");
	}
	printf("],\"process\":{\"pid\":%d,\"comm\":", st->pid);
	json_string(st->comm);
	printf(",\"cpu_pct\":%.3f,\"watts\":", cpu);
	json_number(watts, st->has_energy);
	printf(",\"joules\":");
	json_number(joules, st->has_energy);
	printf(",\"threads\":[");
	for (i = 0; i < st->nr_threads; i++) {
		const struct thread *t = &st->threads[i];

		printf("%s{\"tid\":%u,\"comm\":", i ? "," : "", t->tid);
		json_string(t->comm);
		printf(",\"cpu\":%u,\"package\":%u,\"cpu_pct\":%.3f,\"watts\":", t->cpu,
		       t->package, t->cpu_pct);
		json_number(t->watts, st->has_energy);
		printf(",\"joules\":");
		json_number(t->joules, st->has_energy);
		printf("}");
	}
	printf("]}}\n");
	fflush(stdout);
}

static int setup_device(struct state *st)
{
	unsigned int cpu;
	int ret;

	st->fd = vmsr_open(NULL);
	if (st->fd < 0) {
		fprintf(stderr, "vmsrstat: %s: %s\nvmsrstat: %s\n", VMSR_DEVICE_PATH,
			strerror(-st->fd), vmsr_open_hint(st->fd));
		return -1;
	}
	ret = vmsr_get_info(st->fd, &st->info, NULL, 0);
	if (ret)
		goto fail;
	st->cpu_map = calloc(st->info.nr_cpus, sizeof(*st->cpu_map));
	if (!st->cpu_map) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = vmsr_get_info(st->fd, &st->info, st->cpu_map, st->info.nr_cpus);
	if (ret)
		goto fail;
	st->nr_pkgs = st->info.nr_packages < MAX_PKGS ? st->info.nr_packages : MAX_PKGS;
	for (cpu = 0; cpu < st->info.nr_cpus; cpu++) {
		char path[80];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
		/* CPU 0 often has no online file: it cannot go offline. */
		if (st->cpu_map[cpu] < st->nr_pkgs && (cpu == 0 || !access(path, F_OK)))
			st->cpus_in_pkg[st->cpu_map[cpu]]++;
	}
	st->has_energy = st->info.domains & VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG);
	if (!st->has_energy && !st->json)
		fprintf(stderr, "vmsrstat: this machine has no RAPL energy counters: "
			"showing CPU time only\n");
	return 0;
fail:
	fprintf(stderr, "vmsrstat: %s: %s\n", VMSR_DEVICE_PATH, strerror(-ret));
	return -1;
}

static bool process_gone(struct state *st, pid_t child, int *status)
{
	if (child > 0)
		return waitpid(child, status, WNOHANG) == child;
	return kill(st->pid, 0) && errno == ESRCH;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "pid", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	struct state st = { .fd = -1 };
	double interval = 1.0;
	long count = -1, reports = 0;
	pid_t child = -1;
	int opt, status = 0;
	char *end;

	while ((opt = getopt_long(argc, argv, "+i:n:p:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval >= 0.01 && interval <= 3600)) {
				fprintf(stderr, "vmsrstat: -i takes seconds, 0.01 to 3600\n");
				return 2;
			}
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1) {
				fprintf(stderr, "vmsrstat: -n takes a positive count\n");
				return 2;
			}
			break;
		case 'p':
			st.pid = strtol(optarg, &end, 10);
			if (*end || st.pid < 1) {
				fprintf(stderr, "vmsrstat: -p takes a process id\n");
				return 2;
			}
			break;
		case 'j':
			st.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!!st.pid == (optind < argc)) {
		fprintf(stderr, "vmsrstat: give either -p PID or -- COMMAND\n");
		usage(stderr);
		return 2;
	}
	if (setup_device(&st))
		return 1;

	if (!st.pid) {
		child = fork();
		if (child < 0) {
			perror("vmsrstat: fork");
			return 1;
		}
		if (child == 0) {
			execvp(argv[optind], argv + optind);
			fprintf(stderr, "vmsrstat: %s: %s\n", argv[optind], strerror(errno));
			_exit(127);
		}
		st.pid = child;
	}
	for (;;) {
		struct timespec ts = { (time_t)interval,
				       (long)((interval - (time_t)interval) * 1e9) };
		bool have_interval = false;
		uint64_t prev = st.prev_end_ns;
		int ret = scan_threads(&st);

		if (ret == -ENOENT || ret == -ESRCH)
			break;
		if (!ret)
			ret = sample(&st, &have_interval);
		if (ret) {
			fprintf(stderr, "vmsrstat: sampling %d: %s\n", st.pid, strerror(-ret));
			return 1;
		}
		if (have_interval) {
			double secs = (st.prev_end_ns - prev) / 1e9;

			refresh_names(&st);
			if (st.json)
				print_json(&st, secs);
			else
				print_text(&st, secs);
			if (count > 0 && ++reports >= count)
				break;
		}
		if (process_gone(&st, child, &status))
			break;
		nanosleep(&ts, NULL);
	}
	if (child > 0) {
		/* -n ended the run first: the command was ours, so stop it. */
		if (!process_gone(&st, child, &status)) {
			kill(child, SIGTERM);
			waitpid(child, &status, 0);
			return 0;
		}
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	return 0;
}
