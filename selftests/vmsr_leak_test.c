// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_leak_test: no kernel byte reaches user space. Before each call every
 * user buffer, and GUARD bytes past its end, are filled with a pattern; after
 * it, each byte is checked against its rule:
 *
 *   KEEP  unchanged: in fields, bytes past what the call may write, and
 *         every buffer of a call that failed before writing it;
 *   ZERO  padding, reserved fields, unused slots, and the out fields of an
 *         entry whose result is an error;
 *   DATA  out fields that carry a value.
 *
 * A byte that breaks its rule is dirty. The tests cover each success path
 * and each error path of vmsr(4)'s ERRORS, with each of the
 * patterns, and the last one prints the totals for the host.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/wait.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define KVM_GID 36
#define USER_UID 1000
#define GUARD 64
#define NR_ENTRIES 8

static const uint8_t patterns[] = { 0xff, 0xa5, 0x5a, 0x01 };

enum rule { KEEP, ZERO, DATA };

/* A buffer the call sees, on pages of its own so that it can be made read-only. */
struct area {
	uint8_t *p;
	size_t size;		/* what the call may use; GUARD bytes follow */
	size_t mapped;
	uint8_t *before, *rule;
};

/* Shared with the children of the tests, and between tests (each runs in its own process). */
static struct totals {
	uint64_t calls, dirty, start_ns;
} *totals;

static void __attribute__((constructor)) totals_init(void)
{
	totals = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (totals == MAP_FAILED)
		abort();
	totals->start_ns = vmsr_now_ns();
}

