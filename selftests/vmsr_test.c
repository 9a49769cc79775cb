// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_test: the /dev/vmsr ABI as a specification. Every ioctl, every error of
 * vmsr(4), bad pointers, and the task rules. Runs as root
 * (vmsr_perm_test covers unprivileged callers); energy values are covered by
 * vmsr_energy_test.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

FIXTURE(dev) {
	int fd;
	struct vmsr_info info;
	const char *skip;
};

FIXTURE_SETUP(dev)
{
	self->skip = vmsr_fixture_open(&self->fd, &self->info);
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

/* ---- INFO ---- */

TEST_F(dev, info_describes_the_machine)
{
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	const struct vmsr_info *i = &self->info;

	NEED_FIXTURE();

	EXPECT_EQ(VMSR_ABI_VERSION, i->abi_version);
	EXPECT_LE(i->vendor, VMSR_VENDOR_HYGON);
	EXPECT_GE(i->nr_cpus, ncpu);
	EXPECT_GE(i->nr_packages, 1);
	EXPECT_LE(i->nr_packages, i->nr_cpus);
	EXPECT_GT(i->max_read_entries, 0);
	EXPECT_GT(i->max_sample_pkgs, 0);
	EXPECT_GT(i->max_sample_tasks, 0);
	EXPECT_EQ(0, i->domains & ~0x1fU);
	/* Only Intel has die-scoped RAPL (vmsr_truth_test checks it against Linux's). */
	EXPECT_EQ(0, i->flags & ~VMSR_INFO_F_DIES);
	if (i->vendor != VMSR_VENDOR_INTEL)
		EXPECT_EQ(0, i->flags);
	if (i->domains) {
		EXPECT_NE(0, i->power_unit_raw);
		EXPECT_EQ((i->power_unit_raw >> 8) & 0x1f, i->energy_unit_shift);
	} else {
		EXPECT_EQ(0, i->power_unit_raw);
	}
	EXPECT_EQ(0, i->reserved[0]);
	EXPECT_EQ(0, i->reserved[1]);
}

TEST_F(dev, info_cpu_map_gives_each_online_cpu_a_package)
{
	uint32_t n = self->info.nr_cpus, cpu;
	uint32_t *map = calloc(n + 4, sizeof(*map));
	struct vmsr_info info = { .cpu_map_len = n + 4, .cpu_map = (uintptr_t)map };

	NEED_FIXTURE();

	ASSERT_NE(NULL, map);
	memset(map, 0xa5, (n + 4) * sizeof(*map));
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	EXPECT_EQ(n + 4, info.cpu_map_len);
	for (cpu = 0; cpu < n; cpu++) {
		char path[96];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
		if (cpu == 0 || access(path, F_OK) == 0) {
			EXPECT_LT(map[cpu], info.nr_packages);
		}
	}
	/* Entries beyond nr_cpus are left alone. */
	for (cpu = n; cpu < n + 4; cpu++)
		EXPECT_EQ(0xa5a5a5a5, map[cpu]);
	free(map);
}

TEST_F(dev, info_cpu_map_shorter_than_nr_cpus_is_filled_as_far_as_it_goes)
{
	uint32_t map[2] = { 0xdeadbeef, 0xdeadbeef };
	struct vmsr_info info = { .cpu_map_len = 1, .cpu_map = (uintptr_t)map };

	NEED_FIXTURE();

	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	EXPECT_NE(0xdeadbeef, map[0]);
	EXPECT_EQ(0xdeadbeef, map[1]);
}

TEST_F(dev, info_reserved_nonzero_is_einval)
{
	struct vmsr_info info = { .reserved = { 0, 1 } };

	NEED_FIXTURE();

	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	info.reserved[1] = 0;
	info.reserved[0] = 1ULL << 40;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
}

TEST_F(dev, info_bad_pointers_are_efault)
{
	struct vmsr_info *edge = vmsr_buf_before_hole(sizeof(*edge) - 8);
	struct vmsr_info info = { .cpu_map_len = 4 };

	NEED_FIXTURE();

	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, NULL));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, vmsr_unmapped()));
	ASSERT_NE(NULL, edge);
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, edge));
	/* A map pointer into nowhere. */
	info.cpu_map = (uintptr_t)vmsr_unmapped();
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	info.cpu_map = 0;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	/* A kernel address. */
	info.cpu_map = 0xffffffff81000000ULL;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
}

