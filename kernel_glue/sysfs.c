// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the sysfs ABI, /sys/kernel/tocpatch/<patch>/..., modelled on
 * /sys/kernel/livepatch (Documentation/ABI/testing/sysfs-kernel-tocpatch).
 *
 * This file builds the kobject tree of a patch: the patch directory, one
 * directory per object ("vmlinux" for the NULL object) and one per function
 * ("<function>,<sympos>"). The values and the writes are Rust's
 * (rust/sysfs.rs): each access looks the patch up by its name in the
 * registry, so no file refers to a patch's memory, and a file read after
 * the patch was released fails with -ENODEV until its directory is gone.
 *
 * A directory is removed from a work item (tocpatch_sysfs_remove()), never
 * synchronously: the release of a patch can come from a write to its own
 * "enabled" file, and kobject_del() waits for that write to return, as
 * livepatch frees its kobjects from a work item. tocpatch_sysfs_flush()
 * waits for the pending removals; it is called before a patch is enabled,
 * when any module goes (so rmmod of a patch module returns with its
 * directory gone) and at tocpatch's unload. It must never be called with
 * the registry lock held: a removal waits for a running show, which may
 * wait for that lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/kobject.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/workqueue.h>
#include <tocpatch.h>
#include "glue.h"

static struct kobject *tp_root;
static struct workqueue_struct *tp_wq;

/* An attribute and the value it asks Rust for (enum tocpatch_sysfs_attr). */
struct tp_attr {
	struct kobj_attribute ka;
	unsigned int id;
};

/* A function directory: the function's index in the patch. */
struct tp_func {
	struct kobject kobj;
	unsigned int idx;
};

/* An object directory: its functions' indexes, first .. first + n - 1. */
struct tp_obj {
	struct kobject kobj;
	unsigned int first, n;
};

/*
 * A patch directory. kids[] holds every object and function kobject, each
 * object before its functions, so that putting them in reverse order
 * removes children before their parent.
 */
struct tp_patch {
	struct kobject kobj;
	struct completion released;
	struct work_struct remove;
	unsigned int nkids;
	struct kobject *kids[];
};

static ssize_t tp_emit(struct kobject *patch, unsigned int id,
		       unsigned int first, unsigned int n, char *buf)
{
	const char *str = NULL;
	long long val = 0;
	int ret;

	ret = tocpatch_sysfs_get(kobject_name(patch), id, first, n, &val, &str);
	if (ret)
		return ret;
	if (str)
		return sysfs_emit(buf, "%s\n", str);
	return sysfs_emit(buf, "%lld\n", val);
}

static unsigned int tp_id(struct kobj_attribute *attr)
{
	return container_of(attr, struct tp_attr, ka)->id;
}

static ssize_t tp_patch_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return tp_emit(kobj, tp_id(attr), 0, 0, buf);
}

static ssize_t tp_obj_show(struct kobject *kobj, struct kobj_attribute *attr,
			   char *buf)
{
	struct tp_obj *o = container_of(kobj, struct tp_obj, kobj);

	return tp_emit(kobj->parent, tp_id(attr), o->first, o->n, buf);
}

static ssize_t tp_func_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	struct tp_func *f = container_of(kobj, struct tp_func, kobj);

	return tp_emit(kobj->parent->parent, tp_id(attr), f->idx, 1, buf);
}

/* The writable files take a boolean (kstrtobool), as livepatch's do. */
static ssize_t tp_patch_store(struct kobject *kobj,
			      struct kobj_attribute *attr, const char *buf,
			      size_t count)
{
	bool val;
	int ret;

	ret = kstrtobool(buf, &val);
	if (ret) {
		pr_err("%s/%s: '%.*s' is not a boolean\n", kobject_name(kobj),
		       attr->attr.name, (int)min_t(size_t, strcspn(buf, "\n"), 32),
		       buf);
		return ret;
	}
	ret = tocpatch_sysfs_set(kobject_name(kobj), tp_id(attr), val);
	return ret ? ret : count;
}

