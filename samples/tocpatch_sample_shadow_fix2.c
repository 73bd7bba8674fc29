// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch sample: a new field for an existing structure, as a shadow
 * variable (the counterpart of upstream's
 * samples/livepatch/livepatch-shadow-fix2.c).
 *
 * The replacement of dummy_check() counts, in a shadow variable
 * SV_COUNTER attached on first use (GFP_NOWAIT: it runs under a mutex in
 * a worker, and must not sleep in reclaim for a counter), how often each
 * dummy was checked; the replacement of dummy_free() reports the count,
 * and also frees the SV_LEAK buffer of fix1 if there is one. As in
 * upstream's samples README, load it on top of fix1: the two patches
 * stack on dummy_free, fix2's wins while it is enabled and fix1's
 * dummy_alloc stays; disabling fix2 gives dummy_free back to fix1. (On
 * its own, with dummy_alloc unpatched, every dummy's buffer leaks, and is
 * reported so.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <tocpatch.h>

#define SV_LEAK 1
#define SV_COUNTER 2

struct dummy {
	struct list_head list;
	unsigned long jiffies_expire;
};

static bool fix2_dummy_check(struct dummy *d, unsigned long now)
{
	int *count;

	/* Dummies from before the patch get their counter here. */
	count = tocpatch_shadow_get_or_alloc(d, SV_COUNTER, sizeof(*count),
					     GFP_NOWAIT, NULL, NULL);
	if (count)
		*count += 1;
	return time_after(now, d->jiffies_expire);
}

static void leak_dtor(void *obj, void *shadow_data)
{
	int **slot = shadow_data;

	pr_info("%s: dummy @ %p, prevented leak @ %p\n", __func__, obj, *slot);
	kfree(*slot);
}

static void fix2_dummy_free(struct dummy *d)
{
	int *count;

	if (tocpatch_shadow_get(d, SV_LEAK))
		tocpatch_shadow_free(d, SV_LEAK, leak_dtor);
	else
		pr_info("%s: dummy @ %p leaked!\n", __func__, d);

	count = tocpatch_shadow_get(d, SV_COUNTER);
	if (count) {
		pr_info("%s: dummy @ %p, check counter = %d\n", __func__, d,
			*count);
		tocpatch_shadow_free(d, SV_COUNTER, NULL);
	}
	kfree(d);
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "dummy_check", .new_func = fix2_dummy_check },
	{ .old_name = "dummy_free", .new_func = fix2_dummy_free },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = "tocpatch_sample_shadow_mod", .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init fix2_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit fix2_exit(void)
{
	tocpatch_shadow_free_all(SV_COUNTER, NULL);
}

module_init(fix2_init);
module_exit(fix2_exit);
MODULE_DESCRIPTION("tocpatch sample: a new field as a shadow variable");
MODULE_LICENSE("GPL");
