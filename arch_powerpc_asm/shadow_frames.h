/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch: the shadow-frame layout of rust/logic/shadow.rs, for the
 * assembly push (direct.S, TP_PUSH) and pop (trampolines.S, TP_POP).
 */
#ifndef _TOCPATCH_SHADOW_FRAMES_H
#define _TOCPATCH_SHADOW_FRAMES_H

/*
 * At the base of the task's stack, word 0 the kernel's, word 1 our header
 * (the magic plus the depth; the depth is at most 0xffff), frames of five
 * words (ret, toc, slot, owner, check) from word 2. The magic is the
 * region's base rotated left by 16 (logic/shadow.rs magic()); the check
 * word of a frame mixes in the header word of its own depth. Rust checks
 * at load that the assembly push and pop agree with its own
 * (asm_shim::self_test, through tocpatch_pop_selftest and
 * tocpatch_push_selftest).
 */
#define SH_HEADER	8		/* HEADER_WORD * 8 */
#define SH_FRAMES	16		/* FIRST_FRAME_WORD * 8 */
#define SH_FRAME	40		/* FRAME_BYTES */
#define SH_DEPTH_BITS	16		/* DEPTH_BITS */
/* The deepest the region can be: frames_end(d) <= THREAD_SIZE. */
#define SH_MAX_DEPTH	((TP_THREAD_SIZE - SH_FRAMES) / SH_FRAME)
#if SH_MAX_DEPTH > 0xffff
#error "the depth bound must fit cmpldi"
#endif

/* Bytes the frames keep from the live stack (rust/shadow.rs MARGIN). */
#define SH_MARGIN	4096

/* r = the header magic of the region at base */
.macro SH_MAGIC r, base
	rotldi	\r, \base, SH_DEPTH_BITS
.endm

#endif
