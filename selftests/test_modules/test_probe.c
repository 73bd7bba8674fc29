// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest probe module: a kprobe on a (patched) function, to
 * check that tocpatch shares the function with another ftrace user that
 * wants all registers. On a function's ftrace location a kprobe is an
 * ftrace_ops with FTRACE_OPS_FL_SAVE_REGS, so the function is then
 * reached through ftrace_regs_caller and the ops list instead of
 * ftrace_caller and tocpatch's ops alone.
 *
 * Parameters: symbol (required at load) names the function; offset puts
 * the probe that many bytes into it (4: on the second instruction of the
 * global entry prologue, which is where tocpatch's odd-TOC marker is, so
 * the probe is an ordinary trap kprobe there, not an ftrace one); post
 * adds a post_handler, which makes a probe on an ftrace location an
 * IPMODIFY ftrace_ops; hits (read only) counts the pre-handler runs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kprobes.h>
#include <linux/module.h>

static char *symbol;
module_param(symbol, charp, 0444);
MODULE_PARM_DESC(symbol, "function to probe");

static uint offset;
module_param(offset, uint, 0444);
MODULE_PARM_DESC(offset, "probe at symbol+offset");

static bool post;
module_param(post, bool, 0444);
MODULE_PARM_DESC(post, "give the probe a post_handler");

static atomic_long_t hits = ATOMIC_LONG_INIT(0);

static int hits_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&hits));
}

static const struct kernel_param_ops hits_ops = {
	.get = hits_get,
};
module_param_cb(hits, &hits_ops, NULL, 0444);
MODULE_PARM_DESC(hits, "pre-handler runs so far");

static int probe_pre(struct kprobe *p, struct pt_regs *regs)
{
	atomic_long_inc(&hits);
	return 0;
}

static void probe_post(struct kprobe *p, struct pt_regs *regs,
		       unsigned long flags)
{
}

static struct kprobe probe = {
	.pre_handler = probe_pre,
};

static int __init probe_init(void)
{
	int ret;

	if (!symbol) {
		pr_err("symbol= is required\n");
		return -EINVAL;
	}
	probe.symbol_name = symbol;
	probe.offset = offset;
	if (post)
		probe.post_handler = probe_post;
	ret = register_kprobe(&probe);
	if (ret) {
		pr_err("cannot probe %s: %d\n", symbol, ret);
		return ret;
	}
	pr_info("probing %s at %pS (on ftrace: %d)\n", symbol, probe.addr,
		kprobe_ftrace(&probe));
	return 0;
}

static void __exit probe_exit(void)
{
	unregister_kprobe(&probe);
}

module_init(probe_init);
module_exit(probe_exit);
MODULE_DESCRIPTION("tocpatch selftest: kprobe sharing a patched function");
MODULE_LICENSE("GPL");
