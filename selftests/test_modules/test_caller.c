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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include "test_target.h"

static int (*volatile add_ptr)(int, int) = tp_target_add;
static long last_result;
static bool last_toc_ok;
static DEFINE_MUTEX(call_lock);

static unsigned long read_r2(void)
{
	unsigned long r2;

	asm volatile("mr %0, 2" : "=r" (r2));
	return r2;
}

static ssize_t caller_write(struct file *f, const char __user *ubuf,
			    size_t len, loff_t *off)
{
	char buf[64], c[16];
	unsigned long before, after;
	long arg, r;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %ld", c, &arg) != 2)
		return -EINVAL;
	mutex_lock(&call_lock);
	before = read_r2();
	if (!strcmp(c, "global"))
		r = tp_target_add(arg, 2);
	else if (!strcmp(c, "fptr"))
		r = add_ptr(arg, 3);
	else if (!strcmp(c, "sleep"))
		r = tp_target_sleep(arg);
	else if (!strcmp(c, "tailasm"))
		r = tp_target_tail_asm(arg);
	else if (!strcmp(c, "tailrust"))
		r = tp_target_tail_rust(arg);
	else if (!strcmp(c, "rust"))
		r = tp_target_rust(arg);
	else
		r = -EINVAL;
	after = read_r2();
	last_result = r;
	last_toc_ok = before == after;
	mutex_unlock(&call_lock);
	return r == -EINVAL ? -EINVAL : len;
}

static ssize_t caller_read(struct file *f, char __user *ubuf, size_t len,
			   loff_t *off)
{
	char buf[64];
	int n;

	mutex_lock(&call_lock);
	n = scnprintf(buf, sizeof(buf), "result %ld toc_ok %d\n", last_result,
		      last_toc_ok);
	mutex_unlock(&call_lock);
	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations caller_fops = {
	.owner = THIS_MODULE,
	.write = caller_write,
	.read = caller_read,
};

static struct dentry *file;

static int __init tp_caller_init(void)
{
	struct dentry *dir = debugfs_lookup("tocpatch_test", NULL);

	if (!dir)
		return -ENODEV;
	file = debugfs_create_file("caller", 0600, dir, NULL, &caller_fops);
	dput(dir);
	return 0;
}

static void __exit tp_caller_exit(void)
{
	debugfs_remove(file);
}

module_init(tp_caller_init);
module_exit(tp_caller_exit);
MODULE_DESCRIPTION("tocpatch selftest: global calls into the target module");
MODULE_LICENSE("GPL");
