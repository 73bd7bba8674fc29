// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest patch of the getpid system call (test-syscall.sh), the
 * counterpart of upstream's test_klp_syscall.c: the replacement of
 * sys_getpid() answers as the original does and crosses off the pids
 * given in pids= as each of them calls it; npids (in
 * /sys/kernel/tocpatch_test_syscall/) counts those still to come, calls
 * counts the replacement's runs.
 *
 * On powerpc, system_call_exception() calls sys_getpid() through the
 * syscall table, so through its global entry: a marked prologue, and a C
 * caller that reloads its TOC after the call. The replacement reads this
 * module's data through its own TOC.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <tocpatch.h>

#define TP_MAX_PIDS 64

static DEFINE_SPINLOCK(tp_pids_lock);
static unsigned int npids, npids_pending;
static int pids[TP_MAX_PIDS];
module_param_array(pids, int, &npids_pending, 0);
MODULE_PARM_DESC(pids, "pids that must run the replacement");

static atomic_long_t calls = ATOMIC_LONG_INIT(0);

static ssize_t npids_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(npids_pending));
}

static ssize_t calls_show(struct kobject *kobj, struct kobj_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&calls));
}

static struct kobj_attribute npids_attr = __ATTR_RO(npids);
static struct kobj_attribute calls_attr = __ATTR_RO(calls);
static struct attribute *tp_attrs[] = {
	&npids_attr.attr,
	&calls_attr.attr,
	NULL
};
static const struct attribute_group tp_group = { .attrs = tp_attrs };
static struct kobject *tp_kobj;

static long tp_sys_getpid(const struct pt_regs *regs)
{
	unsigned int i;

	atomic_long_inc(&calls);
	if (READ_ONCE(npids_pending)) {
		spin_lock(&tp_pids_lock);
		for (i = 0; i < npids; i++) {
			if (pids[i] && pids[i] == current->pid) {
				pids[i] = 0;
				WRITE_ONCE(npids_pending, npids_pending - 1);
				break;
			}
		}
		spin_unlock(&tp_pids_lock);
	}
	return task_tgid_vnr(current);
}

static struct tocpatch_func funcs[] = {
	{ .old_name = "sys_getpid", .new_func = tp_sys_getpid },
	{ }
};

static struct tocpatch_object objs[] = {
	{ .funcs = funcs },	/* vmlinux */
	{ }
};

static struct tocpatch_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

static int __init tp_syscall_init(void)
{
	int ret;

	tp_kobj = kobject_create_and_add("tocpatch_test_syscall", kernel_kobj);
	if (!tp_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(tp_kobj, &tp_group);
	if (ret)
		goto out;
	npids = npids_pending;
	ret = tocpatch_enable_patch(&patch);
	if (!ret)
		return 0;
out:
	kobject_put(tp_kobj);
	return ret;
}

static void __exit tp_syscall_exit(void)
{
	kobject_put(tp_kobj);
}

module_init(tp_syscall_init);
module_exit(tp_syscall_exit);
MODULE_DESCRIPTION("tocpatch selftest: a patch of the getpid system call");
MODULE_LICENSE("GPL");
