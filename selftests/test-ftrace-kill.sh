#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tocpatch after ftrace killed itself (ftrace_kill(), what an
# FTRACE_WARN_ON() in ftrace's core does): see design.rst, "Paths that run
# a marked prologue without the hook". ftrace then leaves the call sites
# and the registered ops as they are, so the hooks keep running and the
# patch keeps working, but it refuses every change: registering and
# unregistering ops fail with ENODEV. A disable must then keep the hook
# (ftrace still calls it) instead of freeing what it uses; the patch still
# goes (its functions inactive, markers out, the original runs with r2
# intact), tocpatch stays loaded for good, and a new enable is refused with
# ENODEV.
#
# Killing ftrace lasts for the rest of the boot, so the script runs only as
# the last one of a run (testbed/guest/run-selftests.sh puts it last and
# says so in TOCPATCH_LAST_SCRIPT); anywhere else, or run by hand, it
# reports each test skipped.

. "$(dirname "$0")/lib.sh"

N=14
tap_plan $N

last_script_only $N

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
out=$(load_mod tocpatch_test_patch)
tap_check "patch loads${out:+ ($out)}" [ -z "$out" ]
expect_call "before the kill: local call" target local 5 1006
expect_call "before the kill: global call" caller global 5 1007

log_mark
out=$(load_mod tocpatch_test_ftrace_kill)
tap_check "ftrace killed${out:+ ($out)}" log_has 'tocpatch_test_ftrace_kill: ftrace killed'
# The hooks are still called: the patch keeps working.
expect_call "ftrace killed: local call" target local 6 1007
expect_call "ftrace killed: global call" caller global 6 1008

log_mark
out=$(disable_patch tocpatch_test_patch)
tap_check "disable${out:+ ($out)}" [ -z "$out" ]
tap_check "  the log says the hook stays" \
	log_has 'tocpatch: tp_target_add: ftrace_set_filter_ips failed: -19: the hook stays'
expect_call "disabled: local call (original)" target local 7 8
expect_call "disabled: global call (original)" caller global 7 9
out=$(unload_mod tocpatch_test_patch)
tap_check "patch module unloads${out:+ ($out)}" [ -z "$out" ]
rmmod_refused "tocpatch stays loaded (its hooks are still called)" tocpatch EAGAIN

log_mark
out=$(load_mod tocpatch_test_patch) && rc=0 || rc=$?
tap_check "a new enable is refused with ENODEV: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text ENODEV)"
expect_call "after the refused enable: local call (original)" target local 8 9
tap_done
