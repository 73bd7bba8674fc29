// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_callbacks_mod: a target module that only logs its init and
 * exit, the counterpart of upstream's test_klp_callbacks_mod.ko.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

static int __init tocpatch_test_callbacks_mod_init(void)
{
	pr_info("%s\n", __func__);
	return 0;
}

static void __exit tocpatch_test_callbacks_mod_exit(void)
{
	pr_info("%s\n", __func__);
}

module_init(tocpatch_test_callbacks_mod_init);
module_exit(tocpatch_test_callbacks_mod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch selftest: callbacks target module");
