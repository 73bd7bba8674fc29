// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch benchmark global caller: the same loop as the target module's
 * local caller, from another module, so every call of tp_bench_fn_000
 * goes through this module's linker stub to the function's global entry
 * (and r2 is reloaded after it). Its file is
 * /sys/kernel/debug/tocpatch_bench/global (see bench_target.c).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/irqflags.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include "tp_bench.h"

static void tp_bench_global_loop(unsigned long n, long expect, bool irqoff,
				 u64 *ns, unsigned long *bad)
{
	TP_BENCH_LOOP(tp_bench_fn_000, n, expect, irqoff, ns, bad);
}

static struct dentry *tp_bench_global;

static int __init tp_bench_caller_init(void)
{
	tp_bench_global = tp_bench_file_create("global", tp_bench_global_loop);
	return PTR_ERR_OR_ZERO(tp_bench_global);
}

static void __exit tp_bench_caller_exit(void)
{
	tp_bench_file_remove(tp_bench_global);
}

module_init(tp_bench_caller_init);
module_exit(tp_bench_caller_exit);
MODULE_DESCRIPTION("tocpatch benchmark: the global caller");
MODULE_LICENSE("GPL");
