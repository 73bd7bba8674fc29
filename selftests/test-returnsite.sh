#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Global calls whose return site does not reload r2 (issue #8, 1st bullet).
# An assembly caller that enters a patched, marked function through its
# global entry (mtctr; mr r12; bctrl, as ret_from_kernel_user_thread does)
# and carries on with the r2 that comes back must get the TOC the
# original function returns with, not the patch module's: such a call is
# classified global (odd r2) but must still get a shadow frame. Tried
# from the target's own module and from another module; an ordinary
# global call (followed by ld r2,24(r1)) still gets no frame.

. "$(dirname "$0")/lib.sh"

tap_plan 10

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

expect_call "unpatched: no-reload caller in the target module" target noreload 5 9
expect_call "unpatched: no-reload caller in another module" caller noreload 5 10

out=$(load_mod tocpatch_test_patch)
tap_check "patch module loads${out:+ ($out)}" [ -z "$out" ]
tap_check "tp_target_add has its marker placed" \
	grep -qE '^  func tp_target_add prologue toc-(relative|load) marker placed ' "$S"

# An ordinary global call reloads r2 itself: no shadow frame (peak stays 0).
expect_call "reloading global call" caller global 5 1007
tap_check "reloading global call took no shadow frame: peak $(field tp_target_add peak)" \
	[ "$(field tp_target_add peak)" = 0 ]

g0=$(field tp_target_add global)
expect_call "no-reload caller in the target module gets its TOC back" target noreload 5 1009
expect_call "no-reload caller in another module gets the target's TOC back" caller noreload 5 1010
g1=$(field tp_target_add global)
peak=$(field tp_target_add peak)
depth=$(field tp_target_add depth)
framed() {
	[ "$g1" -ge $((g0 + 2)) ] && [ "$peak" -ge 1 ] && [ "$depth" = 0 ]
}
tap_check "both were global calls ($g0 -> $g1) and took a frame (peak $peak, depth $depth)" framed

disable_patch tocpatch_test_patch >/dev/null
out=$(unload_mod tocpatch_test_patch)
tap_check "patch disabled and unloaded${out:+ ($out)}" [ -z "$out" ]

unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
