// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * Host unit tests of the exporter's parsers, formatters and energy split,
 * with the kernel's kselftest harness (make KSRC=... exporter-test). The
 * attribution core under the split has its own tests (tests/account_test.c).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"

#include "energy_split.h"
#include "expo.h"
#include "http.h"
#include "instances.h"
#include "proc_scan.h"
#include "qemu_cmdline.h"
#include "vms.h"

/* ---- which processes are VMs ---- */

TEST(qemu_binaries_are_vmms)
{
	EXPECT_TRUE(qemu_is_vmm("/usr/bin/qemu-system-x86_64"));
	EXPECT_TRUE(qemu_is_vmm("qemu-system-aarch64"));
	EXPECT_TRUE(qemu_is_vmm("/usr/libexec/qemu-kvm"));
	EXPECT_TRUE(qemu_is_vmm("/usr/bin/kvm"));
	EXPECT_FALSE(qemu_is_vmm("/usr/bin/qemu-img"));
	EXPECT_FALSE(qemu_is_vmm("/usr/sbin/libvirtd"));
	EXPECT_FALSE(qemu_is_vmm("/usr/bin/kvmtool"));
	EXPECT_FALSE(qemu_is_vmm("/usr/bin/qemu-x86_64"));	/* user mode: no VM */
}

/* A NUL-separated argument list, as /proc/PID/cmdline has it. */
static size_t argv_buf(char *buf, size_t size, const char *const *args)
{
	size_t len = 0;

	for (; *args; args++) {
		size_t n = strlen(*args) + 1;

		if (len + n > size)
			abort();
		memcpy(buf + len, *args, n);
		len += n;
	}
	return len;
}

TEST(libvirt_command_line)
{
	static const char *const args[] = {
		"/usr/bin/qemu-system-x86_64", "-name", "guest=web,,db,debug-threads=on",
		"-S", "-uuid", "1B4E28BA-2FA1-11D2-883F-0016D3CCA427", "-smp", "2", NULL };
	struct qemu_vm_id id;
	char buf[512];
	size_t len = argv_buf(buf, sizeof(buf), args);

	ASSERT_TRUE(qemu_parse_cmdline(buf, len, &id));
	EXPECT_STREQ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", id.uuid);
	EXPECT_STREQ("web,db", id.name);
	EXPECT_EQ(0, id.problems);
}

TEST(proxmox_command_line_with_double_dashes)
{
	static const char *const args[] = {
		"/usr/bin/kvm", "--id", "100", "--name", "vm100,debug-threads=on",
		"--uuid", "0e3ab4b5-7f4e-4b4f-9a48-5c1d7d2e6b0a", NULL };
	struct qemu_vm_id id;
	char buf[512];

	ASSERT_TRUE(qemu_parse_cmdline(buf, argv_buf(buf, sizeof(buf), args), &id));
	EXPECT_STREQ("0e3ab4b5-7f4e-4b4f-9a48-5c1d7d2e6b0a", id.uuid);
	EXPECT_STREQ("vm100", id.name);
}

TEST(not_a_vm)
{
	static const char *const args[] = { "/usr/sbin/libvirtd", "-uuid",
		"0e3ab4b5-7f4e-4b4f-9a48-5c1d7d2e6b0a", NULL };
	struct qemu_vm_id id;
	char buf[256];

	EXPECT_FALSE(qemu_parse_cmdline(buf, argv_buf(buf, sizeof(buf), args), &id));
	EXPECT_FALSE(qemu_parse_cmdline("", 0, &id));
}

TEST(bad_uuid_and_missing_values_are_problems_not_drops)
{
	static const char *const bad_uuid[] = { "qemu-system-x86_64", "-uuid", "not-a-uuid",
		"-name", "x", NULL };
	static const char *const no_value[] = { "qemu-system-x86_64", "-name", "a", "-uuid", NULL };
	struct qemu_vm_id id;
	char buf[256];

	ASSERT_TRUE(qemu_parse_cmdline(buf, argv_buf(buf, sizeof(buf), bad_uuid), &id));
	EXPECT_EQ(QEMU_ID_BAD_UUID, id.problems);
	EXPECT_STREQ("", id.uuid);
	EXPECT_STREQ("x", id.name);

	ASSERT_TRUE(qemu_parse_cmdline(buf, argv_buf(buf, sizeof(buf), no_value), &id));
	EXPECT_EQ(QEMU_ID_BAD_UUID, id.problems);
	EXPECT_STREQ("a", id.name);
}

