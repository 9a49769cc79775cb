// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-task CPU times, for a TID in the caller's pid namespace.
 *
 * Access rule: the caller's own thread group is always readable. Another
 * process's thread is readable only if its real, effective and saved uids all
 * equal the caller's real uid (the uid test ptrace applies to real
 * credentials), or if the caller has CAP_SYS_PTRACE in the target's user
 * namespace. Otherwise the entry gets -EACCES.
 *
 * A zombie (exited, not yet reaped) is still readable: its times are final
 * and the entry carries VMSR_TASK_F_EXITED. A TID that does not exist, or
 * whose task is already reaped, gets -ESRCH.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>

#include "vmsr.h"

static bool vmsr_task_readable(struct task_struct *t)
{
	const struct cred *mine = current_cred();
	const struct cred *theirs;

	if (same_thread_group(t, current))
		return true;
	theirs = __task_cred(t);
	if (uid_eq(mine->uid, theirs->uid) && uid_eq(mine->uid, theirs->euid) &&
	    uid_eq(mine->uid, theirs->suid))
		return true;
	return ns_capable_noaudit(theirs->user_ns, CAP_SYS_PTRACE);
}

/* Fills the out fields of @ts, which the caller has zeroed, for ts->tid. */
void vmsr_task_sample(struct vmsr_task_sample *ts)
{
	struct task_struct *t;
	u64 utime, stime;
	unsigned int cpu;

	if (!ts->tid || ts->tid > PID_MAX_LIMIT) {
		ts->result = -ESRCH;
		return;
	}

	/* Everything below is non-sleeping, so RCU alone keeps @t alive. */
	rcu_read_lock();
	t = pid_task(find_vpid(ts->tid), PIDTYPE_PID);
	if (!t) {
		ts->result = -ESRCH;
		goto out;
	}
	if (!vmsr_task_readable(t)) {
		ts->result = -EACCES;
		goto out;
	}
	task_cputime_adjusted(t, &utime, &stime);
	cpu = task_cpu(t);
	ts->cpu = cpu;
	ts->package = vmsr_cpu_package(cpu);
	ts->user_ns = utime;
	ts->system_ns = stime;
	ts->cpu_ns = utime + stime;
	if (t->exit_state)
		ts->flags |= VMSR_TASK_F_EXITED;
out:
	rcu_read_unlock();
}
