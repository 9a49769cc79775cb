/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libvmsr: userspace access to /dev/vmsr.
 *
 * Thin wrappers around the ioctls of <linux/vmsr.h>. Every function that
 * can fail returns 0 or a negative errno; none of them sets errno for the
 * caller to read.
 */
#ifndef LIBVMSR_H
#define LIBVMSR_H

#include <stdint.h>
#include <linux/vmsr.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The library's exported functions: it is built with -fvisibility=hidden, so
 * a function is part of libvmsr.so only if its declaration here carries
 * VMSR_API.
 */
#define VMSR_API __attribute__((visibility("default")))

#define VMSR_DEVICE_PATH "/dev/vmsr"

/* Opens @path (NULL: /dev/vmsr). Returns a file descriptor or -errno. */
VMSR_API int vmsr_open(const char *path);

/* VMSR_IOC_INFO; @cpu_map (may be NULL) receives @cpu_map_len entries at most. */
VMSR_API int vmsr_get_info(int fd, struct vmsr_info *info, uint32_t *cpu_map, uint32_t cpu_map_len);

/* VMSR_IOC_READ over @count entries. */
VMSR_API int vmsr_read_msrs(int fd, struct vmsr_read_entry *entries, uint32_t count);

/* VMSR_IOC_SAMPLE; on success *start_ns and *end_ns (may be NULL) bracket the call. */
VMSR_API int vmsr_sample(int fd, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		uint64_t *start_ns, uint64_t *end_ns);

/* The same, with VMSR_SAMPLE_F_* @flags. */
VMSR_API int vmsr_sample_flags(int fd, uint32_t flags, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		      struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		      uint64_t *start_ns, uint64_t *end_ns);

/* Joules per counter step, from INFO's energy_unit_shift. */
VMSR_API double vmsr_joules_per_step(const struct vmsr_info *info);

/* A one-line explanation of an error from vmsr_open() that tells what to do. */
VMSR_API const char *vmsr_open_hint(int err);

/*
 * The sampler: virtual RAPL MSRs for a VMM's guest.
 *
 * The VMM describes its VM: every vCPU with its host thread and virtual
 * package (socket), and its other threads (I/O, main loop, ...), either
 * registered one by one or found in /proc/<pid>/task on every tick.
 *
 * Each tick makes exactly one VMSR_IOC_SAMPLE call, which returns every host
 * package's energy counters and every registered thread's CPU time, read
 * together; with VMSR_SAMPLE_F_FRESH where the kernel supports it. Then, for each host package P and each energy domain:
 *
 *   dE(P)       = (counter now - counter before) mod 2^32, in joules: a
 *                 counter that wrapped once is corrected, not dropped
 *   share(T)    = dcpu_ns(T) / (cpus_in(P) * interval_ns), for every thread T
 *                 that the sample found on P, clamped to [0, 1]
 *   energy(T)   = share(T) * dE(P)
 *
 * Policy, the same as QEMU's: the energy of the non-vCPU threads found on P
 * is spread evenly over the vCPUs whose threads are on P (over all vCPUs if
 * none is). A virtual package's energy is the sum of its vCPUs' energy.
 *
 * Further rules:
 *  - Migration: the kernel reports the CPU a thread last ran on, so a thread
 *    that moved between host packages during an interval is charged, for the
 *    whole interval, to the package it is on at the end of it.
 *  - Exit: a thread that has exited but is not yet reaped reports its final
 *    times, which are counted. Once reaped it is dropped without an
 *    underflow; energy already attributed stays in its virtual package. A
 *    TID whose CPU time goes backwards (reused) starts again from zero.
 *  - Every tick starts its accumulators from zero.
 *  - vCPUs may be added and removed at any time (hotplug). The vCPU table
 *    is indexed by vCPU index up to max_vcpus.
 *  - Idle energy (the part no thread's CPU time accounts for) is not
 *    attributed, as in QEMU.
 *  - Host packages whose counters were not refreshed since the last tick
 *    (ticks faster than the module's min_interval_us) make the tick return
 *    -EAGAIN without consuming the sample; the next tick covers both.
 *
 * The virtual MSRs are always in Intel layout, also on AMD hosts:
 * RAPL_POWER_UNIT is the host's unit register when it has RAPL (AMD's has
 * the same layout), else 0xa0e03 (2^-14 J energy unit). Energy status
 * registers count in that unit, monotonic modulo 2^32. PKG_POWER_LIMIT and
 * PKG_POWER_INFO are the host's on Intel, else 0. DRAM and PP0 exist when
 * the host package has those domains.
 *
 * Threads: vmsr_sampler_read_msr() and vmsr_sampler_read_vcpu_msr() take no
 * lock and may be called from any thread at any time, including while a
 * tick runs: each value is a single atomic load. Every other call takes the
 * sampler's lock.
 *
 * Debugging: with LIBVMSR_TRACE=FILE in the environment, every tick appends
 * one line per virtual package to FILE (see README).
 */