TEST(a_cut_off_last_argument_is_ignored)
{
	struct qemu_vm_id id;
	/* No NUL after "-uuid": the list was cut inside it. */
	static const char buf[] = "qemu-system-x86_64\0-name\0vm\0-uu";

	ASSERT_TRUE(qemu_parse_cmdline(buf, sizeof(buf) - 1, &id));
	EXPECT_STREQ("vm", id.name);
	EXPECT_EQ(0, id.problems);
}

TEST(name_option_syntax)
{
	char out[QEMU_NAME_MAX + 1];

	ASSERT_TRUE(qemu_decode_name("guest=foo,,bar", out, sizeof(out)));
	EXPECT_STREQ("foo,bar", out);
	ASSERT_TRUE(qemu_decode_name("foo,,bar,process=x", out, sizeof(out)));
	EXPECT_STREQ("foo,bar", out);
	ASSERT_TRUE(qemu_decode_name("process=x,guest=y", out, sizeof(out)));
	EXPECT_STREQ("y", out);
	ASSERT_TRUE(qemu_decode_name("guest=a=b", out, sizeof(out)));
	EXPECT_STREQ("a=b", out);
	/* The key ends at the first '=' or ',': ",," comes first, so no key. */
	ASSERT_TRUE(qemu_decode_name("a,,b=c", out, sizeof(out)));
	EXPECT_STREQ("a,b=c", out);
	ASSERT_TRUE(qemu_decode_name("guest=,,,,", out, sizeof(out)));
	EXPECT_STREQ(",,", out);
	ASSERT_TRUE(qemu_decode_name("guest=caf\xc3\xa9", out, sizeof(out)));
	EXPECT_STREQ("caf\xc3\xa9", out);
	EXPECT_FALSE(qemu_decode_name("debug-threads=on", out, sizeof(out)));
}

TEST(names_that_are_not_utf8_are_flagged_and_made_safe)
{
	char out[QEMU_NAME_MAX + 1];

	EXPECT_FALSE(qemu_decode_name("guest=a\xff" "b", out, sizeof(out)));
	EXPECT_STREQ("a?b", out);
	EXPECT_FALSE(qemu_decode_name("guest=\xc0\xaf", out, sizeof(out)));	/* overlong '/' */
	EXPECT_STREQ("??", out);
}

TEST(long_names_are_cut_at_a_character_boundary)
{
	char value[600] = "guest=", out[8];

	for (int i = 0; i < 100; i++)
		strcat(value, "\xc3\xa9");	/* 2 bytes each */
	ASSERT_TRUE(qemu_decode_name(value, out, sizeof(out)));
	EXPECT_EQ(6, strlen(out));
}

/* ---- /proc parsing ---- */

TEST(starttime_after_a_hostile_command_name)
{
	static const char stat[] =
		"42 (a) b (c) 1 2 3 4) S 1 42 42 0 -1 4194560 100 0 0 0 5 6 0 0 20 0 3 0 123456 1000 10";
	unsigned long long t;

	ASSERT_EQ(0, proc_parse_starttime(stat, strlen(stat), &t));
	EXPECT_EQ(123456ULL, t);
	EXPECT_EQ(-EINVAL, proc_parse_starttime("42 (x) S 1 2", 12, &t));
}

TEST(task_times_from_stat)
{
	/* Fields 14, 15 (utime, stime) and 39 (processor). */
	static const char stat[] =
		"7 (qemu-system-x86) S 1 7 7 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 9 0 1234 "
		"1000 10 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 17 3 0 0 0 0 0";
	unsigned long long ticks;
	unsigned int cpu;

	ASSERT_EQ(0, proc_parse_times(stat, strlen(stat), &ticks, &cpu));
	EXPECT_EQ(300ULL, ticks);
	EXPECT_EQ(3U, cpu);
	EXPECT_EQ(-EINVAL, proc_parse_times("7 (x) S 1 2 3", 13, &ticks, &cpu));
}

