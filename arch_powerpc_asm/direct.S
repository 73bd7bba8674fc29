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
#define DT_TBL_BASE	24	/* Table.base: the slots */
#define DT_TBL_RTRAMP	32	/* Table.rtramp: tocpatch_return_tramp + 4 */
#define DT_TBL_MASK8	40	/* Table.mask8: mask << 3 */
#define DT_TBL_HOP	48	/* Table.hop: tocpatch_direct_hop */
#define DT_SITE_KEY	0	/* Site.key: stub + 8 on this path */
#define DT_SITE_FAST	16	/* Site.fast: top, if global calls may be fast */
#define DT_SITE_LFAST	24	/* Site.lfast: top, if not a nop */
#define DT_TGT_NEW	0	/* Target.new_func */
#define DT_TGT_PCPU	8	/* Target.counters.pcpu: per-CPU counters */
#define DT_TGT_GLOBAL	16	/* Target.counters.global_word: pcpu + global */
#define DT_PCPU_LOCAL	8	/* PerCpu.local (depth is at 0) */
#define DT_PCPU_PEAK	32	/* PerCpu.peak */
#define DT_SLOT_TOMB	1	/* logic/iptable.rs: EMPTY 0, TOMB 1 */

/*
 * The red zone (up to 288 bytes below r1, which interrupts skip on
 * ppc64): r3..r10 at DT_RZ(3..10), the probe's own three words and the
 * key.
 */
#define DT_RZ(n)	(-8 * ((n) - 2))
#define DT_RZX(k)	(-72 - 8 * (k))
#define DT_RZ_KEY	(-96)

/*
 * TP_PUSH base, sp, ret, toc, owner, a, b, c, d, fail: pushes the frame
 * (ret, toc, the TOC save slot of the stack frame at sp, owner) on the
 * shadow region at base, as Region::push (rust/logic/shadow.rs) does with
 * the limit shadow::push gives a stack pointer on the task's own stack:
 * the frames end at least SH_MARGIN bytes below sp.
 *
 * In:  base, sp, ret, toc, owner: registers other than the scratch a..d
 * Out: b = the new depth. The header is reserved (depth + 1) before the
 *      frame's words are written, so that a push and pop nested between
 *      any two steps (an interrupt on this task) works above the frame.
 *      Branches to fail, having changed nothing, if sp is not within
 *      THREAD_SIZE above base, or the frame would come too close to it.
 * Clobbers a, c, d, cr0.
 */
.macro TP_PUSH base, sp, ret, toc, owner, a, b, c, d, fail
	subf	\a, \base, \sp			/* sp's offset in the stack */
	cmpldi	\a, TP_THREAD_SIZE
	bge-	\fail
	subi	\a, \a, SH_MARGIN		/* the limit (signed) */
	ld	\b, SH_HEADER(\base)
	SH_MAGIC \c, \base
	subf	\b, \c, \b			/* the depth, if it is our header */
	cmpldi	\b, 0xffff
	ble+	.Lpush_depth\@
	li	\b, 0				/* not our header: no frames */
.Lpush_depth\@:
	mulli	\d, \b, SH_FRAME
	addi	\d, \d, SH_FRAMES + SH_FRAME	/* frames_end(depth + 1) */
	cmpd	\d, \a
	bgt-	\fail
	addi	\b, \b, 1
	add	\c, \c, \b			/* the header of depth + 1 */
	std	\c, SH_HEADER(\base)		/* reserve */
	add	\d, \d, \base			/* the new frame's end */
	ld	\a, STK_GOT(\sp)		/* slot: the TOC save slot */
	std	\ret, -SH_FRAME + 0(\d)
	std	\toc, -SH_FRAME + 8(\d)
	std	\a, -SH_FRAME + 16(\d)
	std	\owner, -SH_FRAME + 24(\d)
	/* check = ret ^ rotl(toc, 17) ^ rotl(slot, 31) ^ rotl(owner, 47) ^ header */
	rotldi	\a, \a, 31
	xor	\c, \c, \a
	rotldi	\a, \toc, 17
	xor	\c, \c, \a
	rotldi	\a, \owner, 47
	xor	\c, \c, \a
	xor	\c, \c, \ret
	std	\c, -SH_FRAME + 32(\d)
.endm

/*
 * DT_LOOKUP t, anchor, lit, more: the first probe of the table for the
 * key in LR (stub + 8), DT_HOME on TOCPATCH_TABLE. lit holds
 * TOCPATCH_TABLE - anchor.
 *
 * Out: r11 = the key, r12 = the table, and as DT_HOME.
 * Clobbers r3, t, LR, cr0.
 */
.macro DT_LOOKUP t, anchor, lit, more
	mflr	r11
	bcl	20, 31, \anchor
\anchor:
	mflr	r12
	ld	r3, (\lit - \anchor)(r12)
	ldx	r12, r12, r3			/* the table (never null) */
	DT_HOME	\t, \more
.endm

