/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * libvmsr: userspace access to /dev/vmsr.
 *
 * Thin wrappers around the ioctls of <linux/vmsr.h>, and the sampler, which
 * turns the host's energy into virtual RAPL MSRs for a VMM's guest.
 *
 * Errors, one convention for every function: a function that can fail
 * returns an int, 0 (or a descriptor) on success and a negative errno on
 * failure. errno itself is not meant to be read afterwards. Bad input gives:
 *   -EINVAL  a NULL pointer, an index out of range, a struct whose size
 *            field is too small, unknown flags, a nonzero reserved field
 *   -E2BIG   a struct whose size field is larger than this library knows,
 *            with nonzero bytes beyond what it knows, or above 4096
 *   -ENOENT  something not registered (a vCPU, a thread)
 *   -EEXIST  something registered twice
 *   -ESRCH   a TID that is not a thread of the sampled process (checked
 *            in /proc when the sampler reads the device)
 *   -EBADF   vmsr_sampler_free() of a pointer that is not a live sampler
 *   -EBUSY   vmsr_sampler_tick() while the library's own thread ticks
 *
 * Growing structs: every struct this header defines (the kernel's, of
 * <linux/vmsr.h>, follow its own rules) begins with a uint32_t size, which the caller sets to sizeof() of its struct. A newer
 * library reads missing trailing fields of an older caller as zero, and
 * fills only as much as the caller's size; an older library refuses newer
 * fields that are not zero, and zero-fills what it does not know.
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
 * a function is part of libvmsr.so and libvmsr.a only if its declaration
 * here carries VMSR_API and lib/libvmsr.map lists it.
 */
#define VMSR_API __attribute__((visibility("default")))

#define VMSR_DEVICE_PATH "/dev/vmsr"

/*
 * Opens @path (NULL: /dev/vmsr) read-only, close-on-exec: reading is all
 * the device needs. Returns a file descriptor or -errno.
 */
VMSR_API int vmsr_open(const char *path);

/*
 * VMSR_IOC_INFO into @info; @cpu_map (may be NULL) receives each CPU's
 * package, @cpu_map_len entries at most. -EINVAL if @info is NULL.
 */
VMSR_API int vmsr_get_info(int fd, struct vmsr_info *info, uint32_t *cpu_map, uint32_t cpu_map_len);

/* VMSR_IOC_READ over @count entries; each entry's result says how it went. */
VMSR_API int vmsr_read_msrs(int fd, struct vmsr_read_entry *entries, uint32_t count);

/*
 * VMSR_IOC_SAMPLE without flags; on success *start_ns and *end_ns (either
 * may be NULL) bracket the call. Each package's and task's result says how
 * its part went.
 */
VMSR_API int vmsr_sample(int fd, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		uint64_t *start_ns, uint64_t *end_ns);

/*
 * The same, with VMSR_SAMPLE_F_* @flags. A kernel that cannot give fresh
 * task times refuses VMSR_SAMPLE_F_FRESH with -EOPNOTSUPP (see vmsr(4)).
 */
VMSR_API int vmsr_sample_flags(int fd, uint32_t flags, struct vmsr_pkg_sample *pkgs, uint32_t nr_pkgs,
		      struct vmsr_task_sample *tasks, uint32_t nr_tasks,
		      uint64_t *start_ns, uint64_t *end_ns);

/*
 * Joules per counter step, 2^-energy_unit_shift, from INFO; 0 for NULL.
 * The sampler also applies the fixed DRAM unit of some Intel servers (see
 * libvmsr(3)); this function does not know the CPU model.
 */
VMSR_API double vmsr_joules_per_step(const struct vmsr_info *info);

