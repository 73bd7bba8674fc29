// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest: kills ftrace as an FTRACE_WARN_ON() in ftrace's core
 * does (ftrace_kill(), resolved with a disabled kprobe: it is not
 * exported), without the WARN. From then on ftrace refuses every change
 * (registering and unregistering ops fail with -ENODEV) but leaves the
 * call sites and the ops it calls as they are. For the rest of the boot:
 * test-ftrace-kill.sh loads it only as the last script of a run.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include "test_resolve.h"

static int __init tp_ftrace_kill_init(void)
{
	unsigned long addr = tp_resolve("ftrace_kill");
	void (*kill)(void);

	if (!addr)
		return -ENOENT;
	kill = (void (*)(void))addr;
	kill();
	pr_info("ftrace killed\n");
	return 0;
}

static void __exit tp_ftrace_kill_exit(void)
{
}

module_init(tp_ftrace_kill_init);
module_exit(tp_ftrace_kill_exit);
MODULE_DESCRIPTION("tocpatch selftest: kill ftrace (ftrace_kill())");
MODULE_LICENSE("GPL");
