// SPDX-License-Identifier: GPL-2.0
/*
 * Offsets and sizes the tocpatch assembly needs, computed by the compiler
 * from the kernel's own struct definitions, so that no .S file carries a
 * magic number. Kbuild turns this into tocpatch-asm-offsets.h.
 */
#include <linux/kbuild.h>
#include <linux/stddef.h>
#include <asm/ptrace.h>
#include <asm/text-patching.h>

int main(void)
{
	/* pt_regs fields, relative to the start of struct pt_regs. */
	DEFINE(TP_REGS_GPR2, offsetof(struct pt_regs, gpr[2]));
	DEFINE(TP_REGS_NIP, offsetof(struct pt_regs, nip));
	DEFINE(TP_REGS_LINK, offsetof(struct pt_regs, link));
	BLANK();
	/* Where an interrupt or ftrace frame keeps its pt_regs. */
	DEFINE(TP_STACK_INT_FRAME_REGS, STACK_INT_FRAME_REGS);
	BLANK();
	/* The TOC reload after a call (ld r2,R2_STACK_OFFSET(r1)). */
	DEFINE(TP_INST_LD_TOC, PPC_INST_LD_TOC);
	return 0;
}
