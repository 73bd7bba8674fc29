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
