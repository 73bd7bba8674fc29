// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch sample: a buggy module for the shadow variable samples (the
 * counterpart of upstream's samples/livepatch/livepatch-shadow-mod.c).
 *
 * Every period it allocates a "dummy" and, with it, a small buffer whose
 * pointer it forgets: a leak. Every three periods it frees the dummies
 * that have expired (after twelve periods), leaking their buffers.
 * tocpatch_sample_shadow_fix1.ko fixes the leak by keeping the buffer in a
 * shadow variable of the dummy; tocpatch_sample_shadow_fix2.ko adds a
 * counter of the checks of each dummy in another one.
 *
 *	insmod tocpatch.ko
 *	insmod tocpatch_sample_shadow_mod.ko [period_ms=1000]
 *	insmod tocpatch_sample_shadow_fix1.ko [period_ms=1000]
 *	(dmesg: fix1 frees the buffers of the dummies it allocated)
 *	rmmod tocpatch_sample_shadow_mod	(its exit frees the rest, patched)
 *	echo 0 > /sys/kernel/tocpatch/tocpatch_sample_shadow_fix1/enabled
 *	rmmod tocpatch_sample_shadow_fix1
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

static unsigned int period_ms = 1000;
module_param(period_ms, uint, 0444);
MODULE_PARM_DESC(period_ms, "allocation period (cleanup: 3 periods, expiry: 12)");

static LIST_HEAD(dummies);
static DEFINE_MUTEX(dummies_lock);

/* The layout the fix modules repeat. */
struct dummy {
	struct list_head list;
	unsigned long jiffies_expire;
};

static __used noinline struct dummy *dummy_alloc(void)
{
	struct dummy *d;
	int *buf;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->jiffies_expire = jiffies + msecs_to_jiffies(12 * period_ms);

	/* The bug: the buffer's address is not kept anywhere. */
	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf) {
		kfree(d);
		return NULL;
	}
	pr_info("%s: dummy @ %p, expires @ %lx\n", __func__, d,
		d->jiffies_expire);
	return d;
}

static __used noinline void dummy_free(struct dummy *d)
{
	pr_info("%s: dummy @ %p, expired = %lx\n", __func__, d,
		d->jiffies_expire);
	kfree(d);
}

static __used noinline bool dummy_check(struct dummy *d, unsigned long now)
{
	return time_after(now, d->jiffies_expire);
}

static void alloc_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(alloc_work, alloc_fn);

static void alloc_fn(struct work_struct *w)
{
	struct dummy *d = dummy_alloc();

	if (!d)
		return;
	mutex_lock(&dummies_lock);
	list_add(&d->list, &dummies);
	mutex_unlock(&dummies_lock);
	schedule_delayed_work(&alloc_work, msecs_to_jiffies(period_ms));
}

static void cleanup_fn(struct work_struct *w);
static DECLARE_DELAYED_WORK(cleanup_work, cleanup_fn);

static void cleanup_fn(struct work_struct *w)
{
	unsigned long now = jiffies;
	struct dummy *d, *tmp;

	pr_info("%s: jiffies = %lx\n", __func__, now);
	mutex_lock(&dummies_lock);
	list_for_each_entry_safe(d, tmp, &dummies, list) {
		if (dummy_check(d, now)) {
			list_del(&d->list);
			dummy_free(d);
		}
	}
	mutex_unlock(&dummies_lock);
	schedule_delayed_work(&cleanup_work, msecs_to_jiffies(3 * period_ms));
}

static int __init shadow_mod_init(void)
{
	if (!period_ms)
		return -EINVAL;
	schedule_delayed_work(&alloc_work, msecs_to_jiffies(period_ms));
	schedule_delayed_work(&cleanup_work, msecs_to_jiffies(3 * period_ms));
	return 0;
}

static void __exit shadow_mod_exit(void)
{
	struct dummy *d, *tmp;

	cancel_delayed_work_sync(&alloc_work);
	cancel_delayed_work_sync(&cleanup_work);
	/* The dummies still listed: through dummy_free (patched or not). */
	list_for_each_entry_safe(d, tmp, &dummies, list) {
		list_del(&d->list);
		dummy_free(d);
	}
}

module_init(shadow_mod_init);
module_exit(shadow_mod_exit);
MODULE_DESCRIPTION("tocpatch sample: a leaking module for the shadow variable samples");
MODULE_LICENSE("GPL");