TEST_F(dev, info_struct_ending_at_a_hole_works)
{
	struct vmsr_info *edge = vmsr_buf_before_hole(sizeof(*edge));

	NEED_FIXTURE();

	ASSERT_NE(NULL, edge);
	memset(edge, 0, sizeof(*edge));
	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_INFO, edge));
	EXPECT_EQ(VMSR_ABI_VERSION, edge->abi_version);
}

/* ---- commands ---- */

TEST_F(dev, unknown_command_is_enotty)
{
	char buf[64] = {};

	NEED_FIXTURE();

	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IO(VMSR_IOC_MAGIC, 0x03), buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IOWR(VMSR_IOC_MAGIC, 0x7f, struct vmsr_read), buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IOWR(VMSR_IOC_MAGIC + 1, 0x00, struct vmsr_info),
				      buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, 0, buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, 0xdeadbeef, buf));
}

/* The size and direction are part of the command: another one is another command. */
TEST_F(dev, known_number_with_another_size_is_enotty)
{
	char buf[256] = {};

	NEED_FIXTURE();

	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IOWR(VMSR_IOC_MAGIC, 0x00, __u64), buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IOWR(VMSR_IOC_MAGIC, 0x01, struct vmsr_info), buf));
	EXPECT_EQ(-ENOTTY, vmsr_ioctl(self->fd, _IOR(VMSR_IOC_MAGIC, 0x02, struct vmsr_sample), buf));
}

/* ---- READ ---- */

static int read_one(int fd, uint32_t msr, uint32_t target, uint32_t flags,
		    struct vmsr_read_entry *out)
{
	struct vmsr_read rd = { .entries = (uintptr_t)out, .count = 1 };

	*out = (struct vmsr_read_entry){ .msr = msr, .target = target, .flags = flags };
	return vmsr_ioctl(fd, VMSR_IOC_READ, &rd);
}

TEST_F(dev, read_header_errors)
{
	struct vmsr_read_entry e = { .msr = vmsr_unit_msr(&self->info) };
	struct vmsr_read rd = { .entries = (uintptr_t)&e, .count = 0 };

	NEED_FIXTURE();

	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.count = 1;
	rd.flags = 1;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.flags = 0;
	rd.count = self->info.max_read_entries + 1;
	EXPECT_EQ(-E2BIG, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.count = 0xffffffff;
	EXPECT_EQ(-E2BIG, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.count = 1;
	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, NULL));
}

TEST_F(dev, read_up_to_the_cap_works)
{
	uint32_t n = self->info.max_read_entries, i;
	struct vmsr_read_entry *e = calloc(n, sizeof(*e));
	struct vmsr_read rd = { .entries = (uintptr_t)e, .count = n };

	NEED_FIXTURE();

	ASSERT_NE(NULL, e);
	for (i = 0; i < n; i++)
		e[i] = (struct vmsr_read_entry){ .msr = vmsr_unit_msr(&self->info),
						 .result = 12345, .value = ~0ULL };
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	for (i = 0; i < n; i++) {
		EXPECT_EQ(0, e[i].result);
		EXPECT_EQ(self->info.power_unit_raw, e[i].value);
	}
	free(e);
}

TEST_F(dev, read_entry_pointer_errors)
{
	struct vmsr_read_entry *edge = vmsr_buf_before_hole(sizeof(*edge));
	struct vmsr_read rd = { .count = 1 };

	NEED_FIXTURE();

	ASSERT_NE(NULL, edge);
	*edge = (struct vmsr_read_entry){ .msr = vmsr_unit_msr(&self->info) };
	rd.entries = (uintptr_t)edge;
	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	/* Two entries: the second lies in the hole. */
	rd.count = 2;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.count = 1;
	rd.entries = 0;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.entries = (uintptr_t)vmsr_unmapped();
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	rd.entries = 0xffff888000000000ULL;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
}

TEST_F(dev, read_results_cannot_be_written_back_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vmsr_read_entry *ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vmsr_read rd = { .entries = (uintptr_t)ro, .count = 1 };

	NEED_FIXTURE();

	ASSERT_NE(MAP_FAILED, ro);
	*ro = (struct vmsr_read_entry){ .msr = vmsr_unit_msr(&self->info) };
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	munmap(ro, page);
}

