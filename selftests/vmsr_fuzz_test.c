// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_fuzz_test: a million ioctls on /dev/vmsr with generated inputs, each
 * checked against vmsr(4)'s ERRORS.
 *
 * A seeded generator builds each call: the command (ours, ours with another
 * size or direction, our type with other numbers, a bit away from ours,
 * random), header fields, counts (0, small, the cap, the cap + 1, huge),
 * where each buffer lies (enum place), MSRs, CPUs and packages (online,
 * offline, beyond nr_cpus, negative as unsigned) and TIDs (enum tid_kind).
 * As it builds the call it works out what the input warrants: an error for
 * each defect it put in, or, without defects, success and the results each
 * entry may hold. A return or a result outside that set is "undocumented"
 * and fails the test; so does one outside the error table.
 *
 * Under KASAN each allocation costs the better part of a millisecond, so most
 * calls are "shallow": a defect in the command or the header, or no arrays,
 * which the module rejects or serves before it allocates anything. One in
 * DEEP_ONE_IN is "deep": it reaches the arrays, with or without a defect there.
 *
 * Two workers share the calls: one as root, one as a member of group kvm
 * (USER_UID) holding an fd that root opened, to whom tasks of other uids are
 * -EACCES. The last CPU is offline for the run. The test prints its outcome
 * counts and a SUMMARY line, whose splat count the host fills in from the
 * kernel log. VMSR_FUZZ_CALLS and VMSR_FUZZ_SEED override the defaults.
 */
#define _GNU_SOURCE
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sys/wait.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define KVM_GID 36
#define USER_UID 1000
#define OTHER_UID 1001

#define DEFAULT_CALLS 1000000
#define DEFAULT_SEED 0x766d7372
#define NR_WORKERS 2		/* worker 0 runs as root, worker 1 as USER_UID */
#define DEEP_ONE_IN 32
#define CAP_ONE_IN 2000		/* of deep arrays, how rarely one is exactly at its cap */
#define PID_MAX_LIMIT 4194304	/* the kernel's limit on 64-bit */

/* ---- the generator's randomness: splitmix64 ---- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n)
{
	return rnd(s) % n;
}

static bool one_in(uint64_t *s, uint32_t n)
{
	return below(s, n) == 0;
}

/* ---- what the oracle knows, fixed for the run ---- */

enum tid_kind {
	TID_SELF,		/* the worker's own thread */
	TID_SIBLING,		/* another thread of the worker */
	TID_USER_PROC,		/* a process of USER_UID */
	TID_OTHER_PROC,		/* a process of OTHER_UID */
	TID_USER_ZOMBIE,	/* an exited, unreaped process of USER_UID */
	TID_OTHER_ZOMBIE,	/* the same, of OTHER_UID */
	TID_INIT,		/* PID 1, root's */
	TID_UNUSED,		/* below pid_max, used by no task */
	TID_IMPOSSIBLE,		/* 0, pid_max or above, negative as unsigned */
	NR_TID_KINDS
};

struct env {
	int fd;
	struct vmsr_info info;
	uint32_t *cpu_map;
	bool *cpu_online;
	int offline_cpu;		/* taken offline for the run, or -1 */
	struct vmsr_msr_rule msrs[VMSR_MAX_MSR_RULES];
	unsigned int nr_msrs;
	pid_t tid[NR_TID_KINDS];	/* SELF and SIBLING are set in each worker */
	uint32_t pid_max;
	bool root;			/* the worker may read anyone's tasks */
	bool fresh;			/* SAMPLE takes VMSR_SAMPLE_F_FRESH */
};

static bool cpu_online_now(unsigned int cpu)
{
	char path[96];
	char c = '1';
	FILE *f;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
	f = fopen(path, "r");
	if (!f) {
		/* No hotplug file: online if it exists at all (CPU 0). */
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u", cpu);
		return access(path, F_OK) == 0;
	}
	if (fscanf(f, " %c", &c) != 1)
		c = '0';
	fclose(f);
	return c == '1';
}

static bool package_present(const struct env *env, uint32_t pkg)
{
	uint32_t cpu;

	for (cpu = 0; cpu < env->info.nr_cpus; cpu++)
		if (env->cpu_online[cpu] && env->cpu_map[cpu] == pkg)
			return true;
	return false;
}

static bool whitelisted(const struct env *env, uint32_t msr)
{
	unsigned int i;

	for (i = 0; i < env->nr_msrs; i++)
		if (env->msrs[i].msr == msr)
			return true;
	return false;
}

/* A task entry's result: root reads anyone's tasks, USER_UID only its own uid's. */
static vmsr_errset task_expect(const struct env *env, enum tid_kind kind)
{
	switch (kind) {
	case TID_UNUSED:
	case TID_IMPOSSIBLE:
		return VMSR_ERR(ESRCH);
	case TID_OTHER_PROC:
	case TID_OTHER_ZOMBIE:
	case TID_INIT:
		return VMSR_ERR(env->root ? 0 : EACCES);
	default:
		return VMSR_ERR(0);
	}
}

/* ---- where a buffer lies ---- */

