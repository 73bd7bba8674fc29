// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: follow modules coming and going (rust/patch/notify.rs).
 *
 * A patch can target functions of a module that is not loaded yet. The
 * module loader (prepare_coming_module() in kernel/module/main.c) calls
 * this chain with MODULE_STATE_COMING after ftrace_module_enable() (ftrace
 * has the module's call sites) and before the module's init runs, its
 * text already read-only; tocpatch_module_coming() patches it then, as
 * klp_module_coming() does. The chain is called "robustly": an errno
 * returned here (a pre_patch callback failed, or the patch could not be
 * applied) fails the load, and only the notifiers called before us get
 * MODULE_STATE_GOING from the chain; the loader then sends GOING to the
 * whole chain (coming_cleanup), us included. We undo our own work before
 * returning the errno, so that GOING finds nothing of ours to undo.
 *
 * When a patched module is unloaded (or its init fails), its text goes:
 * before it does (MODULE_STATE_GOING, the text is still mapped),
 * tocpatch_module_going() removes the markers and hooks of every patched
 * function in it, as upstream livepatch unpatches the objects of a going
 * module. Then it waits for the pending removals of released patches'
 * sysfs directories, so that rmmod of a patch module returns with its
 * directory gone (kernel_glue/sysfs.c). MODULE_STATE_LIVE only tells the
 * registry that the module left MODULE_STATE_COMING.
 *
 * C because the notifier block and struct module are not wrapped by the
 * kernel crate.
 */
#include <linux/module.h>
#include <linux/notifier.h>
#include "glue.h"

static int tocpatch_module_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	struct module *mod = data;

	switch (action) {
	case MODULE_STATE_COMING:
		return notifier_from_errno(tocpatch_module_coming(mod, mod->name));
	case MODULE_STATE_LIVE:
		tocpatch_module_live(mod);
		break;
	case MODULE_STATE_GOING:
		tocpatch_module_going(mod, mod->name);
		tocpatch_sysfs_flush();
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block tocpatch_module_nb = {
	.notifier_call = tocpatch_module_notify,
};

int tocpatch_notifier_register(void)
{
	return register_module_notifier(&tocpatch_module_nb);
}

void tocpatch_notifier_unregister(void)
{
	unregister_module_notifier(&tocpatch_module_nb);
}

/**
 * tocpatch_module_name_len - the size of a module name buffer
 *
 * Return: MODULE_NAME_LEN: a module's name is shorter than this.
 */
size_t tocpatch_module_name_len(void)
{
	return MODULE_NAME_LEN;
}
