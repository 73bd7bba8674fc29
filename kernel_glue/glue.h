/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the C side of the engine. These wrap kernel interfaces that are
 * macros, static inlines or otherwise out of reach of the kernel crate's
 * bindings (kprobes, text mapping, task iteration, module references); the
 * Rust engine declares the same prototypes in rust/glue.rs.
 */
#ifndef _TOCPATCH_GLUE_H
#define _TOCPATCH_GLUE_H

#include <linux/types.h>

struct module;

int tocpatch_resolve(const char *objname, const char *name,
		     unsigned long *addr);
long tocpatch_sympos(const char *objname, const char *name,
		     unsigned long pos, unsigned long *addr);
int tocpatch_symbol_start(unsigned long addr, unsigned long *start,
			  unsigned long *size);
int tocpatch_text_write(unsigned long addr, unsigned int width, u64 old,
			u64 new);
int tocpatch_tasks_in_text(unsigned long start, unsigned long end);
bool tocpatch_module_get(struct module *mod);
void tocpatch_module_put(struct module *mod);
int tocpatch_object_get(const char *name, struct module **modp);
void tocpatch_pin_self(void);
void tocpatch_module_text(struct module *mod, unsigned long *start,
			  unsigned long *end);
const char *tocpatch_module_name(struct module *mod);
void tocpatch_abi_layout(unsigned long *out, unsigned int n);
unsigned long tocpatch_irq_save(void);
void tocpatch_irq_restore(unsigned long flags);
int tocpatch_recursion_trylock(unsigned long ip, unsigned long parent_ip);
void tocpatch_recursion_unlock(int bit);
int tocpatch_notifier_register(void);
void tocpatch_notifier_unregister(void);

int tocpatch_hotplug_register(void);
void tocpatch_hotplug_unregister(void);

/* Implemented in Rust (rust/patch.rs, rust/markers.rs). */
void tocpatch_module_going(const char *name);
void tocpatch_markers_suspend(void);
void tocpatch_markers_resume(void);

#endif /* _TOCPATCH_GLUE_H */