#define TP_ATTR(_name, _mode, _show, _store, _id)			\
	static struct tp_attr tp_attr_##_name = {			\
		.ka = __ATTR(_name, _mode, _show, _store),		\
		.id = _id,						\
	}

TP_ATTR(enabled, 0644, tp_patch_show, tp_patch_store, TP_SYSFS_ENABLED);
TP_ATTR(transition, 0444, tp_patch_show, NULL, TP_SYSFS_TRANSITION);
TP_ATTR(force, 0200, NULL, tp_patch_store, TP_SYSFS_FORCE);
TP_ATTR(replace, 0444, tp_patch_show, NULL, TP_SYSFS_REPLACE);
TP_ATTR(stack_order, 0444, tp_patch_show, NULL, TP_SYSFS_STACK_ORDER);
TP_ATTR(patched, 0444, tp_obj_show, NULL, TP_SYSFS_PATCHED);
TP_ATTR(marker, 0444, tp_func_show, NULL, TP_SYSFS_MARKER);

/*
 * A function's counters, one line of numbers in a fixed order, as
 * /sys/block/<disk>/stat has them: its own file for each would cost a
 * kernfs node per counter and function, which dominated the enable of a
 * large patch (Documentation/performance.rst).
 */
static ssize_t stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			 char *buf)
{
	struct tp_func *f = container_of(kobj, struct tp_func, kobj);
	long long v[TP_SYSFS_STAT_FIELDS];
	int ret, i, len = 0;

	ret = tocpatch_sysfs_stat(kobject_name(kobj->parent->parent), f->idx,
				  v);
	if (ret)
		return ret;
	for (i = 0; i < TP_SYSFS_STAT_FIELDS; i++)
		len += sysfs_emit_at(buf, len, "%s%lld", i ? " " : "", v[i]);
	return len + sysfs_emit_at(buf, len, "\n");
}

static struct kobj_attribute tp_attr_stat = __ATTR_RO(stat);

static struct attribute *tp_patch_attrs[] = {
	&tp_attr_enabled.ka.attr,
	&tp_attr_transition.ka.attr,
	&tp_attr_force.ka.attr,
	&tp_attr_replace.ka.attr,
	&tp_attr_stack_order.ka.attr,
	NULL
};
ATTRIBUTE_GROUPS(tp_patch);

static struct attribute *tp_obj_attrs[] = {
	&tp_attr_patched.ka.attr,
	NULL
};
ATTRIBUTE_GROUPS(tp_obj);

static struct attribute *tp_func_attrs[] = {
	&tp_attr_marker.ka.attr,
	&tp_attr_stat.attr,
	NULL
};
ATTRIBUTE_GROUPS(tp_func);

static void tp_patch_release(struct kobject *kobj)
{
	complete(&container_of(kobj, struct tp_patch, kobj)->released);
}

static void tp_obj_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct tp_obj, kobj));
}

static void tp_func_release(struct kobject *kobj)
{
	kfree(container_of(kobj, struct tp_func, kobj));
}

static const struct kobj_type tp_patch_ktype = {
	.release = tp_patch_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = tp_patch_groups,
};

static const struct kobj_type tp_obj_ktype = {
	.release = tp_obj_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = tp_obj_groups,
};

static const struct kobj_type tp_func_ktype = {
	.release = tp_func_release,
	.sysfs_ops = &kobj_sysfs_ops,
	.default_groups = tp_func_groups,
};

/*
 * Removes a patch's directories (work item): children first, then the
 * patch; waits until the patch kobject is released, so that every release
 * function has run when the work is done (tocpatch_sysfs_exit()).
 */
static void tp_patch_remove(struct work_struct *work)
{
	struct tp_patch *p = container_of(work, struct tp_patch, remove);

	while (p->nkids)
		kobject_put(p->kids[--p->nkids]);
	kobject_put(&p->kobj);
	wait_for_completion(&p->released);
	kfree(p);
}