TEST(cpu_busy_from_proc_stat)
{
	static const char stat[] =
		"cpu  100 200 300 400 500 600 700 800 0 0\n"
		"cpu0 1 2 3 1000 1000 4 5 6 7 8\n"
		"cpu2 10 0 10 0 0 0 0 0 0 0\n"
		"intr 12345\n";
	uint64_t busy[3];

	ASSERT_EQ(0, proc_parse_cpu_busy(stat, busy, 3));
	EXPECT_EQ(1 + 2 + 3 + 4 + 5 + 6, busy[0]);	/* idle and iowait are not busy */
	EXPECT_EQ(0, busy[1]);				/* offline */
	EXPECT_EQ(20, busy[2]);
	EXPECT_EQ(-EINVAL, proc_parse_cpu_busy("intr 1\n", busy, 3));
}

/* ---- exposition formats ---- */

TEST(content_negotiation)
{
	/* What Prometheus 2.42 sends. */
	EXPECT_EQ(EXPO_OPENMETRICS, expo_negotiate(
		"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate(NULL));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate("*/*"));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate("text/plain; version=0.0.4"));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate("application/openmetrics-text; q=0"));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate("application/openmetrics-text; version=0.0.1"));
	EXPECT_EQ(EXPO_OPENMETRICS, expo_negotiate(
		"text/plain;q=0.5, Application/OpenMetrics-Text ; q=0.6"));
	EXPECT_EQ(EXPO_TEXT, expo_negotiate("application/json"));
}

static const char *render(enum expo_format format, struct expo *e)
{
	expo_init(e, format);
	expo_family(e, "vmsr_vm_energy_joules", EXPO_COUNTER, "joules", "Energy\\of a \"VM\".\n");
	expo_sample(e, 1.5, "uuid", "u", "name", "a\"b\\c\nd", NULL);
	expo_family(e, "vmsr_build", EXPO_INFO, NULL, "Build.");
	expo_sample(e, 1, "version", "1.0", NULL);
	expo_family(e, "vmsr_up", EXPO_GAUGE, NULL, "Up.");
	expo_sample(e, 0, NULL);
	expo_finish(e);
	return e->buf;
}

TEST(text_format)
{
	struct expo e;

	EXPECT_STREQ("# HELP vmsr_vm_energy_joules_total Energy\\\\of a \"VM\".\\n\n"
		     "# TYPE vmsr_vm_energy_joules_total counter\n"
		     "vmsr_vm_energy_joules_total{uuid=\"u\",name=\"a\\\"b\\\\c\\nd\"} 1.5\n"
		     "# HELP vmsr_build_info Build.\n"
		     "# TYPE vmsr_build_info gauge\n"
		     "vmsr_build_info{version=\"1.0\"} 1\n"
		     "# HELP vmsr_up Up.\n"
		     "# TYPE vmsr_up gauge\n"
		     "vmsr_up 0\n", render(EXPO_TEXT, &e));
	EXPECT_STREQ("text/plain; version=0.0.4; charset=utf-8", expo_content_type(e.format));
	expo_free(&e);
}

TEST(openmetrics_format)
{
	struct expo e;

	EXPECT_STREQ("# HELP vmsr_vm_energy_joules Energy\\\\of a \\\"VM\\\".\\n\n"
		     "# TYPE vmsr_vm_energy_joules counter\n"
		     "# UNIT vmsr_vm_energy_joules joules\n"
		     "vmsr_vm_energy_joules_total{uuid=\"u\",name=\"a\\\"b\\\\c\\nd\"} 1.5\n"
		     "# HELP vmsr_build Build.\n"
		     "# TYPE vmsr_build info\n"
		     "vmsr_build_info{version=\"1.0\"} 1\n"
		     "# HELP vmsr_up Up.\n"
		     "# TYPE vmsr_up gauge\n"
		     "vmsr_up 0\n"
		     "# EOF\n", render(EXPO_OPENMETRICS, &e));
	expo_free(&e);
}

TEST(a_label_without_a_value_is_left_out)
{
	struct expo e;

	expo_init(&e, EXPO_TEXT);
	expo_family(&e, "vmsr_package_energy_joules", EXPO_COUNTER, "joules", "E.");
	expo_sample(&e, 2, "package", "1", "die", NULL, "domain", "dram", NULL);
	expo_sample(&e, 3, "die", NULL, NULL);
	expo_finish(&e);
	EXPECT_NE(NULL, strstr(e.buf, "\nvmsr_package_energy_joules_total{package=\"1\",domain=\"dram\"} 2\n"));
	EXPECT_NE(NULL, strstr(e.buf, "\nvmsr_package_energy_joules_total 3\n"));
	expo_free(&e);
}

/* Writes @value into the file @root/@dir/@name, making @dir; false on failure. */
static bool write_file(const char *root, const char *dir, const char *name, unsigned int value)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/%s'", root, dir);
	if (system(cmd))
		return false;
	snprintf(path, sizeof(path), "%s/%s/%s", root, dir, name);
	f = fopen(path, "w");
	if (!f)
		return false;
	fprintf(f, "%u\n", value);
	return !fclose(f);
}

/* A sysfs tree where CPU @cpu is in package @pkg, die @die. */
static bool fake_topology(const char *root, unsigned int cpu, unsigned int pkg, unsigned int die)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "devices/system/cpu/cpu%u/topology", cpu);
	return write_file(root, dir, "physical_package_id", pkg) &&
	       write_file(root, dir, "die_id", die);
}

