/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the API of the live-patching engine for patch modules.
 *
 * A patch module describes its patch statically and enables it from its
 * init function:
 *
 *	static struct tocpatch_func funcs[] = {
 *		{ .old_name = "cmdline_proc_show", .new_func = my_cmdline_proc_show },
 *		{ }
 *	};
 *	static struct tocpatch_object objs[] = {
 *		{ .name = NULL, .funcs = funcs },	(NULL: vmlinux)
 *		{ }
 *	};
 *	static struct tocpatch_patch patch = { .mod = THIS_MODULE, .objs = objs };
 *
 *	static int __init my_init(void) { return tocpatch_enable_patch(&patch); }
 *	static void __exit my_exit(void) { }
 *
 * While the patch is enabled tocpatch holds a reference on the patch
 * module, so it cannot be unloaded. Disabling it (writing 0 to
 * /sys/kernel/tocpatch/NAME/enabled, NAME being the module name, or
 * tocpatch_disable_patch() from other kernel code) stops new calls from
 * reaching the replacements; the reference is dropped once no task can
 * still run or return into the patch module's code, and rmmod then works.
 *
 * The structures belong to the patch module and must stay in place, and
 * unchanged, while the patch is enabled. Replacements must have the
 * prototype of the function they replace.
 */
#ifndef _TOCPATCH_H
#define _TOCPATCH_H

#include <linux/module.h>

/**
 * struct tocpatch_func - one function to replace
 * @old_name:	name of the function to replace, as kallsyms knows it
 * @new_func:	the replacement, a function of the patch module
 * @old_sympos:	which of several symbols of that name in the object
 *		(1-based, counted as livepatch counts: in vmlinux by
 *		address, in a module in its symbol table's order); 0 means
 *		the name must be unique in the object
 */
struct tocpatch_func {
	const char *old_name;
	void *new_func;
	unsigned long old_sympos;
};

/**
 * struct tocpatch_object - the functions to replace in one object
 * @name:	module name, or NULL for vmlinux; the module must be loaded
 *		when the patch is enabled
 * @funcs:	array terminated by an entry with a NULL @old_name
 */
struct tocpatch_object {
	const char *name;
	struct tocpatch_func *funcs;
};

/**
 * struct tocpatch_patch - a live patch
 * @mod:	the patch module (THIS_MODULE)
 * @objs:	array terminated by an entry with a NULL @funcs
 */
struct tocpatch_patch {
	struct module *mod;
	struct tocpatch_object *objs;
};

int tocpatch_enable_patch(struct tocpatch_patch *patch);
int tocpatch_disable_patch(struct tocpatch_patch *patch);

#endif /* _TOCPATCH_H */
