// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest patch for test-shadow.sh: replaces the functions of
 * test_target_shadow.c (in tocpatch_test_target.ko). Each replacement adds
 * TP_PATCHED_BIAS, so that a test can tell it ran.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kthread.h>
#include <linux/module.h>
#include <tocpatch.h>
#include "test_resolve.h"
#include "test_target.h"

/* Waits (in the target module) until the test lets the sleepers go. */
static int tp_patched_block(int x)
{
	tp_block_wait();
	return x + TP_PATCHED_BIAS;
}

/* Recursion through the patched function: each level adds the bias. */
static int tp_patched_nest(int n)
{
	if (n <= 0)
		return tp_nest_bottom();
	return tp_target_nest_walk(n - 1) + TP_PATCHED_BIAS;
}

/*
 * Stack exhaustion: a level of recursion costs TP_DEEP_PAD bytes of stack
 * and 40 of shadow frame, until the two meet and tocpatch runs the
 * original (which does not recurse) instead.
 */
static int tp_patched_deep(int n)
{
	volatile char pad[TP_DEEP_PAD];
	int r;

	pad[0] = 1;
	pad[TP_DEEP_PAD - 1] = 1;
	tp_deep_note_sp(current_stack_pointer);
	if (n <= 0)
		return 0;
	r = tp_target_deep_walk(n - 1);
	return r + pad[0] + pad[TP_DEEP_PAD - 1] - 1;
}

static int tp_patched_irq(int x)
{
	return x + TP_PATCHED_BIAS;
}

/* Never returns: the calling kthread exits here, holding a shadow frame. */
static int tp_patched_exit(int x)
{
	kthread_complete_and_exit(&tp_exit_done, x + TP_PATCHED_BIAS);
}

/* do_exit(), not exported: found by name (test_resolve.h). */
static void (*tp_do_exit)(long code);

/* Never returns: the calling user task exits here, holding a frame. */
static int tp_patched_uexit(int x)
{
	tp_do_exit((x & 0x7f) << 8);
	return x + TP_PATCHED_BIAS;	/* not reached */
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_target_block", .new_func = tp_patched_block },
	{ .old_name = "tp_target_nest", .new_func = tp_patched_nest },
	{ .old_name = "tp_target_irq", .new_func = tp_patched_irq },
	{ .old_name = "tp_target_exiting", .new_func = tp_patched_exit },
	{ .old_name = "tp_target_deep", .new_func = tp_patched_deep },
	{ .old_name = "tp_target_uexit", .new_func = tp_patched_uexit },
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

static int __init tp_shadow_patch_init(void)
{
	unsigned long f = tp_resolve("do_exit");

	if (!f) {
		pr_err("do_exit not found\n");
		return -ENOENT;
	}
	tp_do_exit = (void *)f;
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_shadow_patch_exit(void)
{
}

module_init(tp_shadow_patch_init);
module_exit(tp_shadow_patch_exit);
MODULE_DESCRIPTION("tocpatch selftest: a patch for the shadow-storage tests");
MODULE_LICENSE("GPL");
