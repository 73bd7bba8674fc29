// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch benchmark target: TP_BENCH_NFUNCS functions to patch
 * (tp_bench_fn_000 ... tp_bench_fn_999, see tp_bench.h), the local caller
 * (a loop in this module: calls through the local entry, sharing this
 * module's TOC) and the debugfs files the benchmark drives:
 *
 * /sys/kernel/debug/tocpatch_bench/local (and .../global, made by
 * tocpatch_bench_caller.ko): write "N EXPECT IRQOFF": call tp_bench_fn_000
 * N times, each result checked against i + EXPECT (1: the original must
 * run, 2: a replacement), interrupts off around the loop if IRQOFF is 1;
 * read "ns T calls N bad B": the loop's ktime_get_ns() time and how many
 * results were not the expected one.
 *
 * /sys/kernel/debug/tocpatch_bench/smp: write "N EXPECT": a kthread on
 * each online CPU makes the same N local calls at the same time
 * (interrupts on); read "ns T calls N bad B cpus C": T the longest
 * thread's loop time, B the wrong results of all of them.
 *
 * /sys/kernel/debug/tocpatch_bench/now (read): ktime_get_ns(), so that a
 * shell script can time an operation with builtins only (read VAR <now).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/completion.h>
#include <linux/cpu.h>
#include <linux/cpumask.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "tp_bench.h"

/*
 * Read through r2 on every call: the functions use their TOC, so GCC
 * gives them the global entry prologue tocpatch marks. noipa: each call
 * really happens (no result is derived at compile time, no clone).
 */
static long tp_bench_inc = TP_BENCH_ORIG;

#define TP_BENCH_DEFINE_FN(p)						\
	noinline __attribute__((__noipa__)) long tp_bench_fn_##p(long x) \
	{								\
		return x + READ_ONCE(tp_bench_inc);			\
	}
TP_BENCH_REP(TP_BENCH_DEFINE_FN)
EXPORT_SYMBOL_GPL(tp_bench_fn_000);

#define TP_BENCH_ADDR(p) tp_bench_fn_##p,
void *const tp_bench_fns[TP_BENCH_NFUNCS] = { TP_BENCH_REP(TP_BENCH_ADDR) };
EXPORT_SYMBOL_GPL(tp_bench_fns);

static void tp_bench_local_loop(unsigned long n, long expect, bool irqoff,
				u64 *ns, unsigned long *bad)
{
	TP_BENCH_LOOP(tp_bench_fn_000, n, expect, irqoff, ns, bad);
}

struct tp_bench_file {
	tp_bench_loop_fn loop;
	struct mutex lock;	/* serialises runs and results */
	unsigned long calls, bad;
	u64 ns;
};

static ssize_t tp_bench_write(struct file *f, const char __user *ubuf,
			      size_t len, loff_t *off)
{
	struct tp_bench_file *bf = f->f_inode->i_private;
	unsigned long n, bad;
	long expect;
	char buf[64];
	int irqoff;
	u64 ns;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%lu %ld %d", &n, &expect, &irqoff) != 3 ||
	    (irqoff != 0 && irqoff != 1)) {
		pr_err("bad run request '%s' (want: N EXPECT IRQOFF)\n",
		       strim(buf));
		return -EINVAL;
	}
	mutex_lock(&bf->lock);
	bf->loop(n, expect, irqoff, &ns, &bad);
	bf->calls = n;
	bf->ns = ns;
	bf->bad = bad;
	mutex_unlock(&bf->lock);
	return len;
}

