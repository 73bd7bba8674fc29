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
 *	noreload ARG	tp_target_add(ARG, 4) through its global entry from an
 *			assembly caller that does not reload r2 after the
 *			call; -EBADE if r2 came back other than this module's
 *			TOC (what the original returns with)
 *	notrace ARG	tp_target_notrace(ARG), a notrace function
 *
 * /sys/kernel/debug/tocpatch_test/text (read): for each function a patch
 * of the selftests may mark, "NAME HEX": the 8 bytes before its global
 * entry (the TOC offset word of the large-model prologue) and its first
 * 24: the two prologue instructions, where tocpatch's markers go, and the
 * ftrace location (a nop again once no ftrace user is on the function),
 * so that a test can check that a failed enable left markers and hooks
 * byte for byte as they were.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "test_target.h"

/*
 * Counting calls makes the function use its TOC, so GCC gives it a global
 * entry prologue (a leaf without TOC use has none, and gets no marker).
 */
static int tp_add_calls;

noinline int tp_target_add(int a, int b)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_add_calls, tp_add_calls + 1);
	return a + b;
}
EXPORT_SYMBOL_GPL(tp_target_add);

/*
 * Two static functions named tp_dup, here and in test_target_dup.c, for
 * old_sympos: this one is the first of the name in the module's symbol
 * table (test_target.o is linked first). noipa: no clone may take the
 * name's place (tp_dup.constprop.0 and the like).
 */
static int tp_dup_calls;

static noinline __attribute__((__noipa__)) int tp_dup(int x)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_dup_calls, tp_dup_calls + 1);
	return x + 10;
}

/* A tail call: GCC emits "b tp_target_add" (checked by the selftest). */
noinline int tp_target_tail(int a)
{
	return tp_target_add(a + 1, 1);
}

noinline int tp_target_depth(int n)
{
	TP_ASSERT_TOC();
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
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_plain_calls, tp_plain_calls + 1);
	return a + b;
}
EXPORT_SYMBOL_GPL(tp_target_plain);

/* (h) targets: their replacements end in a tail call to tp_target_plain. */
static int tp_tail_calls;

noinline int tp_target_tail_asm(int x)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 2;
}
EXPORT_SYMBOL_GPL(tp_target_tail_asm);

noinline int tp_target_tail_rust(int x)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 3;
}
EXPORT_SYMBOL_GPL(tp_target_tail_rust);

/* Patched by the Rust sample with an ordinary Rust function. */
noinline int tp_target_rust(int x)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_tail_calls, tp_tail_calls + 1);
	return x * 5;
}
EXPORT_SYMBOL_GPL(tp_target_rust);

/* ftrace cannot hook it: a patch listing it must be refused. */
static int tp_notrace_calls;

noinline notrace int tp_target_notrace(int x)
{
	TP_ASSERT_TOC();
	WRITE_ONCE(tp_notrace_calls, tp_notrace_calls + 1);
	return x + 7;
}
EXPORT_SYMBOL_GPL(tp_target_notrace);

noinline int tp_target_sleep(int ms)
{
	TP_ASSERT_TOC();
	return ms;
}
EXPORT_SYMBOL_GPL(tp_target_sleep);

/* This module's TOC, for the caller module's checks. */
static int tp_toc_reads;

noinline unsigned long tp_target_toc(void)
{
	WRITE_ONCE(tp_toc_reads, tp_toc_reads + 1);	/* uses the TOC */
	return tp_read_r2();
}
EXPORT_SYMBOL_GPL(tp_target_toc);

static long noreload_case(long arg)
{
	unsigned long r2_after = 0;
	long r = tp_target_noreload(tp_target_add, arg, 4, &r2_after);

	if (r2_after != tp_read_r2()) {
		pr_err("noreload: r2 came back as %#lx, not this module's TOC %#lx\n",
		       r2_after, tp_read_r2());
		return -EBADE;
	}
	return r;
}

struct tp_call_file {
	tp_run_fn run;
	struct mutex lock;	/* serialises calls and result */
	long result;
	bool toc_ok;
};