/* The virtual MSRs, Intel numbering. */
#define VMSR_MSR_RAPL_POWER_UNIT	0x606
#define VMSR_MSR_PKG_POWER_LIMIT	0x610
#define VMSR_MSR_PKG_ENERGY_STATUS	0x611
#define VMSR_MSR_PKG_POWER_INFO		0x614
#define VMSR_MSR_DRAM_ENERGY_STATUS	0x619
#define VMSR_MSR_PP0_ENERGY_STATUS	0x639

/* vmsr_sampler_config.flags */
#define VMSR_SAMPLER_F_SCAN_THREADS	(1U << 0)	/* find other threads in /proc/<pid>/task */

struct vmsr_sampler_config {
	const char *device;	/* NULL: /dev/vmsr */
	uint32_t nr_vpackages;	/* virtual packages, 1 or more */
	uint32_t max_vcpus;	/* vCPU indexes are 0 .. max_vcpus - 1 */
	uint32_t flags;		/* VMSR_SAMPLER_F_* */
	int pid;		/* process scanned by SCAN_THREADS; 0: this one */
};

struct vmsr_sampler;

struct vmsr_vcpu_stats {
	int tid;
	uint32_t vpackage;
	uint32_t host_package;	/* where the last tick found its thread */
	uint64_t last_cpu_ns;	/* its thread's CPU time over the last tick */
	uint64_t last_interval_ns; /* the last tick's interval */
	uint64_t cpu_ns;	/* its thread's CPU time since it was added */
	double joules[VMSR_NR_DOMAINS]; /* attributed since it was added */
};

struct vmsr_vpackage_stats {
	uint32_t nr_vcpus;
	uint64_t ticks;		/* ticks that attributed energy */
	double joules[VMSR_NR_DOMAINS];	/* attributed, all time */
	double host_joules[VMSR_NR_DOMAINS]; /* all host packages, same ticks */
};

/* Opens the device and reads its topology. Returns 0 or -errno. */
VMSR_API int vmsr_sampler_new(const struct vmsr_sampler_config *cfg, struct vmsr_sampler **out);

/*
 * The same on a descriptor of /dev/vmsr that the caller opened, or was
 * passed (a sandboxed VMM that may not open() it). On success the sampler
 * owns @fd and closes it in vmsr_sampler_free(); on failure @fd is left
 * open. -ENOTTY: @fd is not a vmsr device.
 */
VMSR_API int vmsr_sampler_new_fd(int fd, const struct vmsr_sampler_config *cfg,
				 struct vmsr_sampler **out);

/* Stops the sampler's thread if running, closes the device, frees @s. */
VMSR_API void vmsr_sampler_free(struct vmsr_sampler *s);

/* Registers vCPU @vcpu, run by host thread @tid, in virtual package @vpackage. */
VMSR_API int vmsr_sampler_add_vcpu(struct vmsr_sampler *s, uint32_t vcpu, int tid, uint32_t vpackage);

/* Unregisters a vCPU (hot-unplug); its energy stays in its virtual package. */
VMSR_API int vmsr_sampler_remove_vcpu(struct vmsr_sampler *s, uint32_t vcpu);

/* Registers or unregisters a non-vCPU thread of the VMM. */
VMSR_API int vmsr_sampler_add_thread(struct vmsr_sampler *s, int tid);
VMSR_API int vmsr_sampler_remove_thread(struct vmsr_sampler *s, int tid);

/* One tick now. 0, -EAGAIN (counters not refreshed yet) or -errno. */
VMSR_API int vmsr_sampler_tick(struct vmsr_sampler *s);

/*
 * Ticks every @interval_ms on a thread of the library's own, with all
 * signals blocked, until vmsr_sampler_stop(). Returns 0 or -errno.
 */
VMSR_API int vmsr_sampler_start(struct vmsr_sampler *s, uint32_t interval_ms);
VMSR_API void vmsr_sampler_stop(struct vmsr_sampler *s);

/*
 * The virtual MSR @msr (VMSR_MSR_*) of virtual package @vpackage, or of the
 * package vCPU @vcpu belongs to. Lock-free. Returns 0, -EINVAL for a bad
 * package or unregistered vCPU, or -ENOENT for an MSR the host lacks.
 */
VMSR_API int vmsr_sampler_read_msr(const struct vmsr_sampler *s, uint32_t vpackage,
			  uint32_t msr, uint64_t *value);
VMSR_API int vmsr_sampler_read_vcpu_msr(const struct vmsr_sampler *s, uint32_t vcpu,
			       uint32_t msr, uint64_t *value);

/* Statistics, for tools and tests. Return 0 or -EINVAL. */
VMSR_API int vmsr_sampler_vcpu_stats(struct vmsr_sampler *s, uint32_t vcpu,
			    struct vmsr_vcpu_stats *st);
VMSR_API int vmsr_sampler_vpackage_stats(struct vmsr_sampler *s, uint32_t vpackage,
				struct vmsr_vpackage_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* LIBVMSR_H */
