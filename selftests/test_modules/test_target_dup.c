// SPDX-License-Identifier: GPL-2.0
/*
 * The second static tp_dup of tocpatch_test_target.ko (see test_target.c):
 * old_sympos 2 names this one.
 */
#include <linux/compiler.h>
#include "test_target.h"

/* Counting calls makes it use its TOC: a global entry prologue. */
static int tp_dup_calls;

static noinline __attribute__((__noipa__)) int tp_dup(int x)
{
	WRITE_ONCE(tp_dup_calls, tp_dup_calls + 1);
	return x + 20;
}

/* A local call of this file's tp_dup. */
noinline int tp_target_dup2(int x)
{
	return tp_dup(x);
}
