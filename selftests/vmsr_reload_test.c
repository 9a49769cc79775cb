// SPDX-License-Identifier: GPL-2.0-only
/*
 * vmsr_reload_test: the module's life cycle. rmmod is refused while an fd is
 * open, and the fd keeps working; RELOAD_CYCLES loads and unloads with
 * threads opening the device and calling it throughout; many threads opening
 * and closing at once.
 *
 * Needs root, the module file in VMSR_KO, and the module not loaded; leaves
 * it unloaded. The host counts splats in the kernel log of the whole run.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "vmsr_util.h"
#include "kselftest_harness.h"

#define RELOAD_CYCLES 100
#define NR_OPENERS 2
#define NR_THREADS 16
#define OPENS_PER_THREAD 100
/* Refusals in a row before the openers are paused so that an unload can win. */
#define REFUSALS_BEFORE_PAUSE 50
#define ABSENT_WAIT_US 500
#define USED_WAIT_US 200

/* Loads @ko with the module parameters @params ("" for none). */
static int load_with(const char *ko, const char *params)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params, 0) ? -errno : 0;
	close(fd);
	return ret;
}

static int load(const char *ko)
{
	return load_with(ko, "");
}

/* 0, or -errno: -EWOULDBLOCK or -EBUSY while the module is in use. */
static int unload(void)
{
	return syscall(SYS_delete_module, "vmsr", O_NONBLOCK) ? -errno : 0;
}

static bool refused(int ret)
{
	return ret == -EWOULDBLOCK || ret == -EBUSY;
}

/* An fd that works: INFO and a SAMPLE of the caller's own thread succeed. */
static int use(int fd)
{
	struct vmsr_task_sample t = { .tid = vmsr_gettid() };
	struct vmsr_sample s = { .nr_tasks = 1, .tasks = (uintptr_t)&t };
	struct vmsr_info info = {};
	int ret = vmsr_ioctl(fd, VMSR_IOC_INFO, &info);

	if (!ret)
		ret = vmsr_ioctl(fd, VMSR_IOC_SAMPLE, &s);
	return ret ? ret : t.result;
}

FIXTURE(module) {
	const char *ko;
	const char *skip;
};

FIXTURE_SETUP(module)
{
	self->ko = getenv("VMSR_KO");
	if (!self->ko)
		self->skip = "VMSR_KO names no module file";
	else if (geteuid() != 0)
		self->skip = "must run as root to load modules";
	else if (access("/sys/module/vmsr", F_OK) == 0)
		self->skip = "vmsr is loaded already";
}

FIXTURE_TEARDOWN(module)
{
	if (!self->skip)
		unload();
}

/*
 * min_interval_us is 1 ms to 10 s (vmsr(4)): below the counters' own update
 * interval a reader learns when each update happens, and 0 would turn the
 * rate limit off.
 */
TEST_F(module, min_interval_us_outside_1ms_to_10s_is_refused)
{
	NEED_FIXTURE();

	EXPECT_EQ(-EINVAL, load_with(self->ko, "min_interval_us=0"));
	EXPECT_EQ(-EINVAL, load_with(self->ko, "min_interval_us=999"));
	EXPECT_EQ(-EINVAL, load_with(self->ko, "min_interval_us=10000001"));
	unload();
	ASSERT_EQ(0, load_with(self->ko, "min_interval_us=1000"));
	EXPECT_EQ(1000, vmsr_param("min_interval_us"));
	ASSERT_EQ(0, unload());
	ASSERT_EQ(0, load_with(self->ko, "min_interval_us=10000000"));
	EXPECT_EQ(10000000, vmsr_param("min_interval_us"));
	ASSERT_EQ(0, unload());
}

