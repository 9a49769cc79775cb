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
 * HZ=250), up to a second on a nohz_full CPU. task_sched_runtime() adds that
 * slice under the run-queue lock, but is not exported to modules.
 *
 * Here, without any lock: read se.exec_start, se.sum_exec_runtime, on_cpu
 * and sched_clock_cpu() of the task's CPU, then se.exec_start again; if it
 * changed, update_curr() ran meanwhile and we read again. A task on a CPU
 * has run sum_exec_runtime + (clock - exec_start) by then.
 *
 * This is exact when rq_clock_task() equals sched_clock_cpu(), i.e. when the
 * kernel has neither CONFIG_IRQ_TIME_ACCOUNTING nor
 * CONFIG_PARAVIRT_TIME_ACCOUNTING (each makes the task clock lag by the IRQ
 * or steal time accumulated since boot). Elsewhere VMSR_SAMPLE_F_FRESH is
 * refused. Two errors remain:
 *
 *  - A task that is being switched out at the instant of the read keeps
 *    on_cpu set from its last update_curr() in __schedule() to the end of
 *    the context switch, a stretch the kernel charges to the next task. The
 *    read counts it too: at most one context switch, run with interrupts
 *    off (microseconds), and a later read is that much lower.
 *  - update_curr() stores exec_start, then sum_exec_runtime, without a
 *    barrier (in source order, and in Debian 6.1's build). A read between
 *    the two stores sees the new exec_start and the old sum, and misses
 *    the last delta (at most one tick); x86 keeps stores in order, so a
 *    read never counts it twice.
 */
#ifndef VMSR_FRESH_H
#define VMSR_FRESH_H

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

/* What @t has run up to now; only with VMSR_HAVE_FRESH. */
#if VMSR_HAVE_FRESH
static inline u64 vmsr_task_runtime(struct task_struct *t)
{
	u64 start, sum, now;
	int tries;

	for (tries = 0; tries < VMSR_FRESH_TRIES; tries++) {
		start = READ_ONCE(t->se.exec_start);
		/* Pairs with update_curr()'s store order: exec_start, then sum. */
		smp_rmb();
		sum = READ_ONCE(t->se.sum_exec_runtime);
		if (!READ_ONCE(t->on_cpu))
			return sum;
		now = sched_clock_cpu(task_cpu(t));
		/* The re-read of exec_start comes after all of the above. */
		smp_rmb();
		if (READ_ONCE(t->se.exec_start) == start)
			return now > start ? sum + (now - start) : sum;
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
