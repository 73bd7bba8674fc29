// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the exported API (include/tocpatch.h) and module helpers.
 *
 * The API functions are written in Rust (rust/patch.rs); a Rust module
 * cannot emit EXPORT_SYMBOL itself, so the exports live here.
 * tocpatch_abi_layout() lets the Rust side check at load time that its
 * view of the API structures matches the C header's.
 */
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rculist.h>
#include <asm/text-patching.h>
#include <tocpatch.h>
#include "glue.h"

EXPORT_SYMBOL_GPL(tocpatch_enable_patch);
EXPORT_SYMBOL_GPL(tocpatch_disable_patch);
EXPORT_SYMBOL_GPL(tocpatch_get_state);
EXPORT_SYMBOL_GPL(tocpatch_get_prev_state);
/* Shadow variables (rust/shadow_var.rs). */
EXPORT_SYMBOL_GPL(tocpatch_shadow_get);
EXPORT_SYMBOL_GPL(tocpatch_shadow_alloc);
EXPORT_SYMBOL_GPL(tocpatch_shadow_get_or_alloc);
EXPORT_SYMBOL_GPL(tocpatch_shadow_free);
EXPORT_SYMBOL_GPL(tocpatch_shadow_free_all);

bool tocpatch_module_get(struct module *mod)
{
	return try_module_get(mod);
}

void tocpatch_module_put(struct module *mod)
{
	module_put(mod);
}

/* Keeps tocpatch loaded for good (a hook that must stay registered). */
void tocpatch_pin_self(void)
{
	__module_get(THIS_MODULE);
}

void tocpatch_module_text(struct module *mod, unsigned long *start,
			  unsigned long *end)
{
	*start = (unsigned long)mod->mem[MOD_TEXT].base;
	*end = *start + mod->mem[MOD_TEXT].size;
}

const char *tocpatch_module_name(struct module *mod)
{
	return mod->name;
}

/*
 * Sizes and offsets, in the order rust/abi.rs expects them; last, the TOC
 * save slot offset of a stack frame (rust/target.rs).
 */
void tocpatch_abi_layout(unsigned long *out, unsigned int n)
{
	const unsigned long layout[] = {
		sizeof(struct tocpatch_func),
		offsetof(struct tocpatch_func, old_name),
		offsetof(struct tocpatch_func, new_func),
		offsetof(struct tocpatch_func, old_sympos),
		sizeof(struct tocpatch_object),
		offsetof(struct tocpatch_object, name),
		offsetof(struct tocpatch_object, funcs),
		offsetof(struct tocpatch_object, callbacks),
		offsetof(struct tocpatch_object, mod),
		sizeof(struct tocpatch_callbacks),
		offsetof(struct tocpatch_callbacks, pre_patch),
		offsetof(struct tocpatch_callbacks, post_patch),
		offsetof(struct tocpatch_callbacks, pre_unpatch),
		offsetof(struct tocpatch_callbacks, post_unpatch),
		sizeof(struct tocpatch_patch),
		offsetof(struct tocpatch_patch, mod),
		offsetof(struct tocpatch_patch, objs),
		R2_STACK_OFFSET,
		offsetof(struct tocpatch_patch, replace),
		offsetof(struct tocpatch_patch, states),
		sizeof(struct tocpatch_state),
		offsetof(struct tocpatch_state, id),
		offsetof(struct tocpatch_state, version),
		offsetof(struct tocpatch_state, data),
	};
	unsigned int i;

	for (i = 0; i < n && i < ARRAY_SIZE(layout); i++)
		out[i] = layout[i];
}

/**
 * tocpatch_object_get - a reference on the loaded module @name
 * @name:	module name
 * @modp:	the module, when 0 is returned
 *
 * find_module() is not exported; this walks the same RCU list of modules,
 * from our own entry. The list head (the kernel's "modules") is the one
 * entry that is not inside a module's memory.
 *
 * Return: 0 with a reference taken (module_put() it), 1 the same for a
 * module still in MODULE_STATE_COMING (its init has not run), -ENOENT if
 * no such module is loaded, -ENODEV if it is going away.
 */
int tocpatch_object_get(const char *name, struct module **modp)
{
	struct list_head *pos;
	struct module *mod;
	int ret = -ENOENT;

	rcu_read_lock();
	list_for_each_rcu(pos, &THIS_MODULE->list) {
		if (!is_vmalloc_or_module_addr(pos))
			continue;
		mod = list_entry(pos, struct module, list);
		if (mod->state == MODULE_STATE_UNFORMED || strcmp(mod->name, name))
			continue;
		if (try_module_get(mod)) {
			*modp = mod;
			ret = mod->state == MODULE_STATE_COMING;
		} else {
			ret = -ENODEV;
		}
		break;
	}
	rcu_read_unlock();
	return ret;
}
