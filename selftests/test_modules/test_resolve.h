/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Selftest modules: the global entry of a kernel function that is not
 * exported, found the way tocpatch finds names. A disabled kprobe (never
 * armed) resolves the name, to the ELFv2 local entry; sprint_symbol()
 * gives the offset from the symbol's start, the global entry, which a call
 * through a pointer needs.
 */
#ifndef _TOCPATCH_TEST_RESOLVE_H
#define _TOCPATCH_TEST_RESOLVE_H

#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/string.h>

/* 0 if @name is not a function kallsyms knows. */
static inline unsigned long tp_resolve(const char *name)
{
	struct kprobe kp = {
		.symbol_name = name,
		.flags = KPROBE_FLAG_DISABLED,
	};
	char buf[KSYM_SYMBOL_LEN];
	unsigned long addr, off, size;
	char *p;

	if (!register_kprobe(&kp))
		unregister_kprobe(&kp);
	addr = (unsigned long)kp.addr;
	if (!addr || !sprint_symbol(buf, addr))
		return 0;
	p = strrchr(buf, '+');
	if (!p || sscanf(p, "+%lx/%lx", &off, &size) != 2)
		return 0;
	return addr - off;
}

#endif
