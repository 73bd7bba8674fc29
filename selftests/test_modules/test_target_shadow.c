// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest target module, part 2: targets and local callers for
 * the per-task shadow storage (test-shadow.sh, patched by
 * tocpatch_test_shadow_patch.ko). Linked into tocpatch_test_target.ko, so
 * every call below from this module into its targets is a local call that
 * needs a shadow frame.
 *
 * /sys/kernel/debug/tocpatch_test/shadow: write "CASE ARG", read
 * "result R toc_ok B" (see test_target.c).
 *	spawn N		start N kthreads, each calling tp_target_block(i);
 *			R = how many were started
 *	inside 0	R = how many are waiting inside the replacement
 *	release 0	let them all return
 *	ok 0, bad 0, done 0
 *			R = sleepers that got the replacement's result with
 *			their r2 intact, that did not, that have finished
 *	reset 0		zero the counters and close the gate (no sleeper
 *			may be around)
 *	nest N		tp_target_nest(N): N-deep local recursion through a
 *			patched function; at the bottom, an hrtimer, an
 *			irq_work and a timer on this CPU and a function call
 *			IPI to another CPU each call tp_target_irq(); R =
 *			the recursion's result + a bit per interrupt-context
 *			call that did not get the replacement (100000 + ...)
 *	exit X		a kthread calls tp_target_exiting(X), whose replacement
 *			ends in kthread_complete_and_exit(); R = 0 if it exited
 *			there, 1 if the call returned, -ETIMEDOUT
 *	uexit X		the writing (user) task queues a task_work that calls
 *			tp_target_uexit(X) on its way back to user space,
 *			with no lock held; the replacement ends in
 *			do_exit(X << 8), the original returns X: R = 0
 *	uexitret 0	R = what that call returned, -1 if it did not
 *	bench N		N local calls of tp_target_irq() in a row; R = ns per
 *			call (a figure for the log, not a test)
 *	deep N		tp_target_deep(N) with interrupts off, its replacement
 *			recursing until the task's stack meets its shadow
 *			frames: R = the result (TP_DEEP_ORIG + the levels of
 *			the replacement above the call that ran the original);
 *			the free stack is painted first, and afterwards
 *	deepirq N	the same with interrupts on (those that land at the
 *			bottom use the same stack)
 *	deepgap 0	R = the bytes that stayed unwritten between the shadow
 *			frames and the deepest stack write of that run
 *			(-EBUSY if the run found frames on the stack already)
 *	deepused 0	R = how far below the deepest replacement's stack
 *			pointer (where the refused call was made) that write
 *			was: what ran after the refused push used
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/task_work.h>
#include <linux/timer.h>
#include <linux/wait.h>
#include "test_target.h"

/* The calls counters make these use their TOC (a global entry prologue). */
static int tp_shadow_calls;

static void tp_count(void)
{
	WRITE_ONCE(tp_shadow_calls, tp_shadow_calls + 1);
}

/* Sleepers: the replacement of tp_target_block waits in tp_block_wait(). */
static DECLARE_WAIT_QUEUE_HEAD(tp_block_wq);
static bool tp_block_open;
static atomic_t tp_block_in, tp_block_ok, tp_block_bad, tp_block_done;

void tp_block_wait(void)
{
	atomic_inc(&tp_block_in);
	wait_event_idle(tp_block_wq, READ_ONCE(tp_block_open));
}
EXPORT_SYMBOL_GPL(tp_block_wait);

noinline int tp_target_block(int x)
{
	TP_ASSERT_TOC();
	tp_count();
	return x;
}
EXPORT_SYMBOL_GPL(tp_target_block);

static int tp_sleeper(void *arg)
{
	int i = (long)arg;
	unsigned long before = tp_read_r2();
	int r = tp_target_block(i);

	if (r == i + TP_PATCHED_BIAS && before == tp_read_r2())
		atomic_inc(&tp_block_ok);
	else
		atomic_inc(&tp_block_bad);
	atomic_inc(&tp_block_done);
	module_put_and_kthread_exit(0);
}