enum place {
	AT_HEAP,		/* an ordinary buffer */
	AT_UNALIGNED,		/* 1 to 7 bytes past an aligned address */
	AT_EDGE,		/* ends exactly where an unmapped page begins */
	AT_READONLY,		/* readable, not writable */
	AT_STRADDLE,		/* runs into an unmapped page */
	AT_NULL,
	AT_KERNEL,		/* a kernel address */
	AT_NONCANONICAL,
	AT_UNMAPPED,		/* a page that is not there */
	NR_PLACES
};

/* One buffer of a call: built in @heap, then put where the call wants it. */
struct slot {
	char *heap;
	char *unaligned;
	char *hole;		/* an unmapped page, with the slot's size mapped before it */
	char *rw, *ro;		/* two views of one memfd */
};

struct placed {
	uint64_t uptr;		/* what the call gets */
	char *data;		/* where the results land, if the kernel can write */
	bool readable, writable;
};

static const uint64_t kernel_addrs[] = {
	0xffffffff81000000ULL, 0xffff888000000000ULL, 0xffffffffff600000ULL,
	0xfffffffffffff000ULL,
};

static const uint64_t noncanonical_addrs[] = {
	0x0000800000000000ULL, 0x8000000000000000ULL, 0x00ff000000000000ULL,
	0x7fffffffffffffffULL,
};

