// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_sample_callbacks_busymod: a module whose delayed work runs
 * busymod_work_func(), which sleeps for sleep_ms; a target for
 * tocpatch_sample_callbacks_demo (the counterpart of upstream's
 * samples/livepatch/livepatch-callbacks-busymod.c). With the demo
 * enabled first, the work runs the demo's replacement: the object is
 * patched when the module loads, before its init queues the work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include <linux/workqueue.h>

static int sleep_ms = 100;
module_param(sleep_ms, int, 0644);
MODULE_PARM_DESC(sleep_ms, "how long busymod_work_func sleeps (ms, default 100)");

static noinline void busymod_work_func(struct work_struct *work);
static DECLARE_DELAYED_WORK(work, busymod_work_func);

static noinline void busymod_work_func(struct work_struct *work)
{
	pr_info("%s, sleeping %d ms ...\n", __func__, sleep_ms);
	msleep(sleep_ms);
	pr_info("%s exit\n", __func__);
}

static int __init tocpatch_sample_callbacks_busymod_init(void)
{
	pr_info("%s\n", __func__);
	schedule_delayed_work(&work, msecs_to_jiffies(100));
	return 0;
}

static void __exit tocpatch_sample_callbacks_busymod_exit(void)
{
	cancel_delayed_work_sync(&work);
	pr_info("%s\n", __func__);
}

module_init(tocpatch_sample_callbacks_busymod_init);
module_exit(tocpatch_sample_callbacks_busymod_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("tocpatch sample: callbacks target module with work");
