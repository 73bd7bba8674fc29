// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_patch2: a second patch of tocpatch_test_target.ko, stacked
 * on tocpatch_test_patch (test-patching.sh). Its replacements add 2000
 * where the first patch's add 1000, so that a test can tell which patch
 * ran; replace=1 makes it a cumulative patch, which names only some of
 * the first patch's functions.
 */
#include <linux/delay.h>
#include <linux/module.h>
#include <tocpatch.h>
#include "test_target.h"

static int replace;
module_param(replace, int, 0444);
MODULE_PARM_DESC(replace, "a cumulative patch (atomic replace)");

static int tp_patched2_add(int a, int b)
{
	return a + b + 2 * TP_PATCHED_BIAS;
}

static int tp_patched2_sleep(int ms)
{
	msleep(ms);
	return ms + 2 * TP_PATCHED_BIAS;
}

/* In test_patch2_tail.S: tail-calls tp_target_plain(x, 2000). */
int tp_patched2_tail_asm(int x);

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_target_tail_asm", .new_func = tp_patched2_tail_asm },
	{ .old_name = "tp_target_add", .new_func = tp_patched2_add },
	{ .old_name = "tp_target_sleep", .new_func = tp_patched2_sleep },
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

static uint fail_nth;
module_param(fail_nth, uint, 0444);
MODULE_PARM_DESC(fail_nth, "make the Nth allocation of the enable fail");

static int __init tp_patch2_init(void)
{
	patch.replace = replace;
	return tp_fault_enable(&patch, fail_nth);
}

static void __exit tp_patch2_exit(void)
{
}

module_init(tp_patch2_init);
module_exit(tp_patch2_exit);
MODULE_DESCRIPTION("tocpatch selftest: a second patch of tocpatch_test_target.ko");
MODULE_LICENSE("GPL");
