// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest patch: replaces tp_nmi_func() of tocpatch_test_nmi.ko,
 * the function that test-nmi.sh has called from NMIs and from nested
 * ftrace callbacks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <tocpatch.h>
#include "test_nmi.h"

static void tp_nmi_func_patched(struct pt_regs *regs)
{
	tp_nmi_record(TP_NMI_PATCHED);
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_nmi_func", .new_func = tp_nmi_func_patched },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = "tocpatch_test_nmi", .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_nmi_patch_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_nmi_patch_exit(void)
{
}

module_init(tp_nmi_patch_init);
module_exit(tp_nmi_patch_exit);
MODULE_DESCRIPTION("tocpatch selftest: a patch of tocpatch_test_nmi.ko");
MODULE_LICENSE("GPL");
