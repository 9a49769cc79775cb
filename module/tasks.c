// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-task CPU times, for a TID in the caller's pid namespace.
 *
 * Who may read whose task: access.c; -EACCES for a task the caller may not
 * read.
 *
 * A zombie (exited, not yet reaped) is still readable: its times are final
 * and the entry carries VMSR_TASK_F_EXITED. A TID that does not exist, or
 * whose task is already reaped, gets -ESRCH.
 *
 * The times are task_cputime_adjusted()'s, as in /proc. With @fresh, the
 * total includes the slice a running task has used since it was last
 * charged (fresh.h), and is split in the proportion of the task's sampled
 * user and system time, as /proc scales them but without its lock and its
 * memory of earlier calls: only the total is monotonic then.
 */
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>

#include "fresh.h"
#include "vmsr.h"

/* Fills in every field of @ts but the tid, for its tid. Under RCU. */
static void vmsr_task_sample(struct vmsr_task_sample *ts, struct pid_namespace *ns, bool fresh)
{
	struct vmsr_task_sample out = { .tid = ts->tid, .result = -ESRCH };
	struct task_struct *t;
	u64 utime, stime;

	if (!ts->tid || ts->tid > PID_MAX_LIMIT)
		goto out;
	t = pid_task(find_pid_ns(ts->tid, ns), PIDTYPE_PID);
	if (!t)
		goto out;
	if (!vmsr_may_read_task(t)) {
		out.result = -EACCES;
		goto out;
	}
	if (VMSR_HAVE_FRESH && fresh) {
		utime = READ_ONCE(t->utime);
		stime = READ_ONCE(t->stime);
		vmsr_split_runtime(vmsr_task_runtime(t), &utime, &stime);
	} else {
		task_cputime_adjusted(t, &utime, &stime);
	}
	out.result = 0;
	out.cpu = task_cpu(t);
	out.package = vmsr_cpu_package(out.cpu);
	out.user_ns = utime;
	out.system_ns = stime;
	out.cpu_ns = utime + stime;
	/*
	 * Every zombie has PF_EXITING, in the cache line of on_cpu and the
	 * CPU; exit_state lies kilobytes on: read it only for a task on its
	 * way out. One line fewer per task in a cache-cold call.
	 */
	if ((t->flags & PF_EXITING) && t->exit_state)
		out.flags = VMSR_TASK_F_EXITED;
out:
	*ts = out;
}

/*
 * Samples @count tasks, of which only the tids are set, in the caller's pid
 * namespace. Nothing here sleeps, so one RCU read section keeps every task
 * alive: a few lookups of a few cache lines each (main.c passes chunks).
 */
void vmsr_tasks_sample(struct vmsr_task_sample *ts, u32 count, bool fresh)
{
	struct pid_namespace *ns;
	u32 i;

	rcu_read_lock();
	ns = task_active_pid_ns(current);
	for (i = 0; i < count; i++)
		vmsr_task_sample(&ts[i], ns, fresh);
	rcu_read_unlock();
}