static struct area area_new(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	struct area a = { .size = size };

	a.mapped = (size + GUARD + page - 1) / page * page;
	a.p = mmap(NULL, a.mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	a.before = malloc(size + GUARD);
	a.rule = malloc(size + GUARD);
	if (a.p == MAP_FAILED || !a.before || !a.rule)
		abort();
	return a;
}

static void area_free(struct area *a)
{
	munmap(a->p, a->mapped);
	free(a->before);
	free(a->rule);
}

static void fill(struct area *a, uint8_t pattern)
{
	memset(a->p, pattern, a->size + GUARD);
}

/* Records the bytes the call gets; every byte starts as KEEP. */
static void snap(struct area *a)
{
	memcpy(a->before, a->p, a->size + GUARD);
	memset(a->rule, KEEP, a->size + GUARD);
}

static void readonly(struct area *a, int ro)
{
	mprotect(a->p, a->mapped, ro ? PROT_READ : PROT_READ | PROT_WRITE);
}

static void mark(struct area *a, size_t off, size_t len, enum rule r)
{
	memset(a->rule + off, r, len);
}

/* Marks field @f of entry @i of an array of @type. */
#define MARK(a, type, i, f, r) \
	mark(a, (i) * sizeof(type) + offsetof(type, f), sizeof(((type *)0)->f), r)

/* Counts the call and its dirty bytes, and names the first one. */
static size_t account(struct __test_metadata *_metadata, const char *what,
		      struct area **areas, int n)
{
	size_t dirty = 0, i;
	int k;

	for (k = 0; k < n; k++) {
		const struct area *a = areas[k];

		for (i = 0; i < a->size + GUARD; i++) {
			bool bad = a->rule[i] == KEEP ? a->p[i] != a->before[i] :
				   a->rule[i] == ZERO ? a->p[i] != 0 : false;

			if (bad && !dirty++)
				TH_LOG("%s: buffer %d byte %zu is %#x, rule %s (was %#x)",
				       what, k, i, a->p[i], a->rule[i] == KEEP ? "KEEP" : "ZERO",
				       a->before[i]);
		}
	}
	__atomic_add_fetch(&totals->calls, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&totals->dirty, dirty, __ATOMIC_RELAXED);
	return dirty;
}

/* ---- the rules of each struct, after it was written ---- */

static void info_rules(struct area *hdr, struct area *map, uint32_t n)
{
	mark(hdr, 0, offsetof(struct vmsr_info, cpu_map_len), DATA);
	MARK(hdr, struct vmsr_info, 0, reserved, ZERO);
	mark(map, 0, n * sizeof(uint32_t), DATA);
}

static void read_rules(struct area *a, uint32_t n)
{
	const struct vmsr_read_entry *e = (const void *)a->p;
	uint32_t i;

	for (i = 0; i < n; i++) {
		MARK(a, struct vmsr_read_entry, i, result, DATA);
		MARK(a, struct vmsr_read_entry, i, value, e[i].result ? ZERO : DATA);
	}
}

static void pkg_rules(struct area *a, uint32_t n)
{
	const struct vmsr_pkg_sample *p = (const void *)a->p;
	size_t energy = offsetof(struct vmsr_pkg_sample, energy);
	size_t result = offsetof(struct vmsr_pkg_sample, result);
	uint32_t i;
	int d;

	for (i = 0; i < n; i++) {
		size_t base = i * sizeof(*p);

		MARK(a, struct vmsr_pkg_sample, i, read_ns, DATA);
		for (d = 0; d < VMSR_NR_DOMAINS; d++) {
			bool wanted = p[i].domains & VMSR_DOMAIN_BIT(d);

			mark(a, base + energy + 4 * d, 4, wanted && !p[i].result[d] ? DATA : ZERO);
			mark(a, base + result + 4 * d, 4, wanted ? DATA : ZERO);
		}
	}
}

static void task_rules(struct area *a, uint32_t n)
{
	const struct vmsr_task_sample *t = (const void *)a->p;
	size_t out = offsetof(struct vmsr_task_sample, cpu);
	size_t out_len = offsetof(struct vmsr_task_sample, pad) - out;
	uint32_t i;

	for (i = 0; i < n; i++) {
		MARK(a, struct vmsr_task_sample, i, result, DATA);
		mark(a, i * sizeof(*t) + out, out_len, t[i].result ? ZERO : DATA);
		MARK(a, struct vmsr_task_sample, i, pad, ZERO);
	}
}

static void sample_rules(struct area *hdr)
{
	MARK(hdr, struct vmsr_sample, 0, start_ns, DATA);
	MARK(hdr, struct vmsr_sample, 0, end_ns, DATA);
}

/* ---- the fixture ---- */

FIXTURE(leak) {
	int fd;
	struct vmsr_info info;
	struct area hdr, arr, arr2;
	const char *skip;
};

FIXTURE_SETUP(leak)
{
	self->skip = vmsr_fixture_open(&self->fd, &self->info);
	self->hdr = area_new(sizeof(struct vmsr_sample) + sizeof(struct vmsr_info));
	self->arr = area_new(NR_ENTRIES * sizeof(struct vmsr_pkg_sample) +
			     (self->info.nr_cpus + NR_ENTRIES) * sizeof(uint32_t));
	self->arr2 = area_new(NR_ENTRIES * sizeof(struct vmsr_task_sample));
}

FIXTURE_TEARDOWN(leak)
{
	area_free(&self->hdr);
	area_free(&self->arr);
	area_free(&self->arr2);
	if (self->fd >= 0)
		close(self->fd);
}

/* ---- INFO ---- */

/* INFO with @len map entries at @map: returns its result; checks every byte. */
static int info_call(struct __test_metadata *_metadata, FIXTURE_DATA(leak) *self,
		     uint8_t pat, uint32_t len, uint64_t map, unsigned long cmd,
		     uint64_t reserved, bool hdr_ro)
{
	struct vmsr_info *info = (void *)self->hdr.p;
	struct area *areas[] = { &self->hdr, &self->arr };
	uint32_t n = len < self->info.nr_cpus ? len : self->info.nr_cpus;
	int ret;

	fill(&self->hdr, pat);
	fill(&self->arr, pat);
	info->cpu_map_len = len;
	info->cpu_map = map;
	info->reserved[0] = 0;
	info->reserved[1] = reserved;
	snap(&self->hdr);
	snap(&self->arr);
	readonly(&self->hdr, hdr_ro);
	ret = vmsr_ioctl(self->fd, cmd, info);
	readonly(&self->hdr, 0);
	if (!ret)
		info_rules(&self->hdr, &self->arr, n);
	else if (hdr_ro && map == (uintptr_t)self->arr.p)
		info_rules(&self->hdr, &self->arr, n);	/* the map went out before the header */
	EXPECT_EQ(0, account(_metadata, "INFO", areas, 2));
	return ret;
}

TEST_F(leak, info_success)
{
	uint32_t nr = self->info.nr_cpus, lens[] = { 0, 1, nr, nr + NR_ENTRIES };
	unsigned int p, i;

	NEED_FIXTURE();

	for (p = 0; p < sizeof(patterns); p++)
		for (i = 0; i < 4; i++)
			EXPECT_EQ(0, info_call(_metadata, self, patterns[p], lens[i],
					       (uintptr_t)self->arr.p, VMSR_IOC_INFO, 0, false));
}

TEST_F(leak, info_errors)
{
	uint64_t map = (uintptr_t)self->arr.p;
	unsigned int p;

	NEED_FIXTURE();

	for (p = 0; p < sizeof(patterns); p++) {
		uint8_t pat = patterns[p];

		EXPECT_EQ(-EINVAL, info_call(_metadata, self, pat, 4, map, VMSR_IOC_INFO, 1, false));
		EXPECT_EQ(-ENOTTY, info_call(_metadata, self, pat, 4, map,
					     _IOWR(VMSR_IOC_MAGIC, 0, __u64), 0, false));
		EXPECT_EQ(-ENOTTY, info_call(_metadata, self, pat, 4, map,
					     _IOWR(VMSR_IOC_MAGIC, 9, struct vmsr_info), 0, false));
		EXPECT_EQ(-EFAULT, info_call(_metadata, self, pat, 4, (uintptr_t)vmsr_unmapped(),
					     VMSR_IOC_INFO, 0, false));
		EXPECT_EQ(-EFAULT, info_call(_metadata, self, pat, 4, map, VMSR_IOC_INFO, 0, true));
	}
}

/* ---- READ ---- */

static int read_call(struct __test_metadata *_metadata, FIXTURE_DATA(leak) *self, uint8_t pat,
		     const struct vmsr_read_entry *in, uint32_t n, uint32_t count, uint32_t flags,
		     bool entries_ro)
{
	struct vmsr_read *rd = (void *)self->hdr.p;
	struct vmsr_read_entry *e = (void *)self->arr.p;
	struct area *areas[] = { &self->hdr, &self->arr };
	uint32_t i;
	int ret;

	fill(&self->hdr, pat);
	fill(&self->arr, pat);
	for (i = 0; i < n; i++) {
		e[i].msr = in[i].msr;
		e[i].target = in[i].target;
		e[i].flags = in[i].flags;
	}
	*rd = (struct vmsr_read){ .entries = (uintptr_t)e, .count = count, .flags = flags };
	snap(&self->hdr);
	snap(&self->arr);
	readonly(&self->arr, entries_ro);
	ret = vmsr_ioctl(self->fd, VMSR_IOC_READ, rd);
	readonly(&self->arr, 0);
	if (!ret)
		read_rules(&self->arr, count);
	EXPECT_EQ(0, account(_metadata, "READ", areas, 2));
	return ret;
}

/* A batch of every whitelisted MSR on CPU 0, by package, and on targets that do not exist. */
static uint32_t read_batch(const struct vmsr_info *info, struct vmsr_read_entry *e)
{
	struct vmsr_msr_rule rules[VMSR_MAX_MSR_RULES];
	uint32_t n = vmsr_msr_rules(info, rules), i, k = 0;

	for (i = 0; i < n && k < NR_ENTRIES - 3; i++)
		e[k++] = (struct vmsr_read_entry){ .msr = rules[i].msr,
						   .flags = i % 2 ? VMSR_READ_F_PACKAGE : 0 };
	if (!n)
		return 0;
	e[k++] = (struct vmsr_read_entry){ .msr = rules[0].msr, .target = info->nr_cpus };
	e[k++] = (struct vmsr_read_entry){ .msr = rules[n - 1].msr, .target = 0xffffffff,
					   .flags = VMSR_READ_F_PACKAGE };
	e[k++] = (struct vmsr_read_entry){ .msr = rules[n - 1].msr, .target = info->nr_packages,
					   .flags = VMSR_READ_F_PACKAGE };
	return k;
}

TEST_F(leak, read_success_with_values_and_per_entry_errors)
{
	struct vmsr_read_entry in[NR_ENTRIES];
	uint32_t n = read_batch(&self->info, in);
	unsigned int p;

	NEED_FIXTURE();

	if (!n)
		SKIP(return, "this CPU vendor has no whitelisted MSRs");
	for (p = 0; p < sizeof(patterns); p++)
		EXPECT_EQ(0, read_call(_metadata, self, patterns[p], in, n, n, 0, false));
}

TEST_F(leak, read_fault_is_eio_with_a_zero_value)
{
	struct vmsr_read_entry in[NR_ENTRIES];
	uint32_t n = read_batch(&self->info, in);
	unsigned int p;

	NEED_FIXTURE();

	if (vmsr_testbed_fault_msr() < 0)
		SKIP(return, "no faulting MSR in this VM (QEMU's x-rapl-fault-msr)");
	ASSERT_LT(0, n);
	in[0].msr = vmsr_testbed_fault_msr();
	for (p = 0; p < sizeof(patterns); p++)
		EXPECT_EQ(0, read_call(_metadata, self, patterns[p], in, n, n, 0, false));
}

TEST_F(leak, read_errors_write_nothing)
{
	struct vmsr_read_entry in[NR_ENTRIES];
	uint32_t n = read_batch(&self->info, in);
	unsigned int p;

	NEED_FIXTURE();

	if (!n)
		SKIP(return, "this CPU vendor has no whitelisted MSRs");
	for (p = 0; p < sizeof(patterns); p++) {
		uint8_t pat = patterns[p];
		struct vmsr_read_entry bad[NR_ENTRIES];

		EXPECT_EQ(-EINVAL, read_call(_metadata, self, pat, in, n, 0, 0, false));
		EXPECT_EQ(-EINVAL, read_call(_metadata, self, pat, in, n, n, 1, false));
		EXPECT_EQ(-E2BIG, read_call(_metadata, self, pat, in, n,
					    self->info.max_read_entries + 1, 0, false));
		EXPECT_EQ(-EFAULT, read_call(_metadata, self, pat, in, n, n, 0, true));
		memcpy(bad, in, sizeof(bad));
		bad[n - 1].flags |= 2;
		EXPECT_EQ(-EINVAL, read_call(_metadata, self, pat, bad, n, n, 0, false));
		memcpy(bad, in, sizeof(bad));
		bad[n - 1].msr = 0x10;
		EXPECT_EQ(-EPERM, read_call(_metadata, self, pat, bad, n, n, 0, false));
	}
}

/* ---- SAMPLE ---- */

struct sample_in {
	const struct vmsr_pkg_sample *pkgs;
	uint32_t nr_pkgs;
	const pid_t *tids;
	uint32_t nr_tasks;
	uint32_t flags, pad;
	bool tasks_ro, hdr_ro;
};

static int sample_call(struct __test_metadata *_metadata, FIXTURE_DATA(leak) *self,
		       uint8_t pat, const struct sample_in *in)
{
	struct vmsr_sample *s = (void *)self->hdr.p;
	struct vmsr_pkg_sample *p = (void *)self->arr.p;
	struct vmsr_task_sample *t = (void *)self->arr2.p;
	struct area *areas[] = { &self->hdr, &self->arr, &self->arr2 };
	uint32_t i;
	int ret;

	fill(&self->hdr, pat);
	fill(&self->arr, pat);
	fill(&self->arr2, pat);
	for (i = 0; i < in->nr_pkgs && i < NR_ENTRIES; i++) {
		p[i].package = in->pkgs[i].package;
		p[i].domains = in->pkgs[i].domains;
	}
	for (i = 0; i < in->nr_tasks && i < NR_ENTRIES; i++)
		t[i].tid = in->tids[i];
	s->pkgs = (uintptr_t)p;
	s->tasks = (uintptr_t)t;
	s->nr_pkgs = in->nr_pkgs;
	s->nr_tasks = in->nr_tasks;
	s->flags = in->flags;
	s->pad = in->pad;
	snap(&self->hdr);
	snap(&self->arr);
	snap(&self->arr2);
	readonly(&self->arr2, in->tasks_ro);
	readonly(&self->hdr, in->hdr_ro);
	ret = vmsr_ioctl(self->fd, VMSR_IOC_SAMPLE, s);
	readonly(&self->arr2, 0);
	readonly(&self->hdr, 0);
	/* The arrays go out before the header, the packages before the tasks. */
	if (!ret || in->hdr_ro || in->tasks_ro)
		pkg_rules(&self->arr, in->nr_pkgs);
	if (!ret || in->hdr_ro)
		task_rules(&self->arr2, in->nr_tasks);
	if (!ret)
		sample_rules(&self->hdr);
	EXPECT_EQ(0, account(_metadata, "SAMPLE", areas, 3));
	return ret;
}

static void *sleeper(void *arg)
{
	*(volatile pid_t *)arg = vmsr_gettid();
	for (;;)
		pause();
	return NULL;
}

/* Packages with each set of domains, present and absent, and the task cases of the table. */
static void sample_cases(const struct vmsr_info *info, struct vmsr_pkg_sample *pkgs,
			 pid_t *tids, pid_t sibling, pid_t zombie)
{
	pkgs[0] = (struct vmsr_pkg_sample){ .package = 0, .domains = 0x1f };
	pkgs[1] = (struct vmsr_pkg_sample){ .package = 0, .domains = 0 };
	pkgs[2] = (struct vmsr_pkg_sample){ .package = 0, .domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_PKG) };
	pkgs[3] = (struct vmsr_pkg_sample){ .package = 0, .domains = VMSR_DOMAIN_BIT(VMSR_DOMAIN_UNCORE) };
	pkgs[4] = (struct vmsr_pkg_sample){ .package = info->nr_packages, .domains = 0x1f };
	pkgs[5] = (struct vmsr_pkg_sample){ .package = 0xffffffff, .domains = 0x3 };
	tids[0] = vmsr_gettid();
	tids[1] = sibling;
	tids[2] = zombie;
	tids[3] = 1;
	tids[4] = 0;
	tids[5] = 0x7fffffff;
}

