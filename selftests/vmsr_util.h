/* SPDX-License-Identifier: GPL-2.0-only */
/* Small helpers shared by the vmsr selftests. */
#ifndef VMSR_UTIL_H
#define VMSR_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/vmsr.h>

#include "workload.h"

#define VMSR_DEV "/dev/vmsr"
#define MSR_PKG_ENERGY_INTEL 0x611
#define MSR_PKG_ENERGY_AMD 0xc001029b
#define MSR_UNIT_INTEL 0x606
#define MSR_UNIT_AMD 0xc0010299

static inline pid_t vmsr_gettid(void)
{
	return syscall(SYS_gettid);
}

/* The clock and the busy loop are userspace/common/workload.h's, shared. */
static inline uint64_t vmsr_now_ns(void)
{
	return workload_now_ns(CLOCK_MONOTONIC);
}

/*
 * vmsr(4)'s ERRORS as sets: bit e set means -e may come back, bit 0
 * means success. An ioctl itself returns 0 or one of VMSR_CALL_ERRORS; an
 * entry's result holds 0 or one of VMSR_ENTRY_ERRORS. EOPNOTSUPP (95), the
 * one errno of the table above 62, takes bit 63 (ENOSR, which vmsr never
 * returns).
 */
typedef uint64_t vmsr_errset;
#define VMSR_ERR_BIT(e)	((e) == EOPNOTSUPP ? 63 : (e))
#define VMSR_ERR(e)	(1ULL << VMSR_ERR_BIT(e))
#define VMSR_CALL_ERRORS (VMSR_ERR(0) | VMSR_ERR(ENOTTY) | VMSR_ERR(EINVAL) | VMSR_ERR(E2BIG) | \
			  VMSR_ERR(EFAULT) | VMSR_ERR(EPERM) | VMSR_ERR(ENOMEM) | \
			  VMSR_ERR(EOPNOTSUPP))
#define VMSR_ENTRY_ERRORS (VMSR_ERR(0) | VMSR_ERR(ENXIO) | VMSR_ERR(EIO) | VMSR_ERR(ENODEV) | \
			   VMSR_ERR(ESRCH) | VMSR_ERR(EACCES))

/* Whether @ret, 0 or -errno, is in @set. */
static inline int vmsr_errset_has(vmsr_errset set, int ret)
{
	return ret <= 0 && (ret > -63 || ret == -EOPNOTSUPP) && (set & VMSR_ERR(-ret));
}

/* What an entry for a domain INFO reports present may hold, and for one it does not. */
static inline vmsr_errset vmsr_domain_expect(const struct vmsr_info *info, int domain)
{
	return info->domains & VMSR_DOMAIN_BIT(domain) ?
	       VMSR_ERR(0) | VMSR_ERR(EIO) : VMSR_ERR(ENODEV);
}

/* A whitelisted MSR, and the results a read of it on an online CPU may get. */
struct vmsr_msr_rule {
	uint32_t msr;
	vmsr_errset expect;
};

#define VMSR_MAX_MSR_RULES 8

/* vmsr(4)'s whitelist for @info's vendor, into @r; returns how many. */
static inline unsigned int vmsr_msr_rules(const struct vmsr_info *info, struct vmsr_msr_rule *r)
{
	const vmsr_errset plain = VMSR_ERR(0) | VMSR_ERR(EIO);
	struct vmsr_msr_rule *start = r;

	if (info->vendor == VMSR_VENDOR_INTEL) {
		*r++ = (struct vmsr_msr_rule){ 0x606, plain };
		*r++ = (struct vmsr_msr_rule){ 0x610, plain };
		*r++ = (struct vmsr_msr_rule){ 0x611, vmsr_domain_expect(info, VMSR_DOMAIN_PKG) };
		*r++ = (struct vmsr_msr_rule){ 0x614, plain };
		*r++ = (struct vmsr_msr_rule){ 0x619, vmsr_domain_expect(info, VMSR_DOMAIN_DRAM) };
		*r++ = (struct vmsr_msr_rule){ 0x639, vmsr_domain_expect(info, VMSR_DOMAIN_CORE) };
		*r++ = (struct vmsr_msr_rule){ 0x641, vmsr_domain_expect(info, VMSR_DOMAIN_UNCORE) };
		*r++ = (struct vmsr_msr_rule){ 0x64d, vmsr_domain_expect(info, VMSR_DOMAIN_PSYS) };
	} else if (info->vendor != VMSR_VENDOR_UNKNOWN) {
		*r++ = (struct vmsr_msr_rule){ 0xc0010299, plain };
		/* The per-core counter: INFO does not say whether it is there. */
		*r++ = (struct vmsr_msr_rule){ 0xc001029a, plain | VMSR_ERR(ENODEV) };
		*r++ = (struct vmsr_msr_rule){ 0xc001029b, vmsr_domain_expect(info, VMSR_DOMAIN_PKG) };
	}
	return r - start;
}

/* ioctl() that returns -errno instead of -1. */
static inline int vmsr_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

static inline uint32_t vmsr_pkg_energy_msr(const struct vmsr_info *info)
{
	return info->vendor == VMSR_VENDOR_INTEL ? MSR_PKG_ENERGY_INTEL : MSR_PKG_ENERGY_AMD;
}

static inline uint32_t vmsr_unit_msr(const struct vmsr_info *info)
{
	return info->vendor == VMSR_VENDOR_INTEL ? MSR_UNIT_INTEL : MSR_UNIT_AMD;
}