/* powercap's names: package-0-die-0, package-0-die-1, package-1-die-0, ... */
TEST(die_instances_are_labelled_by_package_and_die)
{
	char root[] = "/tmp/vmsr-sysfs-XXXXXX", cmd[64];
	/* 8 CPUs: instances (dies) 0..3, two per package, two CPUs each. */
	uint32_t cpu_map[8] = { 0, 0, 1, 1, 2, 2, 3, 3 };
	struct vmsr_info info = { .nr_cpus = 8, .nr_packages = 4, .flags = VMSR_INFO_F_DIES };
	struct instance_label labels[4];

	ASSERT_NE(NULL, mkdtemp(root));
	for (unsigned int cpu = 0; cpu < 8; cpu++)
		if (cpu != 6)	/* one CPU of instance 3 cannot be read: the other is */
			ASSERT_TRUE(fake_topology(root, cpu, cpu / 4, cpu / 2 % 2));
	instance_labels(root, &info, cpu_map, labels);
	EXPECT_STREQ("0", labels[0].package);
	EXPECT_STREQ("0", labels[0].die);
	EXPECT_STREQ("0", labels[1].package);
	EXPECT_STREQ("1", labels[1].die);
	EXPECT_STREQ("1", labels[2].package);
	EXPECT_STREQ("0", labels[2].die);
	EXPECT_STREQ("1", labels[3].package);
	EXPECT_STREQ("1", labels[3].die);

	/* No topology at all: no package label, the instance id as the die. */
	instance_labels("/nonexistent", &info, cpu_map, labels);
	EXPECT_STREQ("", labels[2].package);
	EXPECT_STREQ("2", labels[2].die);

	/* Package-scoped RAPL: the id is the package, and there is no die label. */
	info.flags = 0;
	instance_labels(root, &info, cpu_map, labels);
	EXPECT_STREQ("3", labels[3].package);
	EXPECT_STREQ("", labels[3].die);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	EXPECT_EQ(0, system(cmd));
}

TEST(numbers_read_back_exactly)
{
	double values[] = { 0.1, 1e-9, 123456789.123456789, 4294967296.0, 1.0 / 3 };
	struct expo e;

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		expo_init(&e, EXPO_TEXT);
		expo_family(&e, "x", EXPO_GAUGE, NULL, "x");
		expo_sample(&e, values[i], NULL);
		EXPECT_EQ(values[i], strtod(strrchr(e.buf, ' ') + 1, NULL));
		expo_free(&e);
	}
}

/* ---- listen addresses ---- */

TEST(listen_addresses)
{
	struct sockaddr_storage a;
	socklen_t len;

	ASSERT_EQ(0, http_parse_listen_address(":9863", &a, &len));
	EXPECT_EQ(AF_INET6, a.ss_family);
	EXPECT_EQ(9863, ntohs(((struct sockaddr_in6 *)&a)->sin6_port));
	ASSERT_EQ(0, http_parse_listen_address("127.0.0.1:80", &a, &len));
	EXPECT_EQ(AF_INET, a.ss_family);
	ASSERT_EQ(0, http_parse_listen_address("[::1]:9863", &a, &len));
	EXPECT_EQ(AF_INET6, a.ss_family);
	EXPECT_EQ(-EINVAL, http_parse_listen_address("9863", &a, &len));
	EXPECT_EQ(-EINVAL, http_parse_listen_address("localhost:9863", &a, &len));
	EXPECT_EQ(-EINVAL, http_parse_listen_address(":99999", &a, &len));
	EXPECT_EQ(-EINVAL, http_parse_listen_address("1.2.3.4:", &a, &len));
	EXPECT_EQ(-EINVAL, http_parse_listen_address("1.2.3.4:-1", &a, &len));
}

