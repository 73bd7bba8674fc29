// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the anchor of the shared ftrace ops (rust/ftrace_hook.rs).
 *
 * An ops whose filter is empty traces every function, so the filter of
 * tocpatch's one ops always holds this function, which nothing calls, and
 * the ops stays registered from load to unload. It must be traced (no
 * notrace) and in C: ftrace only instruments what the C compiler built
 * with its profiling flags.
 */
#include <linux/compiler.h>
#include "glue.h"

noinline void tocpatch_ftrace_anchor(void)
{
	barrier();
}
