// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_callbacks_demo (and, built with TP_DEMO2,
 * tocpatch_test_callbacks_demo2): a patch whose objects log each callback
 * with the state of their module, the counterpart of upstream's
 * test_klp_callbacks_demo{,2}.ko (test-callbacks.sh). Objects: vmlinux
 * and tocpatch_test_callbacks_mod (callbacks only), and
 * tocpatch_test_callbacks_busy, whose tp_busymod_work_func is replaced.
 * pre_patch returns the pre_patch_ret parameter (writable while loaded).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>
#include <tocpatch.h>

static int pre_patch_ret;
module_param(pre_patch_ret, int, 0644);

static int replace;
module_param(replace, int, 0644);
MODULE_PARM_DESC(replace, "replace (default=0): a cumulative patch");
MODULE_PARM_DESC(pre_patch_ret, "what pre_patch returns (default 0)");

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

static int pre_patch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
	return pre_patch_ret;
}

static void post_patch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
}

static void pre_unpatch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
}

static void post_unpatch_callback(struct tocpatch_object *obj)
{
	callback_info(__func__, obj);
}

#define CALLBACKS {						\
		.pre_patch = pre_patch_callback,		\
		.post_patch = post_patch_callback,		\
		.pre_unpatch = pre_unpatch_callback,		\
		.post_unpatch = post_unpatch_callback,		\
	}

static struct tocpatch_func no_funcs[] = {
	{ }
};

#ifndef TP_DEMO2
static void patched_work_func(struct work_struct *work)
{
	pr_info("%s\n", __func__);
}

static struct tocpatch_func busymod_funcs[] = {
	{ .old_name = "tp_busymod_work_func", .new_func = patched_work_func },
	{ }
};
#endif

static struct tocpatch_object objs[] = {
	{ .name = NULL, .funcs = no_funcs, .callbacks = CALLBACKS },
#ifndef TP_DEMO2
	{
		.name = "tocpatch_test_callbacks_mod",
		.funcs = no_funcs,
		.callbacks = CALLBACKS,
	}, {
		.name = "tocpatch_test_callbacks_busy",
		.funcs = busymod_funcs,
		.callbacks = CALLBACKS,
	},
#endif
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_callbacks_demo_init(void)
{
	patch.replace = replace;
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_callbacks_demo_exit(void)
{
}

module_init(tp_callbacks_demo_init);
module_exit(tp_callbacks_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch selftest: callbacks demo patch");
