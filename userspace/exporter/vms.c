// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/* Finding VMs in /proc; see vms.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_scan.h"
#include "vms.h"

#define CMDLINE_MAX	65536

static const struct proc_seen *find_proc(const struct vm_set *set, int pid)
{
	uint32_t lo = 0, hi = set->nr_procs;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (set->procs[mid].pid == pid)
			return &set->procs[mid];
		if (set->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct vm *find_vm(struct vm_set *set, int pid, unsigned long long starttime)
{
	for (uint32_t i = 0; i < set->nr_vms; i++)
		if (set->vms[i].pid == pid && set->vms[i].starttime == starttime &&
		    !set->vms[i].gone_at)
			return &set->vms[i];
	return NULL;
}

/* The command name in a /proc/PID/stat, for a process whose cmdline is empty. */
static void stat_comm(const char *stat, size_t len, char *out, size_t size)
{
	const char *open = memchr(stat, '(', len), *close = memrchr(stat, ')', len);
	size_t n;

	out[0] = '\0';
	if (!open || !close || close < open)
		return;
	n = close - open - 1;
	if (n >= size)
		n = size - 1;
	memcpy(out, open + 1, n);
	out[n] = '\0';
}

/*
 * Whether @pid is a VM; fills @id if so. A process whose command line
 * cannot be read (it is exiting, or being created) but whose name is a
 * QEMU's is a VM too, with QEMU_ID_NO_CMDLINE.
 */
static bool classify(const char *root, int pid, const char *stat, size_t stat_len,
		     struct qemu_vm_id *id)
{
	static char cmdline[CMDLINE_MAX];
	char comm[32];
	ssize_t len;

	len = proc_read(root, pid, "cmdline", cmdline, sizeof(cmdline));
	if (len > 0)
		return qemu_parse_cmdline(cmdline, len, id);

	/* The kernel cuts the name to 15 bytes: "qemu-system-x86". */
	stat_comm(stat, stat_len, comm, sizeof(comm));
	if (!qemu_is_vmm(comm) && strcmp(comm, "qemu-system-x86"))
		return false;
	memset(id, 0, sizeof(*id));
	id->problems = QEMU_ID_NO_CMDLINE;
	return true;
}

static void close_stat(struct vm *vm)
{
	if (vm->stat_fd >= 0)
		close(vm->stat_fd);
	vm->stat_fd = -1;
}

ssize_t vm_read_stat(const char *proc_root, struct vm *vm, char *buf, size_t size)
{
	ssize_t len = 0, n = 0;

	if (vm->gone_at)
		return -ESRCH;
	if (vm->stat_fd < 0) {
		char path[256];

		snprintf(path, sizeof(path), "%s/%d/stat", proc_root, vm->pid);
		vm->stat_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (vm->stat_fd < 0)
			return -errno;
	}
	while ((size_t)len < size && (n = pread(vm->stat_fd, buf + len, size - len, len)) > 0)
		len += n;
	if (n < 0 && !len) {
		len = -errno;
		close_stat(vm);
	}
	return len;
}

static int add_vm(struct vm_set *set, int pid, unsigned long long starttime,
		  const struct qemu_vm_id *id)
{
	struct vm *vm;

	if (set->nr_vms == set->cap_vms) {
		uint32_t cap = set->cap_vms ? 2 * set->cap_vms : 16;
		struct vm *bigger = realloc(set->vms, cap * sizeof(*bigger));

		if (!bigger)
			return -ENOMEM;
		set->vms = bigger;
		set->cap_vms = cap;
	}
	vm = &set->vms[set->nr_vms++];
	memset(vm, 0, sizeof(*vm));
	vm->pid = pid;
	vm->starttime = starttime;
	vm->id = *id;
	vm->stat_fd = -1;
	snprintf(vm->pid_label, sizeof(vm->pid_label), "%d", pid);
	set->vms_found++;
	if (id->problems)
		set->ids_incomplete++;
	return 0;
}

int vms_scan(struct vm_set *set, const char *proc_root, double now_s,
	     unsigned long long boot_ticks, long hz, double retention_s)
{
	unsigned long long grace = (unsigned long long)VMS_EXEC_GRACE_S * hz;
	struct proc_seen *procs;
	uint32_t nr_pids, n = 0, i;
	int *pids, ret;

	ret = proc_list_ids(proc_root, &pids, &nr_pids);
	if (ret)
		return ret;
	procs = calloc(nr_pids ? nr_pids : 1, sizeof(*procs));
	if (!procs) {
		free(pids);
		return -ENOMEM;
	}

	for (i = 0; i < nr_pids && !ret; i++) {
		const struct proc_seen *old = find_proc(set, pids[i]);
		struct proc_seen *p = &procs[n];
		struct qemu_vm_id id;
		char stat[1024];
		ssize_t len;

		unsigned long long flags;

		if (old && (old->is_vm || old->kthread || old->starttime + grace < boot_ticks)) {
			procs[n++] = *old;
			continue;
		}
		len = proc_read(proc_root, pids[i], "stat", stat, sizeof(stat) - 1);
		if (len <= 0 || proc_parse_starttime(stat, len, &p->starttime) ||
		    proc_stat_field(stat, len, 9, &flags))
			continue;	/* gone already */
		p->pid = pids[i];
		p->kthread = flags & PF_KTHREAD_FLAG;
		p->is_vm = !p->kthread && classify(proc_root, pids[i], stat, len, &id);
		if (p->is_vm && !find_vm(set, p->pid, p->starttime))
			ret = add_vm(set, p->pid, p->starttime, &id);
		n++;
	}
	free(pids);
	if (ret) {
		free(procs);
		return ret;
	}
	free(set->procs);
	set->procs = procs;
	set->nr_procs = n;

	/* Gone: not in this scan. Dropped: gone for longer than the retention. */
	for (i = set->nr_vms; i-- > 0;) {
		struct vm *vm = &set->vms[i];
		const struct proc_seen *p = find_proc(set, vm->pid);

		if (!vm->gone_at && (!p || !p->is_vm || p->starttime != vm->starttime)) {
			vm->gone_at = now_s;
			set->vms_gone++;
			close_stat(vm);
		}
		if (vm->gone_at && now_s - vm->gone_at > retention_s)
			set->vms[i] = set->vms[--set->nr_vms];
	}
	return 0;
}

uint32_t vms_running(const struct vm_set *set)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < set->nr_vms; i++)
		n += !set->vms[i].gone_at;
	return n;
}

void vms_free(struct vm_set *set)
{
	for (uint32_t i = 0; i < set->nr_vms; i++)
		close_stat(&set->vms[i]);
	free(set->vms);
	free(set->procs);
	memset(set, 0, sizeof(*set));
}
