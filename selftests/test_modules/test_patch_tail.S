/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Case (h): a C-callable replacement that ends in a sibling (tail) call to
 * a function outside its module. Neither GCC (12, 14) nor rustc emits such
 * a call for a plain external call (they use bl + nop and restore r2), so
 * it is written here by hand, as a kpatch-built patch or another toolchain
 * could produce it.
 *
 * int tp_patched_tail_asm(int x): returns tp_target_plain(x, 1000).
 *
 * In:  r12 = our global entry (tocpatch enters replacements there), r3 = x,
 *      LR = where tp_target_plain must return.
 * The "b" goes through the module loader's call stub, which stores our r2
 * in 24(r1): after a tail call that is the slot of our caller's frame.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>

	.text
SYM_FUNC_START(tp_patched_tail_asm)
0:	addis	r2, r12, (.TOC. - 0b)@ha
	addi	r2, r2, (.TOC. - 0b)@l
	.localentry tp_patched_tail_asm, . - tp_patched_tail_asm
	li	r4, 1000
	b	tp_target_plain
SYM_FUNC_END(tp_patched_tail_asm)
