// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_livepatch: upstream's test_klp_livepatch with tocpatch
 * (test-patching.sh): /proc/cmdline says it has been live patched.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <tocpatch.h>

static int tp_livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: %s\n", THIS_MODULE->name,
		   "this has been live patched");
	return 0;
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "cmdline_proc_show",
	  .new_func = tp_livepatch_cmdline_proc_show },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = NULL, .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_livepatch_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_livepatch_exit(void)
{
}

module_init(tp_livepatch_init);
module_exit(tp_livepatch_exit);
MODULE_DESCRIPTION("tocpatch selftest: upstream's test_klp_livepatch");
MODULE_LICENSE("GPL");
