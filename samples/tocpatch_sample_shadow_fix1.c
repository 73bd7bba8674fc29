// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch sample: fix the leak of tocpatch_sample_shadow_mod.ko with a
 * shadow variable (the counterpart of upstream's
 * samples/livepatch/livepatch-shadow-fix1.c).
 *
 * The replacement of dummy_alloc() keeps the buffer's address in a
 * shadow variable SV_LEAK of the dummy; the replacement of dummy_free()
 * frees the buffer through that variable's destructor. Dummies allocated
 * before the patch have no such variable: their buffers stay leaked (and
 * are reported). See tocpatch_sample_shadow_mod.c for the commands.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <tocpatch.h>

#define SV_LEAK 1

static unsigned int period_ms = 1000;
module_param(period_ms, uint, 0444);
MODULE_PARM_DESC(period_ms, "tocpatch_sample_shadow_mod's period_ms");

struct dummy {
	struct list_head list;
	unsigned long jiffies_expire;
};

/* Under tocpatch's shadow lock: keep the buffer's address. */
static int leak_ctor(void *obj, void *shadow_data, void *ctor_data)
{
	int **slot = shadow_data, **buf = ctor_data;

	if (!buf)
		return -EINVAL;
	*slot = *buf;
	return 0;
}

static void leak_dtor(void *obj, void *shadow_data)
{
	int **slot = shadow_data;

	pr_info("%s: dummy @ %p, prevented leak @ %p\n", __func__, obj, *slot);
	kfree(*slot);
}

static struct dummy *fix1_dummy_alloc(void)
{
	struct dummy *d;
	int *buf;

	d = kzalloc(sizeof(*d), GFP_KERNEL);
	if (!d)
		return NULL;
	d->jiffies_expire = jiffies + msecs_to_jiffies(12 * period_ms);

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		goto free_dummy;
	/* The fix: the buffer's address goes with the dummy. */
	if (!tocpatch_shadow_alloc(d, SV_LEAK, sizeof(buf), GFP_KERNEL,
				   leak_ctor, &buf)) {
		pr_err("%s: no shadow variable for the buffer: dummy @ %p, buffer @ %p\n",
		       __func__, d, buf);
		goto free_buf;
	}
	pr_info("%s: dummy @ %p, expires @ %lx\n", __func__, d,
		d->jiffies_expire);
	return d;

free_buf:
	kfree(buf);
free_dummy:
	kfree(d);
	return NULL;
}

static void fix1_dummy_free(struct dummy *d)
{
	/* Dummies from before the patch have no SV_LEAK. */
	if (tocpatch_shadow_get(d, SV_LEAK))
		tocpatch_shadow_free(d, SV_LEAK, leak_dtor);
	else
		pr_info("%s: dummy @ %p leaked!\n", __func__, d);
	kfree(d);
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "dummy_alloc", .new_func = fix1_dummy_alloc },
	{ .old_name = "dummy_free", .new_func = fix1_dummy_free },
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

static int __init fix1_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit fix1_exit(void)
{
	/* The buffers of dummies still alive: freed with their variables. */
	tocpatch_shadow_free_all(SV_LEAK, leak_dtor);
}

module_init(fix1_init);
module_exit(fix1_exit);
MODULE_DESCRIPTION("tocpatch sample: fix a leak with a shadow variable");
MODULE_LICENSE("GPL");
