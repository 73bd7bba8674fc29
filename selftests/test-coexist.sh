#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A patched function shared with other ftrace users: a kprobe (an ops
# that wants all registers, so the function is then reached through
# ftrace_regs_caller and the ops list) and the function tracer. Calls
# must still reach the replacement with the caller's r2 intact and the
# exact counters, and the other users must see every call.

. "$(dirname "$0")/lib.sh"

tap_plan 20

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
out=$(load_mod tocpatch_test_patch)
tap_check "patch module loads${out:+ ($out)}" [ -z "$out" ]

hits() {
	cat /sys/module/tocpatch_test_probe/parameters/hits
}

log_mark
out=$(load_mod tocpatch_test_probe symbol=tp_target_add)
tap_check "kprobe on the patched function${out:+ ($out)}" [ -z "$out" ]
tap_check "the kprobe uses ftrace" log_has 'probing tp_target_add at tp_target_add.* \(on ftrace: 1\)'

expect_call "kprobe: local call" target local 5 1006
expect_call "kprobe: global call" caller global 5 1007
expect_call "kprobe: function pointer call" caller fptr 5 1008
expect_counts "kprobe" tp_target_add 1 2 0
tap_check "kprobe saw 3 calls: $(hits)" [ "$(hits)" = 3 ]

# traced_calls NAME ARG LOCAL GLOBAL: a local and a global call with the
# function tracer on tp_target_add; the counters must then read LOCAL and
# GLOBAL, and the tracer must have seen both calls.
TR=/sys/kernel/tracing
[ -f $TR/current_tracer ] || mount -t tracefs tracefs $TR
traced_calls() {
	echo tp_target_add >$TR/set_ftrace_filter
	echo function >$TR/current_tracer
	echo >$TR/trace
	expect_call "$1: local call" target local "$2" $(($2 + 1001))
	expect_call "$1: global call" caller global "$2" $(($2 + 1002))
	expect_counts "$1" tp_target_add "$3" "$4" 0
	n=$(grep -c ' tp_target_add <-' $TR/trace)
	tap_check "$1: function tracer saw 2 calls: $n" [ "$n" = 2 ]
	echo nop >$TR/current_tracer
	echo >$TR/set_ftrace_filter
}

# The function tracer too.
traced_calls "kprobe+tracer" 6 2 3
# Without the kprobe, the tracer alone (ops list on ftrace_caller).
unload_mod tocpatch_test_probe >/dev/null
traced_calls "tracer" 7 3 4

# Disabled under a live kprobe: the original runs, the probe still fires.
load_mod tocpatch_test_probe symbol=tp_target_add >/dev/null
tap_check "patch disabled under the kprobe" \
	disable_patch tocpatch_test_patch
expect_call "kprobe, patch disabled: local call" target local 5 6
expect_call "kprobe, patch disabled: global call" caller global 5 7
tap_check "kprobe saw 2 calls: $(hits)" [ "$(hits)" = 2 ]

unload_mod tocpatch_test_probe >/dev/null
unload_mod tocpatch_test_patch >/dev/null
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