static long tp_spawn(long n)
{
	struct task_struct *t;
	long i;

	for (i = 0; i < n; i++) {
		__module_get(THIS_MODULE);
		t = kthread_run(tp_sleeper, (void *)i, "tp_sleep%ld", i);
		if (IS_ERR(t)) {
			module_put(THIS_MODULE);
			pr_err("spawn: kthread %ld: %ld\n", i, PTR_ERR(t));
			break;
		}
	}
	return i;
}

/* Nesting: tp_target_nest_walk ends in a sibling call of tp_target_nest. */
noinline int tp_target_nest(int n)
{
	TP_ASSERT_TOC();
	tp_count();
	if (n <= 0)
		return tp_nest_bottom();
	return tp_target_nest_walk(n - 1) + 1;
}
EXPORT_SYMBOL_GPL(tp_target_nest);

noinline int tp_target_nest_walk(int n)
{
	return tp_target_nest(n);
}
EXPORT_SYMBOL_GPL(tp_target_nest_walk);

/* Called in interrupt context, by this module: local calls. */
noinline int tp_target_irq(int x)
{
	TP_ASSERT_TOC();
	tp_count();
	return x;
}
EXPORT_SYMBOL_GPL(tp_target_irq);

enum { TP_HRTIMER, TP_IRQ_WORK, TP_TIMER, TP_IPI, TP_IRQ_CASES };

/* 1: the call got the replacement with r2 intact, -1: it did not. */
static int tp_irq_res[TP_IRQ_CASES];

static void tp_irq_call(int i)
{
	unsigned long before = tp_read_r2();
	int r = tp_target_irq(i);

	WRITE_ONCE(tp_irq_res[i],
		   r == i + TP_PATCHED_BIAS && before == tp_read_r2() ? 1 : -1);
}

static enum hrtimer_restart tp_hrtimer_fn(struct hrtimer *t)
{
	tp_irq_call(TP_HRTIMER);
	return HRTIMER_NORESTART;
}

static void tp_irq_work_fn(struct irq_work *w)
{
	tp_irq_call(TP_IRQ_WORK);
}

static void tp_timer_fn(struct timer_list *t)
{
	tp_irq_call(TP_TIMER);
}

static void tp_ipi_fn(void *info)
{
	tp_irq_call(TP_IPI);
}

static struct hrtimer tp_hrtimer;
static struct irq_work tp_irq_work = IRQ_WORK_INIT_HARD(tp_irq_work_fn);
static struct timer_list tp_timer;

static bool tp_irq_all_done(int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!READ_ONCE(tp_irq_res[i]))
			return false;
	return true;
}

/*
 * At the bottom of the recursion, with this task's shadow frames N deep:
 * interrupt-context calls on this CPU (hrtimer and irq_work in hardirq on
 * the task's stack, the timer in softirq) use the same task's frames.
 * Returns a bit per call that did not get the replacement.
 */
int tp_nest_bottom(void)
{
	unsigned long end;
	int cpu, other, i, bad = 0;

	memset(tp_irq_res, 0, sizeof(tp_irq_res));
	preempt_disable();
	cpu = smp_processor_id();
	hrtimer_start(&tp_hrtimer, ns_to_ktime(100 * NSEC_PER_USEC),
		      HRTIMER_MODE_REL_PINNED_HARD);
	irq_work_queue(&tp_irq_work);
	tp_timer.expires = jiffies + 1;
	add_timer_on(&tp_timer, cpu);
	end = jiffies + 2 * HZ;
	while (!tp_irq_all_done(TP_IPI) && time_before(jiffies, end))
		cpu_relax();
	other = cpumask_any_but(cpu_online_mask, cpu);
	if (other < nr_cpu_ids)
		smp_call_function_single(other, tp_ipi_fn, NULL, 1);
	else
		WRITE_ONCE(tp_irq_res[TP_IPI], 1);
	preempt_enable();
	hrtimer_cancel(&tp_hrtimer);
	irq_work_sync(&tp_irq_work);
	timer_delete_sync(&tp_timer);
	for (i = 0; i < TP_IRQ_CASES; i++)
		if (tp_irq_res[i] != 1)
			bad |= 1 << i;
	return bad;
}
EXPORT_SYMBOL_GPL(tp_nest_bottom);

