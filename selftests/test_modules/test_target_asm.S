/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An assembly patch target with no TOC setup (no global entry prologue):
 * tocpatch can place no marker and must treat every call as local.
 * It is made traceable the way the kernel's own C functions are, with the
 * ftrace call site ftrace expects at its entry.
 *
 * long tp_target_asm(long x): returns x + 1.
 */
#include <linux/linkage.h>
#include <linux/export.h>
#include <asm/ppc_asm.h>

	.text
SYM_FUNC_START(tp_target_asm)
#ifdef CONFIG_PPC_FTRACE_OUT_OF_LINE
	/* A patchable entry: one nop, recorded for ftrace. */
0:	nop
	.pushsection __patchable_function_entries, "awo", @progbits, .text
	.balign 8
	.8byte 0b
	.popsection
#else
	/* -mprofile-kernel: mflr r0; bl _mcount, recorded by recordmcount/objtool. */
	mflr	r0
	bl	_mcount
#endif
	addi	r3, r3, 1
	blr
SYM_FUNC_END(tp_target_asm)
EXPORT_SYMBOL_GPL(tp_target_asm)

#include "test_noreload.h"

/* The assembly caller without TOC reload, in the target's own module. */
TP_NORELOAD_CALLER tp_target_noreload
