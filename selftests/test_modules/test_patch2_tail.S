/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tocpatch_test_patch2's case (h), as in test_patch_tail.S: a C-callable
 * replacement that ends in a sibling (tail) call out of its module,
 * written by hand (compilers do not emit one).
 *
 * int tp_patched2_tail_asm(int x): returns tp_target_plain(x, 2000).
 *
 * In:  r12 = our global entry (tocpatch enters replacements there), r3 = x,
 *      LR = where tp_target_plain must return.
 * The "b" goes through the module loader's call stub, which stores our r2
 * in 24(r1): after a tail call that is the slot of our caller's frame.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>

	.text
SYM_FUNC_START(tp_patched2_tail_asm)
0:	addis	r2, r12, (.TOC. - 0b)@ha
	addi	r2, r2, (.TOC. - 0b)@l
	.localentry tp_patched2_tail_asm, . - tp_patched2_tail_asm
	li	r4, 2000
	b	tp_target_plain
SYM_FUNC_END(tp_patched2_tail_asm)