static int slot_init(struct slot *s, size_t bytes)
{
	long page = sysconf(_SC_PAGESIZE);
	char *edge;
	int fd;

	s->heap = aligned_alloc(64, bytes);
	s->unaligned = aligned_alloc(64, bytes + 64);
	edge = mmap(NULL, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	fd = memfd_create("vmsr-fuzz", MFD_CLOEXEC);
	if (!s->heap || !s->unaligned || edge == MAP_FAILED || fd < 0 || ftruncate(fd, bytes))
		return -1;
	s->hole = edge + bytes;
	munmap(s->hole, page);
	s->rw = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	s->ro = mmap(NULL, bytes, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return s->rw == MAP_FAILED || s->ro == MAP_FAILED ? -1 : 0;
}

/* Puts the @len bytes built in s->heap @at, and says what the kernel can do there. */
static struct placed place(uint64_t *rng, struct slot *s, enum place at, size_t len)
{
	uint64_t bad = 0;
	char *dst = NULL;
	size_t over;

	switch (at) {
	case AT_HEAP:
		dst = s->heap;
		break;
	case AT_UNALIGNED:
		dst = s->unaligned + 1 + below(rng, 7);
		break;
	case AT_EDGE:
		dst = s->hole - len;
		break;
	case AT_READONLY:
		memcpy(s->rw, s->heap, len);
		return (struct placed){ .uptr = (uintptr_t)s->ro, .readable = true, .writable = !len };
	case AT_STRADDLE:
		over = len ? 1 + below(rng, len) : 0;	/* bytes in the hole */
		memcpy(s->hole - len + over, s->heap, len - over);
		bad = (uintptr_t)(s->hole - len + over);
		break;
	case AT_NULL:
		break;
	case AT_KERNEL:
		bad = kernel_addrs[below(rng, ARRAY_SIZE(kernel_addrs))];
		break;
	case AT_NONCANONICAL:
		bad = noncanonical_addrs[below(rng, ARRAY_SIZE(noncanonical_addrs))];
		break;
	case AT_UNMAPPED:
		bad = (uintptr_t)s->hole;
		break;
	default:
		abort();
	}
	if (dst) {
		if (dst != s->heap)
			memmove(dst, s->heap, len);
		return (struct placed){ .uptr = (uintptr_t)dst, .data = dst,
					.readable = true, .writable = true };
	}
	/* With nothing to access, no pointer faults. */
	return (struct placed){ .uptr = bad, .readable = !len, .writable = !len };
}

/* Mostly the heap; a quarter of the time unaligned or at the edge of a hole. */
static enum place good_place(uint64_t *rng)
{
	return one_in(rng, 4) ? 1 + below(rng, AT_EDGE) : AT_HEAP;
}

/* Read-only or worse. */
static enum place bad_place(uint64_t *rng)
{
	return AT_READONLY + below(rng, NR_PLACES - AT_READONLY);
}

static enum place unreadable_place(uint64_t *rng)
{
	return AT_STRADDLE + below(rng, NR_PLACES - AT_STRADDLE);
}

/* ---- a call ---- */

enum defect {
	/* early: the module rejects these before it allocates */
	D_CMD = 1 << 0,		/* our number with another size or direction */
	D_HDR = 1 << 1,		/* the header cannot be read */
	D_FIELD = 1 << 2,	/* a flag, pad or reserved field is set */
	D_COUNT = 1 << 3,	/* a count is over its cap, or READ's is 0 */
	/* late */
	D_HDR_RO = 1 << 4,	/* the header cannot be written back */
	D_ARRAY = 1 << 5,	/* an array cannot be read or written */
	D_ENTRY = 1 << 6,	/* an entry has a bad flag, MSR or domain */
};
#define EARLY (D_CMD | D_HDR | D_FIELD | D_COUNT)

enum op { OP_CMD, OP_INFO, OP_READ, OP_SAMPLE, NR_OPS };

/* The defects each call can have; READ never writes its header back, so D_HDR_RO is none. */
static const unsigned int op_defects[NR_OPS] = {
	[OP_INFO] = D_CMD | D_HDR | D_FIELD | D_HDR_RO | D_ARRAY,
	[OP_READ] = D_CMD | D_HDR | D_FIELD | D_COUNT | D_ARRAY | D_ENTRY,
	[OP_SAMPLE] = D_CMD | D_HDR | D_FIELD | D_COUNT | D_HDR_RO | D_ARRAY | D_ENTRY,
};

static const unsigned int our_cmds[] = { VMSR_IOC_INFO, VMSR_IOC_READ, VMSR_IOC_SAMPLE };

struct call {
	enum op op;
	unsigned int cmd;
	unsigned int defects;
	struct placed hdr, arr[2];
	uint32_t n[2];		/* entries in arr[] */
	vmsr_errset errors;	/* what the call may return: success, or one per defect */
	bool allocates;
};

struct stats {
	uint64_t calls, deep, undocumented, outside_table, entries;
	uint64_t ret[65];	/* by err_slot(return) */
	uint64_t result[65];	/* entry results, the same way */
	double seconds;
	char first[4][160];	/* the first undocumented outcomes */
};

struct worker {
	struct env env;
	uint64_t rng;
	struct slot slot[3];	/* the header, the first array, the second */
	vmsr_errset *want;	/* per READ entry or task: the results it may hold */
	bool *zombie;		/* per task: it should come back VMSR_TASK_F_EXITED */
	struct stats *st;
};

static void note(struct worker *w, const char *fmt, ...)
{
	va_list ap;
	unsigned int i;

	w->st->undocumented++;
	for (i = 0; i < ARRAY_SIZE(w->st->first); i++) {
		if (!w->st->first[i][0]) {
			va_start(ap, fmt);
			vsnprintf(w->st->first[i], sizeof(w->st->first[i]), fmt, ap);
			va_end(ap);
			return;
		}
	}
}

/* ---- what each part of a call may be ---- */

static bool ours(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(our_cmds); i++)
		if (cmd == our_cmds[i])
			return true;
	return false;
}

/* Types whose commands the VFS answers before any driver (fs/ioctl.c): not ours to test. */
static bool vfs_type(unsigned int cmd)
{
	switch (_IOC_TYPE(cmd)) {
	case 0x00: case 0x15: case 0x94: case 'T': case 'X': case 'f':
		return true;
	default:
		return false;
	}
}

static unsigned int resized_cmd(uint64_t *rng, unsigned int cmd)
{
	unsigned int size = _IOC_SIZE(cmd), out;

	do {
		if (one_in(rng, 2))
			size = _IOC_SIZE(cmd) + below(rng, 17) - 8;
		else
			size = below(rng, 1 << _IOC_SIZEBITS);
		out = _IOC(below(rng, 4), _IOC_TYPE(cmd), _IOC_NR(cmd), size & _IOC_SIZEMASK);
	} while (out == cmd);
	return out;
}

static unsigned int random_cmd(uint64_t *rng)
{
	unsigned int ours_cmd = our_cmds[below(rng, ARRAY_SIZE(our_cmds))], cmd;

	do {
		switch (below(rng, 4)) {
		case 0:
			cmd = resized_cmd(rng, ours_cmd);
			break;
		case 1:		/* our type, a number we do not have */
			cmd = _IOC(below(rng, 4), VMSR_IOC_MAGIC,
				   ARRAY_SIZE(our_cmds) + below(rng, 256 - ARRAY_SIZE(our_cmds)),
				   below(rng, 1 << _IOC_SIZEBITS));
			break;
		case 2:		/* one bit away from ours */
			cmd = ours_cmd ^ (1U << below(rng, 32));
			break;
		default:
			cmd = rnd(rng);
			break;
		}
	} while (ours(cmd) || vfs_type(cmd));
	return cmd;
}

/* Counts over a cap: the cap + 1, and the like, and ones whose byte size overflows 32 bits. */
static uint32_t over_cap(uint64_t *rng, uint32_t cap, size_t size)
{
	const uint32_t v[] = {
		cap + 1, cap + 2, 2 * cap, 0x7fffffff, 0x80000000, 0xffffffff,
		(uint32_t)(0xffffffffULL / size + 1), cap + 1 + below(rng, 0xffffffff - cap),
	};

	return v[below(rng, ARRAY_SIZE(v))];
}

/* A count within a cap for a deep call: mostly a few entries, rarely the cap itself. */
static uint32_t deep_count(uint64_t *rng, uint32_t cap)
{
	if (one_in(rng, CAP_ONE_IN))
		return cap;
	return 1 + below(rng, cap < 8 ? cap : 8);
}

static uint32_t map_len(uint64_t *rng, uint32_t nr_cpus)
{
	const uint32_t v[] = { 1, nr_cpus > 1 ? nr_cpus - 1 : 1, nr_cpus, nr_cpus + 1,
			       0x7fffffff, 0xffffffff };

	return v[below(rng, ARRAY_SIZE(v))];
}

/* A CPU (or package) id: present ones mostly, else offline, past the end, negative. */
static uint32_t pick_target(struct worker *w, bool by_pkg, bool *present)
{
	const struct env *env = &w->env;
	uint32_t n = by_pkg ? env->info.nr_packages : env->info.nr_cpus, t;

	switch (below(&w->rng, 10)) {
	case 0:
		t = n;
		break;
	case 1:
		t = n + 1 + below(&w->rng, 100000);
		break;
	case 2:
		t = -1 - below(&w->rng, 4);
		break;
	case 3:
		t = 0x80000000U + below(&w->rng, 4);
		break;
	case 4:
		if (!by_pkg && env->offline_cpu >= 0) {
			t = env->offline_cpu;
			break;
		}
		/* fall through */
	default:
		t = below(&w->rng, n);
		break;
	}
	*present = by_pkg ? t < n && package_present(env, t) : t < n && env->cpu_online[t];
	return t;
}

static uint32_t pick_tid(struct worker *w, enum tid_kind *kind)
{
	const uint32_t impossible[] = {
		0, 0xffffffff, 0x80000000, 0x7fffffff, PID_MAX_LIMIT, PID_MAX_LIMIT + 1,
		w->env.pid_max, w->env.pid_max + below(&w->rng, PID_MAX_LIMIT + 1 - w->env.pid_max),
	};

	*kind = below(&w->rng, NR_TID_KINDS);
	if (*kind == TID_IMPOSSIBLE)
		return impossible[below(&w->rng, ARRAY_SIZE(impossible))];
	return w->env.tid[*kind];
}

/* An MSR outside the whitelist: a neighbour of one in it, the other vendor's, anything. */
static uint32_t foreign_msr(struct worker *w)
{
	const uint32_t others[] = { 0x606, 0x611, 0xc0010299, 0xc001029b, 0, 0xffffffff, 0x10 };
	uint32_t msr;

	do {
		if (w->env.nr_msrs && one_in(&w->rng, 2))
			msr = w->env.msrs[below(&w->rng, w->env.nr_msrs)].msr + (one_in(&w->rng, 2) ? 1 : -1);
		else if (one_in(&w->rng, 2))
			msr = others[below(&w->rng, ARRAY_SIZE(others))];
		else
			msr = rnd(&w->rng);
	} while (whitelisted(&w->env, msr));
	return msr;
}

/* ---- building a call ---- */

/* The header: built in slot 0 and placed; it must be readable, and for INFO and SAMPLE writable. */
static void place_header(struct worker *w, struct call *c, size_t len, bool written)
{
	enum place at = good_place(&w->rng);

	if (c->defects & D_HDR)
		at = unreadable_place(&w->rng);
	else if (c->defects & D_HDR_RO)
		at = AT_READONLY;
	c->hdr = place(&w->rng, &w->slot[0], at, len);
	if (written && !c->hdr.writable)
		c->errors |= VMSR_ERR(EFAULT);
}

/* An array of @n entries of @size in slot 1 + @i: read and written back, or only written. */
static void place_array(struct worker *w, struct call *c, int i, size_t size, bool read)
{
	enum place at = c->defects & D_ARRAY ? bad_place(&w->rng) : good_place(&w->rng);

	c->arr[i] = place(&w->rng, &w->slot[1 + i], at, c->n[i] * size);
	if ((read && !c->arr[i].readable) || !c->arr[i].writable)
		c->errors |= VMSR_ERR(EFAULT);
}

static void build_cmd(struct worker *w, struct call *c)
{
	c->cmd = random_cmd(&w->rng);
	c->errors = VMSR_ERR(ENOTTY);
	c->hdr = place(&w->rng, &w->slot[0], below(&w->rng, NR_PLACES), 64);
}

static void build_info(struct worker *w, struct call *c, bool deep)
{
	struct vmsr_info *info = (void *)w->slot[0].heap;
	uint32_t nr_cpus = w->env.info.nr_cpus;

	memset(info, 0x5a, sizeof(*info));	/* out fields: anything */
	memset(info->reserved, 0, sizeof(info->reserved));
	info->cpu_map_len = deep || (c->defects & EARLY) ? map_len(&w->rng, nr_cpus) : 0;
	c->n[0] = info->cpu_map_len < nr_cpus ? info->cpu_map_len : nr_cpus;
	c->allocates = c->n[0];
	place_array(w, c, 0, sizeof(uint32_t), false);
	info->cpu_map = c->arr[0].uptr;
	if (c->defects & D_FIELD) {
		info->reserved[below(&w->rng, 2)] = 1ULL << below(&w->rng, 64);
		c->errors |= VMSR_ERR(EINVAL);
	}
	place_header(w, c, sizeof(*info), true);
}

static void build_read(struct worker *w, struct call *c)
{
	struct vmsr_read *rd = (void *)w->slot[0].heap;
	struct vmsr_read_entry *e = (void *)w->slot[1].heap;
	uint32_t cap = w->env.info.max_read_entries, i;
	bool present;

	*rd = (struct vmsr_read){ 0 };
	if (c->defects & D_COUNT) {
		rd->count = one_in(&w->rng, 3) ? 0 : over_cap(&w->rng, cap, sizeof(*e));
		c->errors |= VMSR_ERR(rd->count ? E2BIG : EINVAL);
	} else {
		rd->count = deep_count(&w->rng, cap);
	}
	if (c->defects & D_FIELD) {
		rd->flags = 1U << below(&w->rng, 32);
		c->errors |= VMSR_ERR(EINVAL);
	}
	c->n[0] = rd->count <= cap ? rd->count : 0;
	for (i = 0; i < c->n[0]; i++) {
		const struct vmsr_msr_rule *m = w->env.nr_msrs ?
					   &w->env.msrs[below(&w->rng, w->env.nr_msrs)] : NULL;

		e[i].flags = one_in(&w->rng, 2) ? VMSR_READ_F_PACKAGE : 0;
		e[i].target = pick_target(w, e[i].flags, &present);
		e[i].result = rnd(&w->rng);
		e[i].value = rnd(&w->rng);
		e[i].msr = m ? m->msr : foreign_msr(w);
		w->want[i] = !m ? 0 : present ? m->expect : VMSR_ERR(ENXIO);
		if (!m)
			c->errors |= VMSR_ERR(EPERM);
	}
	if ((c->defects & D_ENTRY) && c->n[0]) {
		i = below(&w->rng, c->n[0]);
		if (one_in(&w->rng, 2)) {
			e[i].flags |= 1U << (1 + below(&w->rng, 31));
			c->errors |= VMSR_ERR(EINVAL);
		} else {
			e[i].msr = foreign_msr(w);
			c->errors |= VMSR_ERR(EPERM);
		}
	}
	c->allocates = c->n[0];
	place_array(w, c, 0, sizeof(*e), true);
	rd->entries = c->arr[0].uptr;
	place_header(w, c, sizeof(*rd), false);
}

static void build_sample(struct worker *w, struct call *c, bool deep)
{
	struct vmsr_sample *s = (void *)w->slot[0].heap;
	struct vmsr_pkg_sample *p = (void *)w->slot[1].heap;
	struct vmsr_task_sample *t = (void *)w->slot[2].heap;
	const struct vmsr_info *info = &w->env.info;
	enum tid_kind kind;
	bool present;
	uint32_t i;

	memset(s, 0x5a, sizeof(*s));		/* out fields: anything */
	s->flags = one_in(&w->rng, 2) ? VMSR_SAMPLE_F_FRESH : 0;
	s->pad = 0;
	s->nr_pkgs = s->nr_tasks = 0;
	if (deep || (c->defects & EARLY)) {
		/* At least one entry, in either array. */
		s->nr_pkgs = one_in(&w->rng, 3) ? 0 : deep_count(&w->rng, info->max_sample_pkgs);
		s->nr_tasks = s->nr_pkgs && one_in(&w->rng, 3) ? 0 :
			      deep_count(&w->rng, info->max_sample_tasks);
	}
	if (c->defects & D_COUNT) {
		if (one_in(&w->rng, 2))
			s->nr_pkgs = over_cap(&w->rng, info->max_sample_pkgs, sizeof(*p));
		else
			s->nr_tasks = over_cap(&w->rng, info->max_sample_tasks, sizeof(*t));
		c->errors |= VMSR_ERR(E2BIG);
	}
	if (c->defects & D_FIELD) {
		/* A flag bit other than the one there is, or a pad bit. */
		if (one_in(&w->rng, 2))
			s->flags |= VMSR_SAMPLE_F_FRESH << (1 + below(&w->rng, 31));
		else
			s->pad = 1U << below(&w->rng, 32);
		c->errors |= VMSR_ERR(EINVAL);
	} else if ((s->flags & VMSR_SAMPLE_F_FRESH) && !w->env.fresh) {
		c->errors |= VMSR_ERR(EOPNOTSUPP);
	}
	c->n[0] = s->nr_pkgs <= info->max_sample_pkgs ? s->nr_pkgs : 0;
	c->n[1] = s->nr_tasks <= info->max_sample_tasks ? s->nr_tasks : 0;
	for (i = 0; i < c->n[0]; i++) {
		memset(&p[i], 0x5a, sizeof(p[i]));
		p[i].package = pick_target(w, true, &present);
		p[i].domains = below(&w->rng, VMSR_DOMAIN_BIT(VMSR_DOMAIN_PSYS + 1));
	}
	if ((c->defects & D_ENTRY) && c->n[0]) {
		p[below(&w->rng, c->n[0])].domains |= 1U << (VMSR_DOMAIN_PSYS + 1 +
				below(&w->rng, 31 - VMSR_DOMAIN_PSYS));
		c->errors |= VMSR_ERR(EINVAL);
	}
	for (i = 0; i < c->n[1]; i++) {
		memset(&t[i], 0x5a, sizeof(t[i]));
		t[i].tid = pick_tid(w, &kind);
		w->want[i] = task_expect(&w->env, kind);
		w->zombie[i] = kind == TID_USER_ZOMBIE || kind == TID_OTHER_ZOMBIE;
	}
	c->allocates = c->n[0];		/* the tasks pass through in chunks on the stack */
	place_array(w, c, 0, sizeof(*p), true);
	place_array(w, c, 1, sizeof(*t), true);
	s->pkgs = c->arr[0].uptr;
	s->tasks = c->arr[1].uptr;
	place_header(w, c, sizeof(*s), true);
}

/* One of the defects in @mask. */
static unsigned int pick_defect(uint64_t *rng, unsigned int mask)
{
	unsigned int bit;

	do
		bit = 1U << below(rng, 32);
	while (!(mask & bit));
	return bit;
}

/*
 * A shallow call has one early defect, sometimes a second of any kind, or no
 * defect and no arrays; READ has no call without arrays. A deep call has no
 * early defect, and half the time one late one.
 */
static void build(struct worker *w, struct call *c)
{
	bool deep = one_in(&w->rng, DEEP_ONE_IN);
	unsigned int can;

	*c = (struct call){ .op = below(&w->rng, NR_OPS) };
	if (c->op == OP_CMD) {
		build_cmd(w, c);
		return;
	}
	can = op_defects[c->op];
	if (deep) {
		if (one_in(&w->rng, 2))
			c->defects = pick_defect(&w->rng, can & ~EARLY);
	} else if (c->op == OP_READ || !one_in(&w->rng, 8)) {
		c->defects = pick_defect(&w->rng, can & EARLY);
		if (one_in(&w->rng, 8))
			c->defects |= pick_defect(&w->rng, can);
	}

	switch (c->op) {
	case OP_INFO:
		build_info(w, c, deep);
		break;
	case OP_READ:
		build_read(w, c);
		break;
	case OP_SAMPLE:
		build_sample(w, c, deep);
		break;
	default:
		abort();
	}
	c->cmd = our_cmds[c->op - OP_INFO];
	if (c->defects & D_CMD) {
		/* A command of another size says nothing about the header. */
		c->cmd = resized_cmd(&w->rng, c->cmd);
		c->errors = VMSR_ERR(ENOTTY);
	} else if (!c->hdr.readable) {
		c->errors = VMSR_ERR(EFAULT);
	} else {
		if (!c->errors)
			c->errors = VMSR_ERR(0);
		if (c->allocates && !(c->defects & EARLY))
			c->errors |= VMSR_ERR(ENOMEM);
	}
	w->st->deep += deep;
}

/* ---- checking what came back ---- */

/* Where a return or result is counted: its bit in an errset, or 64 if none. */
static unsigned int err_slot(int ret)
{
	return vmsr_errset_has(~0ULL, ret) ? VMSR_ERR_BIT(-ret) : 64;
}

static void count_result(struct worker *w, int32_t result)
{
	w->st->entries++;
	w->st->result[err_slot(result)]++;
	if (!vmsr_errset_has(VMSR_ENTRY_ERRORS, result))
		w->st->outside_table++;
}

static void check_read(struct worker *w, const struct call *c)
{
	const struct vmsr_read_entry *e = (const void *)c->arr[0].data;
	uint32_t i;

	for (i = 0; i < c->n[0]; i++) {
		count_result(w, e[i].result);
		if (!vmsr_errset_has(w->want[i], e[i].result) || (e[i].result && e[i].value))
			note(w, "READ msr %#x target %u flags %#x: result %d value %#llx",
			     e[i].msr, e[i].target, e[i].flags, e[i].result,
			     (unsigned long long)e[i].value);
	}
}

static void check_sample(struct worker *w, const struct call *c)
{
	const struct vmsr_pkg_sample *p = (const void *)c->arr[0].data;
	const struct vmsr_task_sample *t = (const void *)c->arr[1].data;
	uint32_t i;
	int d;

	for (i = 0; i < c->n[0]; i++) {
		bool present = package_present(&w->env, p[i].package);

		for (d = 0; d < VMSR_NR_DOMAINS; d++) {
			vmsr_errset want = !(p[i].domains & VMSR_DOMAIN_BIT(d)) ? VMSR_ERR(0) :
					   !present ? VMSR_ERR(ENXIO) :
					   vmsr_domain_expect(&w->env.info, d);

			count_result(w, p[i].result[d]);
			if (!vmsr_errset_has(want, p[i].result[d]))
				note(w, "SAMPLE package %u domains %#x: result[%d] %d",
				     p[i].package, p[i].domains, d, p[i].result[d]);
		}
	}
	for (i = 0; i < c->n[1]; i++) {
		count_result(w, t[i].result);
		if (!vmsr_errset_has(w->want[i], t[i].result) ||
		    (!t[i].result && t[i].flags != (w->zombie[i] ? VMSR_TASK_F_EXITED : 0)))
			note(w, "SAMPLE tid %u (%s): result %d flags %#x", t[i].tid,
			     w->env.root ? "root" : "user", t[i].result, t[i].flags);
	}
}

/* The errors in @set by name, for the log. */
static const char *names(vmsr_errset set, char *buf, size_t len)
{
	static const struct { int err; const char *name; } known[] = {
		{ 0, "0" }, { ENOTTY, "ENOTTY" }, { EINVAL, "EINVAL" }, { E2BIG, "E2BIG" },
		{ EFAULT, "EFAULT" }, { EPERM, "EPERM" }, { ENOMEM, "ENOMEM" },
		{ EOPNOTSUPP, "EOPNOTSUPP" },
	};
	unsigned int i;

	buf[0] = 0;
	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (set & VMSR_ERR(known[i].err))
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 buf[0] ? "|" : "", known[i].name);
	return buf;
}

