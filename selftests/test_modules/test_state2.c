// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_state2: upstream's test_klp_state2 (test-state.sh), the
 * console loglevel state at version 2.
 */
#define CONSOLE_LOGLEVEL_STATE_VERSION 2
#include "../../samples/tocpatch_sample_state_fix1.c"
