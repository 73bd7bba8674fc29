/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch benchmark, the limit reference on out-of-line ftrace kernels:
 * the least an ftrace direct call can do to send a call to a replacement
 * in another module and keep r2 right for a local caller.
 *
 * tp_bench_direct_tramp, the direct-call target of tp_bench_fn_000
 * (register_ftrace_direct). It is reached from the function's out-of-line
 * stub ("mflr r0; bl tramp", or through ftrace_caller's direct branch when
 * out of range) with:
 *	r0	the return address into the function's caller
 *	LR	inside the stub (unused: the original function never runs)
 *	r1	the caller's frame (the function has none yet)
 *	r2	the function's TOC (set up by its global entry, or the local
 *		caller's own, which is the same)
 *	r3-r10	the arguments (the bench functions take one; no stack
 *		arguments are passed on)
 * It calls tp_bench_direct_new through its global entry (r12) in a
 * minimal frame of its own that keeps r2, and returns to the caller with
 * r2 as it came in, r3 the replacement's result. Clobbers r0, r11, r12,
 * ctr, cr0 as a linker stub may, plus what the replacement clobbers.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>

	.text
_GLOBAL(tp_bench_direct_tramp)
	std	r0, 16(r1)		/* LR save slot of the caller's frame */
	stdu	r1, -32(r1)		/* our frame: back chain, LR, TOC slots */
	std	r2, 24(r1)		/* r2 as it came: the function's TOC */
	bcl	20, 31, 1f
1:	mflr	r12
	ld	r12, (2f - 1b)(r12)	/* the replacement's global entry */
	mtctr	r12
	bctrl
	ld	r2, 24(r1)
	addi	r1, r1, 32
	ld	r0, 16(r1)
	mtlr	r0
	blr
	.balign	8
2:	.quad	tp_bench_direct_new