TEST_F(dev, read_entry_flags_are_einval)
{
	struct vmsr_read_entry e;

	NEED_FIXTURE();

	EXPECT_EQ(-EINVAL, read_one(self->fd, vmsr_unit_msr(&self->info), 0, 2, &e));
	EXPECT_EQ(-EINVAL, read_one(self->fd, vmsr_unit_msr(&self->info), 0, 0x80000000, &e));
}

TEST_F(dev, read_outside_the_whitelist_is_eperm)
{
	static const uint32_t denied[] = {
		0x10, 0x1a0, 0x600, 0x605, 0x607, 0x612, 0x613, 0x63a, 0x64e,
		0xc0000080, 0xc0010298, 0xc001029c, 0xffffffff,
	};
	struct vmsr_read_entry e[2];
	struct vmsr_read rd = { .entries = (uintptr_t)e, .count = 2 };
	unsigned int i;

	NEED_FIXTURE();

	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		EXPECT_EQ(-EPERM, read_one(self->fd, denied[i], 0, 0, e)) {
			TH_LOG("msr %#x", denied[i]);
		}
	/* The other vendor's set is refused too. */
	EXPECT_EQ(-EPERM, read_one(self->fd, self->info.vendor == VMSR_VENDOR_INTEL ?
				   MSR_UNIT_AMD : MSR_UNIT_INTEL, 0, 0, e));
	/* One bad entry refuses the batch before anything is read. */
	e[0] = (struct vmsr_read_entry){ .msr = vmsr_unit_msr(&self->info), .result = 77 };
	e[1] = (struct vmsr_read_entry){ .msr = 0x612 };
	EXPECT_EQ(-EPERM, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	EXPECT_EQ(77, e[0].result);
}

TEST_F(dev, read_every_whitelisted_msr)
{
	static const uint32_t intel[] = { 0x606, 0x610, 0x611, 0x614, 0x619, 0x639, 0x641, 0x64d };
	static const uint32_t amd[] = { 0xc0010299, 0xc001029a, 0xc001029b };
	const uint32_t *set = self->info.vendor == VMSR_VENDOR_INTEL ? intel : amd;
	unsigned int n = self->info.vendor == VMSR_VENDOR_INTEL ? 8 : 3, i;
	struct vmsr_read_entry e;

	NEED_FIXTURE();

	if (self->info.vendor == VMSR_VENDOR_UNKNOWN)
		SKIP(return, "CPU vendor has no RAPL MSRs");
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, read_one(self->fd, set[i], 0, 0, &e));
		/* Per entry: a value, no RAPL (-ENODEV), or a fault (-EIO). */
		EXPECT_TRUE(e.result == 0 || e.result == -ENODEV || e.result == -EIO) {
			TH_LOG("msr %#x result %d", set[i], e.result);
		}
		if (e.result) {
			EXPECT_EQ(0, e.value);
		}
	}
}

TEST_F(dev, read_absent_cpu_or_package_is_enxio_per_entry)
{
	uint32_t msr = vmsr_unit_msr(&self->info);
	struct vmsr_read_entry e[5] = {
		{ .msr = msr, .target = self->info.nr_cpus },
		{ .msr = msr, .target = 0xffffffff },
		{ .msr = msr, .target = self->info.nr_cpus + 7, .flags = VMSR_READ_F_PACKAGE },
		{ .msr = msr, .target = 0xffffffff, .flags = VMSR_READ_F_PACKAGE },
		{ .msr = msr, .target = 0 },
	};
	struct vmsr_read rd = { .entries = (uintptr_t)e, .count = 5 };
	int i;

	NEED_FIXTURE();

	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-ENXIO, e[i].result);
		EXPECT_EQ(0, e[i].value);
	}
	EXPECT_EQ(0, e[4].result);
}

