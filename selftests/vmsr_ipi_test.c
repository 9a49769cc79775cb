// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_ipi_test: READs aimed at an isolated CPU (isolcpus=, nohz_full=) do
 * not interrupt it beyond the energy rate limit.
 *
 * From a housekeeping CPU, READ every whitelisted MSR of the isolated CPU
 * and of its package, ROUNDS times, and count the function-call IPIs the
 * isolated CPU took meanwhile (the CAL line of /proc/interrupts). Registers
 * that never change are served from memory, and the others, all
 * package-scoped, are read on a housekeeping CPU of the package, so the
 * count may not exceed one refresh per min_interval_us over the run, plus
 * SLACK for the kernel's own IPIs.
 *
 * SKIPs unless the kernel was booted with an isolated CPU (check.sh's
 * cmdline VM boots with isolcpus=3 nohz_full=3).
 */
#define _GNU_SOURCE
#include <sched.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define ROUNDS 2000
#define SLACK 16

/* The first CPU in a sysfs CPU list such as "3" or "2-3,5"; -1 if none. */
static int first_in_list(const char *path)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	int cpu = -1;

	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%d", &cpu) != 1)
		cpu = -1;
	fclose(f);
	return cpu;
}

/* The CAL (function call interrupts) count of @cpu, or -1. */
static long long cal_count(int cpu)
{
	char line[4096];
	FILE *f = fopen("/proc/interrupts", "r");
	long long n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;
		int i;

		while (*p == ' ')
			p++;
		if (strncmp(p, "CAL:", 4))
			continue;
		p += 4;
		for (i = 0; i <= cpu; i++) {
			n = strtoll(p, &end, 10);
			if (end == p) {
				n = -1;
				break;
			}
			p = end;
		}
		break;
	}
	fclose(f);
	return n;
}

TEST(reads_of_an_isolated_cpu_stay_within_the_rate_limit)
{
	struct vmsr_read_entry e[2 * VMSR_MAX_MSR_RULES];
	struct vmsr_msr_rule rules[VMSR_MAX_MSR_RULES];
	struct vmsr_read rd = { .entries = (uintptr_t)e };
	struct vmsr_info info;
	uint32_t *map;
	unsigned int i, n, r;
	long long before, after, allowed;
	uint64_t start, elapsed_us;
	cpu_set_t set;
	const char *why;
	int fd, iso, pkg_iso;

	iso = first_in_list("/sys/devices/system/cpu/isolated");
	if (iso < 0)
		iso = first_in_list("/sys/devices/system/cpu/nohz_full");
	if (iso <= 0)
		SKIP(return, "no isolated CPU other than 0 (boot with isolcpus=3 nohz_full=3)");
	why = vmsr_fixture_open(&fd, &info);
	if (why)
		SKIP(return, "%s", why);
	ASSERT_GE(cal_count(iso), 0);

	map = calloc(info.nr_cpus, sizeof(*map));
	ASSERT_NE(NULL, map);
	info.cpu_map = (uintptr_t)map;
	info.cpu_map_len = info.nr_cpus;
	info.reserved[0] = info.reserved[1] = 0;
	ASSERT_EQ(0, vmsr_ioctl(fd, VMSR_IOC_INFO, &info));
	pkg_iso = map[iso];

	/* The caller stays on CPU 0, a housekeeping CPU. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));

	n = vmsr_msr_rules(&info, rules);
	for (i = 0; i < n; i++) {
		e[2 * i] = (struct vmsr_read_entry){ .msr = rules[i].msr, .target = iso };
		e[2 * i + 1] = (struct vmsr_read_entry){ .msr = rules[i].msr, .target = pkg_iso,
							 .flags = VMSR_READ_F_PACKAGE };
	}
	rd.count = 2 * n;

	before = cal_count(iso);
	start = vmsr_now_ns();
	for (r = 0; r < ROUNDS; r++)
		ASSERT_EQ(0, vmsr_ioctl(fd, VMSR_IOC_READ, &rd));
	elapsed_us = (vmsr_now_ns() - start) / 1000;
	after = cal_count(iso);

	allowed = elapsed_us / (info.min_interval_us ? info.min_interval_us : 1) + 1 + SLACK;
	TH_LOG("REPORT ipi: %u READs of %u entries of CPU %d in %llu us: %lld function-call IPIs there; rate limit allows %lld",
	       ROUNDS, rd.count, iso, (unsigned long long)elapsed_us, after - before, allowed);
	EXPECT_LE(after - before, allowed);
	free(map);
	close(fd);
}

TEST_HARNESS_MAIN
