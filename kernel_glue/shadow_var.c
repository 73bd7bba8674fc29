// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the kernel primitives under the shadow variables of
 * rust/shadow_var.rs (the table and its logic are in Rust): the table's
 * irq-safe writer lock, the RCU read side, allocation with the caller's
 * gfp flags, and the RCU-deferred free. spin_lock_irqsave(), kzalloc()
 * and rcu_read_lock() are macros or inlines the Rust side cannot call.
 */
#include <linux/hardirq.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include "glue.h"

/* Serialises the writers of the table (alloc, free, free_all, unload). */
static DEFINE_SPINLOCK(shvar_lock);

/*
 * The Rust node keeps two words for the head kvfree_call_rcu() links
 * (struct kvfree_rcu_head is one or two words depending on the config).
 */
static_assert(sizeof(struct kvfree_rcu_head) <= 2 * sizeof(void *));

/*
 * Takes the writer lock with interrupts off. Refused (false) in NMI
 * context, where spinning on a lock the interrupted code may hold would
 * deadlock.
 */
bool tocpatch_shvar_lock(unsigned long *flags)
{
	if (in_nmi())
		return false;
	spin_lock_irqsave(&shvar_lock, *flags);
	return true;
}

bool tocpatch_shvar_in_nmi(void)
{
	return in_nmi();
}

void tocpatch_shvar_unlock(unsigned long flags)
{
	spin_unlock_irqrestore(&shvar_lock, flags);
}

void tocpatch_shvar_rcu_read_lock(void)
{
	rcu_read_lock();
}

void tocpatch_shvar_rcu_read_unlock(void)
{
	rcu_read_unlock();
}

void *tocpatch_shvar_zalloc(size_t size, gfp_t gfp)
{
	return kzalloc(size, gfp);
}

void tocpatch_shvar_kfree(void *p)
{
	kfree(p);
}

/* Frees @node (kmalloc'ed) after a grace period; @head is inside it. */
void tocpatch_shvar_kfree_rcu(void *node, void *head)
{
	kvfree_call_rcu(head, node);
}

/*
 * The shadow API's log lines, here for %p (hashed pointers). Rate
 * limited: a patched function on a hot path could repeat the mistake.
 */
void tocpatch_shvar_report(int what, void *obj, unsigned long id, int err)
{
	switch (what) {
	case TOCPATCH_SHVAR_DUPLICATE:
		pr_err_ratelimited("tocpatch: duplicate shadow variable <%p, %lx>: not allocated\n",
				   obj, id);
		break;
	case TOCPATCH_SHVAR_CTOR_FAILED:
		pr_err_ratelimited("tocpatch: failed to construct shadow variable <%p, %lx> (%d)\n",
				   obj, id, err);
		break;
	case TOCPATCH_SHVAR_IN_NMI:
		pr_err_ratelimited("tocpatch: shadow variable <%p, %lx>: cannot allocate or free in NMI context\n",
				   obj, id);
		break;
	}
}
