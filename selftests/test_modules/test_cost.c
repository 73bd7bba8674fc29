// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest: the cost of a patched call (test-cost.sh), a quick
 * instrument for the hot path (the full benchmark is `make bench`).
 *
 * tp_cost_target() is a small TOC-using function that
 * tocpatch_test_cost_patch.ko replaces; tp_cost_plain() is the same
 * function, never patched, on which the "ops" case puts an empty ftrace
 * ops (the cost of ftrace itself).
 *
 * /sys/kernel/debug/tocpatch_test/cost: write "CASE N", read "result R
 * toc_ok B". R is the guest ns per call of N calls in a row (under
 * TOCPATCH_ICOUNT=1 guest ns are guest instructions), or -EBADE if one of
 * the calls did not return what the function that must have run returns
 * (the original's x + 1, or the replacement's x + TP_PATCHED_BIAS, as the
 * first call of the loop says).
 *	local N		N local calls of tp_cost_target (its local entry)
 *	global N	N calls through a function pointer (its global entry,
 *			followed by the TOC reload)
 *	localirq N, globalirq N: the same with interrupts off
 *	plain N, plainglobal N: local and global calls of tp_cost_plain
 *	ops 1|0		register (1) or unregister (0) the empty ftrace ops on
 *			tp_cost_plain
 *	bias 0		the bias the first call of tp_cost_target shows:
 *			1 unpatched, TP_PATCHED_BIAS patched
 *	smp N		on every online CPU at once, a kthread bound to it
 *			makes N local and N global calls (for the per-CPU
 *			counters: their sums must come out exact); R = the
 *			number of CPUs, or -EBADE if a call returned wrong
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/ftrace.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include "test_target.h"

int tp_cost_target(int x);
int tp_cost_plain(int x);

/*
 * Counting calls makes both use their TOC (a global entry prologue); two
 * counters keep GCC from folding the two identical functions into one.
 */
static int tp_cost_calls, tp_plain_calls;

noinline int tp_cost_target(int x)
{
	WRITE_ONCE(tp_cost_calls, tp_cost_calls + 1);
	return x + 1;
}
EXPORT_SYMBOL_GPL(tp_cost_target);

noinline int tp_cost_plain(int x)
{
	WRITE_ONCE(tp_plain_calls, tp_plain_calls + 1);
	return x + 1;
}
EXPORT_SYMBOL_GPL(tp_cost_plain);

/* Read with READ_ONCE() so that the compiler keeps an indirect call. */
static int (*cost_target_ptr)(int) = tp_cost_target;
static int (*cost_plain_ptr)(int) = tp_cost_plain;

/*
 * One loop per way in: the direct calls must stay direct (local entry),
 * so the function is named, not passed. Returns ns per call, or -EBADE.
 */
#define TP_COST_LOOP(n, call)						\
({									\
	long __bias = (call(0)) - 0, __i, __bad = 0;			\
	u64 __t0 = ktime_get_ns();					\
									\
	for (__i = 0; __i < (n); __i++)					\
		__bad |= (call((int)__i)) - (__i + __bias);		\
	__bad ? -EBADE : (long)div64_u64(ktime_get_ns() - __t0, (n));	\
})

static long cost_local(long n)
{
	return TP_COST_LOOP(n, tp_cost_target);
}

static long cost_global(long n)
{
	return TP_COST_LOOP(n, READ_ONCE(cost_target_ptr));
}

static long cost_plain(long n)
{
	return TP_COST_LOOP(n, tp_cost_plain);
}

static long cost_plain_global(long n)
{
	return TP_COST_LOOP(n, READ_ONCE(cost_plain_ptr));
}

static long irqs_off(long (*fn)(long), long n)
{
	unsigned long flags;
	long r;

	local_irq_save(flags);
	r = fn(n);
	local_irq_restore(flags);
	return r;
}

static void tp_cost_empty(unsigned long ip, unsigned long parent_ip,
			  struct ftrace_ops *op, struct ftrace_regs *fregs)
{
}

static struct ftrace_ops empty_ops = { .func = tp_cost_empty };
static bool empty_on;

static long cost_ops(long on)
{
	int r;

	if (on == empty_on)
		return 0;
	if (on) {
		r = ftrace_set_filter_ip(&empty_ops,
					 (unsigned long)tp_cost_plain, 0, 0);
		if (!r)
			r = register_ftrace_function(&empty_ops);
		if (r) {
			ftrace_free_filter(&empty_ops);
			return r;
		}
	} else {
		r = unregister_ftrace_function(&empty_ops);
		if (r)
			return r;
		ftrace_free_filter(&empty_ops);
	}
	empty_on = on;
	return 0;
}

struct smp_worker {
	long n;
	long r;
	bool started;
	struct completion done;
};

static int smp_worker_fn(void *data)
{
	struct smp_worker *w = data;
	long a = cost_local(w->n), b = cost_global(w->n);

	w->r = a < 0 ? a : b;
	/* No code of this module runs after the completion. */
	kthread_complete_and_exit(&w->done, 0);
}

/* N local and N global calls on every online CPU at the same time. */
static long cost_smp(long n)
{
	struct smp_worker *w;
	int cpu, ncpu = 0;
	long r = 0;

	w = kcalloc(nr_cpu_ids, sizeof(*w), GFP_KERNEL);
	if (!w)
		return -ENOMEM;
	cpus_read_lock();
	for_each_online_cpu(cpu) {
		struct task_struct *t;

		w[cpu].n = n;
		init_completion(&w[cpu].done);
		t = kthread_run_on_cpu(smp_worker_fn, &w[cpu], cpu, "tp_cost/%u");
		if (IS_ERR(t))
			r = PTR_ERR(t);
		else
			w[cpu].started = true;
		ncpu++;
	}
	for_each_online_cpu(cpu) {
		if (!w[cpu].started)
			continue;
		wait_for_completion(&w[cpu].done);
		if (w[cpu].r < 0)
			r = w[cpu].r;
	}
	cpus_read_unlock();
	kfree(w);
	return r < 0 ? r : ncpu;
}

static long cost_run(const char *c, long arg, bool *toc_ok)
{
	unsigned long before = tp_read_r2();
	long r;

	if ((arg <= 0 && strcmp(c, "ops") && strcmp(c, "bias")) || arg > 10000000)
		r = -EINVAL;
	else if (!strcmp(c, "local"))
		r = cost_local(arg);
	else if (!strcmp(c, "global"))
		r = cost_global(arg);
	else if (!strcmp(c, "localirq"))
		r = irqs_off(cost_local, arg);
	else if (!strcmp(c, "globalirq"))
		r = irqs_off(cost_global, arg);
	else if (!strcmp(c, "plain"))
		r = cost_plain(arg);
	else if (!strcmp(c, "plainglobal"))
		r = cost_plain_global(arg);
	else if (!strcmp(c, "ops"))
		r = cost_ops(!!arg);
	else if (!strcmp(c, "smp"))
		r = cost_smp(arg);
	else if (!strcmp(c, "bias"))
		r = tp_cost_target(0);
	else
		r = -EINVAL;
	*toc_ok = before == tp_read_r2();
	return r;
}

static struct dentry *file;

static int __init tp_cost_init(void)
{
	file = tp_call_file_create("cost", cost_run);
	return PTR_ERR_OR_ZERO(file);
}

static void __exit tp_cost_exit(void)
{
	tp_call_file_remove(file);
	cost_ops(0);
}

module_init(tp_cost_init);
module_exit(tp_cost_exit);
MODULE_DESCRIPTION("tocpatch selftest: the cost of a patched call");
MODULE_LICENSE("GPL");