TEST_F(dev, read_offline_cpu_is_enxio)
{
	const char *path = "/sys/devices/system/cpu/cpu1/online";
	struct vmsr_read_entry e;
	int fd = open(path, O_WRONLY);

	NEED_FIXTURE();

	if (fd < 0)
		SKIP(return, "CPU 1 cannot be taken offline here");
	ASSERT_EQ(2, write(fd, "0\n", 2));
	EXPECT_EQ(0, read_one(self->fd, vmsr_unit_msr(&self->info), 1, 0, &e));
	EXPECT_EQ(-ENXIO, e.result);
	/* Its package still has CPU 0. */
	EXPECT_EQ(0, read_one(self->fd, vmsr_unit_msr(&self->info), 0, VMSR_READ_F_PACKAGE, &e));
	EXPECT_EQ(0, e.result);
	ASSERT_EQ(2, write(fd, "1\n", 2));
	close(fd);
	EXPECT_EQ(0, read_one(self->fd, vmsr_unit_msr(&self->info), 1, 0, &e));
	EXPECT_EQ(0, e.result);
}

/*
 * A register that faults gives -EIO in its own entry only, whether the module
 * reads it each time or once, at load, and serves it from memory.
 */
TEST_F(dev, read_fault_is_eio_per_entry)
{
	long msr = vmsr_testbed_fault_msr();
	struct vmsr_read_entry e[2] = {
		{ .msr = msr },
		{ .msr = vmsr_unit_msr(&self->info) },
	};
	struct vmsr_read rd = { .count = 2, .entries = (uintptr_t)e };

	NEED_FIXTURE();

	if (msr < 0)
		SKIP(return, "no faulting MSR in this VM (QEMU's x-rapl-fault-msr)");
	if (!vmsr_unit_msr(&self->info) || msr == vmsr_unit_msr(&self->info))
		SKIP(return, "needs a unit MSR that does not fault");
	/* The faulting entry gets -EIO and 0; the other one still reads. */
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	EXPECT_EQ(-EIO, e[0].result);
	EXPECT_EQ(0, e[0].value);
	EXPECT_EQ(0, e[1].result);
	EXPECT_NE(0, e[1].value);
	/* And again: a fault leaves nothing behind. */
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_READ, &rd));
	EXPECT_EQ(-EIO, e[0].result);
	EXPECT_EQ(0, e[1].result);
}

TEST_F(dev, read_energy_without_rapl_is_enodev)
{
	struct vmsr_read_entry e;

	NEED_FIXTURE();

	if (self->info.domains & VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG))
		SKIP(return, "this machine has package RAPL");
	if (self->info.vendor == VMSR_VENDOR_UNKNOWN)
		SKIP(return, "CPU vendor has no RAPL MSRs");
	EXPECT_EQ(0, read_one(self->fd, vmsr_pkg_energy_msr(&self->info), 0, 0, &e));
	EXPECT_EQ(-ENODEV, e.result);
	EXPECT_EQ(0, read_one(self->fd, vmsr_pkg_energy_msr(&self->info), 0,
			      VMSR_READ_F_PACKAGE, &e));
	EXPECT_EQ(-ENODEV, e.result);
}

/* ---- SAMPLE ---- */

TEST_F(dev, sample_header_errors)
{
	struct vmsr_sample s = {};

	NEED_FIXTURE();

	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.flags = VMSR_SAMPLE_F_FRESH << 1;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.flags = 0xffffffff;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.flags = 0;
	s.pad = 1;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.pad = 0;
	s.nr_pkgs = self->info.max_sample_pkgs + 1;
	EXPECT_EQ(-E2BIG, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.nr_pkgs = 0;
	s.nr_tasks = self->info.max_sample_tasks + 1;
	EXPECT_EQ(-E2BIG, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.nr_tasks = 0xffffffff;
	EXPECT_EQ(-E2BIG, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, NULL));
}

TEST_F(dev, sample_array_pointer_errors)
{
	struct vmsr_task_sample *tedge = vmsr_buf_before_hole(sizeof(*tedge));
	struct vmsr_pkg_sample *pedge = vmsr_buf_before_hole(sizeof(*pedge));
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)tedge };

	NEED_FIXTURE();

	ASSERT_NE(NULL, tedge);
	ASSERT_NE(NULL, pedge);
	*tedge = (struct vmsr_task_sample){ .tid = vmsr_gettid() };
	*pedge = (struct vmsr_pkg_sample){ .domains = 1 };
	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	EXPECT_EQ(0, tedge->result);
	s.nr_tasks = 2;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.nr_tasks = 1;
	s.tasks = 0;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s = (struct vmsr_sample){ .nr_pkgs = 1, .pkgs = (uintptr_t)pedge };
	EXPECT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.nr_pkgs = 2;
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	s.nr_pkgs = 1;
	s.pkgs = (uintptr_t)vmsr_unmapped();
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
}