/*
 * A one-line explanation of an error from vmsr_open() that tells what to do:
 * -EACCES where the file mode refuses (join group kvm) or, if the mode of
 * /dev/vmsr allows this process, a security module's denial (AppArmor: its
 * rule); -EPERM from a device cgroup (libvirt's cgroup_device_acl);
 * -ENOENT, -ENXIO or -ENODEV (the module is not loaded). Never NULL.
 */
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
 * together, with VMSR_SAMPLE_F_FRESH where the kernel supports it. Then,
 * for each host package P with an online CPU, and each energy domain:
 *
 *   dE(P)       = (counter now - counter before) mod 2^32, in joules: a
 *                 counter that wrapped once is corrected, not dropped
 *   share(T)    = dcpu_ns(T) / (online_cpus(P) * interval_ns), for every
 *                 thread T that the sample found on P, clamped to [0, 1]
 *   energy(T)   = share(T) * dE(P)
 *
 * A host package is what /dev/vmsr numbers as one: on Intel hosts whose
 * packages have several dies, RAPL counts per die and so does the sampler,
 * with the die's online CPUs (VMSR_INFO_F_DIES, see vmsr(4)).
 *
 * Policy, the same as QEMU's: the energy of the non-vCPU threads found on P
 * is spread evenly over the vCPUs whose threads are on P (over all vCPUs if
 * none is). A virtual package's energy is the sum of its vCPUs' energy.
 *
 * Life cycle rules; each names the test in tests/sampler_test.c that
 * proves it (FIXTURE.test):
 *  - The first tick only takes a baseline: it attributes nothing, and the
 *    virtual energy counters read 0 until the second tick.
 *    (sampler.first_tick_only_takes_a_baseline)
 *  - Wrap: one wrap of a host counter between ticks is corrected.
 *    (sampler.counter_wrap_is_corrected)
 *  - Every tick starts its accumulators from zero.
 *    (sampler.accumulators_reset_every_tick)
 *  - Idle energy (the part no thread's CPU time accounts for) is not
 *    attributed, as in QEMU. (sampler.vcpus_of_a_package_agree_idle_included)
 *  - Migration: the kernel reports the CPU a thread last ran on, so a thread
 *    that moved between host packages during an interval is charged, for the
 *    whole interval, to the package it is on at the end of it.
 *    (sampler.migration_charges_the_end_package)
 *  - A thread enters with a baseline from the first sample that sees it,
 *    whether added by hand or found by a scan: the CPU time it used before
 *    is never charged. (sampler.scan_new_thread_enters_with_a_baseline)
 *  - Exit: a thread that has exited but is not yet reaped reports its final
 *    times, which are counted, then it is dropped; once reaped it is
 *    dropped without an underflow. Energy already attributed stays in its
 *    virtual package. (sampler.exiting_thread_neither_underflows_nor_loses_energy)
 *  - A thread that was dropped (exited, removed with
 *    vmsr_sampler_remove_thread(), or a zombie group leader) stays out,
 *    scans included, until its TID leaves /proc. Threads beyond the
 *    device's max_sample_tasks are left out of the sample; when room
 *    frees, they enter with a baseline like any new thread.
 *    (sampler.scan_zombie_leader_is_not_charged_again,
 *    sampler.scan_removed_thread_stays_removed,
 *    sampler.scan_threads_beyond_the_cap_enter_with_a_baseline)
 *  - Reused TID: a thread whose CPU time falls by more than 1 ms is a new
 *    thread under an old TID, and starts again from there.
 *    (sampler.reused_tid_starts_from_zero)
 *  - Dips: with VMSR_SAMPLE_F_FRESH a thread's CPU time can read a little
 *    lower than before (vmsr(4)); each thread keeps its highest reading, so
 *    the time is charged once. (sampler.fresh_dips_are_charged_once)
 *  - vCPUs may be added and removed at any time (hotplug). The vCPU table
 *    is indexed by vCPU index up to max_vcpus. (sampler.vcpu_hotplug)
 *  - Host CPU hotplug: online CPUs are counted again at every tick, so a
 *    CPU that goes offline or online changes the shares from the next tick
 *    on. A host package with no online CPU gets no energy and does not
 *    hold the other packages back. (sampler.host_cpu_hotplug_changes_shares,
 *    sampler.package_without_online_cpu_is_skipped)
 *  - Host packages whose counters were not refreshed since the last tick
 *    (ticks faster than the module's min_interval_us) make the tick return
 *    -EAGAIN without consuming the sample; the next tick covers both.
 *    (sampler.unrefreshed_counters_defer_the_tick)
 *  - The sampler's own thread (vmsr_sampler_start()) is one of the VMM's
 *    non-vCPU threads: it is registered while it runs, so its CPU time is
 *    charged, and spread over the vCPUs, like an I/O thread's.
 *    (sampler.own_thread_is_charged_like_an_io_thread)
 *
 * Units: the virtual MSRs are always in Intel layout, also on AMD hosts:
 * RAPL_POWER_UNIT is the host's unit register when it has RAPL (AMD's has
 * the same layout), else 0xa0e03 (2^-14 J energy unit). Energy status
 * registers count in that unit, monotonic modulo 2^32. PKG_POWER_LIMIT and
 * PKG_POWER_INFO are the host's on Intel, else 0. DRAM and PP0 exist when
 * the host package has those domains. On Intel servers from Haswell-X to
 * Ice Lake-X the host's DRAM counter steps 15.3 uJ whatever the unit
 * register says; the sampler converts it (table: lib/rapl_units.c).
 * (sampler.intel_layout_on_amd_and_without_rapl,
 * sampler.server_dram_counts_in_its_fixed_unit)
 *
 * Threads: vmsr_sampler_read_msr() and vmsr_sampler_read_vcpu_msr() take no
 * lock and may be called from any thread at any time, including while a
 * tick runs: each value is a single atomic load.
 * (sampler.lock_free_reads_during_ticks) Every other call takes the
 * sampler's lock.
 *
 * Debugging: with LIBVMSR_TRACE=FILE in the environment, every tick appends
 * one line per virtual package to FILE (libvmsr(3)). Like every variable
 * the library reads, it is ignored in set-user-ID and set-group-ID
 * programs (secure_getenv()).
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
	uint32_t size;		/* sizeof(struct vmsr_sampler_config) */
	uint32_t flags;		/* VMSR_SAMPLER_F_* */
	const char *device;	/* NULL: /dev/vmsr */
	uint32_t nr_vpackages;	/* virtual packages, 1 or more */
	uint32_t max_vcpus;	/* vCPU indexes are 0 .. max_vcpus - 1 */
	int32_t pid;		/* process scanned by SCAN_THREADS; 0: this one */
	uint32_t reserved;	/* zero */
};

