/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the shadow-frame layout of rust/logic/shadow.rs, for the
 * assembly push (direct.S, TP_PUSH) and pop (trampolines.S, TP_POP).
 */
#ifndef _TOCPATCH_SHADOW_FRAMES_H
#define _TOCPATCH_SHADOW_FRAMES_H

/*
 * At the base of the task's stack, word 0 the kernel's, word 1 our header
 * (HEADER_MAGIC in the high 48 bits, the depth in the low 16), frames of
 * five words (ret, toc, slot, owner, check) from word 2. Rust checks at
 * load that the assembly push and pop agree with its own
 * (asm_shim::self_test, through tocpatch_pop_selftest and
 * tocpatch_push_selftest).
 */
#define SH_HEADER	8		/* HEADER_WORD * 8 */
#define SH_FRAMES	16		/* FIRST_FRAME_WORD * 8 */
#define SH_FRAME	40		/* FRAME_BYTES */
#define SH_HDR_MAGIC_HI	0x7470		/* HEADER_MAGIC: 0x7470736864770000 */
#define SH_HDR_MAGIC_MD	0x7368
#define SH_HDR_MAGIC_LO	0x6477
/* The deepest the region can be: frames_end(d) <= THREAD_SIZE. */
#define SH_MAX_DEPTH	((TP_THREAD_SIZE - SH_FRAMES) / SH_FRAME)
#if SH_MAX_DEPTH > 0xffff
#error "the depth bound must fit cmpldi"
#endif

/* Bytes the frames keep from the live stack (rust/shadow.rs MARGIN). */
#define SH_MARGIN	1024

/* r = HEADER_MAGIC */
.macro SH_LOAD_HEADER_MAGIC r
	lis	\r, SH_HDR_MAGIC_HI
	ori	\r, \r, SH_HDR_MAGIC_MD
	rldicr	\r, \r, 32, 31
	oris	\r, \r, SH_HDR_MAGIC_LO
.endm

/* r = SHADOW_MAGIC, 0x746f637061746368, mixed into every check word */
.macro SH_LOAD_SHADOW_MAGIC r
	lis	\r, 0x746f
	ori	\r, \r, 0x6370
	sldi	\r, \r, 32
	oris	\r, \r, 0x6174
	ori	\r, \r, 0x6368
.endm

#endif
