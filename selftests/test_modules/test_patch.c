// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest patch: replaces the functions of
 * tocpatch_test_target.ko. Each replacement adds TP_PATCHED_BIAS (or
 * otherwise differs) so that a test can tell it ran.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/module.h>
#include <tocpatch.h>
#include "test_target.h"

static int tp_patched_add(int a, int b)
{
	return a + b + TP_PATCHED_BIAS;
}

/* Recursion through the patched function: each level adds the bias. */
static int tp_patched_depth(int n)
{
	if (n <= 0)
		return 0;
	return tp_target_walk(n - 1) + TP_PATCHED_BIAS;
}

/*
 * While the "hold" parameter is set, the sleeper stays inside after its
 * ms (for at most a minute), so that a test can look at it there however
 * slow the machine is, then lets it go by clearing the parameter.
 */
static bool hold;
module_param(hold, bool, 0644);
MODULE_PARM_DESC(hold, "tp_target_sleep's replacement sleeps on while set");

static int tp_patched_sleep(int ms)
{
	unsigned long end = jiffies + 60 * HZ;

	msleep(ms);
	while (READ_ONCE(hold) && time_before(jiffies, end))
		msleep(20);
	return ms + TP_PATCHED_BIAS;
}

static long tp_patched_asm(long x)
{
	return x + 2;
}

/* In test_patch_tail.S: tail-calls tp_target_plain(x, 1000). */
int tp_patched_tail_asm(int x);

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_target_tail_asm", .new_func = tp_patched_tail_asm },
	{ .old_name = "tp_target_add", .new_func = tp_patched_add },
	{ .old_name = "tp_target_depth", .new_func = tp_patched_depth },
	{ .old_name = "tp_target_sleep", .new_func = tp_patched_sleep },
	{ .old_name = "tp_target_asm", .new_func = tp_patched_asm },
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

static int __init tp_patch_init(void)
{
	return tp_fault_enable(&patch, fail_nth);
}

static void __exit tp_patch_exit(void)
{
}

module_init(tp_patch_init);
module_exit(tp_patch_exit);
MODULE_DESCRIPTION("tocpatch selftest: a patch of tocpatch_test_target.ko");
MODULE_LICENSE("GPL");
