/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The assembly caller without TOC reload (test_noreload.h), in the caller
 * module: a global call from another module's TOC.
 */
#include <linux/linkage.h>
#include <asm/ppc_asm.h>
#include "test_noreload.h"

	.text
TP_NORELOAD_CALLER tp_caller_noreload
