// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_sample_callbacks_demo: the counterpart of upstream's
 * samples/livepatch/livepatch-callbacks-demo.c as a tocpatch patch: each
 * object's callbacks log what they are called for, with the state of the
 * object's module. Objects: vmlinux and tocpatch_sample_callbacks_mod
 * (callbacks only), and tocpatch_sample_callbacks_busymod, whose
 * busymod_work_func is replaced.
 *
 * Try: insmod tocpatch_sample_callbacks_demo.ko, then load and unload the
 * two target modules (before or after), then
 * echo 0 >/sys/kernel/tocpatch/tocpatch_sample_callbacks_demo/enabled
 * and watch the kernel log. pre_patch returns the pre_patch_ret parameter
 * (set it to -19 to see an enable, or a module load, refused); replace=1
 * makes it a cumulative patch.
 *
 * The selftests build it again under their own names
 * (selftests/test_modules/test_callbacks_demo.c): CB_MOD_NAME,
 * CB_BUSY_NAME, CB_BUSY_FUNC and CB_DESCRIPTION name the objects, the
 * replaced function and the module; CB_VMLINUX_ONLY leaves out the two
 * module objects.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>
#include <tocpatch.h>

#ifndef CB_MOD_NAME
#define CB_MOD_NAME	"tocpatch_sample_callbacks_mod"
#define CB_BUSY_NAME	"tocpatch_sample_callbacks_busymod"
#define CB_BUSY_FUNC	"busymod_work_func"
#define CB_DESCRIPTION	"tocpatch sample: callbacks demo"
#endif

static int pre_patch_ret;
module_param(pre_patch_ret, int, 0644);
MODULE_PARM_DESC(pre_patch_ret, "what pre_patch returns (default 0)");

static int replace;
module_param(replace, int, 0644);
MODULE_PARM_DESC(replace, "replace (default=0): a cumulative patch");

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

#ifndef CB_VMLINUX_ONLY
static void patched_work_func(struct work_struct *work)
{
	pr_info("%s\n", __func__);
}

static struct tocpatch_func busymod_funcs[] = {
	{ .old_name = CB_BUSY_FUNC, .new_func = patched_work_func },
	{ }
};
#endif

static struct tocpatch_object objs[] = {
	{ .name = NULL, .funcs = no_funcs, .callbacks = CALLBACKS },
#ifndef CB_VMLINUX_ONLY
	{
		.name = CB_MOD_NAME,
		.funcs = no_funcs,
		.callbacks = CALLBACKS,
	}, {
		.name = CB_BUSY_NAME,
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

static int __init sample_callbacks_demo_init(void)
{
	patch.replace = replace;
	return tocpatch_enable_patch(&patch);
}

static void __exit sample_callbacks_demo_exit(void)
{
}

module_init(sample_callbacks_demo_init);
module_exit(sample_callbacks_demo_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(CB_DESCRIPTION);