static void check(struct worker *w, const struct call *c, int ret)
{
	static const char *const op_name[NR_OPS] = { "random command", "INFO", "READ", "SAMPLE" };
	char allowed[64];

	w->st->calls++;
	w->st->ret[err_slot(ret)]++;
	if (!vmsr_errset_has(VMSR_CALL_ERRORS, ret))
		w->st->outside_table++;
	if (!vmsr_errset_has(c->errors, ret)) {
		note(w, "%s, cmd %#x, defects %#x: returned %d, allowed %s", op_name[c->op],
		     c->cmd, c->defects, ret, names(c->errors, allowed, sizeof(allowed)));
		return;
	}
	if (ret)
		return;
	if (c->op == OP_READ)
		check_read(w, c);
	else if (c->op == OP_SAMPLE)
		check_sample(w, c);
}

/* ---- the workers ---- */

static void *sibling(void *arg)
{
	*(volatile pid_t *)arg = vmsr_gettid();
	for (;;)
		pause();
	return NULL;
}

static int worker_init(struct worker *w)
{
	const struct vmsr_info *i = &w->env.info;
	size_t max = i->max_read_entries * sizeof(struct vmsr_read_entry);
	long page = sysconf(_SC_PAGESIZE);
	volatile pid_t sib = 0;
	pthread_t th;
	int s;

	if (max < i->max_sample_pkgs * sizeof(struct vmsr_pkg_sample))
		max = i->max_sample_pkgs * sizeof(struct vmsr_pkg_sample);
	if (max < i->max_sample_tasks * sizeof(struct vmsr_task_sample))
		max = i->max_sample_tasks * sizeof(struct vmsr_task_sample);
	max = (max + page - 1) / page * page;
	for (s = 0; s < 3; s++)
		if (slot_init(&w->slot[s], max))
			return -1;
	w->want = calloc(max, sizeof(*w->want));
	w->zombie = calloc(max, sizeof(*w->zombie));
	if (!w->want || !w->zombie || pthread_create(&th, NULL, sibling, (void *)&sib))
		return -1;
	while (!sib)
		sched_yield();
	w->env.tid[TID_SELF] = vmsr_gettid();
	w->env.tid[TID_SIBLING] = sib;
	return 0;
}

