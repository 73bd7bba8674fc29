// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_state: upstream's test_klp_state (test-state.sh), the
 * console loglevel state at version 1: the sample
 * tocpatch_sample_state_fix1, built under this module's name.
 */
#include "../../samples/tocpatch_sample_state_fix1.c"