TEST_F(leak, sample_success_with_values_and_per_entry_errors)
{
	struct vmsr_pkg_sample pkgs[6];
	volatile pid_t sibling = 0;
	pid_t tids[6], zombie;
	struct sample_in in = { .pkgs = pkgs, .nr_pkgs = 6, .tids = tids, .nr_tasks = 6 };
	siginfo_t si;
	pthread_t th;
	unsigned int p;
	int ret;

	NEED_FIXTURE();

	ASSERT_EQ(0, pthread_create(&th, NULL, sleeper, (void *)&sibling));
	zombie = fork();
	ASSERT_GE(zombie, 0);
	if (zombie == 0)
		_exit(0);
	ASSERT_EQ(0, waitid(P_PID, zombie, &si, WEXITED | WNOWAIT));
	while (!sibling)
		sched_yield();
	sample_cases(&self->info, pkgs, tids, sibling, zombie);
	for (p = 0; p < sizeof(patterns); p++) {
		in.flags = 0;
		EXPECT_EQ(0, sample_call(_metadata, self, patterns[p], &in));
		/* Fresh times, or the refusal of kernels that cannot give them. */
		in.flags = VMSR_SAMPLE_F_FRESH;
		ret = sample_call(_metadata, self, patterns[p], &in);
		EXPECT_TRUE(ret == 0 || ret == -EOPNOTSUPP);
	}
	waitpid(zombie, NULL, 0);
}