static void worker(const struct env *env, int id, uint64_t seed, uint64_t calls,
		   struct stats *st)
{
	const gid_t kvm[] = { KVM_GID };
	struct worker *w = calloc(1, sizeof(*w));
	uint64_t start, i;
	struct call c;

	if (!w)
		_exit(1);
	w->env = *env;
	w->env.root = id == 0;
	w->rng = seed ^ (0x9e3779b97f4a7c15ULL * (id + 1));
	w->st = st;
	if (!w->env.root && (setgroups(1, kvm) || setgid(USER_UID) || setuid(USER_UID)))
		_exit(2);
	if (worker_init(w))
		_exit(3);
	start = vmsr_now_ns();
	for (i = 0; i < calls; i++) {
		build(w, &c);
		check(w, &c, vmsr_ioctl(env->fd, c.cmd, (void *)(uintptr_t)c.hdr.uptr));
	}
	st->seconds = (vmsr_now_ns() - start) / 1e9;
	_exit(0);
}

/* ---- the other processes the calls name ---- */

static uint32_t read_pid_max(void)
{
	FILE *f = fopen("/proc/sys/kernel/pid_max", "r");
	unsigned int v = 32768;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 32768;
		fclose(f);
	}
	return v;
}

/*
 * A TID that names no task, below @newest: new tasks get the TIDs above the
 * newest one, so the run's own few forks cannot take it.
 */
