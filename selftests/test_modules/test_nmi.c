// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest: a patched function entered where tocpatch's ftrace
 * hook does not run behind its (marked) global entry.
 *
 * tp_nmi_func() is the patch target (tocpatch_test_nmi_patch.ko replaces
 * it). It is only ever called through a function pointer, so through its
 * global entry, which carries the odd-TOC marker while it is patched.
 *
 * /sys/kernel/debug/tocpatch_nmi: write "CASE N", read
 * "rounds R orig O patched P lost L": of R calls, O ran the original with
 * a correct r2, P the replacement, L did nothing (the original ran with
 * an odd r2: the marked prologue ran without the hook behind it).
 *
 *	nmi N		N system-reset NMI IPIs (smp_send_nmi_ipi(), as the
 *			hard-lockup watchdog, kdump and xmon send them) to
 *			another CPU, with tp_nmi_func as the NMI function;
 *			that CPU runs it with ftrace off (entry-common.h)
 *	nmicall N	the same, with tp_nmi_entry as the NMI function,
 *			which calls tp_nmi_func through a pointer
 *	nmiinner N	as nmi, sent through __smp_send_nmi_ipi() (its
 *			global entry), as smp_send_stop() and crash_send_ipi()
 *			reach it without smp_send_nmi_ipi()
 *	call N		tp_nmi_func through the pointer, here (ftrace on)
 *	list N		tp_list_outer(): its ftrace callback (ops of this
 *			module) calls tp_list_inner(), whose callback calls
 *			tp_nmi_func: the third ftrace list function on this
 *			stack in one context, which ftrace's recursion guard
 *			refuses (no ops is called)
 *	list1 N		tp_list_inner() alone: one nested level, allowed
 *	dump N		the start of a crash on a CPU running with ftrace off
 *			(as a system reset or machine check handler does):
 *			with interrupts hard-disabled and paca->ftrace_enabled
 *			0, the kmsg dumpers are called for an oops (as
 *			system_reset_exception() and oops_end() call them,
 *			before kdump), then tp_nmi_func through the pointer
 *			(as anything after that on the crash path may);
 *			ftrace_enabled is put back afterwards
 *	die N		the same with the die notifiers (DIE_OOPS, as __die()
 *			calls them) instead of the dumpers
 *
 * smp_send_nmi_ipi(), __smp_send_nmi_ipi(), kmsg_dump_desc() and
 * notify_die() are not exported;
 * they are resolved the way tocpatch resolves names (a disabled kprobe). Loading fails with -ENOENT on a
 * kernel without CONFIG_NMI_IPI.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/ftrace.h>
#include <linux/jiffies.h>
#include <linux/kdebug.h>
#include <linux/kmsg_dump.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/hw_irq.h>
#include "test_nmi.h"
#include "test_resolve.h"

static int (*send_nmi_ipi)(int cpu, void (*fn)(struct pt_regs *),
			   u64 delay_us);
static int (*send_nmi_inner)(int cpu, void (*fn)(struct pt_regs *),
			     u64 delay_us, bool safe);
static void (*dump_desc)(enum kmsg_dump_reason reason, const char *desc);
static int (*die_notify)(enum die_val val, const char *str,
			 struct pt_regs *regs, long err, int trap, int sig);

/* What tp_nmi_record() saw; written by the NMI'd CPU. */
static unsigned long tp_nmi_count[2];

noinline void tp_nmi_record(int who)
{
	WRITE_ONCE(tp_nmi_count[who], tp_nmi_count[who] + 1);
}
EXPORT_SYMBOL_GPL(tp_nmi_record);

/*
 * The patch target. It checks r2 before anything uses the TOC: with an
 * odd r2 every TOC-relative access is off by one byte, so it does nothing
 * at all (as the kernel's handle_backtrace_ipi silently did in that case).
 * Unlike the other targets it does not BUG(): an NMI'd CPU that dies takes
 * the guest with it, and the test wants to count.
 */
