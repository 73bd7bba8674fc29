#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The direct path of out-of-line kernels (Documentation/design.rst, "The
# direct path"): patched functions are directed to tocpatch's trampoline
# by one direct ftrace ops per object and enable; a function whose last
# patch goes stays in its ops, dormant (the trampoline runs the original),
# until the ops' last function is unpatched, and comes back to life in
# place when patched again. Another direct-call user on a function (the
# benchmark's ftrace direct-call module) and tocpatch refuse each other
# with EBUSY. Skipped on the callback path (-mprofile-kernel kernels,
# direct=0).

. "$(dirname "$0")/lib.sh"

P1=tocpatch_test_patch
P2=tocpatch_test_patch2
TR=/sys/kernel/tracing
N=23

tap_plan $N

log_mark
load_mod tocpatch >/dev/null
if ! log_has 'hooks through ftrace direct calls'; then
	for i in $(seq $N); do
		tap_skip "direct $i" "tocpatch hooks through ftrace callbacks here"
	done
	unload_mod tocpatch >/dev/null
	tap_done
fi
[ -f $TR/enabled_functions ] || mount -t tracefs tracefs $TR

# directed FUNC: FUNC's entry in enabled_functions says it calls
# tocpatch's direct trampoline.
directed() {
	awk -v f="$1" '$1 == f { on = 1; next } /^[^ \t]/ { on = 0 }
		on && /direct-->tocpatch_direct_tramp/ { found = 1 }
		END { exit !found }' $TR/enabled_functions
}

# traced FUNC: FUNC has an entry in enabled_functions at all.
traced() {
	grep -q "^$1 " $TR/enabled_functions
}

load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

out=$(load_mod $P1)
tap_check "first patch (5 functions) loads${out:+ ($out)}" [ -z "$out" ]
tap_check "tp_target_asm calls the direct trampoline" directed tp_target_asm
tap_check "tp_target_add calls the direct trampoline" directed tp_target_add
expect_call "tp_target_asm patched" target asm 5 7
expect_call "tp_target_add patched, local call" target local 5 1006

# The second patch takes 3 of the 5 functions; with the first gone,
# tp_target_asm (and tp_target_depth) have no patch but stay in the first
# enable's ops, which still directs the other three.
out=$(load_mod $P2)
tap_check "second patch (3 of them) loads${out:+ ($out)}" [ -z "$out" ]
out=$(disable_patch $P1 && unload_mod $P1)
tap_check "first patch disabled and unloaded${out:+ ($out)}" [ -z "$out" ]
tap_check "tp_target_asm, unpatched, still calls the trampoline (dormant)" \
	directed tp_target_asm
expect_call "dormant tp_target_asm runs the original" target asm 5 6
expect_call "tp_target_add is the second patch's, global call" caller global 5 2007

# Patched again: the dormant function comes back to life.
out=$(load_mod $P1)
tap_check "first patch loads again${out:+ ($out)}" [ -z "$out" ]
expect_call "tp_target_asm patched again" target asm 5 7

# With every function of the ops unpatched, the ops goes.
out=$(disable_patch $P1 && unload_mod $P1 && disable_patch $P2 && unload_mod $P2)
tap_check "both patches disabled and unloaded${out:+ ($out)}" [ -z "$out" ]
tap_check "no tp_target_ function is traced any more" \
	sh -c "! grep -q '^tp_target_' $TR/enabled_functions"
expect_call "tp_target_asm is the original" target asm 5 6
expect_call "tp_target_add is the original, local call" target local 5 6

unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null

# Another direct-call user on the function (tocpatch_bench_direct directs
# tp_bench_fn_000 to a trampoline of its own): refused both ways.
load_mod tocpatch_bench_target >/dev/null
out=$(load_mod tocpatch_bench_direct)
tap_check "another direct-call user takes tp_bench_fn_000${out:+ ($out)}" [ -z "$out" ]
log_mark
out=$(load_mod tocpatch_bench_patch nfuncs=1) && rc=0 || rc=$?
tap_check "a patch of it is refused with EBUSY${out:+ ($out)}" \
	refused_with "$rc" "$out" "$(insmod_errno_text EBUSY)"
tap_check "  one line says why" log_has 'tocpatch: ftrace refused to hook 1 function\(s\): -16 \(another ftrace direct-call user'
out=$(unload_mod tocpatch_bench_direct; load_mod tocpatch_bench_patch nfuncs=1)
tap_check "with that user gone, the patch loads${out:+ ($out)}" [ -z "$out" ]
out=$(load_mod tocpatch_bench_direct) && rc=0 || rc=$?
tap_check "the other user is refused now, with EBUSY${out:+ ($out)}" \
	refused_with "$rc" "$out" "$(insmod_errno_text EBUSY)"
out=$(disable_patch tocpatch_bench_patch && unload_mod tocpatch_bench_patch &&
	unload_mod tocpatch_bench_target)
tap_check "patch and target unload${out:+ ($out)}" [ -z "$out" ]

out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]

tap_done
