/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: entry and return trampolines.
 *
 * A patched function B is reached through ftrace. Our ftrace_ops ask for
 * no saved registers (FTRACE_OPS_FL_IPMODIFY only, the WITH_ARGS
 * interface), so ftrace_caller runs them; ftrace_regs_caller runs them
 * instead when another ops on B wants all registers. The Rust callback
 * (rust/ftrace_hook.rs) classifies the call and, to redirect it to the
 * replacement C, sets in the caller's frame:
 *	nip	= tocpatch_entry_tramp
 *	STK_GOT	= C's global entry (the slot both callers load r2 from last)
 *	link	= where C must return: the caller (global call), or
 *		  tocpatch_return_tramp + 4 (local call, after pushing a shadow
 *		  frame holding the caller's return address and TOC)
 * and the ftrace caller's exit path loads r0 from link, r2 from STK_GOT,
 * pops its frames and branches to nip. With -mprofile-kernel it gets there
 * with bctr and LR = r0; with out-of-line stubs it gets there with blr, so
 * LR = nip and only r0 holds the return address. The entry trampoline
 * serves both. A call that is not redirected leaves nip alone and gets back
 * into B with r2 = STK_GOT, which the classification shim repaired.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include <asm/ptrace.h>
#include <asm/reg.h>

	.text

/*
 * tocpatch_entry_tramp: enter the replacement through its global entry.
 *
 * In:  r2  = C's global entry address (from STK_GOT, see above)
 *      r0  = return address for C (the caller, or tocpatch_return_tramp + 4)
 *      r1  = the caller's stack pointer, as at its call of B
 *      r3..r10 = B's arguments, untouched
 *      LR  = r0 (mprofile-kernel) or tocpatch_entry_tramp (out of line)
 *      r12 = scratch (B's global entry, if any, has consumed it)
 *      r13 = this CPU's paca after ftrace_caller, which leaves r13 alone;
 *            ftrace_regs_caller reloads r13 from its pt_regs, which is the
 *            paca of the CPU the task left if it was preempted and migrated
 *            while in there.
 * Out: at C's global entry with r12 = its address (so C computes its own
 *      TOC), r13 = this CPU's paca (from SPRG, as interrupt entry gets it),
 *      LR = r0, r3..r10 and r1 as on entry. r2 holds C's address until C's
 *      prologue sets it; CTR is clobbered, which the ABI allows at a call.
 */
SYM_CODE_START(tocpatch_entry_tramp)
	GET_PACA(r13)
	mr	r12, r2
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