noinline void tp_nmi_func(struct pt_regs *regs)
{
	unsigned long r2;

	asm volatile("mr %0, 2" : "=r" (r2) : : "memory");
	if (r2 & 1)
		return;
	tp_nmi_record(TP_NMI_ORIG);
}
EXPORT_SYMBOL_GPL(tp_nmi_func);

/* Read with READ_ONCE(): every call of tp_nmi_func goes through its global entry. */
static void (*tp_nmi_ptr)(struct pt_regs *) = tp_nmi_func;

/* An NMI function that calls the patch target through a pointer. */
static noinline void tp_nmi_entry(struct pt_regs *regs)
{
	READ_ONCE(tp_nmi_ptr)(regs);
}

/* Nested ftrace callbacks: see "list" above. */
static bool tp_list_nested;

static noinline void tp_list_outer(void)
{
	barrier();
}

static noinline void tp_list_inner(void)
{
	barrier();
}

static void notrace tp_list_outer_cb(unsigned long ip, unsigned long pip,
				     struct ftrace_ops *op,
				     struct ftrace_regs *fregs)
{
	WRITE_ONCE(tp_list_nested, true);
	tp_list_inner();
	WRITE_ONCE(tp_list_nested, false);
}

static void notrace tp_list_inner_cb(unsigned long ip, unsigned long pip,
				     struct ftrace_ops *op,
				     struct ftrace_regs *fregs)
{
	READ_ONCE(tp_nmi_ptr)(NULL);
}

static void notrace tp_list_nop_cb(unsigned long ip, unsigned long pip,
				   struct ftrace_ops *op,
				   struct ftrace_regs *fregs)
{
}

/*
 * Three ops: one per nested callback, and one that does nothing on all
 * three functions, so that each has two ops and ftrace calls them through
 * its list function in both ftrace modes (with out-of-line call sites, a
 * function with a single ops has it called directly).
 */
static struct ftrace_ops tp_outer_ops = { .func = tp_list_outer_cb };
static struct ftrace_ops tp_inner_ops = { .func = tp_list_inner_cb };
static struct ftrace_ops tp_nop_ops = { .func = tp_list_nop_cb };
static bool tp_ops_on;

static int tp_ops_register(void)
{
	int ret;

	ret = ftrace_set_filter_ip(&tp_outer_ops, (unsigned long)tp_list_outer, 0, 0);
	if (!ret)
		ret = ftrace_set_filter_ip(&tp_inner_ops, (unsigned long)tp_list_inner, 0, 0);
	if (!ret)
		ret = ftrace_set_filter_ip(&tp_nop_ops, (unsigned long)tp_list_outer, 0, 0);
	if (!ret)
		ret = ftrace_set_filter_ip(&tp_nop_ops, (unsigned long)tp_list_inner, 0, 0);
	if (!ret)
		ret = ftrace_set_filter_ip(&tp_nop_ops, (unsigned long)tp_nmi_func, 0, 0);
	if (ret)
		goto free;
	ret = register_ftrace_function(&tp_nop_ops);
	if (ret)
		goto free;
	ret = register_ftrace_function(&tp_inner_ops);
	if (ret)
		goto nop;
	ret = register_ftrace_function(&tp_outer_ops);
	if (ret)
		goto inner;
	tp_ops_on = true;
	return 0;
inner:
	unregister_ftrace_function(&tp_inner_ops);
nop:
	unregister_ftrace_function(&tp_nop_ops);
free:
	ftrace_free_filter(&tp_outer_ops);
	ftrace_free_filter(&tp_inner_ops);
	ftrace_free_filter(&tp_nop_ops);
	return ret;
}