/* Exiting inside a replacement. */
DECLARE_COMPLETION(tp_exit_done);
EXPORT_SYMBOL_GPL(tp_exit_done);
static int tp_exit_returned;

noinline int tp_target_exiting(int x)
{
	TP_ASSERT_TOC();
	tp_count();
	return x;
}
EXPORT_SYMBOL_GPL(tp_target_exiting);

static int tp_exiter(void *arg)
{
	int r = tp_target_exiting((long)arg);

	WRITE_ONCE(tp_exit_returned, 1);
	kthread_complete_and_exit(&tp_exit_done, r);
}

static long tp_exit_case(long x)
{
	struct task_struct *t;

	reinit_completion(&tp_exit_done);
	WRITE_ONCE(tp_exit_returned, 0);
	t = kthread_run(tp_exiter, (void *)x, "tp_exiter");
	if (IS_ERR(t))
		return PTR_ERR(t);
	if (!wait_for_completion_timeout(&tp_exit_done, 10 * HZ))
		return -ETIMEDOUT;
	return READ_ONCE(tp_exit_returned);
}

/*
 * A user task exiting inside a replacement: the call is made from a
 * task_work, where a task runs on its way back to user space with no lock
 * held (where a fatal signal makes it exit too).
 */
static int tp_uexit_ret = -1;

noinline int tp_target_uexit(int x)
{
	TP_ASSERT_TOC();
	tp_count();
	return x;
}
EXPORT_SYMBOL_GPL(tp_target_uexit);

struct tp_uexit_work {
	struct callback_head head;
	int x;
};

static void tp_uexit_fn(struct callback_head *head)
{
	struct tp_uexit_work *w = container_of(head, struct tp_uexit_work, head);
	int x = w->x;

	/* Freed first: the call below may not come back. */
	kfree(w);
	WRITE_ONCE(tp_uexit_ret, tp_target_uexit(x));
}

static long tp_uexit_case(long x)
{
	struct tp_uexit_work *w = kmalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return -ENOMEM;
	w->x = x;
	init_task_work(&w->head, tp_uexit_fn);
	WRITE_ONCE(tp_uexit_ret, -1);
	if (task_work_add(current, &w->head, TWA_RESUME)) {
		kfree(w);
		return -ESRCH;
	}
	return 0;
}

/*
 * Stack exhaustion: the original never recurses (see test_target.h).
 * noipa: its callers must use what the call returns, not the constant.
 */
noinline __attribute__((__noipa__)) int tp_target_deep(int n)
{
	TP_ASSERT_TOC();
	tp_count();
	return TP_DEEP_ORIG;
}
EXPORT_SYMBOL_GPL(tp_target_deep);

noinline int tp_target_deep_walk(int n)
{
	return tp_target_deep(n);
}
EXPORT_SYMBOL_GPL(tp_target_deep_walk);

#define TP_PAINT	0x5a5aa5a55a5aa5a5UL
static long tp_deep_gap = -ENODATA, tp_deep_used = -ENODATA;
static unsigned long tp_deep_sp;

/* The replacement's stack pointer at each level: the lowest is kept. */
void tp_deep_note_sp(unsigned long sp)
{
	if (sp < tp_deep_sp)
		tp_deep_sp = sp;
}
EXPORT_SYMBOL_GPL(tp_deep_note_sp);

/*
 * The stack's lowest words: STACK_END_MAGIC, tocpatch's header (its
 * magic, the base rotated left by 16, plus the depth), then the frames
 * (Documentation/design.rst, "Per-task storage and its bounds").
 */
