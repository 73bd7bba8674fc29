#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The engine, each way into a patched function (tocpatch_test_target.ko
# patched by tocpatch_test_patch.ko). Every case checks that the
# replacement ran (its result), that the caller's r2 is the same after the
# call as before (toc_ok 1), and the local/global/fallback counters that
# this way of calling must produce.

. "$(dirname "$0")/lib.sh"

tap_plan 31

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

expect_call "unpatched local call" target local 5 6
expect_call "unpatched global call" caller global 5 7

log_mark
out=$(load_mod tocpatch_test_patch)
tap_check "patch module loads${out:+ ($out)}" [ -z "$out" ]
tap_check "patch enabled in status" grep -q '^patch tocpatch_test_patch enabled$' "$S"
# GCC compiles module C with the large code model (ld r2,-8(r12); add), but
# the module loader rewrites that prologue to addis/addi (R_PPC64_ENTRY)
# when the TOC is in reach, so loaded modules show toc-relative.
tap_check "C target has an odd-TOC marker placed" \
	grep -qE '^  func tp_target_add prologue toc-(relative|load) marker placed ' "$S"
tap_check "asm target (no TOC setup) has no marker" \
	grep -q '^  func tp_target_asm prologue none marker none ' "$S"
sed 's/^/# /' "$S"

# (a) local call inside the target module
expect_call "(a) local call" target local 5 1006
expect_counts "(a)" tp_target_add 1 0 0
# (b) global call from another module through the exported symbol
expect_call "(b) global call" caller global 5 1007
expect_counts "(b)" tp_target_add 1 1 0
# (e) call through a function pointer: global entry
expect_call "(e) function pointer call" caller fptr 5 1008
expect_counts "(e)" tp_target_add 1 2 0
# (c) sibling call: tp_target_tail ends in "b tp_target_add" (a local
# entry, with the return address of tp_target_tail's caller)
expect_call "(c) sibling call" target tail 5 1007
expect_counts "(c)" tp_target_add 2 2 0
# no TOC setup: an asm function, every call is local
expect_call "asm target" target asm 5 7
expect_counts "asm target" tp_target_asm 1 0 0

# (d) recursion through the patched function, 41 local calls deep: every
# level is redirected (+1000 each, 0 at the bottom) and returns correctly
# (the frames live at the base of the task's stack; test-shadow.sh goes
# deeper).
expect_call "(d) recursion, 41 levels" target walk 40 40000
expect_counts "(d)" tp_target_depth 41 0 0
tap_check "(d) peak shadow depth 41" [ "$(field tp_target_depth peak)" = 41 ]
tap_check "(d) no fallback in dmesg" \
	[ "$(log_since | grep -c 'running the original function')" = 0 ]

# (h) the replacement (asm, test_patch_tail.S) ends in a tail call out of
# its module through a TOC-saving stub: detected at enable, so even global
# calls return through the trampoline, which puts back the caller's TOC
# save slot that the stub overwrote.
tap_check "(h) tail call out detected" \
	grep -q '^  func tp_target_tail_asm .* tail-out 1 ' "$S"
tap_check "(h) plain replacements are not flagged" \
	grep -q '^  func tp_target_add .* tail-out 0 ' "$S"
expect_call "(h) global call" caller tailasm 5 1005
expect_call "(h) local call" target tailasm 6 1006
expect_counts "(h)" tp_target_tail_asm 1 1 0

# (f) the replacement sleeps while another task disables the patch: the
# disable waits, the patch module cannot be unloaded meanwhile, the
# sleeper returns correctly, and then the module goes.
# (The sleeper stays inside while the patch module's "hold" parameter is
# set, so that the checks below find it there however loaded the host is;
# the disable waits up to 10 s for it.)
HOLD=/sys/module/tocpatch_test_patch/parameters/hold
echo 1 >$HOLD
(call target sleep 500 >/tmp/sleeper.out) &
sleeper=$!
sleep 0.5
(sysfs_write "$SYSFS/tocpatch_test_patch/enabled" 0; echo "rc $?" >/tmp/disable.out) &
disabler=$!
sleep 0.5
# The sleeper's kernel stack reads through the return trampoline. The
# task in the write is the subshell or a child busybox forked for the
# redirection: look for it among all tasks.
# Each file is read once: the sleeper wakes up now and then to look at
# $HOLD, and a second read may catch it running (the walk of a running
# task is garbage); a read that catches it so is tried again.
stack=
for try in 1 2 3 4 5 6 7 8 9 10; do
	for st in /proc/[0-9]*/stack; do
		s=$(cat "$st" 2>/dev/null)
		case $s in
		*tp_patched_sleep*tocpatch_return_tramp*)
			stack=$s
			break 2
			;;
		esac
	done
	sleep 0.2
done
rmmod_refused "(f) patch module refuses to unload while the sleeper is inside" \
	tocpatch_test_patch EAGAIN
echo "$stack" | sed 's/^/# /'
tap_check "(f) /proc/PID/stack shows the replacement and the return trampoline" \
	sh -c "echo '$stack' | grep -q tp_patched_sleep && echo '$stack' | grep -q tocpatch_return_tramp"
echo 0 >$HOLD
wait $sleeper
wait $disabler
tap_check "(f) sleeper got the replacement's result: $(cat /tmp/sleeper.out)" \
	[ "$(cat /tmp/sleeper.out)" = "result 1500 toc_ok 1" ]
tap_check "(f) disable succeeded: $(cat /tmp/disable.out)" [ "$(cat /tmp/disable.out)" = "rc 0" ]
out=$(unload_mod tocpatch_test_patch)
tap_check "(f) patch module unloads after release${out:+ ($out)}" [ -z "$out" ]
expect_call "unpatched again" target local 5 6

unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
