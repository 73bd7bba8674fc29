// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_callbacks_demo (and, built with CB_VMLINUX_ONLY,
 * tocpatch_test_callbacks_demo2): the callbacks demo sample under the
 * selftests' names, the counterpart of upstream's
 * test_klp_callbacks_demo{,2}.ko (test-callbacks.sh). Objects: vmlinux
 * and tocpatch_test_callbacks_mod (callbacks only), and
 * tocpatch_test_callbacks_busy, whose tp_busymod_work_func is replaced.
 * Parameters: pre_patch_ret (what pre_patch returns, writable while
 * loaded) and replace.
 */
#define CB_MOD_NAME	"tocpatch_test_callbacks_mod"
#define CB_BUSY_NAME	"tocpatch_test_callbacks_busy"
#define CB_BUSY_FUNC	"tp_busymod_work_func"
#define CB_DESCRIPTION	"tocpatch selftest: callbacks demo patch"
#include "../../samples/tocpatch_sample_callbacks_demo.c"
