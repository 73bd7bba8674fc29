// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: is a patch module's code still in use by some task?
 *
 * Asked after a patch is disabled: its ftrace ops are gone, so no new call
 * reaches a replacement, but a task may still be inside one (sleeping in
 * it, or preempted in it) or be about to return into one, or hold a shadow
 * frame of one of the patch's functions (which the return trampoline will
 * pop, reading the function's counters).
 *
 * We look with every CPU held in stop_machine(), the check kpatch made:
 * then no task but the stopper threads runs, so every other task's kernel
 * stack is stable. We walk each stack's back chain ourselves and look at
 * the LR save word of every frame and, for interrupt frames (marked with
 * STACK_FRAME_REGS_MARKER), at the saved NIP and LR too, which covers a
 * task preempted in the middle of a replacement, leaf functions included.
 * The generic stack_trace_save_tsk() reports neither of the latter. The
 * shadow frames at the base of each stack are read by
 * tocpatch_shadow_holds() (rust/shadow.rs), which knows their layout.
 *
 * Tasks that are exiting (exit_state set) or have no stack any more are
 * skipped: they never return into anything, and a task that exited inside
 * a replacement (kthread_complete_and_exit() there) leaves frames that are
 * never popped and a back chain through the replacement.
 */
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/sched/task_stack.h>
#include <linux/stop_machine.h>
#include <asm/ptrace.h>
#include "glue.h"

/* Deeper stacks than this are not walked further (and counted in use). */
#define TOCPATCH_MAX_FRAMES 256

struct tocpatch_scan {
	unsigned long start;
	unsigned long end;
	const unsigned long *owners;
	size_t n_owners;
	int found;
};

static bool tocpatch_in(const struct tocpatch_scan *s, unsigned long addr)
{
	return addr >= s->start && addr < s->end;
}

/* Does the stack of @t (not running) hold an address in the range? */
static bool tocpatch_scan_task(const struct tocpatch_scan *s,
			       struct task_struct *t)
{
	unsigned long base = (unsigned long)task_stack_page(t);
	unsigned long sp = t->thread.ksp;
	unsigned int i;

	for (i = 0; i < TOCPATCH_MAX_FRAMES; i++) {
		unsigned long *frame = (unsigned long *)sp;

		if (sp < base || sp > base + THREAD_SIZE - STACK_FRAME_MIN_SIZE ||
		    (sp & 15))
			return false;
		if (tocpatch_in(s, frame[STACK_FRAME_LR_SAVE]))
			return true;
		if (sp <= base + THREAD_SIZE - STACK_INT_FRAME_SIZE &&
		    frame[STACK_INT_FRAME_MARKER_LONGS] == STACK_FRAME_REGS_MARKER) {
			struct pt_regs *regs = (struct pt_regs *)(sp + STACK_INT_FRAME_REGS);

			if (tocpatch_in(s, regs->nip) || tocpatch_in(s, regs->link))
				return true;
		}
		if (!frame[0])
			return false;
		sp = frame[0];
	}
	return true;
}

static int tocpatch_scan_all(void *data)
{
	struct tocpatch_scan *s = data;
	struct task_struct *g, *t;

	/* Only the CPU that runs this does the walk; the others just wait. */
	rcu_read_lock();
	for_each_process_thread(g, t) {
		/* The stopper threads are the only tasks on a CPU now. */
		if (t == current || READ_ONCE(t->on_cpu))
			continue;
		if (t->exit_state || !t->stack)
			continue;
		if (tocpatch_scan_task(s, t) ||
		    tocpatch_shadow_holds(t->stack, s->owners, s->n_owners))
			s->found++;
	}
	rcu_read_unlock();
	return 0;
}

/**
 * tocpatch_tasks_in_use - count tasks that may still use a patch's code
 * @start:	start of the text range (a patch module's text)
 * @end:	its end
 * @owners:	the owner words of the patch's shadow frames (its targets'
 *		per-CPU counters, rust/counters.rs)
 * @n:		how many
 *
 * Counts live tasks that have an address in the range on their stack or a
 * shadow frame with one of the owners. Sleeps (stop_machine). Return: the
 * number of tasks found, or a negative errno if stop_machine() failed.
 */
int tocpatch_tasks_in_use(unsigned long start, unsigned long end,
			  const unsigned long *owners, size_t n)
{
	struct tocpatch_scan s = {
		.start = start, .end = end, .owners = owners, .n_owners = n,
	};
	int ret;

	ret = stop_machine(tocpatch_scan_all, &s, NULL);
	return ret ? ret : s.found;
}
