/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the call classification shim and load-time self-test helpers,
 * called from the Rust engine.
 *
 * These are leaf routines with no TOC setup of their own: they are only
 * called from within tocpatch.ko (local calls, r2 = our TOC) and touch no
 * memory other than what their arguments name. ELFv2 ABI: arguments in
 * r3..r10, result in r3, r0 and r3..r12 and cr0 volatile, LR/r1/r2 kept.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include <tocpatch-asm-offsets.h>

	.text

/*
 * unsigned long tocpatch_classify_call(struct pt_regs *regs, long delta,
 *					struct tocpatch_env *env)
 *
 * Called from the ftrace callback for a patched function B. The ftrace
 * caller (ftrace_caller, or ftrace_regs_caller when another ops on B wants
 * all registers; arch/powerpc/kernel/trace/ftrace_entry.S) built one frame
 * holding pt_regs and, at STK_GOT, the r2 that B was running with when it
 * reached the ftrace call. Both callers load r2 from that slot, and only
 * from it, on their way out.
 *
 * B's global entry prologue carries the odd-TOC marker: entered through
 * it, B computed TOC + delta, an odd value. Entered through its local
 * entry, r2 is the caller's own TOC, which is B's TOC, and even.
 *
 * It also gives the callback what only registers say (rust/asm_shim.rs
 * Env): the current task's stack base (r13's paca->__current->stack), for
 * the shadow frames, the stack pointer, the callback's own (this is a
 * leaf), for their bound, and the address of the frame's STK_GOT slot:
 * the r2 that the ftrace caller leaves with, which the callback sets to
 * the replacement's global entry for tocpatch_entry_tramp to copy to r12
 * (ftrace_caller does not restore r12, or any register outside r2..r10,
 * r14, r15, from pt_regs).
 *
 * In:  r3 = regs, the pt_regs of that frame (frame r1 + STACK_INT_FRAME_REGS)
 *      r4 = delta of B's marker (0 if B has none)
 *      r5 = env: three doublewords, written (stack base, r1, &STK_GOT)
 *      r13 = this CPU's paca
 * Out: r3 = the real TOC, with bit 0 set for a global call (odd r2 seen)
 *      For a global call, the TOC at STK_GOT is repaired (TOC + delta -
 *      delta), so that the original B, if it runs, starts with a valid r2.
 * Clobbers r0, r6, cr0.
 */
SYM_FUNC_START(tocpatch_classify_call)
	ld	r6, TP_PACA_CURRENT(r13)
	ld	r6, TP_TASK_STACK(r6)
	std	r6, 0(r5)
	std	r1, 8(r5)
	subi	r6, r3, TP_STACK_INT_FRAME_REGS - STK_GOT
	std	r6, 16(r5)
	subi	r5, r3, TP_STACK_INT_FRAME_REGS	/* the ftrace frame's r1 */
	ld	r3, STK_GOT(r5)			/* r2 as B had it */
	andi.	r0, r3, 1
	beqlr					/* even: a local call */
	subf	r3, r4, r3			/* odd: undo the marker */
	std	r3, STK_GOT(r5)
	ori	r3, r3, 1
	blr
SYM_FUNC_END(tocpatch_classify_call)

/*
 * void tocpatch_pcpu_add(u64 __percpu *p, long v)
 *
 * Adds v to this CPU's copy of the per-CPU word p (rust/counters.rs), as
 * this_cpu_add() does but without masking interrupts: the reservation
 * makes it safe against an interrupt (or NMI) that adds to the same word
 * on this CPU, and against migration (the add then lands in the old CPU's
 * copy, and the copies are summed when read). The word is this CPU's, so
 * its cache line is not shared with other CPUs' adds.
 *
 * In:  r3 = p (a per-CPU offset), r4 = v, r13 = this CPU's paca
 * Out: nothing. Clobbers r0, r3, cr0.
 */
SYM_FUNC_START(tocpatch_pcpu_add)
	ld	r0, TP_PACA_DATA_OFFSET(r13)
	add	r3, r3, r0
1:	ldarx	r0, 0, r3
	add	r0, r0, r4
	stdcx.	r0, 0, r3
	bne-	1b
	blr
SYM_FUNC_END(tocpatch_pcpu_add)

/*
 * void tocpatch_pcpu_pushed(void __percpu *p, long count, u64 depth,
 *			     long peak)
 *
 * The counting of a call that pushed a shadow frame, in one call, under
 * the rules of tocpatch_pcpu_add: on this CPU's copy of the block p, adds
 * 1 to the word at offset count (local or global calls) and to the word at
 * offset 0 (frames), and raises the word at offset peak to depth if it is
 * lower (unsigned).
 *
 * In:  r3 = p, r4 = count, r5 = depth, r6 = peak, r13 = this CPU's paca
 * Out: nothing. Clobbers r0, r3, r4, r6, r7, cr0.
 */
SYM_FUNC_START(tocpatch_pcpu_pushed)
	ld	r0, TP_PACA_DATA_OFFSET(r13)
	add	r3, r3, r0
	add	r4, r4, r3
	add	r6, r6, r3
1:	ldarx	r7, 0, r4
	addi	r7, r7, 1
	stdcx.	r7, 0, r4
	bne-	1b
2:	ldarx	r7, 0, r3
	addi	r7, r7, 1
	stdcx.	r7, 0, r3
	bne-	2b
3:	ldarx	r7, 0, r6
	cmpld	r7, r5
	bgelr
	stdcx.	r5, 0, r6
	bne-	3b
	blr
SYM_FUNC_END(tocpatch_pcpu_pushed)

/*
 * unsigned long tocpatch_current_toc(void)
 *
 * In:  r2 = caller's TOC (tocpatch.ko's, as every caller is in the module)
 * Out: r3 = r2
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

/*
 * u32 tocpatch_kernel_ld_toc(void)
 *
 * The kernel's encoding of the TOC reload after a call (PPC_INST_LD_TOC),
 * for the load-time check that the return-site test (rust/logic/insn.rs
 * LD_TOC) looks for the same instruction.
 *
 * In:  nothing
 * Out: r3 = PPC_INST_LD_TOC in its low 32 bits
 */
SYM_FUNC_START(tocpatch_kernel_ld_toc)
	lis	r3, TP_INST_LD_TOC@h
	ori	r3, r3, TP_INST_LD_TOC@l
	blr
SYM_FUNC_END(tocpatch_kernel_ld_toc)
