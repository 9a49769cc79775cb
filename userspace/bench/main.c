// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench: sampling cost and attribution accuracy of /dev/vmsr, side by
 * side with QEMU 9.1+'s /proc-and-helper method and with clock_gettime()
 * on per-thread CPU clocks. Prints one table in three sections and ends
 * with one machine-readable line:
 *
 *   bench: qemu_over_vmsr_256=X clock_over_vmsr_256=Y share_err_pct_100ms=Z cpu_pct_256_100hz=W
 *
 * usage: vmsr-bench [--smoke] [--device PATH] [--helper PATH]
 *   --smoke  a short run that only checks that everything works
 * Needs /dev/vmsr, and root for the helper's /dev/cpu/N/msr (modprobe msr).
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

static const unsigned int full_threads[] = { 1, 16, 256, 1024 };
static const unsigned int smoke_threads[] = { 1, 256 };
static const unsigned int full_hz[] = { 1, 100, 1000 };
static const unsigned int smoke_hz[] = { 100 };

static const struct bench_config full = {
	.cost_ticks = 31,
	.cost_threads = full_threads,
	.nr_cost_threads = 4,
	.accuracy_ticks = { 100, 50, 20 },
	.overhead_hz = full_hz,
	.nr_overhead_hz = 3,
	.overhead_secs = { 5, 3, 2 },
};

static const struct bench_config smoke = {
	.smoke = true,
	.cost_ticks = 5,
	.cost_threads = smoke_threads,
	.nr_cost_threads = 2,
	.accuracy_ticks = { 10, 5, 1 },
	.overhead_hz = smoke_hz,
	.nr_overhead_hz = 1,
	.overhead_secs = { 0.5 },
};

/* The helper sits next to this program unless told otherwise. */
static char *helper_beside(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return "vmsr-bench-helper";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "vmsr-bench-helper");
	return path;
}

static void print_header(const struct bench_config *cfg)
{
	struct vmsr_info info = {};
	struct utsname u;
	char date[32];
	time_t t = time(NULL);
	int fd = vmsr_open(cfg->device);

	if (fd >= 0) {
		vmsr_get_info(fd, &info, NULL, 0);
		close(fd);
	}
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	printf("vmsr-bench%s: %s %s %s, %ld CPUs, %u package(s), USER_HZ %ld, %s\n",
	       cfg->smoke ? " (smoke)" : "", u.sysname, u.release, u.machine,
	       sysconf(_SC_NPROCESSORS_ONLN), info.nr_packages, user_hz(), date);
	printf("/dev/vmsr: %s RAPL, min_interval_us %u\n",
	       info.flags & VMSR_INFO_F_EMULATED ? "emulated" : info.domains ? "hardware" : "no",
	       info.min_interval_us);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "helper", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_summary sum = { -1, -1, -1, -1 };
	struct bench_config cfg = full;
	const char *device = NULL, *helper = NULL;
	int c, ret;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			cfg = smoke;
			break;
		case 'd':
			device = optarg;
			break;
		case 'H':
			helper = optarg;
			break;
		default:
			fprintf(stderr, "usage: vmsr-bench [--smoke] [--device PATH] [--helper PATH]\n");
			return 2;
		}
	}
	cfg.device = device;
	cfg.helper = helper ? helper : helper_beside();

	setvbuf(stdout, NULL, _IOLBF, 0);
	print_header(&cfg);
	ret = cost_section(&cfg, &sum) || accuracy_section(&cfg, &sum) ||
	      overhead_section(&cfg, &sum);
	printf("\nbench: qemu_over_vmsr_256=%.1f clock_over_vmsr_256=%.2f "
	       "share_err_pct_100ms=%.3f cpu_pct_256_100hz=%.3f\n",
	       sum.qemu_over_vmsr_256, sum.clock_over_vmsr_256, sum.share_err_pct_100ms,
	       sum.cpu_pct_256_100hz);
	return ret ? 1 : 0;
}
