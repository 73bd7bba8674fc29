// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch benchmark, ftrace's own cost: a plain ftrace_ops (no flags:
 * no SAVE_REGS, no IPMODIFY) with an empty callback on the first nfuncs
 * functions tp_bench_fn_NNN. The functions still run (their results stay
 * x + 1); what a call costs more is what ftrace costs before any engine
 * does its work.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ftrace.h>
#include <linux/module.h>
#include "tp_bench.h"

static void notrace tp_bench_ftrace_cb(unsigned long ip, unsigned long parent_ip,
				       struct ftrace_ops *op,
				       struct ftrace_regs *fregs)
{
}

static struct ftrace_ops tp_bench_ops = {
	.func = tp_bench_ftrace_cb,
};

static uint nfuncs = 1;
module_param(nfuncs, uint, 0444);
MODULE_PARM_DESC(nfuncs, "how many of the functions to trace (1 to 1000)");

static int __init tp_bench_ftrace_init(void)
{
	int ret;

	if (nfuncs < 1 || nfuncs > TP_BENCH_NFUNCS) {
		pr_err("nfuncs=%u: must be 1 to %d\n", nfuncs, TP_BENCH_NFUNCS);
		return -EINVAL;
	}
	ret = ftrace_set_filter_ips(&tp_bench_ops, (unsigned long *)tp_bench_fns,
				    nfuncs, 0, 1);
	if (ret) {
		pr_err("ftrace_set_filter_ips: %d\n", ret);
		return ret;
	}
	ret = register_ftrace_function(&tp_bench_ops);
	if (ret) {
		pr_err("register_ftrace_function: %d\n", ret);
		ftrace_free_filter(&tp_bench_ops);
	}
	return ret;
}

static void __exit tp_bench_ftrace_exit(void)
{
	unregister_ftrace_function(&tp_bench_ops);
	ftrace_free_filter(&tp_bench_ops);
}

module_init(tp_bench_ftrace_init);
module_exit(tp_bench_ftrace_exit);
MODULE_DESCRIPTION("tocpatch benchmark: an empty ftrace_ops (ftrace's own cost)");
MODULE_LICENSE("GPL");
