// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench section 4: what vmsr_exporter costs as VMs grow. For each
 * size, N stand-in VMs (this program again, run as qemu-system-x86_64 with
 * -name guest=... and -uuid ..., 8 idle threads each) and a fresh exporter
 * sampling every second. Its CPU is its whole process's CPU clock (utime +
 * stime, every thread) over a measured wall-time window without scrapes:
 * the total over the window, and the median of its 1 s parts. Then one
 * GET /metrics after another: the median time of a scrape, from connect()
 * to the last byte, and the body's size.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define STANDIN_THREADS	8
#define STANDIN_READY_FD 3
#define EXPORTER_PORT	19863
#define READY_TIMEOUT_S	60
#define TARGET_CPU_PCT	0.5	/* of one core, at the largest size */
#define TARGET_LINEAR	1.2	/* scrape time per VM, largest size over the one before */

/* The stand-in VM: this program, run under QEMU's name (main.c sends it here). */
static void *idle_thread(void *arg)
{
	for (;;)
		pause();
	return NULL;
}

int standin_main(void)
{
	pthread_t th;

	for (int i = 1; i < STANDIN_THREADS; i++)
		if (pthread_create(&th, NULL, idle_thread, NULL))
			return 1;
	if (write(STANDIN_READY_FD, "", 1) != 1)
		return 1;
	close(STANDIN_READY_FD);
	for (;;)
		pause();
}

/* This program's path, and a symlink to it named qemu-system-x86_64 in @dir. */
static int make_standin_link(char *dir, size_t dir_size, char *link, size_t link_size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return -1;
	self[n] = '\0';
	snprintf(dir, dir_size, "/tmp/vmsr-bench-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(link, link_size, "%s/qemu-system-x86_64", dir);
	return symlink(self, link);
}

/* Forks and execs @argv with fd @keep_fd as STANDIN_READY_FD; dies with us. */
static pid_t spawn(char *const argv[], int keep_fd, bool quiet)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* dup2() onto itself would leave it close-on-exec. */
	if (keep_fd == STANDIN_READY_FD ? fcntl(keep_fd, F_SETFD, 0) :
	    keep_fd >= 0 && dup2(keep_fd, STANDIN_READY_FD) < 0)
		_exit(127);
	if (quiet) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
	}
	execv(argv[0], argv);
	_exit(127);
}

static void reap(pid_t *pids, unsigned int n, int sig)
{
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			kill(pids[i], sig);
	for (unsigned int i = 0; i < n; i++)
		if (pids[i] > 0)
			waitpid(pids[i], NULL, 0);
}

/* Starts @n stand-in VMs and waits until every one has its threads. */
static int start_standins(const char *link, pid_t *pids, unsigned int n)
{
	int ready[2], ret = 0;
	unsigned int got = 0;

	if (pipe2(ready, O_CLOEXEC))
		return -1;
	for (unsigned int i = 0; i < n && !ret; i++) {
		char name[64], uuid[40];
		char *argv[] = { (char *)link, "-name", name, "-uuid", uuid, NULL };

		snprintf(name, sizeof(name), "guest=bench-vm-%u,debug-threads=on", i);
		snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012x", i);
		pids[i] = spawn(argv, ready[1], false);
		if (pids[i] < 0)
			ret = -1;
	}
	close(ready[1]);
	while (!ret && got < n) {
		char buf[64];
		ssize_t r = read(ready[0], buf, sizeof(buf));

		if (r <= 0)
			ret = -1;
		else
			got += r;
	}
	close(ready[0]);
	return ret;
}

/* One GET of the metrics: the body (malloc'd) and the wall time. */
static int scrape(char **body, size_t *len, double *ms)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n"
				  "Connection: close\r\n\r\n";
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(EXPORTER_PORT),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap), *start;
	uint64_t t0 = now_ns(CLOCK_MONOTONIC);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ssize_t r = -1;

	if (fd >= 0 && buf && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	    write(fd, req, sizeof(req) - 1) == sizeof(req) - 1) {
		while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
			n += r;
			if (n + 1 == cap) {
				char *bigger = realloc(buf, 2 * cap);

				if (!bigger) {
					r = -1;
					break;
				}
				buf = bigger;
				cap *= 2;
			}
		}
	}
	*ms = (now_ns(CLOCK_MONOTONIC) - t0) / 1e6;
	if (fd >= 0)
		close(fd);
	if (r < 0 || !buf || strncmp(buf, "HTTP/1.1 200", 12)) {
		free(buf);
		return -1;
	}
	buf[n] = '\0';
	start = strstr(buf, "\r\n\r\n");
	if (!start) {
		free(buf);
		return -1;
	}
	start += 4;
	*len = n - (start - buf);
	memmove(buf, start, *len + 1);
	*body = buf;
	return 0;
}

