// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: ftrace's recursion guard for the Rust callback's cold paths.
 *
 * Our ftrace_ops do not ask ftrace for recursion protection
 * (FTRACE_OPS_FL_RECURSION): with that flag the callback would be skipped
 * on recursion, and a skipped callback leaves a marked (odd) TOC in r2.
 * The callback's hot path calls no kernel code and cannot recurse; its
 * cold paths (queueing the once-per-function report, the late-call clock
 * read) take the guard and are skipped when it is taken.
 *
 * ftrace_test_recursion_trylock() and _unlock() are static inlines, out of
 * reach of Rust. Both wrappers are notrace: they run inside the callback.
 */
#include <linux/trace_recursion.h>
#include "glue.h"

notrace int tocpatch_recursion_trylock(unsigned long ip,
				       unsigned long parent_ip)
{
	return ftrace_test_recursion_trylock(ip, parent_ip);
}

notrace void tocpatch_recursion_unlock(int bit)
{
	ftrace_test_recursion_unlock(bit);
}
