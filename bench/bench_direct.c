// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch benchmark, the limit reference (out-of-line ftrace kernels with
 * DYNAMIC_FTRACE_WITH_DIRECT_CALLS only): an ftrace direct call on
 * tp_bench_fn_000 into the assembly trampoline of bench_direct_tramp.S,
 * which calls tp_bench_direct_new (x + 2) and returns to the caller with
 * its r2. No ftrace_caller register save, no callback, no classification,
 * no shadow stack: what a patched call costs at the least on this kernel.
 * (Not an engine: it keeps none of tocpatch's guarantees; one function.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include "tp_bench.h"

void tp_bench_direct_tramp(void);
long tp_bench_direct_new(long x);

static long tp_bench_direct_inc = TP_BENCH_REPL;

/* Called from tp_bench_direct_tramp only (global entry, r12 set). */
noinline long tp_bench_direct_new(long x)
{
	return x + READ_ONCE(tp_bench_direct_inc);
}

static struct ftrace_ops tp_bench_direct_ops;

static int __init tp_bench_direct_init(void)
{
	int ret;

	ret = ftrace_set_filter_ip(&tp_bench_direct_ops,
				   (unsigned long)tp_bench_fns[0], 0, 0);
	if (ret) {
		pr_err("ftrace_set_filter_ip: %d\n", ret);
		return ret;
	}
	ret = register_ftrace_direct(&tp_bench_direct_ops,
				     (unsigned long)tp_bench_direct_tramp);
	if (ret) {
		pr_err("register_ftrace_direct: %d\n", ret);
		ftrace_free_filter(&tp_bench_direct_ops);
	}
	return ret;
}

static void __exit tp_bench_direct_exit(void)
{
	unregister_ftrace_direct(&tp_bench_direct_ops,
				 (unsigned long)tp_bench_direct_tramp, true);
}

module_init(tp_bench_direct_init);
module_exit(tp_bench_direct_exit);
MODULE_DESCRIPTION("tocpatch benchmark: ftrace direct call to an assembly trampoline (limit reference)");
MODULE_LICENSE("GPL");
