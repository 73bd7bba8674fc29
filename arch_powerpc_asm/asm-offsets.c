// SPDX-License-Identifier: GPL-2.0
/*
 * Offsets and sizes the tocpatch assembly needs, computed by the compiler
 * from the kernel's own struct definitions, so that no .S file carries a
 * magic number. Kbuild turns this into tocpatch-asm-offsets.h.
 */
#include <linux/kbuild.h>
#include <linux/stddef.h>
#include <linux/sched.h>
#include <asm/paca.h>
#include <asm/ptrace.h>
#include <asm/text-patching.h>
#include <asm/thread_info.h>

int main(void)
{
	/* pt_regs fields, relative to the start of struct pt_regs. */
	DEFINE(TP_REGS_GPR2, offsetof(struct pt_regs, gpr[2]));
	DEFINE(TP_REGS_NIP, offsetof(struct pt_regs, nip));
	DEFINE(TP_REGS_LINK, offsetof(struct pt_regs, link));
	BLANK();
	/*
	 * The frame the direct trampoline builds as ftrace_caller does:
	 * pt_regs fields relative to the frame's r1.
	 */
	DEFINE(TP_SWITCH_FRAME_SIZE, STACK_SWITCH_FRAME_SIZE);
	DEFINE(TP_FRAME_GPR0, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, gpr[0]));
	DEFINE(TP_FRAME_GPR1, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, gpr[1]));
	DEFINE(TP_FRAME_LINK, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, link));
	DEFINE(TP_FRAME_NIP, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, nip));
	DEFINE(TP_FRAME_MSR, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, msr));
	DEFINE(TP_FRAME_ORIG_GPR3, STACK_INT_FRAME_REGS + offsetof(struct pt_regs, orig_gpr3));
	BLANK();
	/* Where an interrupt or ftrace frame keeps its pt_regs. */
	DEFINE(TP_STACK_INT_FRAME_REGS, STACK_INT_FRAME_REGS);
	BLANK();
	/* current, its stack, this CPU's per-CPU offset (the hot path). */
	DEFINE(TP_PACA_CURRENT, offsetof(struct paca_struct, __current));
	DEFINE(TP_PACA_DATA_OFFSET, offsetof(struct paca_struct, data_offset));
	DEFINE(TP_PACA_FTRACE_ENABLED, offsetof(struct paca_struct, ftrace_enabled));
	DEFINE(TP_TASK_STACK, offsetof(struct task_struct, stack));
	DEFINE(TP_THREAD_SIZE, THREAD_SIZE);
	BLANK();
	/* The TOC reload after a call (ld r2,R2_STACK_OFFSET(r1)). */
	DEFINE(TP_INST_LD_TOC, PPC_INST_LD_TOC);
	return 0;
}
