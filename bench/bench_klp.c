// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch benchmark, livepatch side: the kernel livepatch twin of
 * bench_patch.c (the same replacements of the first nfuncs functions of
 * tocpatch_bench_target.ko), built only on CONFIG_LIVEPATCH kernels (the
 * livepatch and livepatch-ool flavours, where tocpatch refuses to load).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/ktime.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include "tp_bench.h"

TP_BENCH_REPLACEMENTS

#define TP_BENCH_FUNC(p) \
	{ .old_name = "tp_bench_fn_" #p, .new_func = tp_bench_new_##p },
static struct klp_func funcs[TP_BENCH_NFUNCS + 1] = {
	TP_BENCH_REP(TP_BENCH_FUNC)
	{ }
};

static struct klp_object objs[] = {
	{ .name = "tocpatch_bench_target", .funcs = funcs },
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static uint nfuncs = 1;
module_param(nfuncs, uint, 0444);
MODULE_PARM_DESC(nfuncs, "how many of the functions to patch (1 to 1000)");

static int __init tp_bench_klp_init(void)
{
	u64 t0;
	int ret;

	if (nfuncs < 1 || nfuncs > TP_BENCH_NFUNCS) {
		pr_err("nfuncs=%u: must be 1 to %d\n", nfuncs, TP_BENCH_NFUNCS);
		return -EINVAL;
	}
	/* The table ends after the first nfuncs entries. */
	memset(&funcs[nfuncs], 0, sizeof(funcs[0]));
	t0 = ktime_get_ns();
	ret = klp_enable_patch(&patch);
	if (!ret)
		pr_info("enable of %u functions: %llu ns in klp_enable_patch\n",
			nfuncs, ktime_get_ns() - t0);
	return ret;
}

static void __exit tp_bench_klp_exit(void)
{
}

module_init(tp_bench_klp_init);
module_exit(tp_bench_klp_exit);
MODULE_DESCRIPTION("tocpatch benchmark: a kernel livepatch of 1 to 1000 functions");
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