static void tp_ops_unregister(void)
{
	if (!tp_ops_on)
		return;
	unregister_ftrace_function(&tp_outer_ops);
	unregister_ftrace_function(&tp_inner_ops);
	unregister_ftrace_function(&tp_nop_ops);
	ftrace_free_filter(&tp_outer_ops);
	ftrace_free_filter(&tp_inner_ops);
	ftrace_free_filter(&tp_nop_ops);
	tp_ops_on = false;
}

static DEFINE_MUTEX(tp_lock);	/* one test at a time; the result */
static unsigned long res_rounds, res_orig, res_patched, res_lost;

/*
 * The target CPU waits for the NMI in tp_spin(), an IPI handler spinning
 * with interrupts hard-disabled: a system reset that lands in interrupt
 * entry or exit code (MSR[RI] = 0, e.g. in masked_interrupt) is one the
 * kernel cannot recover from ("Unrecoverable System Reset"), whatever
 * tocpatch does, and an idle CPU is in there often. In tp_spin() it can
 * only land with MSR[RI] = 1. tp_spin_state: 1 spinning, 2 released (seen
 * only after the NMI returned), 3 done.
 */
static int tp_spin_state;

static void tp_spin(void *info)
{
	if (cmpxchg(&tp_spin_state, 0, 1) != 0)
		return;		/* the sender gave up */
	hard_irq_disable();
	while (READ_ONCE(tp_spin_state) == 1)
		cpu_relax();
	WRITE_ONCE(tp_spin_state, 3);
}

static call_single_data_t tp_spin_csd = CSD_INIT(tp_spin, NULL);

/* Spins until *p == v, for at most about a second. */
static bool wait_for(int *p, int v)
{
	unsigned long end = jiffies + HZ;

	while (READ_ONCE(*p) != v) {
		if (time_after(jiffies, end))
			return false;
		cpu_relax();
	}
	return true;
}

/*
 * One NMI IPI to another online CPU, through __smp_send_nmi_ipi() if
 * @inner; 0, or -EIO if it never arrived.
 */
static int one_nmi(void (*fn)(struct pt_regs *), bool inner)
{
	int cpu, ok = 0;

	preempt_disable();
	cpu = cpumask_any_but(cpu_online_mask, smp_processor_id());
	WRITE_ONCE(tp_spin_state, 0);
	if (cpu < nr_cpu_ids && !smp_call_function_single_async(cpu, &tp_spin_csd) &&
	    wait_for(&tp_spin_state, 1)) {
		/* Returns once the target is in its NMI handler. */
		if (inner)
			ok = send_nmi_inner(cpu, fn, USEC_PER_SEC, false);
		else
			ok = send_nmi_ipi(cpu, fn, USEC_PER_SEC);
		WRITE_ONCE(tp_spin_state, 2);
		/* Then fn has run: the spinner sees 2 after the NMI returned. */
		if (!wait_for(&tp_spin_state, 3))
			ok = 0;
	} else {
		xchg(&tp_spin_state, 2);
	}
	preempt_enable();
	return ok ? 0 : -EIO;
}

/*
 * A crash path's first steps on a CPU with ftrace off ("dump" and "die"
 * above), then a call through the pointer; ftrace_enabled is restored.
 */
static void crash_path(bool die)
{
	struct pt_regs regs = {};	/* for the die notifiers: kernel mode */
	unsigned long flags;
	u8 saved;

	local_irq_save(flags);
	hard_irq_disable();
	saved = this_cpu_get_ftrace_enabled();
	this_cpu_set_ftrace_enabled(0);
	if (die)
		die_notify(DIE_OOPS, "tocpatch selftest", &regs, 0, 0, 0);
	else
		dump_desc(KMSG_DUMP_OOPS, "tocpatch selftest");
	READ_ONCE(tp_nmi_ptr)(NULL);
	this_cpu_set_ftrace_enabled(saved);
	local_irq_restore(flags);
}

