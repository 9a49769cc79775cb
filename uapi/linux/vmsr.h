/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note OR MIT */
/*
 * /dev/vmsr: read-only access to the host's RAPL energy MSRs, and one-call
 * samples of package energy together with per-task CPU time. The ABI's
 * rules and errors are specified in vmsr(4), userspace/man/vmsr.4.
 *
 * Like other uapi headers, this one includes only <linux/types.h>; callers
 * that use the VMSR_IOC_* numbers include <sys/ioctl.h> or <linux/ioctl.h>.
 */
#ifndef _UAPI_LINUX_VMSR_H
#define _UAPI_LINUX_VMSR_H

#include <linux/types.h>

/*
 * 2: "package" ids name RAPL instances, which are dies on multi-die Intel
 * packages (VMSR_INFO_F_DIES). Same structs and commands as 1, whose
 * modules read one die per package there.
 */
#define VMSR_ABI_VERSION	2

/* vmsr_info.vendor */
#define VMSR_VENDOR_UNKNOWN	0
#define VMSR_VENDOR_INTEL	1
#define VMSR_VENDOR_AMD		2
#define VMSR_VENDOR_HYGON	3

/* RAPL domains: an index into vmsr_pkg_sample.energy[], and a mask bit. */
#define VMSR_DOMAIN_PKG		0	/* package */
#define VMSR_DOMAIN_DRAM	1	/* DRAM */
#define VMSR_DOMAIN_CORE	2	/* cores, Intel PP0 */
#define VMSR_DOMAIN_UNCORE	3	/* uncore, Intel PP1 */
#define VMSR_DOMAIN_PSYS	4	/* platform, Intel PSYS */
#define VMSR_NR_DOMAINS		8	/* slots in the arrays, room to grow */
#define VMSR_DOMAIN_BIT(d)	(1U << (d))

/*
 * Package ids: every id this header calls a package id names a RAPL
 * instance, one set of RAPL registers: a package, or, where
 * VMSR_INFO_F_DIES is set, a die (multi-die Intel packages, where RAPL
 * counts per die). Ids are dense from 0.
 */

/* Marks a CPU that has no package yet (never brought online). */
#define VMSR_NO_PACKAGE		0xffffffffU

/* vmsr_info.flags */
/*
 * Bit 0 was VMSR_INFO_F_EMULATED, set by a test-only build that modelled
 * RAPL itself. No build sets it any more; the name stays for old callers.
 */
#define VMSR_INFO_F_EMULATED	(1U << 0)	/* never set */
/* Package ids name dies: RAPL is die-scoped on this machine (since ABI 2). */
#define VMSR_INFO_F_DIES	(1U << 1)

struct vmsr_info {
	__u32 abi_version;	/* out: VMSR_ABI_VERSION */
	__u32 vendor;		/* out: VMSR_VENDOR_* */
	__u32 domains;		/* out: mask of VMSR_DOMAIN_BIT() present */
	__u32 flags;		/* out: VMSR_INFO_F_* */
	__u64 power_unit_raw;	/* out: MSR 0x606 (Intel) or 0xC0010299 (AMD), 0 if no RAPL */
	__u32 energy_unit_shift; /* out: one counter step is 2^-shift joule */
	__u32 nr_cpus;		/* out: possible CPU ids, 0 .. nr_cpus - 1 */
	__u32 nr_packages;	/* out: package (or die) ids, 0 .. nr_packages - 1 */
	__u32 min_interval_us;	/* out: energy counters refresh at most this often */
	__u32 max_read_entries;	/* out: cap on vmsr_read.count */
	__u32 max_sample_pkgs;	/* out: cap on vmsr_sample.nr_pkgs */
	__u32 max_sample_tasks;	/* out: cap on vmsr_sample.nr_tasks */
	__u32 cpu_map_len;	/* in: entries at cpu_map, may be 0 */
	/*
	 * in: a __u32 array; its first min(cpu_map_len, nr_cpus) entries are
	 * set to each CPU's package, or VMSR_NO_PACKAGE
	 */
	__u64 cpu_map;
	__u64 reserved[2];	/* in: zero */
};

