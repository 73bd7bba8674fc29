/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: assembly shims called from the Rust engine.
 *
 * These are leaf routines with no TOC setup of their own: they are only
 * called from within tocpatch.ko (local calls, r2 = our TOC) and never
 * touch memory other than what their arguments name. ELFv2 ABI: arguments
 * in r3..r10, result in r3, r0 and r3..r12 volatile, LR/r1/r2 preserved.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include <asm/asm-offsets.h>
#include <tocpatch-asm-offsets.h>

	.text

/*
 * unsigned long tocpatch_current_toc(void)
 *
 * In:  r2 = caller's TOC (tocpatch.ko's, as every caller is in the module)
 * Out: r3 = r2
 * Clobbers nothing else.
 */
SYM_FUNC_START(tocpatch_current_toc)
	mr	r3, r2
	blr
SYM_FUNC_END(tocpatch_current_toc)

/*
 * unsigned long tocpatch_regs_toc(const struct pt_regs *regs)
 *
 * The r2 saved in a pt_regs, read through our asm-offsets so that the
 * engine can check at load time that the layout the assembly uses and the
 * one bindgen gave Rust agree. (The kernel's own GPR2 is an offset from the
 * stack pointer of an interrupt or ftrace frame, whose pt_regs start
 * TP_STACK_INT_FRAME_REGS above it; TP_REGS_GPR2 is relative to pt_regs.)
 *
 * In:  r3 = regs
 * Out: r3 = regs->gpr[2]
 */
SYM_FUNC_START(tocpatch_regs_toc)
	ld	r3, TP_REGS_GPR2(r3)
	blr
SYM_FUNC_END(tocpatch_regs_toc)
