// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest caller module: calls into tocpatch_test_target.ko from
 * another module (another TOC), so through the target's global entry.
 *
 * /sys/kernel/debug/tocpatch_test/caller: write "CASE ARG", read
 * "result R toc_ok B" as for the target module.
 *	global ARG	tp_target_add(ARG, 2) through the exported symbol
 *	fptr ARG	tp_target_add(ARG, 3) through a function pointer
 *	sleep ARG	tp_target_sleep(ARG) through the exported symbol
 *	tailasm, tailrust, rust ARG: the same-named target functions
 *	noreload ARG	tp_target_add(ARG, 5) through its global entry from an
 *			assembly caller of this module that does not reload
 *			r2 after the call; -EBADE if r2 came back other than
 *			the target module's TOC (what the original returns with)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include "test_target.h"

/* Read with READ_ONCE() so that the compiler cannot turn it into a direct call. */
static int (*add_ptr)(int, int) = tp_target_add;

static long noreload_case(long arg)
{
	unsigned long r2_after = 0, want = tp_target_toc();
	long r = tp_caller_noreload(tp_target_add, arg, 5, &r2_after);

	if (r2_after != want) {
		pr_err("noreload: r2 came back as %#lx, not the target module's TOC %#lx\n",
		       r2_after, want);
		return -EBADE;
	}
	return r;
}

static long caller_run(const char *c, long arg, bool *toc_ok)
{
	unsigned long before = tp_read_r2();
	long r;

	if (!strcmp(c, "global"))
		r = tp_target_add(arg, 2);
	else if (!strcmp(c, "fptr"))
		r = READ_ONCE(add_ptr)(arg, 3);
	else if (!strcmp(c, "sleep"))
		r = tp_target_sleep(arg);
	else if (!strcmp(c, "tailasm"))
		r = tp_target_tail_asm(arg);
	else if (!strcmp(c, "tailrust"))
		r = tp_target_tail_rust(arg);
	else if (!strcmp(c, "rust"))
		r = tp_target_rust(arg);
	else if (!strcmp(c, "noreload"))
		r = noreload_case(arg);
	else
		r = -EINVAL;
	*toc_ok = before == tp_read_r2();
	return r;
}

static struct dentry *file;

static int __init tp_caller_init(void)
{
	file = tp_call_file_create("caller", caller_run);
	return PTR_ERR_OR_ZERO(file);
}

static void __exit tp_caller_exit(void)
{
	tp_call_file_remove(file);
}

module_init(tp_caller_init);
module_exit(tp_caller_exit);
MODULE_DESCRIPTION("tocpatch selftest: global calls into the target module");
MODULE_LICENSE("GPL");
