// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch sample: replace cmdline_proc_show(), so that reading
 * /proc/cmdline shows a message instead of the kernel command line.
 *
 *	insmod tocpatch.ko
 *	insmod tocpatch_sample_cmdline.ko
 *	cat /proc/cmdline
 *	echo 0 > /sys/kernel/tocpatch/tocpatch_sample_cmdline/enabled
 *	rmmod tocpatch_sample_cmdline
 *
 * (The counterpart of upstream's samples/livepatch/livepatch-sample.c.)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/seq_file.h>
#include <tocpatch.h>

static int tocpatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, "this has been live patched by tocpatch\n");
	return 0;
}

static struct tocpatch_func funcs[] = {
	{
		.old_name = "cmdline_proc_show",
		.new_func = tocpatch_cmdline_proc_show,
	},
	{ }
};

static struct tocpatch_object objs[] = {
	{
		/* name being NULL means vmlinux */
		.funcs = funcs,
	},
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tocpatch_sample_init(void)
{
	return tocpatch_enable_patch(&patch);
}

static void __exit tocpatch_sample_exit(void)
{
}

module_init(tocpatch_sample_init);
module_exit(tocpatch_sample_exit);
MODULE_DESCRIPTION("tocpatch sample: replace cmdline_proc_show()");
MODULE_LICENSE("GPL");