static int run(const char *c, unsigned long n)
{
	unsigned long o = READ_ONCE(tp_nmi_count[TP_NMI_ORIG]);
	unsigned long p = READ_ONCE(tp_nmi_count[TP_NMI_PATCHED]);
	unsigned long i;
	int ret = 0;

	for (i = 0; i < n && !ret; i++) {
		if (!strcmp(c, "nmi"))
			ret = one_nmi(tp_nmi_func, false);
		else if (!strcmp(c, "nmicall"))
			ret = one_nmi(tp_nmi_entry, false);
		else if (!strcmp(c, "nmiinner"))
			ret = one_nmi(tp_nmi_func, true);
		else if (!strcmp(c, "call"))
			READ_ONCE(tp_nmi_ptr)(NULL);
		else if (!strcmp(c, "list"))
			tp_list_outer();
		else if (!strcmp(c, "list1"))
			tp_list_inner();
		else if (!strcmp(c, "dump"))
			crash_path(false);
		else if (!strcmp(c, "die"))
			crash_path(true);
		else
			return -EINVAL;
		if (i % 16 == 15)
			cond_resched();
	}
	if (ret)
		pr_err("%s: NMI IPI %lu of %lu did not arrive\n", c, i, n);
	res_rounds = i;
	res_orig = READ_ONCE(tp_nmi_count[TP_NMI_ORIG]) - o;
	res_patched = READ_ONCE(tp_nmi_count[TP_NMI_PATCHED]) - p;
	res_lost = i - res_orig - res_patched;
	return ret;
}

static ssize_t ctl_write(struct file *f, const char __user *ubuf, size_t len,
			 loff_t *off)
{
	char buf[32], c[16];
	unsigned long n;
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (sscanf(buf, "%15s %lu", c, &n) != 2)
		return -EINVAL;
	mutex_lock(&tp_lock);
	ret = run(c, n);
	mutex_unlock(&tp_lock);
	return ret ? ret : len;
}

static ssize_t ctl_read(struct file *f, char __user *ubuf, size_t len,
			loff_t *off)
{
	char buf[96];
	int n;

	mutex_lock(&tp_lock);
	n = scnprintf(buf, sizeof(buf), "rounds %lu orig %lu patched %lu lost %lu\n",
		      res_rounds, res_orig, res_patched, res_lost);
	mutex_unlock(&tp_lock);
	return simple_read_from_buffer(ubuf, len, off, buf, n);
}

static const struct file_operations ctl_fops = {
	.owner = THIS_MODULE,
	.write = ctl_write,
	.read = ctl_read,
};

static struct dentry *ctl;

static int __init tp_nmi_init(void)
{
	unsigned long addr = tp_resolve("smp_send_nmi_ipi");
	int ret;

	if (!addr) {
		pr_err("smp_send_nmi_ipi not found (kernel without CONFIG_NMI_IPI?)\n");
		return -ENOENT;
	}
	send_nmi_ipi = (void *)addr;
	send_nmi_inner = (void *)tp_resolve("__smp_send_nmi_ipi");
	if (!send_nmi_inner) {
		pr_err("__smp_send_nmi_ipi not found\n");
		return -ENOENT;
	}
	dump_desc = (void *)tp_resolve("kmsg_dump_desc");
	die_notify = (void *)tp_resolve("notify_die");
	if (!dump_desc || !die_notify) {
		pr_err("kmsg_dump_desc or notify_die not found\n");
		return -ENOENT;
	}
	ret = tp_ops_register();
	if (ret) {
		pr_err("cannot register the nested ftrace ops: %d\n", ret);
		return ret;
	}
	ctl = debugfs_create_file("tocpatch_nmi", 0600, NULL, NULL, &ctl_fops);
	return 0;
}

static void __exit tp_nmi_exit(void)
{
	debugfs_remove(ctl);
	tp_ops_unregister();
}

module_init(tp_nmi_init);
module_exit(tp_nmi_exit);
MODULE_DESCRIPTION("tocpatch selftest: patched functions entered with ftrace off or refused");
MODULE_LICENSE("GPL");
