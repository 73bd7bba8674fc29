// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_callbacks_busy: a target module whose init runs
 * tp_busymod_work_func() from a work item and waits for it, the
 * counterpart of upstream's test_klp_callbacks_busy.ko (without its
 * block_transition: tocpatch has no transition to block). Loaded after
 * tocpatch_test_callbacks_demo, the replacement runs instead: the object
 * is patched before the module's init.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/workqueue.h>

/* noinline, and reached through the work item's pointer (a global call). */
static noinline void tp_busymod_work_func(struct work_struct *work)
{
	pr_info("%s enter\n", __func__);
	pr_info("%s exit\n", __func__);
}

static DECLARE_WORK(work, tp_busymod_work_func);

static int __init tocpatch_test_callbacks_busy_init(void)
{
	pr_info("%s\n", __func__);
	schedule_work(&work);
	flush_work(&work);
	return 0;
}

static void __exit tocpatch_test_callbacks_busy_exit(void)
{
	pr_info("%s\n", __func__);
}

module_init(tocpatch_test_callbacks_busy_init);
module_exit(tocpatch_test_callbacks_busy_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch selftest: callbacks target module with work");
