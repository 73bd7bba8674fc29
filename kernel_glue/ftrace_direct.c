// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: ftrace direct calls, for the direct path of rust/ftrace_hook.rs.
 *
 * On kernels with CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS (powerpc: the
 * out-of-line ftrace mode, which has CALL_OPS) a patched function's ftrace
 * call site can branch straight to tocpatch_direct_tramp
 * (arch_powerpc_asm/direct.S) instead of through ftrace_caller and a
 * callback. The kernel's declarations are inline stubs returning -ENODEV
 * on other kernels, so the engine asks here rather than binding them.
 */
#include <linux/ftrace.h>
#include <linux/kconfig.h>
#include "glue.h"

bool tocpatch_direct_available(void)
{
	return IS_ENABLED(CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS);
}

/*
 * Sets the filter of @ops (zeroed, never registered) to the @n ftrace
 * locations @ips and registers it as a direct ops calling @addr, in one
 * ftrace update. Either all of them go to @addr or, on error, none, and
 * @ops holds no filter; except if ftrace was killed during the update,
 * which leaves @ops enabled: *@stays then says that ftrace may still use
 * it (it must never be freed).
 */
int tocpatch_direct_register(struct ftrace_ops *ops, unsigned long *ips,
			     unsigned int n, unsigned long addr, bool *stays)
{
	int ret;

	*stays = false;
	ret = ftrace_set_filter_ips(ops, ips, n, 0, 1);
	if (!ret)
		ret = register_ftrace_direct(ops, addr);
	if (ret) {
		if (ops->flags & FTRACE_OPS_FL_ENABLED)
			*stays = true;
		else
			ftrace_free_filter(ops);
	}
	return ret;
}

/*
 * Unregisters @ops (registered by tocpatch_direct_register() with @addr)
 * and frees its filter; on error (ftrace killed) @ops stays in use.
 * ftrace waits for the grace periods of a dynamic ops
 * (synchronize_rcu_tasks_rude(), then synchronize_rcu_tasks()) before it
 * returns: no task is then still between a call site and @addr.
 */
int tocpatch_direct_unregister(struct ftrace_ops *ops, unsigned long addr)
{
	int ret;

	/* After ftrace_kill() it fails, and freeing the filter would warn. */
	ret = unregister_ftrace_direct(ops, addr, false);
	if (!ret)
		ftrace_free_filter(ops);
	return ret;
}
