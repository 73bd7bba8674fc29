/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch benchmark (make bench, Documentation/performance.rst): what the
 * bench modules share.
 *
 * The target module has TP_BENCH_NFUNCS functions tp_bench_fn_000 ...
 * tp_bench_fn_999, all alike: small, noinline, TOC-using (they read a
 * static variable through r2, so GCC gives them a global entry prologue),
 * returning x + 1. Every replacement (tocpatch, livepatch, the direct-call
 * reference) returns x + 2, so a loop can check on every call which one
 * ran. The functions, the replacements and the patch tables are generated
 * with the repetition macros below (no generated source file).
 */
#ifndef _TP_BENCH_H
#define _TP_BENCH_H

#include <linux/compiler.h>

#define TP_BENCH_NFUNCS 1000

/* What the original adds, and what a replacement adds. */
#define TP_BENCH_ORIG 1
#define TP_BENCH_REPL 2

/*
 * TP_BENCH_REP(F): F(000) F(001) ... F(999), each argument a three-digit
 * token (pasted into names, and stringified for the patch tables).
 */
#define TP_BENCH_R1(F, p) F(p##0) F(p##1) F(p##2) F(p##3) F(p##4) \
			  F(p##5) F(p##6) F(p##7) F(p##8) F(p##9)
#define TP_BENCH_R2(F, p) TP_BENCH_R1(F, p##0) TP_BENCH_R1(F, p##1) \
			  TP_BENCH_R1(F, p##2) TP_BENCH_R1(F, p##3) \
			  TP_BENCH_R1(F, p##4) TP_BENCH_R1(F, p##5) \
			  TP_BENCH_R1(F, p##6) TP_BENCH_R1(F, p##7) \
			  TP_BENCH_R1(F, p##8) TP_BENCH_R1(F, p##9)
#define TP_BENCH_REP(F)	TP_BENCH_R2(F, 0) TP_BENCH_R2(F, 1) TP_BENCH_R2(F, 2) \
			TP_BENCH_R2(F, 3) TP_BENCH_R2(F, 4) TP_BENCH_R2(F, 5) \
			TP_BENCH_R2(F, 6) TP_BENCH_R2(F, 7) TP_BENCH_R2(F, 8) \
			TP_BENCH_R2(F, 9)

/*
 * The replacements of a patch module: static tp_bench_new_NNN(x), each
 * returning x + TP_BENCH_REPL read through this module's TOC (the same
 * work as the originals).
 */
#define TP_BENCH_DEFINE_NEW(p)						\
	static noinline long tp_bench_new_##p(long x)			\
	{								\
		return x + READ_ONCE(tp_bench_repl_inc);		\
	}
#define TP_BENCH_REPLACEMENTS						\
	static long tp_bench_repl_inc = TP_BENCH_REPL;			\
	TP_BENCH_REP(TP_BENCH_DEFINE_NEW)

/* Target module exports. */
#define TP_BENCH_DECLARE_FN(p) long tp_bench_fn_##p(long x);
TP_BENCH_REP(TP_BENCH_DECLARE_FN)
extern void *const tp_bench_fns[TP_BENCH_NFUNCS];

struct dentry;
/* Loop of a caller module: N calls of tp_bench_fn_000, interrupts on or off. */
typedef void (*tp_bench_loop_fn)(unsigned long n, long expect, bool irqoff,
				 u64 *ns, unsigned long *bad);
struct dentry *tp_bench_file_create(const char *name, tp_bench_loop_fn loop);
void tp_bench_file_remove(struct dentry *file);

/*
 * The timed loop, the same code in both callers: N calls of FN(i), each
 * result checked against i + EXPECT (BAD counts the others), timed with
 * ktime_get_ns() (guest ns: under qemu -icount shift=0, one per guest
 * instruction), interrupts off around the whole loop if IRQOFF.
 */
#define TP_BENCH_LOOP(fn, n, expect, irqoff, ns, bad)			\
	do {								\
		unsigned long __i, __bad = 0, __flags = 0;		\
		u64 __t0, __t1;						\
									\
		if (irqoff)						\
			local_irq_save(__flags);			\
		__t0 = ktime_get_ns();					\
		for (__i = 0; __i < (n); __i++)				\
			__bad += fn(__i) != (long)__i + (expect);	\
		__t1 = ktime_get_ns();					\
		if (irqoff)						\
			local_irq_restore(__flags);			\
		*(ns) = __t1 - __t0;					\
		*(bad) = __bad;						\
	} while (0)

#endif
