// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: ftrace's recursion guard for the Rust callback.
 *
 * Our ftrace_ops do not ask ftrace for recursion protection
 * (FTRACE_OPS_FL_RECURSION): with that flag the callback would be skipped
 * on recursion, and a skipped callback leaves a marked (odd) TOC in r2.
 * The callback takes the guard itself instead, as livepatch's handler
 * does, and on recursion still repairs the TOC but redirects nothing. The
 * guard also keeps preemption off for the callback's duration.
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

/*
 * A preemption-off section for the callback's recursion path, where the
 * guard above was not taken: the top of a site's stack is read only with
 * preemption off (rust/site.rs, the lifetime rule).
 */
notrace void tocpatch_preempt_disable(void)
{
	preempt_disable_notrace();
}

notrace void tocpatch_preempt_enable(void)
{
	preempt_enable_notrace();
}