/* vmsr_read_entry.flags */
#define VMSR_READ_F_PACKAGE	(1U << 0)	/* target is a package, not a CPU */

struct vmsr_read_entry {
	__u32 msr;		/* in: a whitelisted RAPL MSR */
	__u32 target;		/* in: CPU id, or package id with VMSR_READ_F_PACKAGE */
	__u32 flags;		/* in: VMSR_READ_F_* */
	__s32 result;		/* out: 0, -ENXIO, -EIO or -ENODEV */
	__u64 value;		/* out: the MSR value, 0 on error */
};

struct vmsr_read {
	__u64 entries;		/* in: pointer to struct vmsr_read_entry[count] */
	__u32 count;		/* in: 1 .. max_read_entries */
	__u32 flags;		/* in: zero */
};

struct vmsr_pkg_sample {
	__u32 package;		/* in: package id */
	__u32 domains;		/* in: mask of VMSR_DOMAIN_BIT() wanted */
	/*
	 * out: when the counters were read from hardware: before the call if
	 * the cached reading was younger than min_interval_us
	 */
	__u64 read_ns;
	/* out: raw 32-bit counters, which wrap; 0 unless result is 0 */
	__u32 energy[VMSR_NR_DOMAINS];
	/* out: 0, -ENXIO, -EIO or -ENODEV for each wanted domain, else 0 */
	__s32 result[VMSR_NR_DOMAINS];
};

/* vmsr_task_sample.flags */
#define VMSR_TASK_F_EXITED	(1U << 0)	/* a zombie: the times are final */

struct vmsr_task_sample {
	__u32 tid;		/* in: thread id in the caller's pid namespace */
	__s32 result;		/* out: 0, -ESRCH or -EACCES */
	__u32 cpu;		/* out: the CPU it last ran on */
	__u32 package;		/* out: that CPU's package */
	__u64 cpu_ns;		/* out: user_ns + system_ns */
	__u64 user_ns;		/* out */
	__u64 system_ns;	/* out */
	__u32 flags;		/* out: VMSR_TASK_F_* */
	__u32 pad;		/* out: zero */
};

/*
 * vmsr_sample.flags
 *
 * VMSR_SAMPLE_F_FRESH: cpu_ns includes the time a running task has used
 * since it was last charged; its bound, and when it is refused with
 * -EOPNOTSUPP: vmsr(4).
 */
#define VMSR_SAMPLE_F_FRESH	(1U << 0)

struct vmsr_sample {
	__u64 pkgs;		/* in: pointer to struct vmsr_pkg_sample[nr_pkgs] */
	__u64 tasks;		/* in: pointer to struct vmsr_task_sample[nr_tasks] */
	__u32 nr_pkgs;		/* in: 0 .. max_sample_pkgs */
	__u32 nr_tasks;		/* in: 0 .. max_sample_tasks */
	__u32 flags;		/* in: VMSR_SAMPLE_F_* */
	__u32 pad;		/* in: zero */
	__u64 start_ns;		/* out: taken before the first energy read */
	__u64 end_ns;		/* out: taken after the last task read */
};

/*
 * 0xE6 is free in Documentation/userspace-api/ioctl/ioctl-number.rst (checked
 * against 7.2) and in the uapi headers of that tree; an upstream submission
 * adds its line there.
 */
#define VMSR_IOC_MAGIC		0xE6
#define VMSR_IOC_INFO		_IOWR(VMSR_IOC_MAGIC, 0x00, struct vmsr_info)
#define VMSR_IOC_READ		_IOWR(VMSR_IOC_MAGIC, 0x01, struct vmsr_read)
#define VMSR_IOC_SAMPLE		_IOWR(VMSR_IOC_MAGIC, 0x02, struct vmsr_sample)

#endif /* _UAPI_LINUX_VMSR_H */
