/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * The VMs of the host: QEMU processes found in /proc, and what has been
 * attributed to them. Their threads are the attribution core's
 * (lib/registry.h), listed by its task scanner (lib/task_scan.h).
 *
 * Every sampling tick rescans /proc. A process is classified when its pid
 * is first seen, and again on every tick while it is younger than
 * VMS_EXEC_GRACE_S, so that a process which forks and then executes QEMU
 * (libvirt does) is found; but a kernel thread (PF_KTHREAD), which never
 * executes QEMU, is classified once: a host has many young kworkers, and
 * reading each of them on every tick was most of the exporter's cost. A pid is taken to be the same process from one
 * tick to the next: a pid reused within one tick is not noticed.
 *
 * A VM that exits keeps its counters, frozen, for the retention time, then
 * is dropped: a VM that started and stopped between two scrapes is still
 * seen by the next scrape if that comes within the retention time.
 */
#ifndef VMSR_EXPORTER_VMS_H
#define VMSR_EXPORTER_VMS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/vmsr.h>

#include "qemu_cmdline.h"

#define VMS_EXEC_GRACE_S	60

/* The kernel's PF_KTHREAD, in field 9 of /proc/PID/stat: a kernel thread. */
#define PF_KTHREAD_FLAG		0x00200000u

struct vm {
	int pid;
	unsigned long long starttime;	/* clock ticks after boot: (pid, starttime) is the key */
	struct qemu_vm_id id;
	char pid_label[12];
	double joules[VMSR_NR_DOMAINS];	/* attributed since found */
	double cpu_seconds;		/* CPU time of its threads since found */
	double gone_at;			/* monotonic seconds it was found gone; 0 while running */
	int stat_fd;			/* its /proc/PID/stat while it runs, or -1 */
};

/* A process seen by the last scan. */
struct proc_seen {
	int pid;
	unsigned long long starttime;
	bool is_vm;
	bool kthread;		/* final: not read again */
};

struct vm_set {
	struct vm *vms;			/* running ones and recently gone ones */
	uint32_t nr_vms, cap_vms;
	struct proc_seen *procs;	/* sorted by pid */
	uint32_t nr_procs;
	/* counters since start */
	uint64_t vms_found, vms_gone, ids_incomplete;
};

/*
 * One scan of @proc_root: finds new VMs, marks gone ones, drops those gone
 * for longer than @retention_s. @now_s is CLOCK_MONOTONIC, @boot_ticks the
 * time since boot in clock ticks (the unit of starttime), @hz clock ticks
 * per second. Returns 0 or -errno (nothing changes then).
 */
int vms_scan(struct vm_set *set, const char *proc_root, double now_s,
	     unsigned long long boot_ticks, long hz, double retention_s);

/*
 * Reads a running VM's /proc/PID/stat into @buf (not terminated); returns
 * its length or -errno. The file stays open while the VM runs, and each
 * read starts at offset 0, which makes the kernel generate it anew: one
 * system call per VM and sample instead of three. The descriptor stays
 * with the process it was opened for, so a reused pid reads -ESRCH.
 */
ssize_t vm_read_stat(const char *proc_root, struct vm *vm, char *buf, size_t size);

/* The number of running VMs. */
uint32_t vms_running(const struct vm_set *set);

void vms_free(struct vm_set *set);

#endif /* VMSR_EXPORTER_VMS_H */