/* The value of the sample line "@name value" in a scrape, or -1. */
static double metric(const char *body, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = body; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/*
 * Scrapes until the exporter lists @n VMs and has attributed two samples
 * (or has no device to sample: then it still scans for VMs). Returns its
 * samples so far, or -1.
 */
static double wait_ready(unsigned int n)
{
	uint64_t end = now_ns(CLOCK_MONOTONIC) + READY_TIMEOUT_S * NSEC_PER_SEC;

	while (now_ns(CLOCK_MONOTONIC) < end) {
		char *body;
		size_t len;
		double ms, vms, samples = -1;

		if (!scrape(&body, &len, &ms)) {
			vms = metric(body, "vmsr_vms");
			samples = metric(body, "vmsr_samples_total");
			if (vms == n && (samples >= 2 || metric(body, "vmsr_up") == 0)) {
				free(body);
				return samples;
			}
			free(body);
		}
		sleep_until(now_ns(CLOCK_MONOTONIC) + 200 * NSEC_PER_MSEC);
	}
	return -1;
}

struct exporter_row {
	double cpu_pct, cpu_pct_median, ms_per_sample;
	double scrape_ms;
	size_t bytes;
	bool up;
};

static int measure(const struct bench_config *cfg, pid_t exporter, unsigned int n,
		   struct exporter_row *row)
{
	unsigned int secs = cfg->exporter_secs, k = cfg->exporter_scrapes;
	double *pct = xcalloc(secs, sizeof(*pct)), *ms = xcalloc(k, sizeof(*ms));
	double s0 = wait_ready(n), s1 = -1;
	uint64_t c0, t0, c, t, next;
	clockid_t clk;
	char *body = NULL;
	size_t len = 0;
	int ret = -1;

	if (s0 < 0) {
		fprintf(stderr, "vmsr-bench: the exporter did not list %u VMs within %d s\n", n,
			READY_TIMEOUT_S);
		goto out;
	}
	if (clock_getcpuclockid(exporter, &clk))
		goto out;
	c0 = c = now_ns(clk);
	t0 = next = t = now_ns(CLOCK_MONOTONIC);
	for (unsigned int i = 0; i < secs; i++) {
		uint64_t c1, t1;

		next += NSEC_PER_SEC;
		sleep_until(next);
		c1 = now_ns(clk);
		t1 = now_ns(CLOCK_MONOTONIC);
		pct[i] = 100.0 * (c1 - c) / (t1 - t);
		c = c1;
		t = t1;
	}
	row->cpu_pct = 100.0 * (c - c0) / (t - t0);
	row->cpu_pct_median = median(pct, secs);
	for (unsigned int i = 0; i < k; i++) {
		free(body);
		body = NULL;
		if (scrape(&body, &len, &ms[i])) {
			fprintf(stderr, "vmsr-bench: a scrape of the exporter failed\n");
			goto out;
		}
		if (!i) {
			s1 = metric(body, "vmsr_samples_total");
			row->up = metric(body, "vmsr_up") == 1;
		}
	}
	row->bytes = len;
	row->scrape_ms = median(ms, k);
	row->ms_per_sample = s1 > s0 ? (c - c0) / 1e6 / (s1 - s0) : -1;
	ret = 0;
out:
	free(body);
	free(pct);
	free(ms);
	return ret;
}

static int exporter_one(const struct bench_config *cfg, const char *link, unsigned int n,
			struct exporter_row *row)
{
	char listen[64] = "--web.listen-address=127.0.0.1:";
	char device[PATH_MAX + 16];
	char *argv[] = { (char *)cfg->exporter, listen, "--sampling.interval=1s", device, NULL };
	pid_t *vms = xcalloc(n, sizeof(*vms)), exporter;
	int ret;

	snprintf(listen + strlen(listen), sizeof(listen) - strlen(listen), "%d", EXPORTER_PORT);
	snprintf(device, sizeof(device), "--device=%s",
		 cfg->device ? cfg->device : VMSR_DEVICE_PATH);
	ret = start_standins(link, vms, n);
	if (ret) {
		fprintf(stderr, "vmsr-bench: cannot start %u stand-in VMs\n", n);
		reap(vms, n, SIGKILL);
		free(vms);
		return ret;
	}
	exporter = spawn(argv, -1, true);
	ret = exporter < 0 ? -1 : measure(cfg, exporter, n, row);
	if (exporter > 0)
		reap(&exporter, 1, SIGTERM);
	reap(vms, n, SIGKILL);
	free(vms);
	return ret;
}

int exporter_section(const struct bench_config *cfg, struct bench_summary *sum)
{
	char dir[64], link[96];
	struct exporter_row *rows = xcalloc(cfg->nr_exporter_vms, sizeof(*rows));
	unsigned int i, last = cfg->nr_exporter_vms - 1;
	double per_vm_ratio;
	int ret = 0;

	printf("\n4. vmsr_exporter as VMs grow: N stand-in VMs (qemu-system-x86_64 -name\n"
	       "   guest=... -uuid ..., %u idle threads each), sampled every 1 s; the\n"
	       "   exporter's CPU (utime + stime) over %u s without scrapes, total and\n"
	       "   median 1 s; then the median of %u scrapes (GET /metrics)\n\n",
	       STANDIN_THREADS, cfg->exporter_secs, cfg->exporter_scrapes);
	if (access(cfg->exporter, X_OK)) {
		fprintf(stderr, "vmsr-bench: no exporter at %s\n", cfg->exporter);
		free(rows);
		return -1;
	}
	if (make_standin_link(dir, sizeof(dir), link, sizeof(link))) {
		perror("vmsr-bench: the stand-in VMs' symlink");
		free(rows);
		return -1;
	}
	printf("   %5s  %7s  %-22s  %12s  %-20s  %9s\n", "VMs", "threads",
	       "CPU % of a core (med)", "ms per sample", "scrape ms (per VM)", "bytes");
	for (i = 0; i <= last && !ret; i++) {
		unsigned int n = cfg->exporter_vms[i];
		struct exporter_row *r = &rows[i];
		char cpu[32], scr[32];

		ret = exporter_one(cfg, link, n, r);
		if (ret)
			break;
		snprintf(cpu, sizeof(cpu), "%.3f (%.3f)", r->cpu_pct, r->cpu_pct_median);
		snprintf(scr, sizeof(scr), "%.2f (%.4f)", r->scrape_ms, r->scrape_ms / n);
		printf("   %5u  %7u  %-22s  %12.2f  %-20s  %9zu%s\n", n, n * STANDIN_THREADS, cpu,
		       r->ms_per_sample, scr, r->bytes, r->up ? "" : "  (vmsr_up 0: no energy)");
		fflush(stdout);
	}
	unlink(link);
	rmdir(dir);
	if (ret) {
		free(rows);
		return ret;
	}
	per_vm_ratio = last ? (rows[last].scrape_ms / cfg->exporter_vms[last]) /
			      (rows[last - 1].scrape_ms / cfg->exporter_vms[last - 1]) : -1;
	printf("\n   at %u VMs: CPU %.3f %% of one core, target under %.1f %%: %s\n",
	       cfg->exporter_vms[last], rows[last].cpu_pct, TARGET_CPU_PCT,
	       rows[last].cpu_pct < TARGET_CPU_PCT ? "met" : "missed");
	if (last) {
		printf("   scrape time per VM at %u VMs is %.2fx that at %u, target at most %.1fx (linear): %s\n",
		       cfg->exporter_vms[last], per_vm_ratio, cfg->exporter_vms[last - 1],
		       TARGET_LINEAR, per_vm_ratio <= TARGET_LINEAR ? "met" : "missed");
		printf("   each VM added costs, per scrape:");
		for (i = 1; i <= last; i++)
			printf("%s %u to %u VMs %.1f us, %.0f bytes", i > 1 ? ";" : "",
			       cfg->exporter_vms[i - 1], cfg->exporter_vms[i],
			       1e3 * (rows[i].scrape_ms - rows[i - 1].scrape_ms) /
			       (cfg->exporter_vms[i] - cfg->exporter_vms[i - 1]),
			       ((double)rows[i].bytes - rows[i - 1].bytes) /
			       (cfg->exporter_vms[i] - cfg->exporter_vms[i - 1]));
		printf("\n");
	}
	if (cfg->exporter_vms[last] == 128) {
		sum->exporter_cpu_pct_128vm = rows[last].cpu_pct;
		sum->exporter_scrape_ms_128vm = rows[last].scrape_ms;
	}
	free(rows);
	return 0;
}