static pid_t unused_tid(pid_t newest)
{
	pid_t t;

	for (t = newest - 1; t > 1; t--)
		if (kill(t, 0) && errno == ESRCH)
			return t;
	return 0;
}

FIXTURE(fuzz) {
	struct env env;
	pid_t helpers[4];
	const char *skip;
};

FIXTURE_SETUP(fuzz)
{
	/* The other processes the calls name, each held in a helpers[] slot. */
	static const struct {
		int slot;
		uid_t uid;
		bool zombie;
	} others[4] = {
		{ TID_USER_PROC, USER_UID, false },
		{ TID_OTHER_PROC, OTHER_UID, false },
		{ TID_USER_ZOMBIE, USER_UID, true },
		{ TID_OTHER_ZOMBIE, OTHER_UID, true },
	};
	struct env *env = &self->env;
	struct vmsr_sample probe = { .flags = VMSR_SAMPLE_F_FRESH };
	struct vmsr_info info;
	uint32_t cpu;
	int cpu_i, fresh;

	memset(self->helpers, 0, sizeof(self->helpers));
	env->offline_cpu = -1;
	if (geteuid() != 0) {
		env->fd = -1;
		self->skip = "must start as root, to switch uids and take a CPU offline";
		return;
	}
	self->skip = vmsr_fixture_open(&env->fd, &env->info);
	if (self->skip)
		return;
	env->cpu_map = calloc(env->info.nr_cpus, sizeof(*env->cpu_map));
	env->cpu_online = calloc(env->info.nr_cpus, sizeof(*env->cpu_online));
	ASSERT_NE(NULL, env->cpu_map);
	ASSERT_NE(NULL, env->cpu_online);
	info = (struct vmsr_info){ .cpu_map_len = env->info.nr_cpus,
				   .cpu_map = (uintptr_t)env->cpu_map };
	ASSERT_EQ(0, vmsr_ioctl(env->fd, VMSR_IOC_INFO, &info));
	for (cpu = 0; cpu < env->info.nr_cpus; cpu++)
		env->cpu_online[cpu] = cpu_online_now(cpu);
	for (cpu_i = env->info.nr_cpus - 1; cpu_i > 0; cpu_i--) {
		if (env->cpu_online[cpu_i] && !vmsr_set_cpu_online(cpu_i, 0)) {
			env->offline_cpu = cpu_i;
			env->cpu_online[cpu_i] = false;
			break;
		}
	}
	env->nr_msrs = vmsr_msr_rules(&env->info, env->msrs);
	/* Kernels with IRQ or steal time accounting refuse it: see the uapi header. */
	fresh = vmsr_ioctl(env->fd, VMSR_IOC_SAMPLE, &probe);
	ASSERT_TRUE(fresh == 0 || fresh == -EOPNOTSUPP);
	env->fresh = fresh == 0;

	for (cpu_i = 0; cpu_i < 4; cpu_i++) {
		uid_t uid = others[cpu_i].uid;

		self->helpers[cpu_i] = vmsr_spawn_as(uid, uid, uid, others[cpu_i].zombie);
		ASSERT_GT(self->helpers[cpu_i], 0);
		env->tid[others[cpu_i].slot] = self->helpers[cpu_i];
	}
	env->tid[TID_INIT] = 1;
	env->pid_max = read_pid_max();
	env->tid[TID_UNUSED] = unused_tid(self->helpers[3]);
	ASSERT_GT(env->tid[TID_UNUSED], 1);
}

