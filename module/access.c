// SPDX-License-Identifier: GPL-2.0-only
/*
 * Who may sample whose task: the test of __ptrace_may_access() in
 * PTRACE_MODE_READ_REALCREDS, which modules cannot call (ptrace_may_access()
 * is not exported), rebuilt from exported parts.
 *
 *  - The caller's own thread group is always readable.
 *  - Another task is readable if its real, effective and saved uids all
 *    equal the caller's real uid and its real, effective and saved gids all
 *    equal the caller's real gid, or if the caller has CAP_SYS_PTRACE in the
 *    task's user namespace;
 *  - and, either way, the task is dumpable (prctl(PR_SET_DUMPABLE), set-id
 *    execution and credential changes clear that), or the caller has
 *    CAP_SYS_PTRACE in the user namespace the task's program was executed in.
 *
 * Left out: the LSM hook security_ptrace_access_check() is not exported, so
 * SELinux, AppArmor and Smack policies on ptrace reads are not consulted.
 * Yama's ptrace_scope restricts only attaching, never reads. The CPU times
 * served here are those /proc/PID/task/TID/schedstat shows every user
 * without any of these checks (vmsr(4)).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/user_namespace.h>
#ifdef VMSR_HAVE_TASK_EXEC_STATE
#include <linux/sched/exec_state.h>
#endif

#include "vmsr.h"

static bool vmsr_creds_match(const struct cred *mine, const struct cred *theirs)
{
	return uid_eq(mine->uid, theirs->uid) && uid_eq(mine->uid, theirs->euid) &&
	       uid_eq(mine->uid, theirs->suid) && gid_eq(mine->gid, theirs->gid) &&
	       gid_eq(mine->gid, theirs->egid) && gid_eq(mine->gid, theirs->sgid);
}

static bool vmsr_ptrace_capable(struct user_namespace *ns)
{
	return ns_capable_noaudit(ns, CAP_SYS_PTRACE);
}

/*
 * Whether @t may be read for its dumpability. Since 7.2 the kernel keeps
 * that, and the user namespace of the last execve(), in t->exec_state,
 * freed after an RCU grace period; before, in t->mm, which task_lock()
 * keeps from being dropped. A task without mm (a kernel thread, or one past
 * exit_mm()) has no dumpability to check there, as in ptrace.
 */
#ifdef VMSR_HAVE_TASK_EXEC_STATE
static bool vmsr_task_dumpable(struct task_struct *t)
{
	const struct task_exec_state *es = rcu_dereference(t->exec_state);

	return READ_ONCE(es->dumpable) == TASK_DUMPABLE_OWNER ||
	       vmsr_ptrace_capable(es->user_ns);
}
#else
static bool vmsr_task_dumpable(struct task_struct *t)
{
	struct mm_struct *mm;
	bool ok = true;

	task_lock(t);
	mm = t->mm;
	if (mm && get_dumpable(mm) != SUID_DUMP_USER)
		ok = vmsr_ptrace_capable(mm->user_ns);
	task_unlock(t);
	return ok;
}
#endif

/* Under RCU. */
bool vmsr_may_read_task(struct task_struct *t)
{
	const struct cred *theirs;

	if (same_thread_group(t, current))
		return true;
	theirs = __task_cred(t);
	if (!vmsr_creds_match(current_cred(), theirs) &&
	    !vmsr_ptrace_capable(theirs->user_ns))
		return false;
	/*
	 * Dumpability after the credentials, as ptrace reads them: pairs with
	 * commit_creds(), which clears it before it installs new ones.
	 */
	smp_rmb();
	return vmsr_task_dumpable(t);
}