/* As a kvm member, root's tasks are -EACCES: their out fields must be zero too. */
TEST_F(leak, sample_of_tasks_the_caller_may_not_read)
{
	const gid_t kvm[] = { KVM_GID };
	struct vmsr_pkg_sample pkg = { .package = 0, .domains = 1 };
	pid_t tids[3] = { 0, 1, getpid() };
	struct sample_in in = { .pkgs = &pkg, .nr_pkgs = 1, .tids = tids, .nr_tasks = 3 };
	uint64_t dirty = totals->dirty, calls = totals->calls;
	int status;
	pid_t child;

	NEED_FIXTURE();

	if (geteuid() != 0)
		SKIP(return, "must start as root to switch uids");
	child = fork();
	ASSERT_GE(child, 0);
	if (child == 0) {
		const struct vmsr_task_sample *t = (const void *)self->arr2.p;
		unsigned int p;

		if (setgroups(1, kvm) || setgid(USER_UID) || setuid(USER_UID))
			_exit(100);
		tids[0] = vmsr_gettid();
		for (p = 0; p < sizeof(patterns); p++)
			if (sample_call(_metadata, self, patterns[p], &in) ||
			    t[0].result || t[1].result != -EACCES || t[2].result != -EACCES)
				_exit(101);
		_exit(0);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(calls + sizeof(patterns), totals->calls);
	EXPECT_EQ(dirty, totals->dirty);
}

TEST_F(leak, sample_errors_write_nothing_or_only_what_went_out)
{
	struct vmsr_pkg_sample pkgs[6], bad_pkg[6];
	pid_t tids[6];
	const struct sample_in ok = { .pkgs = pkgs, .nr_pkgs = 6, .tids = tids, .nr_tasks = 6 };
	struct sample_in in;
	unsigned int p;

	NEED_FIXTURE();

	sample_cases(&self->info, pkgs, tids, vmsr_gettid(), vmsr_gettid());
	memcpy(bad_pkg, pkgs, sizeof(pkgs));
	bad_pkg[5].domains |= VMSR_DOMAIN_BIT(VMSR_NR_DOMAINS - 1);
	for (p = 0; p < sizeof(patterns); p++) {
		uint8_t pat = patterns[p];

		in = ok;
		in.flags = VMSR_SAMPLE_F_FRESH << 1;	/* not a flag there is */
		EXPECT_EQ(-EINVAL, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.pad = 0x80000000;
		EXPECT_EQ(-EINVAL, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.nr_tasks = self->info.max_sample_tasks + 1;
		EXPECT_EQ(-E2BIG, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.nr_pkgs = self->info.max_sample_pkgs + 1;
		EXPECT_EQ(-E2BIG, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.pkgs = bad_pkg;
		EXPECT_EQ(-EINVAL, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.tasks_ro = true;
		EXPECT_EQ(-EFAULT, sample_call(_metadata, self, pat, &in));
		in = ok;
		in.hdr_ro = true;
		EXPECT_EQ(-EFAULT, sample_call(_metadata, self, pat, &in));
	}
}

/* Runs last: the totals of the tests above, in one line for the host. */
TEST_F(leak, totals)
{
	NEED_FIXTURE();

	TH_LOG("REPORT leak: %llu calls checked in %.1f s", (unsigned long long)totals->calls,
	       (vmsr_now_ns() - totals->start_ns) / 1e9);
	TH_LOG("SUMMARY leak: calls_checked=%llu dirty_bytes=%llu",
	       (unsigned long long)totals->calls, (unsigned long long)totals->dirty);
	EXPECT_GT(totals->calls, 0);
	EXPECT_EQ(0, totals->dirty);
}

TEST_HARNESS_MAIN
