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
#include <tocpatch-asm-offsets.h>

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

#include "shadow_frames.h"

/*
 * TP_POP base, sp, fail: pops the top frame of the region at base, the fast
 * path of tocpatch_return_tramp (its Rust reference is Region::pop_with
 * with the closure of trampoline.rs tocpatch_shadow_pop).
 *
 * In:  base = the region's base (a register other than r0, r5..r10, r12)
 *      sp  = the caller's stack pointer (r1, or r4 for the self-test)
 *      r13 = this CPU's paca
 * Out: r5 = ret, r6 = toc; the caller's STK_GOT slot restored; the
 *      owner's per-CPU depth (its word 0, rust/counters.rs) decremented;
 *      the header released (depth - 1), in that order: a nested push/pop
 *      pair between any two steps works above this frame.
 *      Branches to fail, having changed nothing, if there is no header,
 *      no frame, a depth that does not fit the stack, or a frame failing
 *      its check word.
 * Clobbers r0, r5..r10, r12, cr0.
 */
.macro TP_POP base, sp, fail
	ld	r12, SH_HEADER(\base)
	SH_MAGIC r9, \base
	subf	r10, r9, r12			/* the depth, if it is our header */
	subi	r9, r10, 1			/* the top frame's index */
	cmpldi	r9, SH_MAX_DEPTH - 1		/* also: no frame, no magic */
	bgt-	\fail
	mulli	r9, r9, SH_FRAME
	add	r9, r9, \base			/* the top frame - SH_FRAMES */
	ld	r5, SH_FRAMES + 0(r9)		/* ret */
	ld	r6, SH_FRAMES + 8(r9)		/* toc */
	ld	r7, SH_FRAMES + 16(r9)		/* slot */
	ld	r8, SH_FRAMES + 24(r9)		/* owner */
	ld	r10, SH_FRAMES + 32(r9)		/* check */
	/* check ^ ret ^ rotl(toc, 17) ^ rotl(slot, 31) ^ rotl(owner, 47) */
	xor	r10, r10, r5
	rotldi	r0, r6, 17
	xor	r10, r10, r0
	rotldi	r0, r7, 31
	xor	r10, r10, r0
	rotldi	r0, r8, 47
	xor	r10, r10, r0
	xor.	r10, r10, r12			/* ... must be the header word */
	bne-	\fail
	std	r7, STK_GOT(\sp)		/* the caller's slot back */
	ld	r0, TP_PACA_DATA_OFFSET(r13)
.Lpop_dec\@:					/* this CPU's depth of the owner */
	ldarx	r9, r8, r0
	subi	r9, r9, 1
	stdcx.	r9, r8, r0
	bne-	.Lpop_dec\@
	subi	r12, r12, 1			/* release: depth - 1 */
	std	r12, SH_HEADER(\base)
.endm

/* The return trampoline's own frame on its slow path: header, r3, r4. */
#define RT_R3		(STACK_FRAME_MIN_SIZE + 0)
#define RT_R4		(STACK_FRAME_MIN_SIZE + 8)
#define RT_FRAME_SIZE	(STACK_FRAME_MIN_SIZE + 16)

/*
 * tocpatch_return_tramp: where C returns to (at +4) after a local call.
 *
 * In:  r1 = the local caller's stack pointer (C popped its frame)
 *      r3, r4 = C's return value(s)
 *      r2 = C's TOC (or whatever C left), LR = here
 *      r13 = this CPU's paca (kernel code keeps it)
 *      the current task's shadow stack has this call's frame on top
 * Out: back in the caller, at its return address, with r2 = its TOC, its
 *      TOC save slot (STK_GOT of its frame) as it was at the call, r1 as
 *      on entry and r3/r4 intact. r0, r5..r12, CTR, cr0/1/5-7 clobbered
 *      (volatile across the call the caller made).
 *
 * The pop is TP_POP, in place, without a frame or a TOC. Should it find
 * the region wrong, the slow path calls tocpatch_shadow_pop() (Rust), which
 * pops with the reference code and panics with what it found wrong. That
 * needs our TOC: we compute it from our own address and the offset stored
 * at .Lrt_toc, as a large-model global entry prologue does from r12 and
 * the word before the function.
 */
SYM_CODE_START(tocpatch_return_tramp)
	/*
	 * Replacements return to tocpatch_return_tramp + 4: stack traces
	 * symbolise a return address by looking up address - 1 (%pB), which
	 * must fall inside this function, not in the one before it.
	 */
	nop
	ld	r11, TP_PACA_CURRENT(r13)
	ld	r11, TP_TASK_STACK(r11)
	TP_POP	r11, r1, .Lrt_slow
	mtlr	r5
	mr	r2, r6
	blr
.Lrt_slow:
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

/*
 * struct { ret, toc } tocpatch_pop_selftest(u64 *base, unsigned long *sp)
 *
 * TP_POP on a region the Rust self-test built with its own push, with a
 * fake caller frame at sp (r1 is not touched): so that a layout the assembly and the Rust
 * disagree on fails the load, not a return. An ordinary function, called
 * from Rust (our TOC in r2, which it keeps).
 *
 * In:  r3 = base, r4 = sp (its STK_GOT slot gets the frame's slot)
 * Out: r3 = ret, r4 = toc; or r3 = r4 = 0 if TP_POP refused the region.
 * Clobbers r0, r5..r12, cr0.
 */
SYM_FUNC_START(tocpatch_pop_selftest)
	mr	r11, r3
	TP_POP	r11, r4, .Lps_fail
	mr	r3, r5
	mr	r4, r6
	blr
.Lps_fail:
	li	r3, 0
	li	r4, 0
	blr
SYM_FUNC_END(tocpatch_pop_selftest)