/* ---- the split of a package's energy ---- */

/* Two packages of two CPUs, 100 clock ticks per second; one step of 1 s. */
FIXTURE(split)
{
	struct energy_split s;
	uint32_t cpu_map[4];
	double energy[2 * VMSR_NR_DOMAINS], vms[2 * VMSR_NR_DOMAINS], scale[2 * VMSR_NR_DOMAINS];
	uint32_t online[2];
	uint64_t busy[4];
	struct split_step step;
};

FIXTURE_SETUP(split)
{
	static const uint32_t map[] = { 0, 0, 1, 1 };

	memcpy(self->cpu_map, map, sizeof(map));
	ASSERT_EQ(0, split_init(&self->s, 2, 4, self->cpu_map, 100));
	memset(self->energy, 0, sizeof(self->energy));
	memset(self->vms, 0, sizeof(self->vms));
	memset(self->busy, 0, sizeof(self->busy));
	self->online[0] = self->online[1] = 2;
	self->step = (struct split_step){
		.energy = self->energy, .vms = self->vms, .online_cpus = self->online,
		.busy = self->busy, .interval_ns = 0, .scale = self->scale,
	};
	split_add(&self->s, &self->step);	/* the baseline of /proc/stat */
	self->step.interval_ns = 1000000000ULL;
}

FIXTURE_TEARDOWN(split)
{
	split_free(&self->s);
}

/* One second: package @p drew @joules, its VMs were charged @vm_joules, its CPUs @busy_pct busy. */
static void step_pkg(FIXTURE_DATA(split) *self, int p, double joules, double vm_joules,
		     int busy_pct)
{
	self->energy[p * VMSR_NR_DOMAINS + VMSR_DOMAIN_PKG] = joules;
	self->vms[p * VMSR_NR_DOMAINS + VMSR_DOMAIN_PKG] = vm_joules;
	self->busy[2 * p] += busy_pct;
	self->busy[2 * p + 1] += busy_pct;
}

static double conservation_error(const struct pkg_totals *t, int d)
{
	return fabs(t->vms[d] + t->other[d] + t->idle[d] - t->energy[d]);
}

TEST_F(split, vms_other_idle_add_up_to_the_package)
{
	for (int i = 0; i < 10; i++) {
		step_pkg(self, 0, 20, 5, 90);
		step_pkg(self, 1, 10, 0, 0);
		split_add(&self->s, &self->step);
		EXPECT_EQ(1, self->scale[0]);
	}
	/* 90 % busy: other = 0.9 * 20 - 5 = 13, idle = 0.1 * 20 = 2, per second. */
	EXPECT_LT(fabs(self->s.totals[0].vms[0] - 50), 1e-9);
	EXPECT_LT(fabs(self->s.totals[0].other[0] - 130), 1e-9);
	EXPECT_LT(fabs(self->s.totals[0].idle[0] - 20), 1e-9);
	EXPECT_LT(fabs(self->s.totals[1].idle[0] - 100), 1e-9);
	for (int p = 0; p < 2; p++)
		EXPECT_LT(conservation_error(&self->s.totals[p], 0), 1e-9);
}

TEST_F(split, vms_never_get_more_than_the_package)
{
	/* Stale CPU times catching up: the VMs were charged 12 J of 10. */
	step_pkg(self, 1, 10, 12, 100);
	split_add(&self->s, &self->step);
	EXPECT_LT(fabs(self->scale[1 * VMSR_NR_DOMAINS] - 10.0 / 12), 1e-12);
	EXPECT_LT(fabs(self->s.totals[1].vms[0] - 10), 1e-9);
	EXPECT_EQ(0, self->s.totals[1].other[0]);
	EXPECT_LT(fabs(self->s.totals[1].idle[0]), 1e-9);
}

