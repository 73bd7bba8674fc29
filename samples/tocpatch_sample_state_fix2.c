// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_sample_state_fix2: tocpatch_sample_state_fix1 at version 2 of
 * the console loglevel state, which supports migration (upstream's
 * test_klp_state2.c): see tocpatch_sample_state_fix1.c.
 */
#define CONSOLE_LOGLEVEL_STATE_VERSION 2
#include "tocpatch_sample_state_fix1.c"
