// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the once-per-function report of a call that ran the original
 * function (no room for its shadow frame), deferred to process context.
 *
 * That call happens when the task's stack has come within the margin of
 * its shadow frames (design.rst, "Per-task storage and its bounds"): a
 * printk there, from inside the ftrace callback, could take more stack
 * than is left and write over the frames. The callback only flags the
 * function and queues a lazy irq_work (safe in any context, NMI included,
 * and a few small frames deep). Lazy: it runs from the next timer tick
 * instead of an interrupt raised at once, which on powerpc (set_dec(1))
 * would land inside the callback, on the nearly exhausted stack. The
 * irq_work queues a work item, and the work item, on a kworker's own
 * stack, calls back into Rust to log every flagged function of the
 * registry.
 */
#include <linux/irq_work.h>
#include <linux/workqueue.h>
#include "glue.h"

static void tocpatch_report_work_fn(struct work_struct *work)
{
	tocpatch_report_fallbacks();
}

static DECLARE_WORK(tocpatch_report_work, tocpatch_report_work_fn);

static void tocpatch_report_irq_work_fn(struct irq_work *w)
{
	schedule_work(&tocpatch_report_work);
}

static struct irq_work tocpatch_report_irq_work =
	IRQ_WORK_INIT_LAZY(tocpatch_report_irq_work_fn);

/* From the callback, any context: have the flagged functions logged. */
notrace void tocpatch_report_kick(void)
{
	irq_work_queue(&tocpatch_report_irq_work);
}

/* Module unload, after the last callback: nothing of ours runs later. */
void tocpatch_report_stop(void)
{
	irq_work_sync(&tocpatch_report_irq_work);
	cancel_work_sync(&tocpatch_report_work);
}