TEST_F(dev, sample_tasks_that_cannot_be_written_back_are_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vmsr_task_sample *ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
					   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)ro };

	NEED_FIXTURE();

	ASSERT_NE(MAP_FAILED, ro);
	*ro = (struct vmsr_task_sample){ .tid = vmsr_gettid() };
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	munmap(ro, page);
}

TEST_F(dev, sample_header_that_cannot_be_written_back_is_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	struct vmsr_sample *ro = mmap(NULL, page, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	NEED_FIXTURE();

	ASSERT_NE(MAP_FAILED, ro);
	memset(ro, 0, sizeof(*ro));
	ASSERT_EQ(0, mprotect(ro, page, PROT_READ));
	EXPECT_EQ(-EFAULT, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, ro));
	munmap(ro, page);
}

TEST_F(dev, sample_reserved_domain_bits_are_einval)
{
	struct vmsr_pkg_sample p = { .domains = VMSR_DOMAIN_BIT(5) };
	struct vmsr_sample s = { .nr_pkgs = 1, .pkgs = (uintptr_t)&p };

	NEED_FIXTURE();

	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	p.domains = 0x80000000;
	EXPECT_EQ(-EINVAL, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
}

TEST_F(dev, sample_absent_package_is_enxio_per_domain)
{
	struct vmsr_pkg_sample p[2] = {
		{ .package = self->info.nr_cpus, .domains = 0x1f },
		{ .package = 0xffffffff, .domains = 1 },
	};
	struct vmsr_sample s = { .nr_pkgs = 2, .pkgs = (uintptr_t)p };
	int d;

	NEED_FIXTURE();

	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	for (d = 0; d < VMSR_NR_DOMAINS; d++) {
		EXPECT_EQ(d < 5 ? -ENXIO : 0, p[0].result[d]);
		EXPECT_EQ(0, p[0].energy[d]);
		EXPECT_EQ(d == 0 ? -ENXIO : 0, p[1].result[d]);
	}
}

TEST_F(dev, sample_package_reports_each_wanted_domain)
{
	struct vmsr_pkg_sample p = { .package = 0, .domains = 0x1f };
	struct vmsr_sample s = { .nr_pkgs = 1, .pkgs = (uintptr_t)&p };
	int d;

	NEED_FIXTURE();

	memset(p.energy, 0x5a, sizeof(p.energy));
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	for (d = 0; d < VMSR_NR_DOMAINS; d++) {
		int want = d >= 5 ? 0 : self->info.domains & VMSR_DOMAIN_BIT(d) ? 0 : -ENODEV;

		/* A present domain may still fault (-EIO) on some CPUs. */
		EXPECT_TRUE(p.result[d] == want || (want == 0 && d < 5 && p.result[d] == -EIO));
		if (p.result[d] || d >= 5) {
			EXPECT_EQ(0, p.energy[d]);
		}
	}
	EXPECT_LE(p.read_ns, s.end_ns);
}

struct spinner {
	pthread_t thread;
	pid_t tid;
	volatile int stop;
	volatile int ready;
};

static void *spin(void *arg)
{
	struct spinner *sp = arg;

	sp->tid = vmsr_gettid();
	vmsr_burn(20 * 1000 * 1000);
	sp->ready = 1;
	while (!sp->stop)
		;
	return NULL;
}

TEST_F(dev, sample_own_threads)
{
	struct spinner sp[3] = {};
	struct vmsr_task_sample t[4] = {};
	struct vmsr_sample s = { .nr_tasks = 4, .tasks = (uintptr_t)t };
	uint32_t *map = calloc(self->info.nr_cpus, sizeof(*map));
	struct vmsr_info info = { .cpu_map = (uintptr_t)map, .cpu_map_len = self->info.nr_cpus };
	uint64_t before, after;
	int i;

	NEED_FIXTURE();

	ASSERT_NE(NULL, map);
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_INFO, &info));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&sp[i].thread, NULL, spin, &sp[i]));
	for (i = 0; i < 3; i++)
		while (!sp[i].ready)
			usleep(1000);
	vmsr_burn(10 * 1000 * 1000);
	t[0].tid = vmsr_gettid();
	for (i = 0; i < 3; i++) {
		t[i + 1].tid = sp[i].tid;
		t[i + 1].pad = 0xffffffff;	/* out fields come back clean */
		t[i + 1].cpu_ns = 1;
	}
	before = vmsr_now_ns();
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	after = vmsr_now_ns();
	EXPECT_LE(before, s.start_ns);
	EXPECT_LE(s.start_ns, s.end_ns);
	EXPECT_LE(s.end_ns, after);
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(0, t[i].result);
		EXPECT_EQ(t[i].user_ns + t[i].system_ns, t[i].cpu_ns);
		/* Each has burnt at least 10 ms; the kernel may lag by a tick. */
		EXPECT_GE(t[i].cpu_ns, 5 * 1000 * 1000);
		EXPECT_LT(t[i].cpu, self->info.nr_cpus);
		EXPECT_EQ(map[t[i].cpu], t[i].package);
		EXPECT_EQ(0, t[i].flags);
		EXPECT_EQ(0, t[i].pad);
	}
	for (i = 0; i < 3; i++) {
		sp[i].stop = 1;
		pthread_join(sp[i].thread, NULL);
	}
	free(map);
}

