// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_sample_callbacks_mod: a module that only logs its init and
 * exit, a target for tocpatch_sample_callbacks_demo (the counterpart of
 * upstream's samples/livepatch/livepatch-callbacks-mod.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

static int __init tocpatch_sample_callbacks_mod_init(void)
{
	pr_info("%s\n", __func__);
	return 0;
}

static void __exit tocpatch_sample_callbacks_mod_exit(void)
{
	pr_info("%s\n", __func__);
}

module_init(tocpatch_sample_callbacks_mod_init);
module_exit(tocpatch_sample_callbacks_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch sample: callbacks target module");
