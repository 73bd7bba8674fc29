#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tocpatch and the rest of ftrace: the counterparts of upstream's
# tools/testing/selftests/livepatch/test-ftrace.sh, on the cmdline sample
# (upstream's test_klp_livepatch patches the same function), plus the
# TOC-specific half upstream has no need for: with the function tracer on
# the patched function or on its replacement, local and global calls of
# tp_target_add still get the replacement and keep the caller's r2.
#
# 1. kernel.ftrace_enabled: 7.3 deprecates the knob, every write of 0 is
#    refused with EOPNOTSUPP and ftrace stays on (upstream's test takes its
#    "not supported" branch there). Checked with and without enabled
#    patches: the write changes nothing and the patches keep working.
# 2. the function tracer on a replacement, turned on after the enable.
# 3. the function tracer on a function, then a patch of it.
# Each case compares the log sequence (tocpatch's lifecycle lines and the
# lines this script writes to /dev/kmsg, as upstream's check_result).

. "$(dirname "$0")/lib.sh"

PATCHED="this has been live patched by tocpatch"
CMD=tocpatch_sample_cmdline
TR=/sys/kernel/tracing
SYSCTL=/proc/sys/kernel/ftrace_enabled

tap_plan 37

# lines: the log since the mark: tocpatch's lifecycle lines and ours,
# without timestamps or the function counts of "enabled patch".
lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		/^tocpatch_selftest: /p
		/^tocpatch: \(enabled patch\|disabled patch\|released patch\|.*ftrace cannot hook\)/p'
}

# expect NAME: the lines since the mark are those on stdin.
expect() {
	cat >/tmp/ft.want
	lines >/tmp/ft.got
	if cmp -s /tmp/ft.want /tmp/ft.got; then
		tap_ok "$1: log sequence"
	else
		diff /tmp/ft.want /tmp/ft.got | sed 's/^/# /'
		tap_not_ok "$1: log sequence"
	fi
}

kmsg() {
	echo "tocpatch_selftest: $*" >/dev/kmsg
}

# set_ftrace_enabled V: upstream's set_ftrace_enabled --fail: write V and
# log the error (with upstream's wording) when the value does not stick.
set_ftrace_enabled() {
	err=$(sysfs_write $SYSCTL "$1") && rc=0 || rc=$?
	if [ "$(cat $SYSCTL)" = "$1" ]; then
		kmsg "kernel.ftrace_enabled = $1"
	else
		kmsg "sysctl: setting key \"kernel.ftrace_enabled\": ${err##*: }"
	fi
	return $rc
}

# trace_function F: upstream's trace_function (the function tracer on F
# alone), and check_traced_functions F (F is in the trace; then tracing
# is reset).
[ -f $TR/current_tracer ] || mount -t tracefs tracefs $TR 2>/dev/null
cleanup_tracing() {
	echo nop >$TR/current_tracer
	echo >$TR/set_ftrace_filter
	echo >$TR/trace
}
trace_function() {
	cleanup_tracing
	echo function >$TR/current_tracer
	echo "$1" >$TR/set_ftrace_filter
	echo 1 >$TR/tracing_on
}
traced() {
	grep -Fwq "$1" $TR/trace
}
# trace_count F: the number of calls of F in the trace.
trace_count() {
	grep -c " $1 <-" $TR/trace
}

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
text0=$(cat "$T/text")

# 1. livepatch interaction with ftrace_enabled sysctl
tap_check "kernel.ftrace_enabled reads 1" [ "$(cat $SYSCTL)" = 1 ]
log_mark
set_ftrace_enabled 0 && rc=0 || rc=$?
tap_check "ftrace_enabled=0 with no patch: refused with EOPNOTSUPP (7.3: deprecated): '${err##*: }'" \
	refused_with "$rc" "$err" "$(errno_text EOPNOTSUPP)"
tap_check "  and ftrace_enabled still reads 1" [ "$(cat $SYSCTL)" = 1 ]
expect "ftrace_enabled=0, no patch" <<END
tocpatch_selftest: sysctl: setting key "kernel.ftrace_enabled": Operation not supported
END

log_mark
out=$(load_mod $CMD)
tap_check "cmdline sample loads${out:+ ($out)}" [ -z "$out" ]
out=$(load_mod tocpatch_test_patch)
tap_check "test patch loads${out:+ ($out)}" [ -z "$out" ]
set_ftrace_enabled 0 && rc=0 || rc=$?
tap_check "ftrace_enabled=0 with two patches enabled: refused with EOPNOTSUPP: '${err##*: }'" \
	refused_with "$rc" "$err" "$(errno_text EOPNOTSUPP)"
