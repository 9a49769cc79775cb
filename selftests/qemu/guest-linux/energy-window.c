// SPDX-License-Identifier: GPL-2.0-only
/*
 * energy-window: what a Linux guest's own RAPL drivers report over the run
 * of one command.
 *
 * usage: energy-window COMMAND [ARG...]
 *
 * Opens perf's power/energy-pkg/ event (perf_event_open, CPU 0), runs
 * COMMAND, and reads, at its start and at its end, three things that must
 * describe the same counter value:
 *   - the package energy MSR, through /dev/cpu/0/msr (msr.ko), to find that
 *     value in libvmsr's trace on the host;
 *   - powercap's energy_uj of the package zone;
 *   - the perf event's count.
 * The virtual counter changes only when the host's sampler ticks, so the
 * three reads are repeated until the MSR reads the same before and after
 * them. Prints one line of key=value pairs; a reading the guest could not
 * make is "none".
 */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define POWERCAP_ZONE	"/sys/class/powercap/intel-rapl:0"
#define PERF_PMU	"/sys/bus/event_source/devices/power"

/* Architectural register numbers (Intel SDM vol. 4; AMD PPR 17h). */
#define MSR_RAPL_POWER_UNIT		0x606
#define MSR_PKG_ENERGY_STATUS		0x611
#define MSR_AMD_RAPL_POWER_UNIT		0xc0010299
#define MSR_AMD_PKG_ENERGY_STATUS	0xc001029b

struct reading {
	bool have_raw, have_powercap, have_perf;
	uint64_t raw;		/* package energy status, counter units */
	uint64_t powercap_uj;
	uint64_t perf_count;
};

static int msr_fd = -1, perf_fd = -1;
static uint32_t unit_msr, energy_msr;

static bool read_msr(uint32_t msr, uint64_t *val)
{
	return msr_fd >= 0 && pread(msr_fd, val, sizeof(*val), msr) == sizeof(*val);
}

/* A sysfs file holding one number; false if it is absent or not a number. */
static bool read_u64_file(const char *path, uint64_t *val)
{
	FILE *f = fopen(path, "re");
	bool ok;

	if (!f)
		return false;
	ok = fscanf(f, "%" SCNu64, val) == 1;
	fclose(f);
	return ok;
}

/* The guest's vendor picks the registers, as its own drivers do. */
static const char *pick_registers(void)
{
	static char vendor[13];
	unsigned int eax, ebx, ecx, edx;

	__cpuid(0, eax, ebx, ecx, edx);
	memcpy(vendor, &ebx, 4);
	memcpy(vendor + 4, &edx, 4);
	memcpy(vendor + 8, &ecx, 4);
	if (!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine")) {
		unit_msr = MSR_AMD_RAPL_POWER_UNIT;
		energy_msr = MSR_AMD_PKG_ENERGY_STATUS;
	} else {
		unit_msr = MSR_RAPL_POWER_UNIT;
		energy_msr = MSR_PKG_ENERGY_STATUS;
	}
	return vendor;
}

/*
 * perf's power PMU: its type, and the energy-pkg event's encoding and scale
 * (J per count), as perf(1) finds them in sysfs.
 */
static int open_perf_energy_pkg(double *scale)
{
	struct perf_event_attr attr = { .size = sizeof(attr) };
	unsigned int event;
	uint64_t type;
	FILE *f;
	int ok;

	if (!read_u64_file(PERF_PMU "/type", &type))
		return -1;
	f = fopen(PERF_PMU "/events/energy-pkg", "re");
	if (!f)
		return -1;
	ok = fscanf(f, "event=%x", &event) == 1;
	fclose(f);
	f = fopen(PERF_PMU "/events/energy-pkg.scale", "re");
	if (!f)
		return -1;
	ok = ok && fscanf(f, "%lf", scale) == 1;
	fclose(f);
	if (!ok)
		return -1;

	attr.type = type;
	attr.config = event;
	return syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
}

static void read_once(struct reading *r)
{
	r->have_powercap = read_u64_file(POWERCAP_ZONE "/energy_uj", &r->powercap_uj);
	r->have_perf = perf_fd >= 0 &&
		       read(perf_fd, &r->perf_count, sizeof(r->perf_count)) ==
		       sizeof(r->perf_count);
}

/*
 * Reads that all saw one counter value: the MSR is read before and after
 * the others, until both agree. Without the MSR there is nothing to agree
 * on, and one read is all there is.
 */
static void read_consistent(struct reading *r)
{
	uint64_t after;

	for (;;) {
		r->have_raw = read_msr(energy_msr, &r->raw);
		read_once(r);
		if (!r->have_raw || (read_msr(energy_msr, &after) && after == r->raw))
			return;
	}
}

static void print_u64(const char *key, bool have, uint64_t val)
{
	if (have)
		printf(" %s=%" PRIu64, key, val);
	else
		printf(" %s=none", key);
}

static int run(char **argv)
{
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		execvp(argv[0], argv);
		fprintf(stderr, "energy-window: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	struct reading start, end;
	const char *vendor;
	double scale = 0;
	uint64_t unit;
	bool have_unit;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: energy-window COMMAND [ARG...]\n");
		return 2;
	}
	vendor = pick_registers();
	msr_fd = open("/dev/cpu/0/msr", O_RDONLY | O_CLOEXEC);
	if (msr_fd < 0)
		fprintf(stderr, "energy-window: /dev/cpu/0/msr: %s\n", strerror(errno));
	perf_fd = open_perf_energy_pkg(&scale);
	if (perf_fd < 0)
		fprintf(stderr, "energy-window: no perf power/energy-pkg/ event\n");
	have_unit = read_msr(unit_msr, &unit);

	read_consistent(&start);
	rc = run(argv + 1);
	read_consistent(&end);

	printf("window: vendor=%s", vendor);
	if (have_unit)
		printf(" unit=0x%" PRIx64, unit);
	else
		printf(" unit=none");
	print_u64("raw_start", start.have_raw, start.raw);
	print_u64("raw_end", end.have_raw, end.raw);
	print_u64("powercap_start_uj", start.have_powercap, start.powercap_uj);
	print_u64("powercap_end_uj", end.have_powercap, end.powercap_uj);
	if (start.have_perf && end.have_perf)
		printf(" perf_uj=%.0f", (double)(end.perf_count - start.perf_count) * scale * 1e6);
	else
		printf(" perf_uj=none");
	printf(" command_rc=%d\n", rc);
	return 0;
}