TEST_F(split, vms_busier_than_proc_stat_leave_no_negative_other)
{
	step_pkg(self, 0, 10, 6, 50);	/* VMs 6 J, busy share only 5 J */
	split_add(&self->s, &self->step);
	EXPECT_EQ(0, self->s.totals[0].other[0]);
	EXPECT_LT(fabs(self->s.totals[0].idle[0] - 4), 1e-9);
	EXPECT_LT(conservation_error(&self->s.totals[0], 0), 1e-9);
}

TEST_F(split, without_proc_stat_the_rest_is_idle)
{
	self->step.busy = NULL;
	step_pkg(self, 0, 10, 3, 100);
	split_add(&self->s, &self->step);
	EXPECT_EQ(0, self->s.totals[0].other[0]);
	EXPECT_LT(fabs(self->s.totals[0].idle[0] - 7), 1e-9);
}

/* ---- finding VMs in a /proc of our own ---- */

FIXTURE(fakeproc)
{
	char root[64];
	struct vm_set set;
};

FIXTURE_SETUP(fakeproc)
{
	strcpy(self->root, "/tmp/vmsr-exporter-test.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->root));
	memset(&self->set, 0, sizeof(self->set));
}

FIXTURE_TEARDOWN(fakeproc)
{
	char cmd[128];

	vms_free(&self->set);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", self->root);
	if (system(cmd))
		TH_LOG("could not remove %s", self->root);
}

static void put_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* A process @pid named @comm, started at @start ticks, with @cmdline (@len bytes) and @nr threads. */
static void add_proc(const char *root, int pid, const char *comm, unsigned long long start,
		     const char *cmdline, size_t len, int nr)
{
	char path[256], stat[256];

	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
	snprintf(stat, sizeof(stat),
		 "%d (%s) S 1 %d %d 0 -1 0 0 0 0 0 0 0 0 0 20 0 %d 0 %llu 0 0\n", pid, comm, pid,
		 pid, nr, start);
	put_file(path, stat, strlen(stat));
	snprintf(path, sizeof(path), "%s/%d/cmdline", root, pid);
	put_file(path, cmdline, len);
	snprintf(path, sizeof(path), "%s/%d/task", root, pid);
	mkdir(path, 0755);
	for (int t = 0; t < nr; t++) {
		snprintf(path, sizeof(path), "%s/%d/task/%d", root, pid, pid + t);
		mkdir(path, 0755);
	}
}

static void remove_proc(const char *root, int pid)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/%d", root, pid);
	if (system(cmd))
		abort();
}

#define CMDLINE(s) s, sizeof(s)

TEST_F(fakeproc, finds_vms_keeps_the_gone_for_the_retention_time)
{
	const struct vm *vm;

	add_proc(self->root, 1, "init", 1, CMDLINE("/sbin/init"), 1);
	add_proc(self->root, 200, "qemu-system-x86", 50,
		 CMDLINE("/usr/bin/qemu-system-x86_64\0-name\0guest=a,,b\0-uuid\0"
			 "0e3ab4b5-7f4e-4b4f-9a48-5c1d7d2e6b0a"), 8);
	/* Exiting: no command line, but QEMU's name. */
	add_proc(self->root, 300, "qemu-system-x86", 50, "", 0, 1);

	ASSERT_EQ(0, vms_scan(&self->set, self->root, 10, 100000, 100, 60));
	ASSERT_EQ(2, self->set.nr_vms);
	vm = &self->set.vms[0];
	EXPECT_EQ(200, vm->pid);
	EXPECT_STREQ("a,b", vm->id.name);
	EXPECT_STREQ("0e3ab4b5-7f4e-4b4f-9a48-5c1d7d2e6b0a", vm->id.uuid);
	EXPECT_EQ(300, self->set.vms[1].pid);
	EXPECT_STREQ("300", self->set.vms[1].pid_label);
	EXPECT_EQ(QEMU_ID_NO_CMDLINE, self->set.vms[1].id.problems);
	EXPECT_EQ(1, self->set.ids_incomplete);

	remove_proc(self->root, 200);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 11, 100100, 100, 60));
	EXPECT_EQ(2, self->set.nr_vms);
	EXPECT_EQ(1, vms_running(&self->set));
	EXPECT_EQ(1, self->set.vms_gone);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 71, 106100, 100, 60));
	EXPECT_EQ(2, self->set.nr_vms);		/* 60 s: still kept */
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 72, 106200, 100, 60));
	EXPECT_EQ(1, self->set.nr_vms);
	EXPECT_EQ(300, self->set.vms[0].pid);
}