tap_check "  and ftrace_enabled still reads 1" [ "$(cat $SYSCTL)" = 1 ]
tap_check "/proc/cmdline is still patched" [ "$(cat /proc/cmdline)" = "$PATCHED" ]
expect_call "after the refused write: local call" target local 5 1006
expect_call "after the refused write: global call" caller global 5 1007
expect_call "after the refused write: function pointer call" caller fptr 5 1008
expect_counts "after the refused write" tp_target_add 1 2 0
set_ftrace_enabled 1
tap_check "disable cmdline sample" disable_patch $CMD
unload_mod $CMD >/dev/null
tap_check "disable test patch" disable_patch tocpatch_test_patch
unload_mod tocpatch_test_patch >/dev/null
expect "ftrace_enabled=0 with patches enabled" <<END
tocpatch: enabled patch $CMD
tocpatch: enabled patch tocpatch_test_patch
tocpatch_selftest: sysctl: setting key "kernel.ftrace_enabled": Operation not supported
tocpatch_selftest: kernel.ftrace_enabled = 1
tocpatch: disabled patch $CMD
tocpatch: released patch $CMD
tocpatch: disabled patch tocpatch_test_patch
tocpatch: released patch tocpatch_test_patch
END

# 2. trace livepatched function and check that the live patch remains in
# effect: the tracer on the replacement, after the enable.
log_mark
load_mod $CMD >/dev/null
trace_function tocpatch_cmdline_proc_show
[ "$(cat /proc/cmdline)" = "$PATCHED" ] && kmsg "ok"
tap_check "replacement tocpatch_cmdline_proc_show is in the trace" traced tocpatch_cmdline_proc_show
cleanup_tracing
disable_patch $CMD
unload_mod $CMD >/dev/null
expect "trace the replacement" <<END
tocpatch: enabled patch $CMD
tocpatch_selftest: ok
tocpatch: disabled patch $CMD
tocpatch: released patch $CMD
END

# The same with local and global calls: the replacement, traced, runs
# for both with the caller's r2 intact.
load_mod tocpatch_test_patch >/dev/null
trace_function tp_patched_add
expect_call "replacement traced: local call" target local 6 1007
expect_call "replacement traced: global call" caller global 6 1008
expect_counts "replacement traced" tp_target_add 1 1 0
n=$(trace_count tp_patched_add)
tap_check "the tracer saw the replacement run twice: $n" [ "$n" = 2 ]
cleanup_tracing
disable_patch tocpatch_test_patch
unload_mod tocpatch_test_patch >/dev/null

# 3. livepatch a traced function and check that the live patch remains in
# effect: the tracer first, then the patch.
log_mark
trace_function cmdline_proc_show
load_mod $CMD >/dev/null
[ "$(cat /proc/cmdline)" = "$PATCHED" ] && kmsg "ok"
tap_check "traced cmdline_proc_show is in the trace" traced cmdline_proc_show
cleanup_tracing
disable_patch $CMD
unload_mod $CMD >/dev/null
expect "patch a traced function" <<END
tocpatch: enabled patch $CMD
tocpatch_selftest: ok
tocpatch: disabled patch $CMD
tocpatch: released patch $CMD
END

trace_function tp_target_add
out=$(load_mod tocpatch_test_patch)
tap_check "patch of the traced tp_target_add loads${out:+ ($out)}" [ -z "$out" ]
expect_call "traced, then patched: local call" target local 7 1008
expect_call "traced, then patched: global call" caller global 7 1009
expect_call "traced, then patched: function pointer call" caller fptr 7 1010
expect_counts "traced, then patched" tp_target_add 1 2 0
n=$(trace_count tp_target_add)
tap_check "the tracer saw 3 calls of tp_target_add: $n" [ "$n" = 3 ]
# The tracer goes first while the patch stays.
cleanup_tracing
expect_call "tracer gone: local call" target local 8 1009
expect_call "tracer gone: global call" caller global 8 1010
disable_patch tocpatch_test_patch
unload_mod tocpatch_test_patch >/dev/null
expect_call "patch gone: local call" target local 8 9
expect_call "patch gone: global call" caller global 8 10
tap_check "text of every target as before" [ "$(cat "$T/text")" = "$text0" ]
tap_check "no patch left" sh -c "! grep -q '^patch ' $S"

unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_done