TEST_F(module, rmmod_is_refused_while_an_fd_is_open_and_the_fd_keeps_working)
{
	struct stat st;
	int fd;

	NEED_FIXTURE();

	ASSERT_EQ(0, load(self->ko));
	fd = open(VMSR_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_GE(fd, 0);
	EXPECT_TRUE(refused(unload()));
	EXPECT_EQ(0, use(fd));
	EXPECT_TRUE(refused(unload()));
	close(fd);
	EXPECT_EQ(0, unload());
	EXPECT_NE(0, stat(VMSR_DEV, &st));
	EXPECT_EQ(ENOENT, errno);
}

struct openers {
	volatile int stop, paused;
	uint64_t used, absent, bad;
	int bad_errno;
};

/*
 * Opens and uses the device over and over. While the module is away, open
 * fails: the node is gone (-ENOENT) or its driver is (-ENODEV, -ENXIO). An
 * fd that opens holds the module: INFO and SAMPLE on it must work. The
 * openers pause between tries, so that they neither starve the loader nor
 * hold the module all the time.
 */
static void *opener(void *p)
{
	struct openers *o = p;
	uint64_t used = 0, absent = 0, bad = 0;
	int fd, ret;

	while (!o->stop) {
		if (o->paused) {
			sched_yield();
			continue;
		}
		fd = open(VMSR_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			ret = -errno;
			if (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO) {
				absent++;
				usleep(ABSENT_WAIT_US);
				continue;
			}
		} else {
			ret = use(fd);
			close(fd);
			if (!ret) {
				used++;
				usleep(USED_WAIT_US);
				continue;
			}
		}
		bad++;
		o->bad_errno = ret;
	}
	__atomic_add_fetch(&o->used, used, __ATOMIC_RELAXED);
	__atomic_add_fetch(&o->absent, absent, __ATOMIC_RELAXED);
	__atomic_add_fetch(&o->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

TEST_F_TIMEOUT(module, load_and_unload_while_threads_open_the_device, 900)
{
	struct openers o = {};
	pthread_t th[NR_OPENERS];
	uint64_t start, t, load_ns = 0, unload_ns = 0, refusals = 0, paused = 0;
	int cycle, i, ret, in_a_row;
	struct stat st;

	NEED_FIXTURE();

	start = vmsr_now_ns();
	for (i = 0; i < NR_OPENERS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, opener, &o));
	for (cycle = 0; cycle < RELOAD_CYCLES; cycle++) {
		t = vmsr_now_ns();
		ret = load(self->ko);
		load_ns += vmsr_now_ns() - t;
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: load: %s", cycle, strerror(-ret));
		}
		in_a_row = 0;
		t = vmsr_now_ns();
		while (refused(ret = unload())) {
			refusals++;
			if (++in_a_row == REFUSALS_BEFORE_PAUSE) {
				o.paused = 1;
				paused++;
			}
			usleep(100);
		}
		unload_ns += vmsr_now_ns() - t;
		o.paused = 0;
		ASSERT_EQ(0, ret) {
			TH_LOG("cycle %d: unload: %s", cycle, strerror(-ret));
		}
		/* Once unloaded, the node is gone: nothing can open the device. */
		EXPECT_NE(0, stat(VMSR_DEV, &st));
	}
	o.stop = 1;
	for (i = 0; i < NR_OPENERS; i++)
		pthread_join(th[i], NULL);

	TH_LOG("REPORT reload: %d cycles in %.1f s (loads %.1f s, unloads %.1f s); unload refused %llu times, %llu cycles paused the openers; opens: %llu used the device, %llu found it absent, %llu failed otherwise (last %d)",
	       cycle, (vmsr_now_ns() - start) / 1e9, load_ns / 1e9, unload_ns / 1e9,
	       (unsigned long long)refusals,
	       (unsigned long long)paused, (unsigned long long)o.used,
	       (unsigned long long)o.absent, (unsigned long long)o.bad, o.bad_errno);
	TH_LOG("SUMMARY reload: cycles=%d splats=?", cycle);
	EXPECT_EQ(0, o.bad);
}

struct many {
	volatile int go;
	int failures;
};

static void *open_info_close(void *p)
{
	struct vmsr_info info;
	struct many *m = p;
	int i, fd;

	while (!m->go)
		sched_yield();
	for (i = 0; i < OPENS_PER_THREAD; i++) {
		info = (struct vmsr_info){};
		fd = open(VMSR_DEV, O_RDWR | O_CLOEXEC);
		if (fd < 0 || vmsr_ioctl(fd, VMSR_IOC_INFO, &info))
			__atomic_add_fetch(&m->failures, 1, __ATOMIC_RELAXED);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

TEST_F_TIMEOUT(module, many_threads_open_and_close_at_once, 300)
{
	struct many m = {};
	pthread_t th[NR_THREADS];
	int i;

	NEED_FIXTURE();

	ASSERT_EQ(0, load(self->ko));
	for (i = 0; i < NR_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, open_info_close, &m));
	m.go = 1;
	for (i = 0; i < NR_THREADS; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, m.failures);
	EXPECT_EQ(0, unload());
}

TEST_HARNESS_MAIN
