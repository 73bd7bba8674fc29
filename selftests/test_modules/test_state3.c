// SPDX-License-Identifier: GPL-2.0
/*
 * tocpatch_test_state3: upstream's test_klp_state3 (test-state.sh): the
 * console loglevel fix is the same in the next cumulative patch.
 */
#include "test_state2.c"
