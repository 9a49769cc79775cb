// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * vmsr-bench: sampling cost and attribution accuracy of /dev/vmsr, side by
 * side with QEMU 9.1+'s /proc-and-helper method and with clock_gettime()
 * on per-thread CPU clocks. Prints one table in three sections and ends
 * with one machine-readable line:
 *
 *   bench: qemu_over_vmsr_256=X clock_over_vmsr_256=Y share_err_pct_100ms=Z cpu_pct_256_100hz=W
 *          vmsr_growth_max=G clock_over_vmsr_min=L floor_times_100hz=F
 *          exporter_cpu_pct_128vm=E exporter_scrape_ms_128vm=S
 *
 * usage: vmsr-bench [--smoke] [--section N] [--device PATH] [--helper PATH] [--exporter PATH]
 *   --smoke    a short run that only checks that everything works
 *   --section  only section N (1 to 4) of the table
 * Needs /dev/vmsr, root for the helper's /dev/cpu/N/msr (modprobe msr), and
 * the loopback interface up for the exporter (section 4). Run under the
 * name qemu-system-x86_64, it is one of section 4's stand-in VMs.
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

static const unsigned int full_threads[] = { 1, 16, 256, 1024, 4096 };
static const unsigned int smoke_threads[] = { 1, 256 };
static const unsigned int full_hz[] = { 1, 100, 1000 };
static const unsigned int smoke_hz[] = { 100 };
static const unsigned int full_vms[] = { 1, 16, 128 };
static const unsigned int smoke_vms[] = { 1, 16 };

static const struct bench_config full = {
	.cost_ticks = 31,
	.cost_threads = full_threads,
	.nr_cost_threads = 5,
	.accuracy_ticks = { 100, 50, 20 },
	.overhead_hz = full_hz,
	.nr_overhead_hz = 3,
	.overhead_secs = { 5, 3, 2 },
	.exporter_vms = full_vms,
	.nr_exporter_vms = 3,
	.exporter_secs = 10,
	.exporter_scrapes = 10,
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
	.exporter_vms = smoke_vms,
	.nr_exporter_vms = 2,
	.exporter_secs = 2,
	.exporter_scrapes = 3,
};

static int (*const sections[])(const struct bench_config *, struct bench_summary *) = {
	cost_section, accuracy_section, overhead_section, exporter_section,
};
#define NR_SECTIONS	(sizeof(sections) / sizeof(sections[0]))

/* The helper and the exporter sit next to this program unless told otherwise. */
static char *beside(const char *name)
{
	char path[PATH_MAX], *slash, *out;
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);

	if (n <= 0)
		return strdup(name);
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, name);
	out = strdup(path);
	return out ? out : strdup(name);
}

static void print_header(const struct bench_config *cfg)
{
	struct vmsr_info info = {};
	struct utsname u;
	char date[32];
	time_t t = time(NULL);
	int fd = vmsr_open(cfg->device), ret = fd;

	if (fd >= 0) {
		ret = vmsr_get_info(fd, &info, NULL, 0);
		close(fd);
	}
	uname(&u);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&t));
	printf("vmsr-bench%s: %s %s %s, %ld CPUs, %u package(s), USER_HZ %ld, %s\n",
	       cfg->smoke ? " (smoke)" : "", u.sysname, u.release, u.machine,
	       sysconf(_SC_NPROCESSORS_ONLN), info.nr_packages, user_hz(), date);
	if (ret)
		printf("%s: not a vmsr device here (%s)\n", cfg->device ? cfg->device :
		       VMSR_DEVICE_PATH, strerror(-ret));
	else
		printf("/dev/vmsr: %s RAPL, min_interval_us %u\n",
		       info.flags & VMSR_INFO_F_EMULATED ? "emulated" :
		       info.domains ? "hardware" : "no", info.min_interval_us);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "smoke", no_argument, NULL, 's' },
		{ "device", required_argument, NULL, 'd' },
		{ "helper", required_argument, NULL, 'H' },
		{ "exporter", required_argument, NULL, 'e' },
		{ "section", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_summary sum = {
		.qemu_over_vmsr_256 = -1, .clock_over_vmsr_256 = -1,
		.share_err_pct_100ms = -1, .cpu_pct_256_100hz = -1,
		.vmsr_growth_max = -1, .clock_over_vmsr_min = -1, .floor_times_100hz = -1,
		.exporter_cpu_pct_128vm = -1, .exporter_scrape_ms_128vm = -1,
	};
	struct bench_config cfg = full;
	const char *device = NULL, *helper = NULL, *exporter = NULL;
	const char *base = strrchr(argv[0], '/');
	unsigned int only = 0;
	int c, ret = 0;

	if (!strcmp(base ? base + 1 : argv[0], "qemu-system-x86_64"))
		return standin_main();

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
		case 'e':
			exporter = optarg;
			break;
		case 'S':
			only = strtoul(optarg, NULL, 10);
			if (only >= 1 && only <= NR_SECTIONS)
				break;
			/* fall through */
		default:
			fprintf(stderr, "usage: vmsr-bench [--smoke] [--section N] [--device PATH] [--helper PATH] [--exporter PATH]\n");
			return 2;
		}
	}
	cfg.device = device;
	cfg.helper = helper ? helper : beside("vmsr-bench-helper");
	cfg.exporter = exporter ? exporter : beside("vmsr_exporter");

	setvbuf(stdout, NULL, _IOLBF, 0);
	print_header(&cfg);
	for (unsigned int i = 0; i < NR_SECTIONS && !ret; i++)
		if (!only || only == i + 1)
			ret = sections[i](&cfg, &sum);
	printf("\nbench: qemu_over_vmsr_256=%.1f clock_over_vmsr_256=%.2f "
	       "share_err_pct_100ms=%.3f cpu_pct_256_100hz=%.3f "
	       "vmsr_growth_max=%.2f clock_over_vmsr_min=%.2f floor_times_100hz=%.2f "
	       "exporter_cpu_pct_128vm=%.3f exporter_scrape_ms_128vm=%.2f\n",
	       sum.qemu_over_vmsr_256, sum.clock_over_vmsr_256, sum.share_err_pct_100ms,
	       sum.cpu_pct_256_100hz, sum.vmsr_growth_max, sum.clock_over_vmsr_min,
	       sum.floor_times_100hz, sum.exporter_cpu_pct_128vm, sum.exporter_scrape_ms_128vm);
	return ret ? 1 : 0;
}