static ssize_t call_write(struct file *f, const char __user *ubuf,
			  size_t len, loff_t *off)
{
	struct tp_call_file *cf = f->f_inode->i_private;
	char buf[64], c[16];
	bool toc_ok = false;
	long arg, r;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %ld", c, &arg) != 2)
		return -EINVAL;
	mutex_lock(&cf->lock);
	r = cf->run(c, arg, &toc_ok);
	cf->result = r;
	cf->toc_ok = toc_ok;
	mutex_unlock(&cf->lock);
	return r == -EINVAL ? -EINVAL : len;
}

static ssize_t call_read(struct file *f, char __user *ubuf, size_t len,
			 loff_t *off)
{
	struct tp_call_file *cf = f->f_inode->i_private;
	char buf[64];
	int n;

	mutex_lock(&cf->lock);
	n = scnprintf(buf, sizeof(buf), "result %ld toc_ok %d\n", cf->result,
		      cf->toc_ok);
	mutex_unlock(&cf->lock);
	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations call_fops = {
	.owner = THIS_MODULE,
	.write = call_write,
	.read = call_read,
};

static struct dentry *dir;

struct dentry *tp_call_file_create(const char *name, tp_run_fn run)
{
	struct tp_call_file *cf = kzalloc(sizeof(*cf), GFP_KERNEL);
	struct dentry *file;

	if (!cf)
		return ERR_PTR(-ENOMEM);
	cf->run = run;
	mutex_init(&cf->lock);
	file = debugfs_create_file(name, 0600, dir, cf, &call_fops);
	if (IS_ERR(file))
		kfree(cf);
	return file;
}
EXPORT_SYMBOL_GPL(tp_call_file_create);

void tp_call_file_remove(struct dentry *file)
{
	struct tp_call_file *cf;

	if (IS_ERR_OR_NULL(file))
		return;
	cf = file->d_inode->i_private;
	debugfs_remove(file);
	kfree(cf);
}
EXPORT_SYMBOL_GPL(tp_call_file_remove);

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
	if (!strcmp(c, "notrace"))
		return tp_target_notrace(arg);
	if (!strcmp(c, "dup1"))
		return tp_dup(arg);
	if (!strcmp(c, "dup2"))
		return tp_target_dup2(arg);
	if (!strcmp(c, "noreload"))
		return noreload_case(arg);
	return -EINVAL;
}

static long target_run(const char *c, long arg, bool *toc_ok)
{
	unsigned long before = tp_read_r2();
	long r = run_case(c, arg);

	*toc_ok = before == tp_read_r2();
	return r;
}

static const struct {
	const char *name;
	const void *entry;
} tp_text_funcs[] = {
	{ "tp_target_add", tp_target_add },
	{ "tp_target_depth", tp_target_depth },
	{ "tp_target_sleep", tp_target_sleep },
	{ "tp_target_asm", tp_target_asm },
	{ "tp_target_tail_asm", tp_target_tail_asm },
	{ "tp_target_notrace", tp_target_notrace },
};

static int text_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tp_text_funcs); i++)
		seq_printf(m, "%s %*phN\n", tp_text_funcs[i].name, 32,
			   (const u8 *)tp_text_funcs[i].entry - 8);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(text);

/*
 * A call file holds one result: concurrent callers each need their own.
 * "target2" is the same as "target", for a second concurrent caller.
 */
static struct dentry *target_file, *target2_file;

static int __init tp_target_init(void)
{
	int err;

	dir = debugfs_create_dir("tocpatch_test", NULL);
	debugfs_create_file("text", 0400, dir, NULL, &text_fops);
	target_file = tp_call_file_create("target", target_run);
	if (IS_ERR(target_file))
		goto fail;
	target2_file = tp_call_file_create("target2", target_run);
	if (IS_ERR(target2_file)) {
		tp_call_file_remove(target_file);
		target_file = target2_file;
		goto fail;
	}
	err = tp_shadow_init();
	if (err) {
		tp_call_file_remove(target2_file);
		tp_call_file_remove(target_file);
		debugfs_remove_recursive(dir);
		return err;
	}
	return 0;
fail:
	debugfs_remove_recursive(dir);
	return PTR_ERR(target_file);
}

static void __exit tp_target_exit(void)
{
	tp_shadow_exit();
	tp_call_file_remove(target2_file);
	tp_call_file_remove(target_file);
	debugfs_remove_recursive(dir);
}

module_init(tp_target_init);
module_exit(tp_target_exit);
MODULE_DESCRIPTION("tocpatch selftest: patch targets and their local callers");
MODULE_LICENSE("GPL");
