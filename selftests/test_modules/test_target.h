/* SPDX-License-Identifier: GPL-2.0 */
/* Functions of tocpatch_test_target.ko that the tests patch and call. */
#ifndef _TOCPATCH_TEST_TARGET_H
#define _TOCPATCH_TEST_TARGET_H

int tp_target_add(int a, int b);
int tp_target_tail(int a);
int tp_target_depth(int n);
int tp_target_walk(int n);
int tp_target_sleep(int ms);
int tp_target_plain(int a, int b);
int tp_target_tail_asm(int x);
int tp_target_tail_rust(int x);
int tp_target_rust(int x);
long tp_target_asm(long x);

/* What the replacements add, so that a test can tell who ran. */
#define TP_PATCHED_BIAS 1000

#endif
