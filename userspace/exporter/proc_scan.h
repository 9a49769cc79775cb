/* SPDX-License-Identifier: LGPL-2.1-or-later OR MIT */
/*
 * What the exporter reads from /proc, under a root that tests can point
 * at a tree of their own. Every file it reads is world-readable for every
 * process (see docs/exporter.md): /proc/PID/stat, /proc/PID/cmdline, the
 * /proc/PID/task directory and /proc/PID/task/TID/stat, and /proc/stat.
 */
#ifndef VMSR_EXPORTER_PROC_SCAN_H
#define VMSR_EXPORTER_PROC_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* The numeric entries of directory @path (processes, or a process's threads), sorted. */
int proc_list_ids(const char *path, int **ids, uint32_t *nr);

/*
 * Reads at most @size bytes of @root/@pid/@name into @buf; returns the
 * length read, or -errno.
 */
ssize_t proc_read(const char *root, int pid, const char *name, char *buf, size_t size);

/*
 * Field @field (3 or more, numbered as in proc(5)) of the contents of a
 * /proc/PID/stat (@len bytes), a number. The command name, field 2, may
 * contain spaces and parentheses: fields are counted after its last ')'.
 */
int proc_stat_field(const char *stat, size_t len, int field, unsigned long long *value);

/* Field 22: the start time, in clock ticks after boot. */
int proc_parse_starttime(const char *stat, size_t len, unsigned long long *starttime);

/*
 * Fields 14 and 15, utime + stime, in clock ticks, and field 39, the CPU
 * it last ran on. For /proc/PID/stat the times are the whole process's,
 * exited threads included; for /proc/PID/task/TID/stat, one thread's.
 */
int proc_parse_times(const char *stat, size_t len, unsigned long long *cpu_ticks,
		     unsigned int *cpu);

/*
 * From the contents of /proc/stat: the busy time of each CPU "cpuN" with
 * N < @nr_cpus, in clock ticks: user, nice, system, irq, softirq and steal
 * (guest time is part of user). CPUs not listed (offline) keep 0.
 */
int proc_parse_cpu_busy(const char *stat, uint64_t *busy, uint32_t nr_cpus);

#endif /* VMSR_EXPORTER_PROC_SCAN_H */
