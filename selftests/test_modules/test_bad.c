// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch selftest: patches that must be refused. Parameter "which"
 * picks one; the module's init returns what tocpatch_enable_patch() says,
 * so insmod fails with that errno and nothing may have changed.
 *
 *	1  unknown function				-ENOENT
 *	2  old_sympos 2 of a unique function		-ENOENT
 *	3  new_func outside the patch module		-EINVAL
 *	4  (valid) object module not loaded: the object waits for it
 *	5  no functions at all				-EINVAL
 *	6  (valid) tp_target_add -> a - b, stacked on another patch of it
 *	7  the same function listed twice		-EINVAL
 *	8  NULL patch					-EINVAL
 *	9  (valid) tp_target_add -> a - b, with no link to the target
 *	   module's symbols, so that the target module can be unloaded
 *	10 tp_dup (two static functions of that name), old_sympos 0
 *							-EINVAL
 *	11 tp_dup, old_sympos 3				-ENOENT
 *	12 (valid) the second tp_dup (old_sympos 2) -> x + 1000
 *	13 vmlinux function "name", old_sympos "sympos" (parameters), to
 *	   check the counting of duplicate vmlinux names: use a name with
 *	   several functions and an old_sympos that cannot resolve
 *	14 tp_target_add, then tp_target_notrace (ftrace cannot hook it)
 *							-EINVAL
 *	20 the object tocpatch_test_target listed twice (tp_target_add in
 *	   one, the second tp_dup in the other): its sysfs directory would
 *	   be there twice			-EINVAL
 *	21 tp_target_add in an object whose name is longer than a module
 *	   name can be (parameter "objname")		-EINVAL
 *
 * fail_nth=N makes the Nth allocation of the enable fail (fault
 * injection, see tp_fault_enable()).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/printk.h>
#include <tocpatch.h>
#include "test_target.h"

static int which;
module_param(which, int, 0444);
static char *name;
module_param(name, charp, 0444);
static char *objname;
module_param(objname, charp, 0444);
static ulong sympos;
module_param(sympos, ulong, 0444);
static uint fail_nth;
module_param(fail_nth, uint, 0444);

static int tp_bad_add(int a, int b)
{
	return a - b;
}

static int tp_bad_dup(int x)
{
	return x + TP_PATCHED_BIAS;
}

static struct tocpatch_func f_dup0[] = {
	{ .old_name = "tp_dup", .new_func = tp_bad_dup }, { }
};
static struct tocpatch_func f_dup3[] = {
	{ .old_name = "tp_dup", .new_func = tp_bad_dup, .old_sympos = 3 }, { }
};
static struct tocpatch_func f_dup2[] = {
	{ .old_name = "tp_dup", .new_func = tp_bad_dup, .old_sympos = 2 }, { }
};
static struct tocpatch_func f_param[] = {
	{ .new_func = tp_bad_add }, { }
};

static struct tocpatch_func f_unknown[] = {
	{ .old_name = "tp_no_such_function", .new_func = tp_bad_add }, { }
};
static struct tocpatch_func f_sympos[] = {
	{ .old_name = "tp_target_add", .new_func = tp_bad_add, .old_sympos = 2 }, { }
};
static struct tocpatch_func f_outside[] = {
	{ .old_name = "tp_target_add", .new_func = _printk }, { }
};
static struct tocpatch_func f_ok[] = {
	{ .old_name = "tp_target_add", .new_func = tp_bad_add }, { }
};
static struct tocpatch_func f_notrace[] = {
	{ .old_name = "tp_target_add", .new_func = tp_bad_add },
	{ .old_name = "tp_target_notrace", .new_func = tp_bad_dup },
	{ }
};
static struct tocpatch_func f_none[] = {
	{ }
};
static struct tocpatch_func f_twice[] = {
	{ .old_name = "tp_target_add", .new_func = tp_bad_add },
	{ .old_name = "tp_target_add", .new_func = tp_bad_add },
	{ }
};

static struct tocpatch_object objs[3];
static struct tocpatch_patch patch = { .mod = THIS_MODULE, .objs = objs };

static int __init tp_bad_init(void)
{
	const char *obj = "tocpatch_test_target";
	struct tocpatch_func *funcs;

	switch (which) {
	case 1:
		funcs = f_unknown;
		break;
	case 2:
		funcs = f_sympos;
		break;
	case 3:
		funcs = f_outside;
		break;
	case 4:
		funcs = f_ok;
		obj = "tp_no_such_module";
		break;
	case 5:
		funcs = f_none;
		break;
	case 6:
	case 9:
		funcs = f_ok;
		break;
	case 7:
		funcs = f_twice;
		break;
	case 8:
		return tocpatch_enable_patch(NULL);
	case 10:
		funcs = f_dup0;
		break;
	case 11:
		funcs = f_dup3;
		break;
	case 12:
		funcs = f_dup2;
		break;
	case 21:
		if (!objname)
			return -EINVAL;
		obj = objname;
		funcs = f_ok;
		break;
	case 20:
		objs[1].name = obj;
		objs[1].funcs = f_dup2;
		funcs = f_ok;
		break;
	case 13:
		if (!name)
			return -EINVAL;
		f_param[0].old_name = name;
		f_param[0].old_sympos = sympos;
		funcs = f_param;
		obj = NULL;
		break;
	case 14:
		funcs = f_notrace;
		break;
	default:
		return -EINVAL;
	}
	objs[0].name = obj;
	objs[0].funcs = funcs;
	return tp_fault_enable(&patch, fail_nth);
}

static void __exit tp_bad_exit(void)
{
}

module_init(tp_bad_init);
module_exit(tp_bad_exit);
MODULE_DESCRIPTION("tocpatch selftest: patches that must be refused");
MODULE_LICENSE("GPL");