static ssize_t tp_bench_read(struct file *f, char __user *ubuf, size_t len,
			     loff_t *off)
{
	struct tp_bench_file *bf = f->f_inode->i_private;
	char buf[96];
	int n;

	mutex_lock(&bf->lock);
	n = scnprintf(buf, sizeof(buf), "ns %llu calls %lu bad %lu\n", bf->ns,
		      bf->calls, bf->bad);
	mutex_unlock(&bf->lock);
	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations tp_bench_fops = {
	.owner = THIS_MODULE,
	.write = tp_bench_write,
	.read = tp_bench_read,
};

static ssize_t tp_bench_now_read(struct file *f, char __user *ubuf,
				 size_t len, loff_t *off)
{
	char buf[32];
	int n = scnprintf(buf, sizeof(buf), "%llu\n", ktime_get_ns());

	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations tp_bench_now_fops = {
	.owner = THIS_MODULE,
	.read = tp_bench_now_read,
};

static struct dentry *tp_bench_dir, *tp_bench_local;

struct dentry *tp_bench_file_create(const char *name, tp_bench_loop_fn loop)
{
	struct tp_bench_file *bf = kzalloc(sizeof(*bf), GFP_KERNEL);
	struct dentry *file;

	if (!bf)
		return ERR_PTR(-ENOMEM);
	bf->loop = loop;
	mutex_init(&bf->lock);
	file = debugfs_create_file(name, 0600, tp_bench_dir, bf, &tp_bench_fops);
	if (IS_ERR(file))
		kfree(bf);
	return file;
}
EXPORT_SYMBOL_GPL(tp_bench_file_create);

void tp_bench_file_remove(struct dentry *file)
{
	struct tp_bench_file *bf;

	if (IS_ERR_OR_NULL(file))
		return;
	bf = file->d_inode->i_private;
	debugfs_remove(file);
	kfree(bf);
}
EXPORT_SYMBOL_GPL(tp_bench_file_remove);

/* The concurrent run: one thread per online CPU. */
struct tp_bench_smp {
	unsigned long n;
	long expect;
	atomic_t ready;		/* threads at the start line */
	atomic_t left;		/* threads not done */
	unsigned int cpus;
	struct completion done;
	u64 ns[NR_CPUS];
	unsigned long bad[NR_CPUS];
};

static int tp_bench_smp_thread(void *data)
{
	struct tp_bench_smp *s = data;
	unsigned int cpu = raw_smp_processor_id();

	/* Start together: each spins until all are there. */
	atomic_inc(&s->ready);
	while (atomic_read(&s->ready) < s->cpus)
		cpu_relax();
	TP_BENCH_LOOP(tp_bench_fn_000, s->n, s->expect, false, &s->ns[cpu],
		      &s->bad[cpu]);
	if (atomic_dec_and_test(&s->left))
		complete(&s->done);
	return 0;
}

static DEFINE_MUTEX(tp_bench_smp_lock);	/* one run at a time, and result */
static u64 tp_bench_smp_ns;
static unsigned long tp_bench_smp_calls, tp_bench_smp_bad;
static unsigned int tp_bench_smp_cpus;

static int tp_bench_smp_run(unsigned long n, long expect)
{
	struct task_struct *t[NR_CPUS] = { };
	struct tp_bench_smp *s;
	unsigned int cpu;
	int ret = 0;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	s->n = n;
	s->expect = expect;
	init_completion(&s->done);
	cpus_read_lock();
	s->cpus = num_online_cpus();
	atomic_set(&s->left, s->cpus);
	for_each_online_cpu(cpu) {
		t[cpu] = kthread_create_on_cpu(tp_bench_smp_thread, s, cpu,
					       "tp_bench/%u");
		if (IS_ERR(t[cpu])) {
			ret = PTR_ERR(t[cpu]);
			t[cpu] = NULL;
			break;
		}
		get_task_struct(t[cpu]);
	}
	if (!ret)
		for_each_online_cpu(cpu)
			wake_up_process(t[cpu]);
	cpus_read_unlock();
	if (!ret)
		wait_for_completion(&s->done);
	for_each_possible_cpu(cpu) {
		if (!t[cpu])
			continue;
		/* Not woken (an error): stopped before it runs. */
		kthread_stop(t[cpu]);
		put_task_struct(t[cpu]);
	}
	if (!ret) {
		tp_bench_smp_ns = 0;
		tp_bench_smp_bad = 0;
		for_each_possible_cpu(cpu) {
			tp_bench_smp_ns = max(tp_bench_smp_ns, s->ns[cpu]);
			tp_bench_smp_bad += s->bad[cpu];
		}
		tp_bench_smp_calls = n;
		tp_bench_smp_cpus = s->cpus;
	}
	kfree(s);
	return ret;
}

static ssize_t tp_bench_smp_write(struct file *f, const char __user *ubuf,
				  size_t len, loff_t *off)
{
	unsigned long n;
	char buf[64];
	long expect;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%lu %ld", &n, &expect) != 2) {
		pr_err("bad smp run request '%s' (want: N EXPECT)\n", strim(buf));
		return -EINVAL;
	}
	mutex_lock(&tp_bench_smp_lock);
	ret = tp_bench_smp_run(n, expect);
	mutex_unlock(&tp_bench_smp_lock);
	return ret ?: len;
}

static ssize_t tp_bench_smp_read(struct file *f, char __user *ubuf,
				 size_t len, loff_t *off)
{
	char buf[128];
	int n;

	mutex_lock(&tp_bench_smp_lock);
	n = scnprintf(buf, sizeof(buf), "ns %llu calls %lu bad %lu cpus %u\n",
		      tp_bench_smp_ns, tp_bench_smp_calls, tp_bench_smp_bad,
		      tp_bench_smp_cpus);
	mutex_unlock(&tp_bench_smp_lock);
	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations tp_bench_smp_fops = {
	.owner = THIS_MODULE,
	.write = tp_bench_smp_write,
	.read = tp_bench_smp_read,
};

static int __init tp_bench_target_init(void)
{
	struct dentry *now, *smp;

	tp_bench_dir = debugfs_create_dir("tocpatch_bench", NULL);
	if (IS_ERR(tp_bench_dir))
		return PTR_ERR(tp_bench_dir);
	now = debugfs_create_file("now", 0400, tp_bench_dir, NULL,
				  &tp_bench_now_fops);
	smp = debugfs_create_file("smp", 0600, tp_bench_dir, NULL,
				  &tp_bench_smp_fops);
	tp_bench_local = tp_bench_file_create("local", tp_bench_local_loop);
	if (IS_ERR(now) || IS_ERR(smp) || IS_ERR(tp_bench_local)) {
		tp_bench_file_remove(tp_bench_local);
		debugfs_remove_recursive(tp_bench_dir);
		return -ENOMEM;
	}
	return 0;
}

static void __exit tp_bench_target_exit(void)
{
	tp_bench_file_remove(tp_bench_local);
	debugfs_remove_recursive(tp_bench_dir);
}

module_init(tp_bench_target_init);
module_exit(tp_bench_target_exit);
MODULE_DESCRIPTION("tocpatch benchmark: the target functions and the local caller");
MODULE_LICENSE("GPL");
