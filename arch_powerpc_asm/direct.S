/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the direct trampoline, where the ftrace direct calls of the
 * direct path (rust/ftrace_hook.rs, Batch) branch to.
 *
 * On out-of-line ftrace kernels a traced function B starts with a branch to
 * its out-of-line stub:
 *	stub - 8:	the ftrace_ops of the site
 *	stub + 0:	mflr	r0
 *	stub + 4:	bl	<target>
 *	stub + 8:	mtlr	r0
 *	stub + 12:	b	<B's ftrace location> + 4
 * For a direct ops the target is this trampoline, reached in one of three
 * ways (arch/powerpc/kernel/trace/ftrace.c, ftrace_entry.S):
 *  - the stub's bl itself, when we are within its reach;
 *  - ftrace_caller's direct branch, which reads ops->direct_call before it
 *    saves anything and branches with bctr, r11 = LR, r12 = CTR = here;
 *  - ftrace_regs_caller's exit, when another ftrace user shares B: the
 *    list function calls the direct ops' function, which asks for a branch
 *    here (orig_gpr3); the exit restores r2..r31 from its pt_regs and
 *    branches with bctr.
 * All three leave the state in which B's stub would carry on into B.
 *
 * The fast path, in assembly without a frame, takes the common calls of
 * a function B whose site is in the table with a replacement C on top:
 *  - a global call (B entered through its marked global entry: odd r2)
 *    with no late-call bookkeeping, from a caller that reloads its own r2
 *    after the call, to a C that does not tail-call out of its module: it
 *    enters C returning straight to the caller;
 *  - a local call (even r2) made on the task's own stack: it pushes the
 *    shadow frame (TP_PUSH) and enters C returning to
 *    tocpatch_return_tramp, which pops it.
 * It counts the call as the handler would: what tocpatch_ftrace_handler()
 * and tocpatch_entry_tramp do for such calls, without either. It uses the
 * caller's red zone (below r1, which interrupts skip on ppc64) for the
 * registers it needs.
 *
 * The slow path, for every other call, builds the frame that
 * ftrace_caller would (its pt_regs holding r0 as link, r1, r3..r10, nip,
 * and B's r2 at STK_GOT), calls tocpatch_ftrace_handler() (Rust) as
 * ftrace_caller would call the callback ops, and leaves as ftrace_caller's
 * exit does: to the nip the handler set (tocpatch_entry_tramp, with r2 =
 * the replacement's entry and r0 = its return address), or back into B.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include <asm/ptrace.h>
#include <asm/reg.h>
#include <tocpatch-asm-offsets.h>
#include "shadow_frames.h"

/* Our frame and the minimal one representing B, as ftrace_caller's. */
#define DT_FRAMES	(TP_SWITCH_FRAME_SIZE + STACK_FRAME_MIN_SIZE)
#define DT_GPR(n)	(TP_FRAME_GPR0 + 8 * (n))

/*
 * The Rust structures the fast path reads; rust/ftrace_hook.rs, site.rs,
 * target.rs, counters.rs and logic/iptable.rs assert the same offsets.
 */
#define DT_TBL_MASK	0	/* Table.shape.mask */
#define DT_TBL_SHIFT	8	/* Table.shape.shift (u32) */
#define DT_TBL_MULT	16	/* Table.shape.mult */
#define DT_TBL_BASE	24	/* Table.base: the slots */
#define DT_SITE_KEY	0	/* Site.key: stub + 8 on this path */
#define DT_SITE_TOP	8	/* Site.top: the target on top */
#define DT_SITE_FAST	16	/* Site.fast: top, if global calls may be fast */
#define DT_TGT_NEW	0	/* Target.new_func, 0 for a nop target */
#define DT_TGT_PCPU	8	/* Target.counters.pcpu: per-CPU counters */
#define DT_PCPU_DEPTH	0	/* PerCpu.depth: frames held */
#define DT_PCPU_LOCAL	8	/* PerCpu.local */
#define DT_PCPU_GLOBAL	16	/* PerCpu.global */
#define DT_PCPU_PEAK	32	/* PerCpu.peak */
#define DT_SLOT_TOMB	1	/* logic/iptable.rs: EMPTY 0, TOMB 1 */

/* The red-zone slots of r3..r10 (up to 288 bytes below r1 may be used). */
#define DT_RZ(n)	(-8 * ((n) - 2))

/*
 * TP_PUSH base, sp, ret, toc, owner, fail: pushes the frame (ret, toc, the
 * TOC save slot of the stack frame at sp, owner) on the shadow region at
 * base, as Region::push (rust/logic/shadow.rs) does with the limit
 * shadow::push gives a stack pointer on the task's own stack: the frames
 * end at least SH_MARGIN bytes below sp.
 *
 * In:  base, sp, ret, toc, owner: registers other than r7..r10
 * Out: r8 = the new depth. The header is reserved (depth + 1) before the
 *      frame's words are written, so that a push and pop nested between
 *      any two steps (an interrupt on this task) works above the frame.
 *      Branches to fail, having changed nothing, if sp is not within
 *      THREAD_SIZE above base, or the frame would come too close to it.
 * Clobbers r7..r10, cr0.
 */
.macro TP_PUSH base, sp, ret, toc, owner, fail
	subf	r7, \base, \sp			/* sp's offset in the stack */
	cmpldi	r7, TP_THREAD_SIZE
	bge-	\fail
	subi	r7, r7, SH_MARGIN		/* the limit (signed) */
	ld	r9, SH_HEADER(\base)
	SH_LOAD_HEADER_MAGIC r10
	xor	r8, r9, r10			/* the depth, if the magic is there */
	cmpldi	r8, 0xffff
	ble+	.Lpush_depth\@
	li	r8, 0				/* not our header: no frames */
.Lpush_depth\@:
	mulli	r9, r8, SH_FRAME
	addi	r9, r9, SH_FRAMES + SH_FRAME	/* frames_end(depth + 1) */
	cmpd	r9, r7
	bgt-	\fail
	addi	r8, r8, 1
	xor	r10, r10, r8			/* encode(depth + 1) */
	std	r10, SH_HEADER(\base)		/* reserve */
	add	r9, r9, \base			/* the new frame's end */
	ld	r10, STK_GOT(\sp)		/* slot: the TOC save slot */
	std	\ret, -SH_FRAME + 0(r9)
	std	\toc, -SH_FRAME + 8(r9)
	std	r10, -SH_FRAME + 16(r9)
	std	\owner, -SH_FRAME + 24(r9)
	/* check = ret ^ rotl(toc, 17) ^ rotl(slot, 31) ^ rotl(owner, 47) ^ SHADOW_MAGIC */
	rotldi	r10, r10, 31
	xor	r10, r10, \ret
	rotldi	r7, \toc, 17
	xor	r10, r10, r7
	rotldi	r7, \owner, 47
	xor	r10, r10, r7
	SH_LOAD_SHADOW_MAGIC r7
	xor	r10, r10, r7
	std	r10, -SH_FRAME + 32(r9)
.endm

	.text

/*
 * tocpatch_direct_tramp
 *
 * In:  LR  = the stub's mtlr r0 (stub + 8)
 *      r0  = B's return address (in its caller A)
 *      r1  = A's stack pointer (B has no frame yet)
 *      r2  = B's r2 at its ftrace location: its TOC after a local call,
 *            TOC + delta (odd) after its marked global entry, A's r2 after
 *            an unmarked global entry of a function without TOC setup
 *      r3..r10 = B's arguments
 *      r11, r12, CTR = scratch
 *      r13 = this CPU's paca, except after ftrace_regs_caller, which
 *            reloads it from its pt_regs: the paca of the CPU the task
 *            left if it was preempted and migrated in there; so it is
 *            reloaded from SPRG first, as tocpatch_entry_tramp does
 * Out: the handler redirected the call: at tocpatch_entry_tramp with
 *      LR = tocpatch_entry_tramp, r0 = the return address the replacement
 *      gets, r2 = the replacement's global entry, r1 and r3..r10 as on
 *      entry;
 *      or not: back at stub + 8 with r0, r1, r2 (repaired if it was odd)
 *      and r3..r10 as on entry, so that the stub carries on into B.
 *      r11, r12, CTR, cr0 clobbered, as by ftrace_caller.
 *
 * With ftrace off on this CPU (paca->ftrace_enabled, cleared by NMI and
 * crash paths and KVM guest entry), ftrace_caller calls no ops; the direct
 * branch comes before its test, so the test is repeated here, first.
 */
SYM_CODE_START(tocpatch_direct_tramp)
	GET_PACA(r13)
	lbz	r11, TP_PACA_FTRACE_ENABLED(r13)
	cmpdi	r11, 0
	beqlr-
	std	r3, DT_RZ(3)(r1)
	std	r4, DT_RZ(4)(r1)
	std	r5, DT_RZ(5)(r1)
	std	r6, DT_RZ(6)(r1)
	mflr	r11				/* the key: stub + 8 */
	/* r12 = the table (ftrace_hook.rs TOCPATCH_TABLE), PC-relative */
	bcl	20, 31, .Ldt_fpc
.Ldt_fpc:
	mflr	r12
	mtlr	r11				/* LR = stub + 8 again */
	mtctr	r12				/* CTR = .Ldt_fpc, for later */
	ld	r3, (.Ldt_table - .Ldt_fpc)(r12)
	ldx	r12, r12, r3
	cmpdi	r12, 0
	beq-	.Ldt_fast_out
	/* r4 = home(key) = ((key >> 3) ^ (key >> 7)) & mask (iptable.rs) */
	srdi	r4, r11, 3
	srdi	r5, r11, 7
	xor	r4, r4, r5
	ld	r5, DT_TBL_MASK(r12)
	and	r4, r4, r5
	ld	r12, DT_TBL_BASE(r12)
	/* linear probe: r3 = slot value, until the key or an empty slot */
.Ldt_probe:
	sldi	r3, r4, 3
	ldx	r3, r12, r3
	cmpldi	r3, DT_SLOT_TOMB
	blt-	.Ldt_fast_out			/* empty: no site, B runs */
	beq-	.Ldt_next
	ld	r6, DT_SITE_KEY(r3)
	cmpd	r6, r11
	beq+	.Ldt_found
.Ldt_next:
	addi	r4, r4, 1
	and	r4, r4, r5
	b	.Ldt_probe
.Ldt_found:					/* r3 = the site */
	andi.	r4, r2, 1
	beq	.Ldt_local			/* even r2: a local call */
	/* global: a target for the fast path? (site.rs Site::fast) */
	ld	r12, DT_SITE_FAST(r3)
	cmpdi	r12, 0
	beq-	.Ldt_fast_slow
	/* does the caller reload r2 from its slot after the call? */
	mr	r6, r0
	lwz	r6, 0(r6)
	lis	r4, TP_INST_LD_TOC@h
	ori	r4, r4, TP_INST_LD_TOC@l
	cmplw	r6, r4
	bne-	.Ldt_fast_slow			/* no: it needs B's TOC back */
	/* count it in this CPU's copy of the target's counters */
	ld	r6, DT_TGT_PCPU(r12)
	ld	r4, TP_PACA_DATA_OFFSET(r13)
	add	r6, r6, r4
	addi	r6, r6, DT_PCPU_GLOBAL
1:	ldarx	r4, 0, r6
	addi	r4, r4, 1
	stdcx.	r4, 0, r6
	bne-	1b
	/* into C's global entry with r12 = C, returning straight to A */
	ld	r12, DT_TGT_NEW(r12)
	mtctr	r12
	mtlr	r0
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	bctr

.Ldt_local:					/* r3 = the site, r2 = B's TOC */
	ld	r12, DT_SITE_TOP(r3)
	cmpdi	r12, 0
	beq-	.Ldt_fast_out			/* no target */
	ld	r5, DT_TGT_NEW(r12)
	cmpdi	r5, 0
	beq-	.Ldt_fast_out			/* a nop target */
	std	r7, DT_RZ(7)(r1)
	std	r8, DT_RZ(8)(r1)
	std	r9, DT_RZ(9)(r1)
	std	r10, DT_RZ(10)(r1)
	ld	r3, TP_PACA_CURRENT(r13)
	ld	r3, TP_TASK_STACK(r3)		/* the shadow region */
	ld	r6, DT_TGT_PCPU(r12)		/* the frame's owner */
	TP_PUSH	r3, r1, r0, r2, r6, .Ldt_local_slow
	/* count it: local + 1, frames + 1, peak = max(peak, depth) */
	ld	r7, TP_PACA_DATA_OFFSET(r13)
	add	r6, r6, r7
	addi	r7, r6, DT_PCPU_LOCAL
1:	ldarx	r9, 0, r7
	addi	r9, r9, 1
	stdcx.	r9, 0, r7
	bne-	1b
	addi	r7, r6, DT_PCPU_DEPTH
2:	ldarx	r9, 0, r7
	addi	r9, r9, 1
	stdcx.	r9, 0, r7
	bne-	2b
	addi	r7, r6, DT_PCPU_PEAK
3:	ldarx	r9, 0, r7
	cmpld	r9, r8
	bge	4f
	stdcx.	r8, 0, r7
	bne-	3b
4:	/* into C's global entry with r12 = C, returning to the trampoline */
	mfctr	r4
	ld	r6, (.Ldt_rtramp - .Ldt_fpc)(r4)
	add	r4, r4, r6
	mtlr	r4
	mr	r12, r5
	mtctr	r5
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	ld	r7, DT_RZ(7)(r1)
	ld	r8, DT_RZ(8)(r1)
	ld	r9, DT_RZ(9)(r1)
	ld	r10, DT_RZ(10)(r1)
	bctr
.Ldt_local_slow:				/* no room, or not on the task stack */
	ld	r7, DT_RZ(7)(r1)
	ld	r8, DT_RZ(8)(r1)
	ld	r9, DT_RZ(9)(r1)
	ld	r10, DT_RZ(10)(r1)
	b	.Ldt_fast_slow

.Ldt_fast_out:					/* into B as it is */
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	blr
.Ldt_fast_slow:					/* the slow path after all */
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
.Ldt_slow:
	PPC_STLU r1, -STACK_FRAME_MIN_SIZE(r1)	/* B's frame */
	PPC_STLU r1, -TP_SWITCH_FRAME_SIZE(r1)
	std	r0, TP_FRAME_LINK(r1)
	std	r0, DT_FRAMES + LRSAVE(r1)	/* in A's frame, as B would */
	std	r0, DT_GPR(0)(r1)
	std	r3, DT_GPR(3)(r1)
	std	r4, DT_GPR(4)(r1)
	std	r5, DT_GPR(5)(r1)
	std	r6, DT_GPR(6)(r1)
	std	r7, DT_GPR(7)(r1)
	std	r8, DT_GPR(8)(r1)
	std	r9, DT_GPR(9)(r1)
	std	r10, DT_GPR(10)(r1)
	std	r14, DT_GPR(14)(r1)
	std	r15, DT_GPR(15)(r1)
	addi	r8, r1, DT_FRAMES
	std	r8, TP_FRAME_GPR1(r1)
	li	r8, 0
	std	r8, TP_FRAME_MSR(r1)		/* as ftrace_caller: not all regs */
	std	r8, TP_FRAME_ORIG_GPR3(r1)	/* no direct call asked */
	std	r2, STK_GOT(r1)
	/* nip: past B's ftrace location, which the stub branches back to */
	mflr	r15				/* stub + 8: the key, the ip */
	lwz	r8, 4(r15)
	slwi	r8, r8, 6
	srawi	r8, r8, 6
	add	r14, r15, r8
	addi	r14, r14, 4
	mr	r3, r15
	std	r14, TP_FRAME_NIP(r1)
	std	r14, TP_SWITCH_FRAME_SIZE + LRSAVE(r1)	/* B's, for unwinding */
	mr	r4, r0				/* parent_ip */
	li	r5, 0				/* op */
	addi	r6, r1, STACK_INT_FRAME_REGS	/* fregs */
	/* our TOC, from our address, for the handler */
	bcl	20, 31, .Ldt_pc
.Ldt_pc:
	mflr	r12
	ld	r2, (.Ldt_toc - .Ldt_pc)(r12)
	add	r2, r2, r12
	bl	tocpatch_ftrace_handler
	ld	r0, TP_FRAME_LINK(r1)
	ld	r3, TP_FRAME_NIP(r1)
	cmpd	r14, r3				/* redirected? */
	bne-	1f
	mr	r3, r15				/* no: back into B */
1:	mtlr	r3
	ld	r3, DT_GPR(3)(r1)
	ld	r4, DT_GPR(4)(r1)
	ld	r5, DT_GPR(5)(r1)
	ld	r6, DT_GPR(6)(r1)
	ld	r7, DT_GPR(7)(r1)
	ld	r8, DT_GPR(8)(r1)
	ld	r9, DT_GPR(9)(r1)
	ld	r10, DT_GPR(10)(r1)
	ld	r14, DT_GPR(14)(r1)
	ld	r15, DT_GPR(15)(r1)
	ld	r2, STK_GOT(r1)
	addi	r1, r1, DT_FRAMES
	blr
	.balign 8
.Ldt_toc:
	.quad	.TOC. - .Ldt_pc
.Ldt_table:
	.quad	TOCPATCH_TABLE - .Ldt_fpc
.Ldt_rtramp:	/* where C returns to: trampoline.rs return_tramp() */
	.quad	tocpatch_return_tramp + 4 - .Ldt_fpc
SYM_CODE_END(tocpatch_direct_tramp)

/*
 * long tocpatch_push_selftest(u64 *base, unsigned long *sp, u64 ret,
 *			       u64 toc, unsigned long owner)
 *
 * TP_PUSH on a region the Rust self-test then pops with its own code
 * (asm_shim::self_test): so that a layout the assembly and the Rust
 * disagree on fails the load, not a return. An ordinary function, called
 * from Rust.
 *
 * In:  r3 = base, r4 = sp (a fake stack frame within THREAD_SIZE above
 *      base, its TOC save slot set), r5 = ret, r6 = toc, r7 = owner
 * Out: r3 = the new depth, or 0 if TP_PUSH refused.
 * Clobbers r0, r7..r11, cr0.
 */
SYM_FUNC_START(tocpatch_push_selftest)
	mr	r11, r7
	TP_PUSH	r3, r4, r5, r6, r11, .Lpt_fail
	mr	r3, r8
	blr
.Lpt_fail:
	li	r3, 0
	blr
SYM_FUNC_END(tocpatch_push_selftest)
