// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_mod_patch: upstream's test_klp_mod_patch
 * (test-patching.sh): patches tocpatch_test_mod_target's show function.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <tocpatch.h>

static int tp_livepatch_mod_target_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: %s\n", THIS_MODULE->name,
		   "this has been live patched");
	return 0;
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "tp_mod_target_show",
	  .new_func = tp_livepatch_mod_target_show },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = "tocpatch_test_mod_target", .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_mod_patch_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_mod_patch_exit(void)
{
}

module_init(tp_mod_patch_init);
module_exit(tp_mod_patch_exit);
MODULE_DESCRIPTION("tocpatch selftest: upstream's test_klp_mod_patch");
MODULE_LICENSE("GPL");
