// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_mod_target: upstream's test_klp_mod_target
 * (test-patching.sh): a module whose /proc entry a patch changes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

static struct proc_dir_entry *pde;

static noinline int tp_mod_target_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s: %s\n", THIS_MODULE->name, "original output");
	return 0;
}

static int __init tocpatch_test_mod_target_init(void)
{
	pr_info("%s\n", __func__);
	pde = proc_create_single("tocpatch_test_mod_target", 0, NULL,
				 tp_mod_target_show);
	if (!pde)
		return -ENOMEM;
	return 0;
}

static void __exit tocpatch_test_mod_target_exit(void)
{
	pr_info("%s\n", __func__);
	proc_remove(pde);
}

module_init(tocpatch_test_mod_target_init);
module_exit(tocpatch_test_mod_target_exit);
MODULE_DESCRIPTION("tocpatch selftest: upstream's test_klp_mod_target");
MODULE_LICENSE("GPL");
