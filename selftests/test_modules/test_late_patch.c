// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_late_patch: replaces tp_target_add of
 * tocpatch_test_target.ko without linking against it, so that it can be
 * enabled before the target module is loaded (test-callbacks.sh: modules
 * loaded later). The replacement adds TP_PATCHED_BIAS, as
 * tocpatch_test_patch's does.
 */
#include <linux/module.h>
#include <tocpatch.h>
#include "test_target.h"

static int tp_late_patched_add(int a, int b)
{
	return a + b + TP_PATCHED_BIAS;
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_target_add", .new_func = tp_late_patched_add },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = "tocpatch_test_target", .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_late_patch_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_late_patch_exit(void)
{
}

module_init(tp_late_patch_init);
module_exit(tp_late_patch_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch selftest: a patch enabled before its target module");
