// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: writing one word of kernel or module text.
 *
 * patch_instruction() is not exported to modules. Text is read-only
 * (STRICT_KERNEL_RWX, STRICT_MODULE_RWX), so we map the one page holding
 * the word a second time, writable, with vmap(), store the word with a
 * single naturally aligned store (so that another CPU executing it sees
 * the old or the new value, never a mix), drop the alias and make the
 * instruction cache coherent with flush_icache_range(). This is the same
 * idea as the kernel's text_poke area, done with exported interfaces.
 *
 * Callers serialise writes to one word (tocpatch's patch mutex); distinct
 * words need no serialisation.
 */
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <asm/cacheflush.h>
#include "glue.h"

/**
 * tocpatch_text_write - replace one text word, checking its old value
 * @addr:	address of the word, aligned to @width
 * @width:	4 or 8
 * @old:	the value the word must have now
 * @new:	the value to store
 *
 * Return: 0, -EINVAL for a bad address or width, -EBUSY if the word does
 * not hold @old (someone else patched it: nothing is written), -ENOMEM.
 */
int tocpatch_text_write(unsigned long addr, unsigned int width, u64 old,
			u64 new)
{
	struct page *page;
	void *alias;
	void *dst;
	int ret = 0;

	if ((width != 4 && width != 8) || (addr & (width - 1)))
		return -EINVAL;
	if (is_vmalloc_or_module_addr((void *)addr))
		page = vmalloc_to_page((void *)addr);
	else if (virt_addr_valid((void *)addr))
		page = virt_to_page((void *)addr);
	else
		return -EINVAL;
	if (!page)
		return -EINVAL;

	alias = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
	if (!alias)
		return -ENOMEM;
	dst = alias + offset_in_page(addr);
	if (width == 4) {
		if (READ_ONCE(*(u32 *)dst) != (u32)old)
			ret = -EBUSY;
		else
			WRITE_ONCE(*(u32 *)dst, (u32)new);
	} else {
		if (READ_ONCE(*(u64 *)dst) != old)
			ret = -EBUSY;
		else
			WRITE_ONCE(*(u64 *)dst, new);
	}
	vunmap(alias);
	if (!ret)
		flush_icache_range(addr, addr + width);
	return ret;
}