/*
 * DT_HOME t, more: the key's home slot (logic/iptable.rs home(),
 * ((key >> 3) ^ (key >> 7)) & mask), as a byte offset in the slots:
 * (key ^ (key >> 4)) & (mask << 3), the same (host-tested there,
 * home_bytes).
 *
 * In:  r11 = the key, r12 = the table
 * Out: r3 = the site in the home slot; or a branch to more (the slot
 *      holds another site, a tombstone or nothing); r11, r12 kept.
 * Clobbers r3, t, cr0.
 */
.macro DT_HOME t, more
	srdi	\t, r11, 4
	xor	r3, r11, \t
	ld	\t, DT_TBL_MASK8(r12)
	and	r3, r3, \t			/* home(key) * 8 */
	ld	\t, DT_TBL_BASE(r12)
	ldx	r3, \t, r3
	cmpldi	r3, DT_SLOT_TOMB
	ble-	\more
	ld	\t, DT_SITE_KEY(r3)
	cmpd	\t, r11
	bne-	\more
.endm

/*
 * DT_PROBE t, found, miss: the whole linear probe, when DT_LOOKUP's first
 * one did not settle it (iptable.rs probe()).
 *
 * In:  r11 = the key, r12 = the table
 * Out: at found with r3 = the site, or at miss (an empty slot ends the
 *      probe); r11, r12 and r5..r7 (through the red zone) kept.
 * Clobbers r3, t, cr0.
 */
.macro DT_PROBE t, found, miss
	std	r5, DT_RZX(0)(r1)
	std	r6, DT_RZX(1)(r1)
	std	r7, DT_RZX(2)(r1)
	srdi	r3, r11, 3
	srdi	\t, r11, 7
	xor	r3, r3, \t
	ld	r5, DT_TBL_MASK(r12)
	and	r3, r3, r5
	ld	r6, DT_TBL_BASE(r12)
.Lprobe_slot\@:
	sldi	\t, r3, 3
	ldx	\t, r6, \t
	cmpldi	\t, DT_SLOT_TOMB
	blt-	.Lprobe_miss\@			/* empty: no site */
	beq-	.Lprobe_next\@			/* a tombstone: go on */
	ld	r7, DT_SITE_KEY(\t)
	cmpd	r7, r11
	beq+	.Lprobe_found\@
.Lprobe_next\@:
	addi	r3, r3, 1
	and	r3, r3, r5
	b	.Lprobe_slot\@
.Lprobe_found\@:
	mr	r3, \t
	ld	r5, DT_RZX(0)(r1)
	ld	r6, DT_RZX(1)(r1)
	ld	r7, DT_RZX(2)(r1)
	b	\found
.Lprobe_miss\@:
	ld	r5, DT_RZX(0)(r1)
	ld	r6, DT_RZX(1)(r1)
	ld	r7, DT_RZX(2)(r1)
	b	\miss
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
 *      or not: back at stub + 8 with r0, r1 and r3..r10 as on entry, and
 *      r2 repaired if it was odd and the site was found (with no site
 *      in the table there is no marker either: a site leaves the table
 *      only after its marker is out and an RCU-tasks grace period has
 *      passed, and enters it before the marker goes in), so that the
 *      stub carries on into B.
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
	andi.	r11, r2, 1
	beq	.Ldt_local			/* even r2: a local call */

	/* A global call: its odd r2 kept in CTR, r3 in the red zone. */
	mtctr	r2
	std	r3, DT_RZ(3)(r1)
	DT_LOOKUP r2, .Ldt_pc_g, .Ldt_tbl_g, .Ldt_gmore
.Ldt_gfound:					/* r3 = the site */
	ld	r2, DT_TBL_HOP(r12)
	mtlr	r2				/* for the way out, below */
	ld	r12, DT_SITE_FAST(r3)		/* a target for the fast path? */
	cmpdi	r12, 0
	beq-	.Ldt_gslow
	/* does the caller reload r2 from its slot after the call? */
	lwzx	r2, 0, r0
	xoris	r2, r2, TP_INST_LD_TOC@h
	cmplwi	r2, TP_INST_LD_TOC@l
	bne-	.Ldt_gslow			/* no: it needs B's TOC back */
	/* count it in this CPU's copy of the target's global count */
	ld	r3, DT_TGT_GLOBAL(r12)
	ld	r2, TP_PACA_DATA_OFFSET(r13)
	ld	r12, DT_TGT_NEW(r12)
	mtctr	r12
1:	ldarx	r11, r3, r2
	addi	r11, r11, 1
	stdcx.	r11, r3, r2
	bne-	1b
	/*
	 * Into C's global entry with r12 = C, returning straight to A,
	 * through tocpatch_direct_hop: the blr takes the link-stack entry
	 * of the stub's call off (one misprediction), so that C's return
	 * and every return above A's are predicted right.
	 */
	ld	r3, DT_RZ(3)(r1)
	blr
.Ldt_gmore:
	DT_PROBE r2, .Ldt_gfound, .Ldt_gout
.Ldt_gout:					/* no site: into B as it is */
	mtlr	r11
	mfctr	r2
	ld	r3, DT_RZ(3)(r1)
	blr