struct vmsr_sampler;

struct vmsr_vcpu_stats {
	uint32_t size;		/* in: sizeof(struct vmsr_vcpu_stats) */
	int32_t tid;
	uint32_t vpackage;
	uint32_t host_package;	/* where the last tick found its thread */
	uint64_t last_cpu_ns;	/* its thread's CPU time over the last tick */
	uint64_t last_interval_ns; /* the last tick's interval */
	uint64_t cpu_ns;	/* its thread's CPU time since it was added */
	double joules[VMSR_NR_DOMAINS]; /* attributed since it was added */
};

struct vmsr_vpackage_stats {
	uint32_t size;		/* in: sizeof(struct vmsr_vpackage_stats) */
	uint32_t nr_vcpus;
	uint64_t ticks;		/* ticks that attributed energy */
	double joules[VMSR_NR_DOMAINS];	/* attributed, all time */
	double host_joules[VMSR_NR_DOMAINS]; /* all host packages, same ticks */
};

/*
 * Opens cfg->device read-only and reads the host's topology. Returns 0,
 * -EINVAL (bad @cfg), -E2BIG, or an error of vmsr_open() (see
 * vmsr_open_hint()).
 */
VMSR_API int vmsr_sampler_new(const struct vmsr_sampler_config *cfg, struct vmsr_sampler **out);

/*
 * The same over @fd, a /dev/vmsr descriptor the caller opened (O_RDONLY is
 * enough), e.g. one that libvirt passed to a sandboxed VMM that may not
 * open() the device itself. cfg->device is ignored.
 *
 * Ownership of @fd: on success the sampler owns it and vmsr_sampler_free()
 * closes it; the caller must not close it, nor use it concurrently with the
 * sampler's lifetime in a way that changes its file status. On failure @fd
 * is left open and stays the caller's. Returns 0, -EINVAL (negative @fd,
 * NULL @cfg or @out, bad @cfg), -ENOTTY (@fd is not /dev/vmsr) or -errno.
 */
