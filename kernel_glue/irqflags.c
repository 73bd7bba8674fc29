// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: local interrupt masking for the shadow-stack push and pop,
 * which run in the ftrace callback and the return trampoline, in any
 * context. local_irq_save()/local_irq_restore() are macros, out of reach of
 * Rust; the refcounted local_interrupt_disable() of the kernel crate keeps
 * its count in the task's preempt_count and the saved state per CPU, which
 * is more than this needs. notrace: they run inside the ftrace callback.
 */
#include <linux/irqflags.h>
#include "glue.h"

notrace unsigned long tocpatch_irq_save(void)
{
	unsigned long flags;

	local_irq_save(flags);
	return flags;
}

notrace void tocpatch_irq_restore(unsigned long flags)
{
	local_irq_restore(flags);
}
