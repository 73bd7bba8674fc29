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
 * The fast path, in assembly without a frame, takes the common global
 * call: B entered through its marked global entry (odd r2), its site in
 * the table, a replacement C on top, no late-call bookkeeping, a caller
 * that reloads its own r2 after the call and a C that does not tail-call
 * out of its module. It counts the call and enters C, returning straight
 * to the caller: what tocpatch_ftrace_handler() and tocpatch_entry_tramp
 * do for such a call, without either. It uses the caller's red zone
 * (below r1, which interrupts skip on ppc64) for the registers it needs.
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
#include <tocpatch-asm-offsets.h>

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
#define DT_SITE_LOC	0	/* Site.loc: the key */
#define DT_SITE_DELTA	8	/* Site.delta */
#define DT_SITE_TOP	16	/* Site.top: the target on top */
#define DT_SITE_OUT_NS	24	/* Site.markers_out_ns */
#define DT_TGT_NEW	0	/* Target.new_func, 0 for a nop target */
#define DT_TGT_PCPU	8	/* Target.counters.pcpu: per-CPU counters */
#define DT_TGT_TAIL_OUT	24	/* Target.tail_out (bool) */
#define DT_PCPU_GLOBAL	16	/* PerCpu.global */
#define DT_SLOT_TOMB	1	/* logic/iptable.rs: EMPTY 0, TOMB 1 */

/* The red-zone slots of r3..r6 (at most 288 bytes below r1 may be used). */
#define DT_RZ(n)	(-8 * ((n) - 2))

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
 *      r13 = this CPU's paca
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
	lbz	r11, TP_PACA_FTRACE_ENABLED(r13)
	cmpdi	r11, 0
	beqlr-
	andi.	r11, r2, 1
	beq	.Ldt_slow			/* even r2: not a marked global call */
	std	r3, DT_RZ(3)(r1)
	std	r4, DT_RZ(4)(r1)
	std	r5, DT_RZ(5)(r1)
	std	r6, DT_RZ(6)(r1)
	/* r3 = B's ftrace location, from the stub's branch back into B */
	mflr	r11
	lwz	r12, 4(r11)
	slwi	r12, r12, 6
	srawi	r12, r12, 6
	add	r3, r11, r12
	/* r12 = the table (ftrace_hook.rs TOCPATCH_TABLE), PC-relative */
	bcl	20, 31, .Ldt_fpc
.Ldt_fpc:
	mflr	r12
	mtlr	r11				/* LR = stub + 8 again */
	ld	r11, (.Ldt_table - .Ldt_fpc)(r12)
	ldx	r12, r12, r11
	cmpdi	r12, 0
	beq-	.Ldt_fast_out
	/* r4 = home(key): w = key >> 2; ((w ^ w >> 7) * mult) >> shift & mask */
	srdi	r4, r3, 2
	srdi	r5, r4, 7
	xor	r4, r4, r5
	ld	r5, DT_TBL_MULT(r12)
	mulld	r4, r4, r5
	lwz	r5, DT_TBL_SHIFT(r12)
	srd	r4, r4, r5
	ld	r5, DT_TBL_MASK(r12)
	and	r4, r4, r5
	ld	r12, DT_TBL_BASE(r12)
	/* linear probe: r11 = slot value, until the key or an empty slot */
.Ldt_probe:
	sldi	r11, r4, 3
	ldx	r11, r12, r11
	cmpldi	r11, DT_SLOT_TOMB
	blt-	.Ldt_fast_out			/* empty: no site, B runs */
	beq-	.Ldt_next
	ld	r6, DT_SITE_LOC(r11)
	cmpd	r6, r3
	beq+	.Ldt_found
.Ldt_next:
	addi	r4, r4, 1
	and	r4, r4, r5
	b	.Ldt_probe
.Ldt_found:					/* r11 = the site */
	ld	r4, DT_SITE_OUT_NS(r11)
	cmpdi	r4, 0
	bne-	.Ldt_fast_slow			/* markers going: count late calls */
	ld	r4, DT_SITE_DELTA(r11)
	ld	r12, DT_SITE_TOP(r11)
	cmpdi	r12, 0
	beq-	.Ldt_fast_into_b		/* no target */
	ld	r5, DT_TGT_NEW(r12)
	cmpdi	r5, 0
	beq-	.Ldt_fast_into_b		/* a nop target */
	lbz	r6, DT_TGT_TAIL_OUT(r12)
	cmpdi	r6, 0
	bne-	.Ldt_fast_slow			/* C's tail call out needs a frame */
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
	mr	r12, r5
	mtctr	r5
	mtlr	r0
	ld	r3, DT_RZ(3)(r1)
	ld	r4, DT_RZ(4)(r1)
	ld	r5, DT_RZ(5)(r1)
	ld	r6, DT_RZ(6)(r1)
	bctr

.Ldt_fast_into_b:				/* r4 = delta: repair r2, into B */
	subf	r2, r4, r2
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
	std	r2, STK_GOT(r1)
	/* B's ftrace location, from the stub's branch back into B */
	mflr	r15
	lwz	r8, 4(r15)
	slwi	r8, r8, 6
	srawi	r8, r8, 6
	add	r3, r15, r8			/* ip: the location */
	addi	r14, r3, 4			/* nip: past it */
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
SYM_CODE_END(tocpatch_direct_tramp)