VMSR_API int vmsr_sampler_new_fd(int fd, const struct vmsr_sampler_config *cfg,
				 struct vmsr_sampler **out);

/*
 * Stops the sampler's thread if running, closes the device, frees @s.
 * Returns 0 (also for NULL), or -EBADF, touching nothing, for a pointer
 * that is not a live sampler (freed twice, or never one).
 */
VMSR_API int vmsr_sampler_free(struct vmsr_sampler *s);

/*
 * Registers vCPU @vcpu, run by host thread @tid, in virtual package
 * @vpackage. -EINVAL (index out of range, tid <= 0), -EEXIST (the vCPU or
 * the thread is one already), -ESRCH (@tid is not a thread of the sampled
 * process), -E2BIG (max_sample_tasks threads already).
 */
VMSR_API int vmsr_sampler_add_vcpu(struct vmsr_sampler *s, uint32_t vcpu, int tid, uint32_t vpackage);

/* Unregisters a vCPU (hot-unplug); its energy stays in its virtual package. -ENOENT if absent. */
VMSR_API int vmsr_sampler_remove_vcpu(struct vmsr_sampler *s, uint32_t vcpu);

/*
 * Registers or unregisters a non-vCPU thread of the VMM. add: -EINVAL,
 * -EEXIST, -ESRCH, -E2BIG as for vCPUs. remove: -ENOENT if not registered,
 * -EBUSY if it is a vCPU's thread.
 */
VMSR_API int vmsr_sampler_add_thread(struct vmsr_sampler *s, int tid);
VMSR_API int vmsr_sampler_remove_thread(struct vmsr_sampler *s, int tid);

/*
 * One tick now. 0, -EAGAIN (counters not refreshed yet), -EBUSY (the
 * library's thread is ticking: between vmsr_sampler_start() and
 * vmsr_sampler_stop()) or an error of the SAMPLE call. After
 * vmsr_sampler_stop(), ticks by hand continue from the last sample.
 */
VMSR_API int vmsr_sampler_tick(struct vmsr_sampler *s);

/*
 * Ticks every @interval_ms on a thread of the library's own, with all
 * signals blocked, until vmsr_sampler_stop(). Returns 0, -EINVAL (interval
 * 0), -EBUSY (already started) or -errno. Stopping a sampler that is not
 * started does nothing.
 */
VMSR_API int vmsr_sampler_start(struct vmsr_sampler *s, uint32_t interval_ms);
VMSR_API void vmsr_sampler_stop(struct vmsr_sampler *s);

/*
 * The virtual MSR @msr (VMSR_MSR_*) of virtual package @vpackage, or of the
 * package vCPU @vcpu belongs to. Lock-free. Returns 0, -EINVAL for a NULL
 * pointer, a bad package or an unregistered vCPU, or -ENOENT for an MSR
 * the host lacks.
 */
VMSR_API int vmsr_sampler_read_msr(const struct vmsr_sampler *s, uint32_t vpackage,
			  uint32_t msr, uint64_t *value);
VMSR_API int vmsr_sampler_read_vcpu_msr(const struct vmsr_sampler *s, uint32_t vcpu,
			       uint32_t msr, uint64_t *value);

/*
 * Statistics, for tools and tests; st->size must be set. Return 0,
 * -EINVAL (NULL, index out of range, st->size too small) or -ENOENT (no
 * such vCPU registered).
 */
VMSR_API int vmsr_sampler_vcpu_stats(struct vmsr_sampler *s, uint32_t vcpu,
			    struct vmsr_vcpu_stats *st);
VMSR_API int vmsr_sampler_vpackage_stats(struct vmsr_sampler *s, uint32_t vpackage,
				struct vmsr_vpackage_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* LIBVMSR_H */
