// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest target module: patch targets, and callers of them
 * inside this module (local calls, sharing its TOC).
 *
 * /sys/kernel/debug/tocpatch_test/target: write "CASE ARG", read
 * "result R toc_ok B": R is what the call returned, B whether r2 was the
 * same after the call as before it (the check that matters for local
 * calls, whose caller never reloads r2).
 *
 * Cases (each one way into a patched function):
 *	local ARG	tp_target_add(ARG, 1) called directly
 *	tail ARG	tp_target_tail(ARG): a sibling call (b) to tp_target_add
 *	walk ARG	tp_target_walk(ARG): local recursion through tp_target_depth
 *	sleep ARG	tp_target_sleep(ARG ms)
 *	asm ARG		tp_target_asm(ARG), an assembly function without TOC setup
 *	tailasm ARG	tp_target_tail_asm(ARG)
 *	tailrust ARG	tp_target_tail_rust(ARG)
 *	rust ARG	tp_target_rust(ARG)
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include "test_target.h"

/*
 * Counting calls makes the function use its TOC, so GCC gives it a global
 * entry prologue (a leaf without TOC use has none, and gets no marker).
 */
static int tp_add_calls;

noinline int tp_target_add(int a, int b)
{
	WRITE_ONCE(tp_add_calls, tp_add_calls + 1);
	return a + b;
}
EXPORT_SYMBOL_GPL(tp_target_add);

/* A tail call: GCC emits "b tp_target_add" (checked by the selftest). */
noinline int tp_target_tail(int a)
{
	return tp_target_add(a + 1, 1);
}

noinline int tp_target_depth(int n)
{
	if (n <= 0)
		return 0;
	return tp_target_walk(n - 1) + 1;
}
EXPORT_SYMBOL_GPL(tp_target_depth);

noinline int tp_target_walk(int n)
{
	return tp_target_depth(n);
}
EXPORT_SYMBOL_GPL(tp_target_walk);

/* Never patched: what the (h) replacements tail-call, from another module. */
static int tp_plain_calls;

noinline int tp_target_plain(int a, int b)
{
	WRITE_ONCE(tp_plain_calls, tp_plain_calls + 1);
	return a + b;
}
EXPORT_SYMBOL_GPL(tp_target_plain);

/* (h) targets: their replacements end in a tail call to tp_target_plain. */
static int tp_tail_calls;

noinline int tp_target_tail_asm(int x)
{
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 2;
}
EXPORT_SYMBOL_GPL(tp_target_tail_asm);

noinline int tp_target_tail_rust(int x)
{
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 3;
}
EXPORT_SYMBOL_GPL(tp_target_tail_rust);

/* Patched by the Rust sample with an ordinary Rust function. */
noinline int tp_target_rust(int x)
{
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 5;
}
EXPORT_SYMBOL_GPL(tp_target_rust);

noinline int tp_target_sleep(int ms)
{
	return ms;
}
EXPORT_SYMBOL_GPL(tp_target_sleep);

static long last_result;
static bool last_toc_ok;
static DEFINE_MUTEX(call_lock);

static unsigned long read_r2(void)
{
	unsigned long r2;

	asm volatile("mr %0, 2" : "=r" (r2));
	return r2;
}

static long run_case(const char *c, long arg)
{
	if (!strcmp(c, "local"))
		return tp_target_add(arg, 1);
	if (!strcmp(c, "tail"))
		return tp_target_tail(arg);
	if (!strcmp(c, "walk"))
		return tp_target_walk(arg);
	if (!strcmp(c, "sleep"))
		return tp_target_sleep(arg);
	if (!strcmp(c, "asm"))
		return tp_target_asm(arg);
	if (!strcmp(c, "tailasm"))
		return tp_target_tail_asm(arg);
	if (!strcmp(c, "tailrust"))
		return tp_target_tail_rust(arg);
	if (!strcmp(c, "rust"))
		return tp_target_rust(arg);
	return -EINVAL;
}

static ssize_t target_write(struct file *f, const char __user *ubuf,
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
	r = run_case(c, arg);
	after = read_r2();
	last_result = r;
	last_toc_ok = before == after;
	mutex_unlock(&call_lock);
	if (r == -EINVAL)
		return -EINVAL;
	return len;
}

static ssize_t target_read(struct file *f, char __user *ubuf, size_t len,
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

static const struct file_operations target_fops = {
	.owner = THIS_MODULE,
	.write = target_write,
	.read = target_read,
};

static struct dentry *dir;

static int __init tp_target_init(void)
{
	dir = debugfs_create_dir("tocpatch_test", NULL);
	debugfs_create_file("target", 0600, dir, NULL, &target_fops);
	return 0;
}

static void __exit tp_target_exit(void)
{
	debugfs_remove_recursive(dir);
}

module_init(tp_target_init);
module_exit(tp_target_exit);
MODULE_DESCRIPTION("tocpatch selftest: patch targets and their local callers");
MODULE_LICENSE("GPL");
