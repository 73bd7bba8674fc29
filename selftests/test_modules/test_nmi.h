/* SPDX-License-Identifier: GPL-2.0 */
/* tocpatch_test_nmi.ko: the patch target entered from NMIs, and its record. */
#ifndef _TOCPATCH_TEST_NMI_H
#define _TOCPATCH_TEST_NMI_H

struct pt_regs;

/* Who ran: tp_nmi_record()'s argument. */
#define TP_NMI_ORIG	0
#define TP_NMI_PATCHED	1

void tp_nmi_func(struct pt_regs *regs);
void tp_nmi_record(int who);

#endif