/*
 * Two pages, the second unmapped: returns a pointer @size bytes before the
 * hole, so a buffer of @size fits exactly and one byte more faults.
 */
static inline void *vmsr_buf_before_hole(size_t size)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + page, page);
	return p + page - size;
}

/* A page that is mapped but not there any more: every access faults. */
static inline void *vmsr_unmapped(void)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p != MAP_FAILED)
		munmap(p, page);
	return p;
}

/*
 * Older harnesses (6.1) run the test body even after a SKIP in the setup,
 * so fixtures record why in self->skip and each test starts with
 * NEED_FIXTURE(), which SKIPs it then.
 */
#define NEED_FIXTURE() do { if (self->skip) SKIP(return, "%s", self->skip); } while (0)

/* Opens the device and fetches INFO for a fixture. Returns why to SKIP, or NULL. */
static inline const char *vmsr_fixture_open(int *fd, struct vmsr_info *info)
{
	memset(info, 0, sizeof(*info));
	*fd = open(VMSR_DEV, O_RDWR | O_CLOEXEC);
	if (*fd < 0)
		return "cannot open " VMSR_DEV " (is vmsr.ko loaded?)";
	if (vmsr_ioctl(*fd, VMSR_IOC_INFO, info))
		return "INFO failed";
	return NULL;
}

/* A parameter of the loaded vmsr module, -1 if there is none. */
static inline long vmsr_param(const char *name)
{
	char path[128];
	long val = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/module/vmsr/parameters/%s", name);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &val) != 1)
		val = -1;
	fclose(f);
	return val;
}

/*
 * The MSR whose reads fault in this VM, -1 if none: QEMU's -cpu
 * x-rapl-fault-msr, which boot.sh also passes on the kernel command line,
 * from where the kernel hands it to /init and its children as
 * VMSR_RAPL_FAULT_MSR.
 */
static inline long vmsr_testbed_fault_msr(void)
{
	const char *s = getenv("VMSR_RAPL_FAULT_MSR");
	char *end;
	long msr;

	if (!s || !*s)
		return -1;
	msr = strtol(s, &end, 0);
	return *end || msr <= 0 ? -1 : msr;
}

/* Takes @cpu offline (0) or brings it back (1); -errno if that is not possible. */
static inline int vmsr_set_cpu_online(unsigned int cpu, int online)
{
	char path[96];
	int fd, ret = 0;

	snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%u/online", cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, online ? "1\n" : "0\n", 2) != 2)
		ret = -errno;
	close(fd);
	return ret;
}

/* Burns CPU in the calling thread for about @ns of its own CPU time. */
static inline void vmsr_burn(uint64_t ns)
{
	workload_burn_cpu(ns);
}

/* What vmsr_spawn() makes of its child, besides its ids. */
#define VMSR_SPAWN_ZOMBIE	(1u << 0)	/* exits and is left unreaped */
#define VMSR_SPAWN_NONDUMPABLE	(1u << 1)	/* prctl(PR_SET_DUMPABLE, 0) */
#define VMSR_SPAWN_USERNS	(1u << 2)	/* enters a user namespace of its own */

/*
 * A child with real, effective and saved uids @uid[0..2] and gids
 * @gid[0..2] (a set-id program leaves them unequal), changed as @how says,
 * ready when this returns: it waits to be killed, or has exited if
 * VMSR_SPAWN_ZOMBIE. The caller kills and reaps it. -1 if it could not be set
 * up (with VMSR_SPAWN_USERNS: if unprivileged user namespaces are off).
 */
static inline pid_t vmsr_spawn(const uid_t uid[3], const gid_t gid[3], unsigned int how)
{
	siginfo_t si = { 0 };
	int ready[2], failed;
	pid_t pid;
	char c;

	if (pipe(ready))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (setresgid(gid[0], gid[1], gid[2]) || setresuid(uid[0], uid[1], uid[2]))
			_exit(100);
		/*
		 * After the id changes, which reset both. Dropping root's ids
		 * makes a process non-dumpable, as a program the user started
		 * with execve() is not: make it dumpable again unless asked.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (prctl(PR_SET_DUMPABLE, !(how & VMSR_SPAWN_NONDUMPABLE)))
			_exit(102);
		if ((how & VMSR_SPAWN_USERNS) && unshare(CLONE_NEWUSER))
			_exit(103);
		if (how & VMSR_SPAWN_ZOMBIE)
			_exit(0);
		if (write(ready[1], "", 1) != 1)
			_exit(101);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid > 0) {
		if (how & VMSR_SPAWN_ZOMBIE)
			failed = waitid(P_PID, pid, &si, WEXITED | WNOWAIT) || si.si_status;
		else
			failed = read(ready[0], &c, 1) != 1;
		if (failed) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			pid = -1;
		}
	}
	close(ready[0]);
	return pid;
}

/* vmsr_spawn() with gid @ruid and the given uids. */
static inline pid_t vmsr_spawn_as(uid_t ruid, uid_t euid, uid_t suid, bool zombie)
{
	const uid_t uid[3] = { ruid, euid, suid };
	const gid_t gid[3] = { ruid, ruid, ruid };

	return vmsr_spawn(uid, gid, zombie ? VMSR_SPAWN_ZOMBIE : 0);
}

#endif /* VMSR_UTIL_H */