static bool tp_same_name(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static struct kobject *tp_new_kid(struct tp_patch *p, size_t size,
				  const struct kobj_type *ktype)
{
	struct kobject *kobj = kzalloc(size, GFP_KERNEL);

	if (kobj) {
		kobject_init(kobj, ktype);
		p->kids[p->nkids++] = kobj;
	}
	return kobj;
}

/*
 * Creates /sys/kernel/tocpatch/@name/ for @api, whose functions Rust has
 * collected in the same order (objects in order, each object's functions
 * in order). On success *@handle is for tocpatch_sysfs_remove(); on
 * failure nothing is left (a partly built tree is removed by the work
 * item, as it may already be read).
 */
int tocpatch_sysfs_add(const char *name, const struct tocpatch_patch *api,
		       void **handle)
{
	const struct tocpatch_object *obj, *o2;
	const struct tocpatch_func *func;
	unsigned int nkids = 0, idx = 0;
	struct tp_patch *p;
	int ret;

	for (obj = api->objs; obj->funcs; obj++)
		for (nkids++, func = obj->funcs; func->old_name; func++)
			nkids++;

	p = kzalloc(struct_size(p, kids, nkids), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	init_completion(&p->released);
	INIT_WORK(&p->remove, tp_patch_remove);
	kobject_init(&p->kobj, &tp_patch_ktype);
	ret = kobject_add(&p->kobj, tp_root, "%s", name);
	if (ret) {
		pr_err("%s: cannot create its sysfs directory: %d\n", name, ret);
		goto err;
	}

	for (obj = api->objs; obj->funcs; obj++) {
		struct tp_obj *o;

		for (o2 = api->objs; o2 != obj; o2++) {
			if (tp_same_name(o2->name, obj->name)) {
				pr_err("%s: object %s is listed twice\n", name,
				       obj->name ?: "vmlinux");
				ret = -EINVAL;
				goto err;
			}
		}
		o = (struct tp_obj *)tp_new_kid(p, sizeof(*o), &tp_obj_ktype);
		if (!o) {
			ret = -ENOMEM;
			goto err;
		}
		o->first = idx;
		ret = kobject_add(&o->kobj, &p->kobj, "%s",
				  obj->name ?: "vmlinux");
		if (ret)
			goto err_add;

		for (func = obj->funcs; func->old_name; func++, idx++) {
			struct tp_func *f;

			f = (struct tp_func *)tp_new_kid(p, sizeof(*f),
							 &tp_func_ktype);
			if (!f) {
				ret = -ENOMEM;
				goto err;
			}
			f->idx = idx;
			ret = kobject_add(&f->kobj, &o->kobj, "%s,%lu",
					  func->old_name,
					  func->old_sympos ?: 1);
			if (ret)
				goto err_add;
		}
		o->n = idx - o->first;
	}
	*handle = p;
	return 0;

err_add:
	pr_err("%s: cannot create the sysfs directory of %s: %d\n", name,
	       kobject_name(p->kids[p->nkids - 1]) ?: "?", ret);
err:
	queue_work(tp_wq, &p->remove);
	return ret;
}

/* Removes a patch's directories, from the work item. */
void tocpatch_sysfs_remove(void *handle)
{
	struct tp_patch *p = handle;

	queue_work(tp_wq, &p->remove);
}

/* Waits for the pending removals; never with the registry lock held. */
void tocpatch_sysfs_flush(void)
{
	flush_workqueue(tp_wq);
}

int tocpatch_sysfs_init(void)
{
	tp_wq = alloc_workqueue("tocpatch_sysfs", WQ_UNBOUND, 0);
	if (!tp_wq)
		return -ENOMEM;
	tp_root = kobject_create_and_add("tocpatch", kernel_kobj);
	if (!tp_root) {
		destroy_workqueue(tp_wq);
		return -ENOMEM;
	}
	return 0;
}

void tocpatch_sysfs_exit(void)
{
	destroy_workqueue(tp_wq);	/* drains the pending removals */
	kobject_put(tp_root);
}