FIXTURE_TEARDOWN(fuzz)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (self->helpers[i] > 0) {
			kill(self->helpers[i], SIGKILL);
			waitpid(self->helpers[i], NULL, 0);
		}
	}
	if (self->env.offline_cpu >= 0)
		vmsr_set_cpu_online(self->env.offline_cpu, 1);
	if (self->env.fd >= 0)
		close(self->env.fd);
	free(self->env.cpu_map);
	free(self->env.cpu_online);
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v ? strtoull(v, NULL, 0) : def;
}

static void report(struct __test_metadata *_metadata, const char *who, const struct stats *st)
{
	TH_LOG("REPORT fuzz as %s: %llu calls (%llu deep) in %.1f s; returned 0: %llu, ENOTTY: %llu, EINVAL: %llu, E2BIG: %llu, EFAULT: %llu, EPERM: %llu, ENOMEM: %llu, EOPNOTSUPP: %llu, other: %llu",
	       who, (unsigned long long)st->calls, (unsigned long long)st->deep, st->seconds,
	       (unsigned long long)st->ret[0], (unsigned long long)st->ret[ENOTTY],
	       (unsigned long long)st->ret[EINVAL], (unsigned long long)st->ret[E2BIG],
	       (unsigned long long)st->ret[EFAULT], (unsigned long long)st->ret[EPERM],
	       (unsigned long long)st->ret[ENOMEM],
	       (unsigned long long)st->ret[VMSR_ERR_BIT(EOPNOTSUPP)], (unsigned long long)st->ret[64]);
	TH_LOG("REPORT fuzz as %s: %llu entry results: 0: %llu, ENXIO: %llu, EIO: %llu, ENODEV: %llu, ESRCH: %llu, EACCES: %llu, other: %llu",
	       who, (unsigned long long)st->entries, (unsigned long long)st->result[0],
	       (unsigned long long)st->result[ENXIO], (unsigned long long)st->result[EIO],
	       (unsigned long long)st->result[ENODEV], (unsigned long long)st->result[ESRCH],
	       (unsigned long long)st->result[EACCES], (unsigned long long)st->result[64]);
}

