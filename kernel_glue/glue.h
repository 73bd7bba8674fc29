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
struct tocpatch_patch;

int tocpatch_resolve(const char *objname, const char *name,
		     unsigned long *addr);
typedef void (*tocpatch_symbol_fn)(void *data, const char *name, size_t len,
				   unsigned long addr);
int tocpatch_each_symbol(const char *objname, tocpatch_symbol_fn fn,
			 void *data);
int tocpatch_symbol_start(unsigned long addr, unsigned long *start,
			  unsigned long *size);
/*
 * A writable alias of one text page kept across the writes of a batch
 * (kernel_glue/text_patch.c); rust/glue.rs has the same layout.
 */
struct tocpatch_text_map {
	struct page *page;
	void *alias;
};
int tocpatch_text_write(struct tocpatch_text_map *map, unsigned long addr,
			unsigned int width, u64 old, u64 new, bool sync);
void tocpatch_text_sync(void);
int tocpatch_text_store_again(struct tocpatch_text_map *map,
			      unsigned long addr, unsigned int width, u64 val);
void tocpatch_text_unmap(struct tocpatch_text_map *map);
int tocpatch_tasks_in_use(unsigned long start, unsigned long end,
			  const unsigned long *owners, size_t n);
bool tocpatch_module_get(struct module *mod);
void tocpatch_module_put(struct module *mod);
int tocpatch_object_get(const char *name, struct module **modp);
void tocpatch_pin_self(void);
void tocpatch_module_text(struct module *mod, unsigned long *start,
			  unsigned long *end);
const char *tocpatch_module_name(struct module *mod);
void tocpatch_abi_layout(unsigned long *out, unsigned int n);
void __percpu *tocpatch_percpu_alloc(size_t size);
void tocpatch_percpu_free(void __percpu *p);
void tocpatch_percpu_fold(const void __percpu *p, unsigned int n,
			  unsigned long max_mask, u64 *out);
int tocpatch_recursion_trylock(unsigned long ip, unsigned long parent_ip);
void tocpatch_recursion_unlock(int bit);
void tocpatch_report_kick(void);
void tocpatch_report_stop(void);
void tocpatch_report_fallbacks(void);	/* Rust: patch.rs */
int tocpatch_notifier_register(void);
size_t tocpatch_module_name_len(void);
void tocpatch_notifier_unregister(void);

int tocpatch_hotplug_register(void);
void tocpatch_hotplug_unregister(void);

int tocpatch_ftrace_off_register(void);
void tocpatch_ftrace_off_unregister(void);
void tocpatch_ftrace_anchor(void);
int tocpatch_nmi_register(unsigned long *addr);
struct ftrace_ops;
struct ftrace_regs;
void tocpatch_nmi_send_hook(unsigned long ip, unsigned long parent_ip,
			    struct ftrace_ops *op, struct ftrace_regs *fregs);
void tocpatch_nmi_unregister(void);
bool tocpatch_direct_available(void);
int tocpatch_direct_register(struct ftrace_ops *ops, unsigned long *ips,
			     unsigned int n, unsigned long addr, bool *stays);
int tocpatch_direct_unregister(struct ftrace_ops *ops, unsigned long addr);
void tocpatch_nmi_markers(unsigned int n);
const char *tocpatch_nmi_entry_point(unsigned long addr);
bool tocpatch_markers_live(void);
int tocpatch_crash_register(void);
void tocpatch_crash_unregister(void);

bool tocpatch_shvar_lock(unsigned long *flags);
void tocpatch_shvar_unlock(unsigned long flags);
bool tocpatch_shvar_in_nmi(void);
void tocpatch_shvar_rcu_read_lock(void);
void tocpatch_shvar_rcu_read_unlock(void);
void *tocpatch_shvar_zalloc(size_t size, gfp_t gfp);
void tocpatch_shvar_kfree(void *p);
void tocpatch_shvar_kfree_rcu(void *node, void *head);
/* What tocpatch_shvar_report() reports (rust/shadow_var.rs has the same). */
#define TOCPATCH_SHVAR_DUPLICATE	0
#define TOCPATCH_SHVAR_CTOR_FAILED	1
#define TOCPATCH_SHVAR_IN_NMI		2
void tocpatch_shvar_report(int what, void *obj, unsigned long id, int err);

/*
 * The sysfs files (kernel_glue/sysfs.c); the values each asks
 * tocpatch_sysfs_get() for. rust/sysfs.rs has the same numbers.
 */
enum tocpatch_sysfs_attr {
	TP_SYSFS_ENABLED,
	TP_SYSFS_TRANSITION,
	TP_SYSFS_FORCE,
	TP_SYSFS_REPLACE,
	TP_SYSFS_STACK_ORDER,
	TP_SYSFS_PATCHED,
	TP_SYSFS_MARKER,
};

/* The fields of a function's "stat" file, in their order. */
#define TP_SYSFS_STAT_FIELDS	6

int tocpatch_sysfs_init(void);
void tocpatch_sysfs_exit(void);
int tocpatch_sysfs_add(const char *name, const struct tocpatch_patch *api,
		       void **handle);
void tocpatch_sysfs_remove(void *handle);
void tocpatch_sysfs_flush(void);

/*
 * Implemented in Rust (rust/patch.rs, rust/markers.rs, rust/shadow.rs,
 * rust/sysfs.rs).
 */
int tocpatch_module_coming(struct module *mod, const char *name);
void tocpatch_module_live(struct module *mod);
void tocpatch_module_going(struct module *mod, const char *name);
void tocpatch_markers_suspend(void);
void tocpatch_markers_resume(void);
bool tocpatch_shadow_holds(void *stack, const unsigned long *owners,
			   size_t n);
int tocpatch_sysfs_get(const char *patch, unsigned int attr,
		       unsigned int first, unsigned int n, long long *val,
		       const char **str);
int tocpatch_sysfs_stat(const char *patch, unsigned int idx,
			long long *fields);
int tocpatch_sysfs_set(const char *patch, unsigned int attr, bool val);

#endif /* _TOCPATCH_GLUE_H */
