/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fresh task CPU time, for VMSR_SAMPLE_F_FRESH. Inline: tasks.c calls it
 * for every task of a SAMPLE call.
 *
 * The scheduler charges a task's se.sum_exec_runtime in update_curr(), at
 * every tick, context switch and some wake-ups on its run queue, and sets
 * se.exec_start to the run queue's task clock (rq_clock_task()) as it does.
 * In between, a running task has used rq_clock_task() - se.exec_start more,
 * which task_cputime_adjusted() and /proc leave out: up to one tick (4 ms at
 * HZ=250); on a nohz_full CPU running one task, whose tick is stopped, up
 * to the remote tick's period, 1 s. task_sched_runtime() adds that slice
 * under the run-queue lock, but is not exported to modules.
 *
 * Here, without any lock: read se.exec_start, se.sum_exec_runtime, on_cpu
 * and sched_clock_cpu() of the task's CPU, then exec_start and the sum
 * again; if either changed, update_curr() ran meanwhile and we read again.
 * A task on a CPU has run sum_exec_runtime + (clock - exec_start) by then.
 * The task clock must be sched_clock_cpu(): without
 * CONFIG_IRQ_TIME_ACCOUNTING and CONFIG_PARAVIRT_TIME_ACCOUNTING (each makes
 * it lag by the IRQ or steal time since boot); elsewhere VMSR_SAMPLE_F_FRESH
 * is refused.
 *
 * What the unlocked read can get wrong, each making a later read lower:
 *
 *  - A torn read. update_curr() stores exec_start and the sum without a
 *    barrier, in either order (fair tasks: exec_start first; RT and
 *    deadline tasks before 6.8: the sum first). Both are read twice, so a
 *    tear goes unseen only if the writer stalls between its two stores for
 *    the whole of our read, as a preempted vCPU of a VM can.
 *  - A task being switched out keeps on_cpu set from its last update_curr()
 *    in __schedule() to the end of the context switch, time the kernel
 *    charges to the next task: microseconds on hardware, but as long as the
 *    host keeps a vCPU preempted there in a VM.
 *  - With SCHED_PROXY_EXEC (7.x), a task running as a lock owner on behalf
 *    of a blocked donor is charged from the donor's exec_start; its own
 *    exec_start can be older than the time it has been running.
 *  - Where sched_clock is not stable across CPUs (TCG, some hypervisors,
 *    tsc=unstable), sched_clock_cpu() of another CPU is that CPU's clock
 *    as filtered from ours, not the clock its run queue last read.
 *
 * So the slice added is capped at one tick, TICK_NSEC: the sum read is
 * what was charged, at least what any earlier call read, and every result
 * lies between that sum and the sum plus one tick. Two results for a task
 * thus never step back by more than one tick (vmsr(4)). The cap costs
 * nothing where the tick runs (update_curr() runs at least once a tick); on
 * a nohz_full CPU the slice beyond a tick shows at the next remote tick.
 */
#ifndef VMSR_FRESH_H
#define VMSR_FRESH_H

#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/sched.h>
#include <linux/sched/clock.h>

/*
 * Needs the scheduler's task clock to be sched_clock_cpu() (above), and
 * on_cpu, which kernels before 6.13 have only with CONFIG_SMP.
 */
#define VMSR_HAVE_FRESH	(IS_ENABLED(CONFIG_SMP) &&				\
			 !IS_ENABLED(CONFIG_IRQ_TIME_ACCOUNTING) &&		\
			 !IS_ENABLED(CONFIG_PARAVIRT_TIME_ACCOUNTING))

/* Reads that race with update_curr() this often fall back to the charged time. */
#define VMSR_FRESH_TRIES	4

/* What @t has run up to now, within a tick; only with VMSR_HAVE_FRESH. */
#if VMSR_HAVE_FRESH
static inline u64 vmsr_task_runtime(struct task_struct *t)
{
	u64 start, sum, now;
	int tries;

	for (tries = 0; tries < VMSR_FRESH_TRIES; tries++) {
		start = READ_ONCE(t->se.exec_start);
		/* Our loads in order; update_curr()'s stores have no barrier (above). */
		smp_rmb();
		sum = READ_ONCE(t->se.sum_exec_runtime);
		if (!READ_ONCE(t->on_cpu))
			return sum;
		now = sched_clock_cpu(task_cpu(t));
		/* The re-reads come after all of the above. */
		smp_rmb();
		if (READ_ONCE(t->se.exec_start) == start &&
		    READ_ONCE(t->se.sum_exec_runtime) == sum)
			return sum + min_t(u64, now > start ? now - start : 0, TICK_NSEC);
	}
	return READ_ONCE(t->se.sum_exec_runtime);
}
#endif

/*
 * Splits @runtime into user and system time in the proportion of the
 * sampled *@utime and *@stime, as cputime_adjust() scales them for /proc;
 * all to user time if neither has any yet, as it does too. Unlike it, this
 * keeps no state: either part can step back when the proportion shifts.
 */
static inline void vmsr_split_runtime(u64 runtime, u64 *utime, u64 *stime)
{
	u64 sampled = *utime + *stime, user;

	user = *stime ? mul_u64_u64_div_u64(runtime, *utime, sampled) : runtime;
	*utime = user;
	*stime = runtime - user;
}

#endif /* VMSR_FRESH_H */