TEST_F_TIMEOUT(fuzz, every_call_gets_what_its_input_warrants, 1200)
{
	static const char *const who[NR_WORKERS] = { "root", "kvm member" };
	uint64_t calls = env_u64("VMSR_FUZZ_CALLS", DEFAULT_CALLS);
	uint64_t seed = env_u64("VMSR_FUZZ_SEED", DEFAULT_SEED);
	uint64_t total = 0, undocumented = 0, outside = 0;
	struct stats *st;
	pid_t pid[NR_WORKERS];
	int i, j, status;

	NEED_FIXTURE();

	st = mmap(NULL, NR_WORKERS * sizeof(*st), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, st);
	memset(st, 0, NR_WORKERS * sizeof(*st));
	TH_LOG("REPORT fuzz: seed %#llx, %llu calls, CPU %d offline, unused TID %d",
	       (unsigned long long)seed, (unsigned long long)calls, self->env.offline_cpu,
	       self->env.tid[TID_UNUSED]);
	for (i = 0; i < NR_WORKERS; i++) {
		pid[i] = fork();
		ASSERT_GE(pid[i], 0);
		if (pid[i] == 0)
			worker(&self->env, i, seed, calls / NR_WORKERS + (i < calls % NR_WORKERS),
			       &st[i]);
	}
	for (i = 0; i < NR_WORKERS; i++) {
		ASSERT_EQ(pid[i], waitpid(pid[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			TH_LOG("worker %s ended with status %#x", who[i], status);
		}
		report(_metadata, who[i], &st[i]);
		for (j = 0; j < (int)ARRAY_SIZE(st[i].first) && st[i].first[j][0]; j++)
			TH_LOG("undocumented, as %s: %s", who[i], st[i].first[j]);
		total += st[i].calls;
		undocumented += st[i].undocumented;
		outside += st[i].outside_table;
	}
	TH_LOG("SUMMARY fuzz: calls=%llu undocumented=%llu splats=?",
	       (unsigned long long)total, (unsigned long long)undocumented);
	EXPECT_EQ(calls, total);
	EXPECT_EQ(0, undocumented);
	EXPECT_EQ(0, outside);
	munmap(st, NR_WORKERS * sizeof(*st));
}

TEST_HARNESS_MAIN
