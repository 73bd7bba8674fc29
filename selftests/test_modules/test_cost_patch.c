// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest patch for test-cost.sh: replaces tp_cost_target (in
 * tocpatch_test_cost.ko) with a function of the same size that adds
 * TP_PATCHED_BIAS instead of 1.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <tocpatch.h>
#include "test_target.h"

static int tp_cost_new_calls;

static noinline int tp_cost_new(int x)
{
	WRITE_ONCE(tp_cost_new_calls, tp_cost_new_calls + 1);
	return x + TP_PATCHED_BIAS;
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_cost_target", .new_func = tp_cost_new },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = "tocpatch_test_cost", .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_cost_patch_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_cost_patch_exit(void)
{
}

module_init(tp_cost_patch_init);
module_exit(tp_cost_patch_exit);
MODULE_DESCRIPTION("tocpatch selftest: a patch for the cost measurement");
MODULE_LICENSE("GPL");
