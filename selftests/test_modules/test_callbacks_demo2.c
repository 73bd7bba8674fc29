// SPDX-License-Identifier: GPL-2.0
/* tocpatch_test_callbacks_demo2: vmlinux callbacks only (test-callbacks.sh). */
#define TP_DEMO2
#include "test_callbacks_demo.c"