.Ldt_gslow:					/* the slow path after all */
	mtlr	r11
	mfctr	r2
	ld	r3, DT_RZ(3)(r1)
	b	.Ldt_slow

	/* A local call: r2 = B's TOC; r3..r6 in the red zone. */
.Ldt_local:
	std	r3, DT_RZ(3)(r1)
	std	r4, DT_RZ(4)(r1)
	DT_LOOKUP r4, .Ldt_pc_l, .Ldt_tbl_l, .Ldt_lmore
.Ldt_lfound:					/* r3 = the site */
	ld	r4, DT_SITE_LFAST(r3)
	cmpdi	r4, 0
	beq-	.Ldt_lout			/* no target, or a nop: B runs */
	ld	r3, DT_TGT_NEW(r4)
	std	r5, DT_RZ(5)(r1)
	std	r6, DT_RZ(6)(r1)
	mtctr	r3				/* C */
	std	r11, DT_RZ_KEY(r1)		/* the key, for a refused push */
	ld	r11, DT_TBL_RTRAMP(r12)
	mtlr	r11				/* where C returns */
	ld	r3, TP_PACA_CURRENT(r13)
	ld	r3, TP_TASK_STACK(r3)		/* the shadow region */
	ld	r4, DT_TGT_PCPU(r4)		/* the frame's owner */
	TP_PUSH	r3, r1, r0, r2, r4, r5, r6, r11, r12, .Ldt_lslow
	/* count it: local + 1, frames + 1, peak = max(peak, depth) */
	ld	r3, TP_PACA_DATA_OFFSET(r13)
	addi	r5, r4, DT_PCPU_LOCAL
1:	ldarx	r11, r5, r3
	addi	r11, r11, 1
	stdcx.	r11, r5, r3
	bne-	1b
2:	ldarx	r11, r4, r3			/* depth, at offset 0 */
	addi	r11, r11, 1
	stdcx.	r11, r4, r3
	bne-	2b
	addi	r5, r4, DT_PCPU_PEAK
3:	ldarx	r11, r5, r3
	cmpld	r11, r6
	bge	4f
	stdcx.	r6, r5, r3
	bne-	3b
4:	/* into C's global entry with r12 = C */
	mfctr	r12
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	bctr
.Ldt_lslow:					/* no room, or not on the task stack */
	ld	r11, DT_RZ_KEY(r1)
	mtlr	r11
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	b	.Ldt_slow
.Ldt_lmore:
	DT_PROBE r4, .Ldt_lfound, .Ldt_lout
.Ldt_lout:					/* into B as it is */
	mtlr	r11
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	blr

	/* Every other call: the callback's code, in ftrace_caller's frame. */
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
.Ldt_tbl_g:
	.quad	TOCPATCH_TABLE - .Ldt_pc_g
.Ldt_tbl_l:
	.quad	TOCPATCH_TABLE - .Ldt_pc_l
SYM_CODE_END(tocpatch_direct_tramp)

/*
 * tocpatch_direct_hop: where the direct trampoline's global fast path
 * leaves with blr (Table.hop), rather than branching to the replacement
 * itself with bctr: the stub's bl pushed stub + 8 on the return-address
 * predictor's stack, and a return that does not take it off leaves every
 * later return up the call chain mispredicted.
 *
 * In:  CTR = r12 = C's global entry, r0 = A's return address, r1, r2 and
 *      r3..r10 as C is to get them
 * Out: at C's global entry, LR = r0.
 */
SYM_CODE_START(tocpatch_direct_hop)
	mtlr	r0
	bctr
SYM_CODE_END(tocpatch_direct_hop)

/*
 * void *tocpatch_lookup_selftest(const struct table *table, u64 key)
 *
 * DT_HOME, then DT_PROBE, on a table the Rust self-test built
 * (ftrace_hook::lookup_self_test): so that a lookup the assembly and
 * logic/iptable.rs disagree on (layout, hash, tombstones, the wrap at the
 * end) fails the load, not a call. An ordinary leaf function, called
 * from Rust; DT_PROBE uses the red zone below r1.
 *
 * In:  r3 = the table, r4 = the key
 * Out: r3 = the site found, or 0.
 * Clobbers r4, r11, r12, cr0.
 */
SYM_FUNC_START(tocpatch_lookup_selftest)
	mr	r12, r3
	mr	r11, r4
	DT_HOME	r4, .Llt_probe
	blr
.Llt_probe:
	DT_PROBE r4, .Llt_found, .Llt_miss
.Llt_found:
	blr
.Llt_miss:
	li	r3, 0
	blr
SYM_FUNC_END(tocpatch_lookup_selftest)

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
 * Clobbers r8..r11, cr0.
 */
SYM_FUNC_START(tocpatch_push_selftest)
	TP_PUSH	r3, r4, r5, r6, r7, r8, r9, r10, r11, .Lpt_fail
	mr	r3, r9
	blr
.Lpt_fail:
	li	r3, 0
	blr
SYM_FUNC_END(tocpatch_push_selftest)
