// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: follow modules going away.
 *
 * A patch can target functions of a loaded module. When that module is
 * unloaded, its text goes: before it does (MODULE_STATE_GOING, the text is
 * still mapped), tocpatch_module_going() (rust/patch.rs) removes the
 * markers and hooks of every patched function in it, as upstream
 * livepatch unpatches the objects of a going module. Then it waits for
 * the pending removals of released patches' sysfs directories, so that
 * rmmod of a patch module returns with its directory gone
 * (kernel_glue/sysfs.c).
 */
#include <linux/module.h>
#include <linux/notifier.h>
#include "glue.h"

static int tocpatch_module_notify(struct notifier_block *nb,
				  unsigned long action, void *data)
{
	struct module *mod = data;

	if (action == MODULE_STATE_GOING) {
		tocpatch_module_going(mod->name);
		tocpatch_sysfs_flush();
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
