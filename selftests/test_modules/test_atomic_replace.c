// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_atomic_replace: upstream's test_klp_atomic_replace with
 * tocpatch (test-patching.sh): /proc/meminfo says it has been live
 * patched; replace=1 makes it a cumulative patch.
 */
#include <linux/module.h>
#include <linux/seq_file.h>
#include <tocpatch.h>

static int replace;
module_param(replace, int, 0644);
MODULE_PARM_DESC(replace, "replace (default=0)");

static int tp_livepatch_meminfo_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: %s\n", THIS_MODULE->name,
		   "this has been live patched");
	return 0;
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "meminfo_proc_show",
	  .new_func = tp_livepatch_meminfo_proc_show },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .name = NULL, .funcs = funcs },
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
	/* .replace is set by the init function, as upstream's */
};

static int __init tp_atomic_replace_init(void)
{
	patch.replace = replace;
	return tocpatch_enable_patch(&patch);
}

static void __exit tp_atomic_replace_exit(void)
{
}

module_init(tp_atomic_replace_init);
module_exit(tp_atomic_replace_exit);
MODULE_DESCRIPTION("tocpatch selftest: upstream's test_klp_atomic_replace");
MODULE_LICENSE("GPL");