/*
 * A spinning thread's CPU time, read with F_FRESH, lies between its own
 * CPU-time clock read just before and just after (the kernel computes
 * those under the run-queue lock); without the flag it may lag by a tick,
 * never lead.
 */
TEST_F(dev, sample_fresh_times_are_as_fresh_as_the_thread_clock)
{
	const uint64_t slack = 500 * 1000;	/* far below a tick */
	struct spinner sp = {};
	struct vmsr_task_sample t = {};
	struct vmsr_sample s = { .flags = VMSR_SAMPLE_F_FRESH };
	int i, ret, outside = 0, stale_ahead = 0;
	clockid_t clk;

	NEED_FIXTURE();

	ret = vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "VMSR_SAMPLE_F_FRESH: not with this kernel's configuration");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pthread_create(&sp.thread, NULL, spin, &sp));
	while (!sp.ready)
		usleep(1000);
	ASSERT_EQ(0, pthread_getcpuclockid(sp.thread, &clk));
	s.tasks = (uintptr_t)&t;
	s.nr_tasks = 1;
	for (i = 0; i < 200; i++) {
		struct timespec a, b;
		uint64_t before, after;

		s.flags = i % 2 ? VMSR_SAMPLE_F_FRESH : 0;
		t = (struct vmsr_task_sample){ .tid = sp.tid };
		clock_gettime(clk, &a);
		ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
		clock_gettime(clk, &b);
		before = a.tv_sec * 1000000000ULL + a.tv_nsec;
		after = b.tv_sec * 1000000000ULL + b.tv_nsec;
		ASSERT_EQ(0, t.result);
		EXPECT_EQ(t.user_ns + t.system_ns, t.cpu_ns);
		if (!s.flags && t.cpu_ns > after)
			stale_ahead++;
		if (s.flags && (t.cpu_ns + slack < before || t.cpu_ns > after + slack))
			outside++;
	}
	EXPECT_EQ(0, outside);
	EXPECT_EQ(0, stale_ahead);
	sp.stop = 1;
	pthread_join(sp.thread, NULL);
}

TEST_F(dev, sample_unknown_or_exited_tid_is_esrch)
{
	struct spinner sp = { .stop = 1 };
	struct vmsr_task_sample t[4] = {
		{ .tid = 0 }, { .tid = 0x7fffffff }, { .tid = 0xffffffff },
	};
	struct vmsr_sample s = { .nr_tasks = 4, .tasks = (uintptr_t)t };
	int i;

	NEED_FIXTURE();

	ASSERT_EQ(0, pthread_create(&sp.thread, NULL, spin, &sp));
	ASSERT_EQ(0, pthread_join(sp.thread, NULL));
	/*
	 * pthread_join() returns once the thread has left user space; the
	 * kernel reaps it a moment later. Until then its final times are still
	 * readable, so wait (boundedly) for the reap.
	 */
	for (i = 0; i < 1000; i++) {
		for (int j = 0; j < 4; j++)
			t[j] = (struct vmsr_task_sample){ .tid = t[j].tid };
		t[3].tid = sp.tid;
		ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
		if (t[3].result == -ESRCH)
			break;
		EXPECT_EQ(0, t[3].result);
		usleep(1000);
	}
	for (i = 0; i < 4; i++) {
		EXPECT_EQ(-ESRCH, t[i].result);
		EXPECT_EQ(0, t[i].cpu_ns);
		EXPECT_EQ(0, t[i].cpu);
		EXPECT_EQ(0, t[i].package);
	}
}

