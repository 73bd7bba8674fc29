/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TP_NORELOAD_CALLER name: defines, in assembly,
 *
 *	long name(void *fn, long a, long b, unsigned long *r2_after)
 *
 * which calls fn(a, b) through fn's global entry the way
 * ret_from_kernel_user_thread (arch/powerpc/kernel/interrupt_64.S) calls a
 * kernel thread's function: mtctr, mr r12, bctrl, and no TOC reload after
 * the call. It stores the r2 that came back in *r2_after, then reloads its
 * own TOC (from a slot of its own frame, which no callee writes) before
 * returning to its C caller. The instruction after the bctrl is not
 * "ld r2,24(r1)", so tocpatch must give such a call a shadow frame even
 * though it arrives through the marked global entry.
 *
 * In:  r3 = fn, r4 = a, r5 = b, r6 = r2_after, r2 = our module's TOC
 * Out: r3 = fn's result, r2 = our TOC; r0, r4..r12, CTR clobbered.
 */
#ifndef _TOCPATCH_TEST_NORELOAD_H
#define _TOCPATCH_TEST_NORELOAD_H

#define TP_NR_OWN_TOC	32	/* our own TOC: not the ABI's TOC save slot */
#define TP_NR_OUT	40	/* r2_after */
#define TP_NR_FRAME	48

.macro TP_NORELOAD_CALLER name
SYM_FUNC_START(\name)
	mflr	r0
	std	r0, 16(r1)
	stdu	r1, -TP_NR_FRAME(r1)
	std	r2, TP_NR_OWN_TOC(r1)
	std	r6, TP_NR_OUT(r1)
	mtctr	r3
	mr	r12, r3
	mr	r3, r4
	mr	r4, r5
	bctrl
	ld	r5, TP_NR_OUT(r1)	/* not ld r2,24(r1) */
	std	r2, 0(r5)
	ld	r2, TP_NR_OWN_TOC(r1)
	addi	r1, r1, TP_NR_FRAME
	ld	r0, 16(r1)
	mtlr	r0
	blr
SYM_FUNC_END(\name)
.endm

#endif
