// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_sample_state_fix1: a patch that changes a system state, the
 * console loglevel, and records the change in a patch state (struct
 * tocpatch_state, livepatch's klp_state), as upstream's
 * tools/testing/selftests/livepatch/test_modules/test_klp_state.c does.
 * Its callbacks allocate room for the old loglevel (pre_patch), raise
 * the loglevel (post_patch), put it back (pre_unpatch) and free the room
 * (post_unpatch). It is a cumulative patch (replace).
 *
 * tocpatch_sample_state_fix2 is the same at version 2 of the state: it
 * can take the change over from an enabled patch that made it
 * (tocpatch_get_prev_state()), and pass it back. Enabling fix2 over fix1
 * replaces fix1, which gets no callback: the loglevel stays raised and
 * fix2 owns the saved value. Enabling fix1 over fix2 is refused with
 * -EINVAL: version 1 does not know how to take over version 2.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <tocpatch.h>

#define CONSOLE_LOGLEVEL_STATE 1
#ifndef CONSOLE_LOGLEVEL_STATE_VERSION
/* Version 1 does not support migration. */
#define CONSOLE_LOGLEVEL_STATE_VERSION 1
#endif

static const char *const module_state[] = {
	[MODULE_STATE_LIVE]	= "[MODULE_STATE_LIVE] Normal state",
	[MODULE_STATE_COMING]	= "[MODULE_STATE_COMING] Full formed, running module_init",
	[MODULE_STATE_GOING]	= "[MODULE_STATE_GOING] Going away",
	[MODULE_STATE_UNFORMED]	= "[MODULE_STATE_UNFORMED] Still setting it up",
};

static void callback_info(const char *callback, struct tocpatch_object *obj)
{
	if (obj->mod)
		pr_info("%s: %s -> %s\n", callback, obj->mod->name,
			module_state[obj->mod->state]);
	else
		pr_info("%s: vmlinux\n", callback);
}

static struct tocpatch_patch patch;

/* Whether an enabled patch made the change already (version 2 only). */
static struct tocpatch_state *prev_state(void)
{
	if (CONSOLE_LOGLEVEL_STATE_VERSION < 2)
		return NULL;
	return tocpatch_get_prev_state(CONSOLE_LOGLEVEL_STATE);
}

static int allocate_loglevel_state(void)
{
	struct tocpatch_state *loglevel_state;

	if (prev_state()) {
		pr_info("%s: space to store console_loglevel already allocated\n",
			__func__);
		return 0;
	}

	loglevel_state = tocpatch_get_state(&patch, CONSOLE_LOGLEVEL_STATE);
	if (!loglevel_state)
		return -EINVAL;

	loglevel_state->data = kzalloc(sizeof(console_loglevel), GFP_KERNEL);
	if (!loglevel_state->data)
		return -ENOMEM;

	pr_info("%s: allocating space to store console_loglevel\n",
		__func__);
	return 0;
}

static void fix_console_loglevel(void)
{
	struct tocpatch_state *loglevel_state, *prev;

	loglevel_state = tocpatch_get_state(&patch, CONSOLE_LOGLEVEL_STATE);
	if (!loglevel_state)
		return;

	prev = prev_state();
	if (prev) {
		pr_info("%s: taking over the console_loglevel change\n",
			__func__);
		loglevel_state->data = prev->data;
		return;
	}

	pr_info("%s: fixing console_loglevel\n", __func__);
	*(int *)loglevel_state->data = console_loglevel;
	console_loglevel = CONSOLE_LOGLEVEL_MOTORMOUTH;
}

static void restore_console_loglevel(void)
{
	struct tocpatch_state *loglevel_state;

	if (prev_state()) {
		pr_info("%s: passing the console_loglevel change back to the old livepatch\n",
			__func__);
		return;
	}

	loglevel_state = tocpatch_get_state(&patch, CONSOLE_LOGLEVEL_STATE);
	if (!loglevel_state)
		return;

	pr_info("%s: restoring console_loglevel\n", __func__);
	console_loglevel = *(int *)loglevel_state->data;
}

static void free_loglevel_state(void)
{
	struct tocpatch_state *loglevel_state;

	if (prev_state()) {
		pr_info("%s: keeping space to store console_loglevel\n",
			__func__);
		return;
	}

	loglevel_state = tocpatch_get_state(&patch, CONSOLE_LOGLEVEL_STATE);
	if (!loglevel_state)
		return;

	pr_info("%s: freeing space for the stored console_loglevel\n",
		__func__);
	kfree(loglevel_state->data);
}

static int pre_patch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
	return allocate_loglevel_state();
}

static void post_patch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
	fix_console_loglevel();
}

static void pre_unpatch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
	restore_console_loglevel();
}

static void post_unpatch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
	free_loglevel_state();
}

static struct tocpatch_func no_funcs[] = {
	{ }
};

static struct tocpatch_object objs[] = {
	{
		.name = NULL,	/* vmlinux */
		.funcs = no_funcs,
		.callbacks = {
			.pre_patch = pre_patch_callback,
			.post_patch = post_patch_callback,
			.pre_unpatch = pre_unpatch_callback,
			.post_unpatch = post_unpatch_callback,
		},
	}, { }
};

static struct tocpatch_state states[] = {
	{
		.id = CONSOLE_LOGLEVEL_STATE,
		.version = CONSOLE_LOGLEVEL_STATE_VERSION,
	}, { }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	.states = states,
	.replace = true,
};

static int __init tp_state_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_state_exit(void)
{
}

module_init(tp_state_init);
module_exit(tp_state_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch sample: a patch state (the console loglevel)");