TEST_F(fakeproc, a_young_process_that_executes_qemu_is_found)
{
	add_proc(self->root, 400, "libvirtd", 99990, CMDLINE("/usr/sbin/libvirtd"), 1);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 10, 100000, 100, 60));
	EXPECT_EQ(0, self->set.nr_vms);
	add_proc(self->root, 400, "qemu-system-x86", 99990,
		 CMDLINE("/usr/bin/qemu-system-x86_64\0-name\0late"), 2);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 11, 100100, 100, 60));
	ASSERT_EQ(1, self->set.nr_vms);
	EXPECT_STREQ("late", self->set.vms[0].id.name);
}

/* One descriptor per running VM, read from offset 0 on every sample. */
TEST_F(fakeproc, a_vms_stat_is_read_fresh_through_one_descriptor)
{
	char buf[256];
	ssize_t len;
	int fd;

	add_proc(self->root, 200, "qemu-system-x86", 50, CMDLINE("/usr/bin/qemu-system-x86_64"), 1);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 10, 100000, 100, 60));
	ASSERT_EQ(1, self->set.nr_vms);
	EXPECT_EQ(-1, self->set.vms[0].stat_fd);
	ASSERT_LT(0, vm_read_stat(self->root, &self->set.vms[0], buf, sizeof(buf) - 1));
	fd = self->set.vms[0].stat_fd;
	ASSERT_LE(0, fd);

	/* The same file with new contents (3 threads, field 20) */
	add_proc(self->root, 200, "qemu-system-x86", 50, CMDLINE("/usr/bin/qemu-system-x86_64"), 3);
	len = vm_read_stat(self->root, &self->set.vms[0], buf, sizeof(buf) - 1);
	ASSERT_LT(0, len);
	buf[len] = '\0';
	EXPECT_NE(NULL, strstr(buf, " 20 0 3 0 50 "));
	EXPECT_EQ(fd, self->set.vms[0].stat_fd);

	/* Gone: its descriptor is closed at once, not after the retention time. */
	remove_proc(self->root, 200);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 11, 100100, 100, 60));
	ASSERT_EQ(1, self->set.nr_vms);
	EXPECT_EQ(-1, self->set.vms[0].stat_fd);
	EXPECT_EQ(-1, fcntl(fd, F_GETFD));
	EXPECT_GT(0, vm_read_stat(self->root, &self->set.vms[0], buf, sizeof(buf) - 1));
}

TEST_F(fakeproc, an_old_process_is_not_read_again)
{
	add_proc(self->root, 500, "bash", 10, CMDLINE("bash"), 1);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 10, 100000, 100, 60));
	add_proc(self->root, 500, "qemu-system-x86", 10, CMDLINE("qemu-system-x86_64"), 1);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 11, 100100, 100, 60));
	EXPECT_EQ(0, self->set.nr_vms);
}

/* Kernel threads never execute QEMU: read once, even while young. */
TEST_F(fakeproc, a_kernel_thread_is_read_once)
{
	char path[256], stat[256];

	add_proc(self->root, 600, "kworker/0:1", 99990, "", 0, 1);
	snprintf(path, sizeof(path), "%s/600/stat", self->root);
	snprintf(stat, sizeof(stat),
		 "600 (kworker/0:1) I 2 0 0 0 -1 %u 0 0 0 0 0 0 0 0 20 0 1 0 99990 0 0\n",
		 PF_KTHREAD_FLAG);
	put_file(path, stat, strlen(stat));
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 10, 100000, 100, 60));
	EXPECT_EQ(0, self->set.nr_vms);
	add_proc(self->root, 600, "qemu-system-x86", 99990, CMDLINE("qemu-system-x86_64"), 1);
	ASSERT_EQ(0, vms_scan(&self->set, self->root, 11, 100100, 100, 60));
	EXPECT_EQ(0, self->set.nr_vms);
}

TEST_HARNESS_MAIN