static long tp_deep_case(long n, bool irqoff)
{
	unsigned long *base = task_stack_page(current);
	unsigned long *lo = base + 2, *hi, *p;
	unsigned long depth = base[1] - rol64((unsigned long)base, 16);
	unsigned long flags = 0;
	long r;

	if (depth && depth <= 0xffff)
		return -EBUSY;		/* frames below us: do not paint them */
	/*
	 * Everything below our own frame and red zone is free. With
	 * interrupts on, one that lands meanwhile writes over some paint
	 * below us, and its frames are dead once it returns: that only
	 * counts as stack used.
	 */
	hi = (unsigned long *)((current_stack_pointer - 1024) & ~7UL);
	if (hi <= lo)
		return -ENOSPC;
	if (irqoff)
		local_irq_save(flags);
	for (p = lo; p < hi; p++)
		*p = TP_PAINT;
	tp_deep_sp = ULONG_MAX;
	r = tp_target_deep(n);
	/* Past the frames (written), the unwritten run, the deepest write. */
	for (p = lo; p < hi && *p != TP_PAINT; p++)
		;
	lo = p;
	for (; p < hi && *p == TP_PAINT; p++)
		;
	tp_deep_gap = (p - lo) * sizeof(*p);
	tp_deep_used = tp_deep_sp - (unsigned long)p;
	memset(base + 2, 0, (hi - (base + 2)) * sizeof(*p));
	if (irqoff)
		local_irq_restore(flags);
	return r;
}

static long tp_bench(long n)
{
	u64 t0 = ktime_get_ns();
	long i, sum = 0;

	if (n <= 0)
		return -EINVAL;
	for (i = 0; i < n; i++)
		sum += tp_target_irq(i);
	/* Keep the calls: their results are used. */
	if (sum == -1)
		pr_info("bench: sum %ld\n", sum);
	return div64_u64(ktime_get_ns() - t0, n);
}

static long shadow_case(const char *c, long arg)
{
	if (!strcmp(c, "spawn"))
		return tp_spawn(arg);
	if (!strcmp(c, "inside"))
		return atomic_read(&tp_block_in);
	if (!strcmp(c, "release")) {
		WRITE_ONCE(tp_block_open, true);
		wake_up_all(&tp_block_wq);
		return 0;
	}
	if (!strcmp(c, "ok"))
		return atomic_read(&tp_block_ok);
	if (!strcmp(c, "bad"))
		return atomic_read(&tp_block_bad);
	if (!strcmp(c, "done"))
		return atomic_read(&tp_block_done);
	if (!strcmp(c, "reset")) {
		WRITE_ONCE(tp_block_open, false);
		atomic_set(&tp_block_in, 0);
		atomic_set(&tp_block_ok, 0);
		atomic_set(&tp_block_bad, 0);
		atomic_set(&tp_block_done, 0);
		return 0;
	}
	if (!strcmp(c, "nest"))
		return tp_target_nest(arg);
	if (!strcmp(c, "exit"))
		return tp_exit_case(arg);
	if (!strcmp(c, "uexit"))
		return tp_uexit_case(arg);
	if (!strcmp(c, "uexitret"))
		return READ_ONCE(tp_uexit_ret);
	if (!strcmp(c, "bench"))
		return tp_bench(arg);
	if (!strcmp(c, "deep"))
		return tp_deep_case(arg, true);
	if (!strcmp(c, "deepirq"))
		return tp_deep_case(arg, false);
	if (!strcmp(c, "deepgap"))
		return tp_deep_gap;
	if (!strcmp(c, "deepused"))
		return tp_deep_used;
	return -EINVAL;
}

static long shadow_run(const char *c, long arg, bool *toc_ok)
{
	unsigned long before = tp_read_r2();
	long r = shadow_case(c, arg);

	*toc_ok = before == tp_read_r2();
	return r;
}

static struct dentry *shadow_file;

int tp_shadow_init(void)
{
	hrtimer_setup(&tp_hrtimer, tp_hrtimer_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL_PINNED_HARD);
	timer_setup(&tp_timer, tp_timer_fn, TIMER_PINNED);
	shadow_file = tp_call_file_create("shadow", shadow_run);
	return PTR_ERR_OR_ZERO(shadow_file);
}

void tp_shadow_exit(void)
{
	tp_call_file_remove(shadow_file);
	/* Sleepers hold a module reference, so none is left. */
	WRITE_ONCE(tp_block_open, true);
	wake_up_all(&tp_block_wq);
}
