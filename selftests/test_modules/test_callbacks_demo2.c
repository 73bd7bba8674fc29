// SPDX-License-Identifier: GPL-2.0
/* tocpatch_test_callbacks_demo2: vmlinux callbacks only (test-callbacks.sh). */
#define CB_VMLINUX_ONLY
#include "test_callbacks_demo.c"
