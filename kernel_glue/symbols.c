// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: symbol resolution.
 *
 * kallsyms_lookup_name() is not exported to modules in 7.3. kprobes
 * resolve a probe's symbol_name with it, including the "module:symbol"
 * form and static symbols, so we register a *disabled* kprobe (nothing is
 * armed, no text changes), read the address kprobes resolved and
 * unregister it at once. kprobes fill in the address before any of their
 * other checks, so a function kprobes refuse to probe (blacklisted, or
 * on an ftrace location without KPROBES_ON_FTRACE) still resolves.
 *
 * On ELFv2 kprobes move a function's address to its local entry point;
 * tocpatch_symbol_start() (sprint_symbol(), exported) gives the symbol's
 * start, which is the global entry, and lets the caller check which
 * object the symbol belongs to.
 */
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "glue.h"

/**
 * tocpatch_resolve - the address kallsyms has for a name
 * @objname:	module name, or NULL for vmlinux
 * @name:	symbol name
 * @addr:	the result (ELFv2: the local entry of a function)
 *
 * Return: 0, -ENOENT if kallsyms does not know the name, or another
 * negative errno.
 */
int tocpatch_resolve(const char *objname, const char *name,
		     unsigned long *addr)
{
	struct kprobe kp = { .flags = KPROBE_FLAG_DISABLED };
	char *full = NULL;
	int ret;

	if (objname) {
		full = kasprintf(GFP_KERNEL, "%s:%s", objname, name);
		if (!full)
			return -ENOMEM;
		kp.symbol_name = full;
	} else {
		kp.symbol_name = name;
	}
	ret = register_kprobe(&kp);
	*addr = (unsigned long)kp.addr;
	if (!ret)
		unregister_kprobe(&kp);
	kfree(full);
	if (!*addr)
		return ret ? ret : -ENOENT;
	return 0;
}

/**
 * tocpatch_symbol_start - start, size and object of the symbol at @addr
 * @addr:	an address inside a symbol
 * @start:	the symbol's start address
 * @size:	its size
 *
 * Return: 0 for a vmlinux symbol, 1 for a module symbol, -ENOENT if
 * kallsyms knows no symbol there.
 */
int tocpatch_symbol_start(unsigned long addr, unsigned long *start,
			  unsigned long *size)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long off;
	char *p;

	if (!sprint_symbol(buf, addr))
		return -ENOENT;
	/* "name+0xoff/0xsize" or "name+0xoff/0xsize [module]" */
	p = strrchr(buf, '+');
	if (!p || sscanf(p, "+%lx/%lx", &off, size) != 2)
		return -ENOENT;
	*start = addr - off;
	return strchr(p, '[') ? 1 : 0;
}

/*
 * Every symbol of an object, for the callers that need all symbols of a
 * name (positions of duplicate names, counted as livepatch counts them,
 * and the check that a name is unique): in vmlinux in kallsyms order,
 * which for equal names is address order; in a module in the order of its
 * symbol table. Neither iterator (kallsyms_on_each_match_symbol,
 * module_kallsyms_on_each_symbol) is exported, so:
 *  - vmlinux: walk the kernel text [_stext, _etext) symbol by symbol with
 *    sprint_symbol(), whose size is the distance to the next symbol, so
 *    the walk visits every text symbol once, in address order;
 *  - a module: its struct module is the symbol __this_module of its
 *    kallsyms (CONFIG_KALLSYMS_ALL keeps data symbols), resolved like any
 *    other name; its symbol table is then read as the module loader's
 *    kallsyms code reads it, under RCU.
 * The caller matches each symbol against all the names it wants
 * (rust/logic/symmatch.rs), so an object is walked once per enable, not
 * once per function.
 */
static int each_vmlinux(tocpatch_symbol_fn fn, void *data)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long start, end, a, off, size;
	unsigned int n = 0;
	char *p;
	int ret;

	ret = tocpatch_resolve(NULL, "_stext", &start);
	if (!ret)
		ret = tocpatch_resolve(NULL, "_etext", &end);
	if (ret)
		return ret;
	for (a = start; a < end; ) {
		if (!sprint_symbol(buf, a))
			break;
		p = strrchr(buf, '+');
		if (!p || sscanf(p, "+%lx/%lx", &off, &size) != 2)
			break;
		if (!off)
			fn(data, buf, p - buf, a);
		/* Past the end of this symbol; always forward. */
		a = a - off + size > a ? a - off + size : a + 4;
		if (!(++n % 1024))
			cond_resched();
	}
	return 0;
}

static int each_module(const char *objname, tocpatch_symbol_fn fn, void *data)
{
	const struct mod_kallsyms *ks;
	const struct module *mod;
	unsigned long m;
	unsigned int i;
	int ret;

	ret = tocpatch_resolve(objname, "__this_module", &m);
	if (ret)
		return ret;
	mod = (const struct module *)m;
	rcu_read_lock();
	if (mod->state == MODULE_STATE_UNFORMED || strcmp(mod->name, objname)) {
		rcu_read_unlock();
		return -ENOENT;
	}
	ks = rcu_dereference(mod->kallsyms);
	for (i = 0; i < ks->num_symtab; i++) {
		const Elf_Sym *sym = &ks->symtab[i];
		const char *name = ks->strtab + sym->st_name;

		if (sym->st_shndx == SHN_UNDEF)
			continue;
		fn(data, name, strlen(name), kallsyms_symbol_value(sym));
	}
	rcu_read_unlock();
	return 0;
}

/**
 * tocpatch_each_symbol - call @fn for every symbol of an object
 * @objname:	module name, or NULL for vmlinux (its text symbols)
 * @fn:		called with @data, the symbol's name (not NUL-terminated),
 *		its length and the symbol's address; for a module under
 *		rcu_read_lock(), so it must not sleep
 * @data:	passed to @fn
 *
 * Return: 0, -ENOENT if there is no such module, or another negative
 * errno.
 */
int tocpatch_each_symbol(const char *objname, tocpatch_symbol_fn fn,
			 void *data)
{
	if (objname)
		return each_module(objname, fn, data);
	return each_vmlinux(fn, data);
}
