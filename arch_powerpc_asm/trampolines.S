/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: entry and return trampolines.
 *
 * A patched function B is reached through ftrace. The Rust callback
 * (rust/ftrace_hook.rs) classifies the call and, to redirect it to the
 * replacement C, sets in the pt_regs of the ftrace_regs_caller frame:
 *	nip	 = tocpatch_entry_tramp
 *	gpr[12]	 = C's global entry
 *	link	 = where C must return: the caller (global call), or
 *		   tocpatch_return_tramp (local call, after pushing a shadow
 *		   frame holding the caller's return address and TOC)
 * and ftrace_regs_caller's exit path loads r12 from gpr[12], r0 from link
 * and r2 from its STK_GOT slot (the TOC the call should have, repaired by
 * the classification shim), pops its frames and branches to nip. With
 * -mprofile-kernel it gets there with bctr and LR = r0; with out-of-line
 * stubs it gets there with blr, so LR = nip and only r0 holds the return
 * address. The entry trampoline serves both.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include <asm/ptrace.h>
#include <asm/reg.h>

	.text

/*
 * tocpatch_entry_tramp: enter the replacement through its global entry.
 *
 * In:  r12 = C's global entry address
 *      r0  = return address for C (the caller, or tocpatch_return_tramp)
 *      r2  = the TOC of B (real, never odd)
 *      r1  = the caller's stack pointer, as at its call of B
 *      r3..r10 = B's arguments, untouched
 *      LR  = r0 (mprofile-kernel) or tocpatch_entry_tramp (out of line)
 *      r13 = as ftrace_regs_caller reloaded it from its pt_regs: if the
 *            task was preempted and migrated after ftrace_regs_caller saved
 *            it, that is the paca of the CPU the task left.
 * Out: at C's global entry with r12 = its address (so C computes its own
 *      TOC), r13 = this CPU's paca (from SPRG, as interrupt entry gets it),
 *      LR = r0, everything else as on entry. CTR is clobbered, which the
 *      ABI allows at a call.
 */
SYM_CODE_START(tocpatch_entry_tramp)
	GET_PACA(r13)
	mtlr	r0
	mtctr	r12
	bctr
SYM_CODE_END(tocpatch_entry_tramp)

/* The return trampoline's own frame: header, saved r3 and r4. */
#define RT_R3		(STACK_FRAME_MIN_SIZE + 0)
#define RT_R4		(STACK_FRAME_MIN_SIZE + 8)
#define RT_FRAME_SIZE	(STACK_FRAME_MIN_SIZE + 16)

/*
 * tocpatch_return_tramp: where C returns to (at +4) after a local call.
 *
 * In:  r1 = the local caller's stack pointer (C popped its frame)
 *      r3, r4 = C's return value(s)
 *      r2 = C's TOC (or whatever C left), LR = here
 *      the current task's shadow stack has this call's frame on top
 * Out: back in the caller, at its return address, with r2 = its TOC, its
 *      TOC save slot (STK_GOT of its frame) as it was at the call, r1 as
 *      on entry and r3/r4 intact. r0, r5..r12, CTR, cr0/1/5-7 clobbered
 *      (volatile across the call the caller made).
 *
 * tocpatch_shadow_pop() (Rust) needs our TOC: we compute it from our own
 * address and the offset stored at .Lrt_toc, as a large-model global entry
 * prologue does from r12 and the word before the function.
 */
SYM_CODE_START(tocpatch_return_tramp)
	/*
	 * Replacements return to tocpatch_return_tramp + 4: stack traces
	 * symbolise a return address by looking up address - 1 (%pB), which
	 * must fall inside this function, not in the one before it.
	 */
	nop
	stdu	r1, -RT_FRAME_SIZE(r1)
	std	r3, RT_R3(r1)
	std	r4, RT_R4(r1)
	bcl	20, 31, .Lrt_pc
.Lrt_pc:
	mflr	r12
	ld	r2, (.Lrt_toc - .Lrt_pc)(r12)
	add	r2, r2, r12
	/* struct { ret, toc } tocpatch_shadow_pop(unsigned long *caller_sp) */
	addi	r3, r1, RT_FRAME_SIZE
	bl	tocpatch_shadow_pop
	mtlr	r3
	mr	r2, r4
	ld	r3, RT_R3(r1)
	ld	r4, RT_R4(r1)
	addi	r1, r1, RT_FRAME_SIZE
	blr
	.balign 8
.Lrt_toc:
	.quad	.TOC. - .Lrt_pc
SYM_CODE_END(tocpatch_return_tramp)
