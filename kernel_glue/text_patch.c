// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: writing one word of kernel or module text.
 *
 * patch_instruction() is not exported to modules. Text is read-only
 * (STRICT_KERNEL_RWX, STRICT_MODULE_RWX), so we map the one page holding
 * the word a second time, writable, with vmap(), store the word with a
 * single naturally aligned store (so that another CPU executing it sees
 * the old or the new value, never a mix), make the instruction cache
 * coherent with flush_icache_range() and drop the alias. This is the same
 * idea as the kernel's text_poke area, done with exported interfaces.
 *
 * Cross-modifying code: the icbi in flush_icache_range() invalidates the
 * block in every CPU's instruction cache, but the Power ISA asks each
 * other CPU to execute a context synchronising instruction before it is
 * sure to fetch the new word. kick_all_cpus_sync() gives every other
 * online CPU an interrupt, which is one, and waits for it.
 *
 * Then the same word is stored a second time. On hardware this changes
 * nothing. Under QEMU's multi-threaded TCG it closes a race: a vCPU that
 * was translating the old instruction while the first store happened
 * links its translation after that store's invalidation ran, and then
 * executes the old instruction until the page is written again (we saw
 * a marked prologue run on for 2.5 s after its restore). Once every CPU
 * has taken the interrupt, no translation begun before the first store is
 * still in flight, so the second store invalidates any stale one, and any
 * translation begun later reads the new word.
 *
 * Many words are written with one round of interrupts: each with
 * tocpatch_text_write(..., false) (stored once, not synchronised), then
 * tocpatch_text_sync() once, then tocpatch_text_store_again() on each.
 * A batch passes a struct tocpatch_text_map: the alias of the last page
 * written stays mapped for the next write to the same page, and
 * tocpatch_text_unmap() drops it at the end, so the functions of a patch
 * (mostly a few 64 KiB pages) cost one vmap() per page and pass, not one
 * per word (a vmap() and vunmap() pair was more than 10% of the enable
 * time of a 1000-function patch). NULL maps and unmaps around each write.
 *
 * Callers serialise writes to one word (the marker mutex in
 * rust/markers.rs); distinct words need no serialisation.
 */
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/vmalloc.h>
#include <asm/cacheflush.h>
#include "glue.h"

/* One naturally aligned store of @width (4 or 8) bytes. */
static void text_store(void *dst, unsigned int width, u64 val)
{
	if (width == 4)
		WRITE_ONCE(*(u32 *)dst, (u32)val);
	else
		WRITE_ONCE(*(u64 *)dst, val);
}

/**
 * tocpatch_text_write - replace one text word, checking its old value
 * @addr:	address of the word, aligned to @width
 * @width:	4 or 8
 * @old:	the value the word must have now
 * @new:	the value to store
 * @sync:	make every CPU fetch it (see the top of the file); if false,
 *		the caller calls tocpatch_text_sync() and
 *		tocpatch_text_store_again() before it relies on the word
 *
 * Context: process context with interrupts enabled: with @sync, waits for
 * an interrupt on every other online CPU.
 *
 * Return: 0, -EINVAL for a bad address or width, -EBUSY if the word does
 * not hold @old (someone else patched it: nothing is written), -ENOMEM.
 */
static struct page *text_page(unsigned long addr, unsigned int width)
{
	if ((width != 4 && width != 8) || (addr & (width - 1)))
		return NULL;
	if (is_vmalloc_or_module_addr((void *)addr))
		return vmalloc_to_page((void *)addr);
	if (virt_addr_valid((void *)addr))
		return virt_to_page((void *)addr);
	return NULL;
}

void tocpatch_text_unmap(struct tocpatch_text_map *map)
{
	if (map->alias)
		vunmap(map->alias);
	map->page = NULL;
	map->alias = NULL;
}

/* The writable alias of @page: @map's if it is that page's, or a new one. */
static void *text_alias(struct tocpatch_text_map *map, struct page *page)
{
	if (map->alias && map->page == page)
		return map->alias;
	tocpatch_text_unmap(map);
	map->alias = vmap(&page, 1, VM_MAP, PAGE_KERNEL);
	if (map->alias)
		map->page = page;
	return map->alias;
}

int tocpatch_text_write(struct tocpatch_text_map *map, unsigned long addr,
			unsigned int width, u64 old, u64 new, bool sync)
{
	struct tocpatch_text_map own = { };
	struct page *page;
	void *alias;
	void *dst;
	int ret;

	page = text_page(addr, width);
	if (!page)
		return -EINVAL;
	alias = text_alias(map ?: &own, page);
	if (!alias)
		return -ENOMEM;
	dst = alias + offset_in_page(addr);
	if (width == 4)
		ret = READ_ONCE(*(u32 *)dst) != (u32)old ? -EBUSY : 0;
	else
		ret = READ_ONCE(*(u64 *)dst) != old ? -EBUSY : 0;
	if (!ret) {
		text_store(dst, width, new);
		flush_icache_range(addr, addr + width);
	}
	if (!ret && sync) {
		kick_all_cpus_sync();
		/* The second store: see the comment at the top. */
		text_store(dst, width, new);
		flush_icache_range(addr, addr + width);
	}
	tocpatch_text_unmap(&own);
	return ret;
}

/**
 * tocpatch_text_sync - one round of interrupts for words written unsynced
 *
 * Context: process context with interrupts enabled.
 */
void tocpatch_text_sync(void)
{
	kick_all_cpus_sync();
}

/**
 * tocpatch_text_store_again - the second store of an unsynced write
 * @addr:	address of the word, aligned to @width
 * @width:	4 or 8
 * @val:	the value written; stored again only if the word still holds it
 *
 * Return: 0, -EINVAL, -EBUSY (the word changed since: left alone), -ENOMEM.
 */
int tocpatch_text_store_again(struct tocpatch_text_map *map,
			      unsigned long addr, unsigned int width, u64 val)
{
	return tocpatch_text_write(map, addr, width, val, val, false);
}