TEST_F(dev, sample_zombie_gives_final_times_then_esrch_once_reaped)
{
	struct vmsr_task_sample t = {};
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)&t };
	siginfo_t si;
	pid_t child;

	NEED_FIXTURE();

	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		vmsr_burn(20 * 1000 * 1000);
		_exit(0);
	}
	/* Wait for the exit without reaping it. */
	ASSERT_EQ(0, waitid(P_PID, child, &si, WEXITED | WNOWAIT));
	t.tid = child;
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	EXPECT_EQ(0, t.result);
	EXPECT_EQ(VMSR_TASK_F_EXITED, t.flags);
	EXPECT_GE(t.cpu_ns, 10 * 1000 * 1000);
	ASSERT_EQ(child, waitpid(child, NULL, 0));
	t = (struct vmsr_task_sample){ .tid = child };
	ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
	EXPECT_EQ(-ESRCH, t.result);
}

static int pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

TEST_F(dev, sample_reports_the_last_cpu_of_a_moving_thread)
{
	struct vmsr_task_sample t = { .tid = vmsr_gettid() };
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)&t };
	int cpus[2] = { 0, 1 }, i;

	NEED_FIXTURE();

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two online CPUs");
	for (i = 0; i < 4; i++) {
		int cpu = cpus[i % 2];

		ASSERT_EQ(0, pin_to(cpu));
		vmsr_burn(2 * 1000 * 1000);
		t = (struct vmsr_task_sample){ .tid = vmsr_gettid() };
		ASSERT_EQ(0, vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, &s));
		EXPECT_EQ(0, t.result);
		EXPECT_EQ(cpu, t.cpu);
	}
}

struct sampler_arg {
	int fd;
	int failures;
	int calls;
};

static void *sampler(void *p)
{
	struct sampler_arg *a = p;
	struct vmsr_task_sample t;
	struct vmsr_pkg_sample pkg;
	struct vmsr_sample s;
	int i;

	for (i = 0; i < 300; i++) {
		t = (struct vmsr_task_sample){ .tid = vmsr_gettid() };
		pkg = (struct vmsr_pkg_sample){ .domains = 1 };
		s = (struct vmsr_sample){ .nr_tasks = 1, .tasks = (uintptr_t)&t,
					  .nr_pkgs = 1, .pkgs = (uintptr_t)&pkg };
		if (vmsr_ioctl(a->fd, VMSR_IOC_SAMPLE, &s) || t.result ||
		    (pkg.result[0] && pkg.result[0] != -ENODEV))
			a->failures++;
		a->calls++;
	}
	return NULL;
}

/* 2400 calls: under KASAN on a busy TCG host, more than the default 30 s. */
TEST_F_TIMEOUT(dev, concurrent_samplers_on_one_fd_and_many, 300)
{
	struct sampler_arg args[8];
	pthread_t th[8];
	int i;

	NEED_FIXTURE();

	for (i = 0; i < 8; i++) {
		args[i] = (struct sampler_arg){
			.fd = i % 2 ? self->fd : open(VMSR_DEV, O_RDWR | O_CLOEXEC),
		};
		ASSERT_GE(args[i].fd, 0);
		ASSERT_EQ(0, pthread_create(&th[i], NULL, sampler, &args[i]));
	}
	for (i = 0; i < 8; i++) {
		pthread_join(th[i], NULL);
		EXPECT_EQ(0, args[i].failures);
		EXPECT_EQ(300, args[i].calls);
		if (i % 2 == 0) {
			close(args[i].fd);
		}
	}
}

TEST_HARNESS_MAIN
