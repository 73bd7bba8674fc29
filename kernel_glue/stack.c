// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch: the stack pointer, for the shadow-frame bound (rust/shadow.rs),
 * which runs in the ftrace callback in any context. current_stack_pointer
 * is a register variable, out of reach of Rust. A leaf without a frame, so
 * it returns its caller's r1; notrace: it runs inside the ftrace callback.
 */
#include <asm/reg.h>
#include "glue.h"

notrace unsigned long tocpatch_stack_pointer(void)
{
	return current_stack_pointer;
}
