// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: per-CPU memory for the per-function counters (rust/counters.rs).
 * alloc_percpu() and per_cpu_ptr() are macros out of reach of Rust. The hot
 * path does not come here: it adds to this CPU's copy with the assembly of
 * arch_powerpc_asm/toc_shim.S (r13's paca->data_offset, larx/stcx.).
 */
#include <linux/cpumask.h>
#include <linux/percpu.h>
#include "glue.h"

/* @size bytes of zeroed per-CPU memory, 8-byte aligned; NULL on failure. */
void __percpu *tocpatch_percpu_alloc(size_t size)
{
	return __alloc_percpu(size, sizeof(u64));
}

void tocpatch_percpu_free(void __percpu *p)
{
	free_percpu(p);
}

/*
 * Folds the @n u64 words at @p over every possible CPU into @out: word i
 * is summed, or its maximum taken if bit i of @max_mask is set. Counts
 * of CPUs that went offline stay in their copies, so nothing is lost.
 */
void tocpatch_percpu_fold(const void __percpu *p, unsigned int n,
			  unsigned long max_mask, u64 *out)
{
	unsigned int i;
	int cpu;

	for (i = 0; i < n; i++)
		out[i] = 0;
	for_each_possible_cpu(cpu) {
		const u64 *c = per_cpu_ptr((const u64 __percpu *)p, cpu);

		for (i = 0; i < n; i++) {
			u64 v = READ_ONCE(c[i]);

			if (i < BITS_PER_LONG && (max_mask & BIT(i)))
				out[i] = max(out[i], v);
			else
				out[i] += v;
		}
	}
}
