#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Per-task shadow storage (tocpatch_test_target.ko's test_target_shadow.c,
# patched by tocpatch_test_shadow_patch.ko). Every call here is a local
# call into a patched function, so it needs a shadow frame:
#  1. many tasks (TOCPATCH_SHADOW_TASKS, default 2000) asleep inside a
#     replacement at the same time, all redirected, all returning the
#     replacement's result with their r2 intact;
#  2. a 100-deep recursion through a patched function, and at its bottom
#     hrtimer, irq_work and timer calls of a patched function on that CPU
#     (they use the deep task's frames) and an IPI to another CPU;
#  3. a recursion that exhausts the stack: the replacement recurses with a
#     0.5 KiB frame a level until the task's stack comes within tocpatch's
#     margin of its shadow frames; that call runs the original, counted
#     and logged as a fallback, and what tocpatch ran after the refused
#     push stayed 1 KiB or more clear of the frames (the free stack is
#     painted first); again with interrupts on (any that land at the
#     bottom use the same stack): still clear;
#  4. a kthread that exits inside a replacement (kthread_complete_and_exit)
#     and a user task that exits inside one (do_exit(), from a task_work on
#     its way back to user space): their frames are never popped, and the
#     patch still releases and unloads.
# No fallback anywhere but in 3.

. "$(dirname "$0")/lib.sh"

N=${TOCPATCH_SHADOW_TASKS:-2000}

tap_plan 37

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null

# res CASE [ARG]: the result of a call of the shadow file.
res() {
	call shadow "$1" "${2:-0}" | awk '{ print $2 }'
}

# wait_for CASE WANT TRIES: poll res CASE until it is WANT (0.2 s apart).
wait_for() {
	i=0
	while [ "$(res "$1")" != "$2" ] && [ $i -lt "$3" ]; do
		sleep 0.2
		i=$((i + 1))
	done
}

# quiet_log: nothing oopsed or warned since the last log_mark.
quiet_log() {
	! log_has 'Oops|BUG:|WARNING:'
}

# uexit_rc X: the exit status of a shell that makes the uexit call.
uexit_rc() {
	sh -c "echo 'uexit $1' > $T/shadow" && echo 0 || echo $?
}

expect_call "unpatched: kthread returns from tp_target_exiting" shadow exit 5 1
rc=$(uexit_rc 7)
tap_check "unpatched: a user task returns from tp_target_uexit (rc $rc, returned $(res uexitret))" \
	sh -c "[ $rc = 0 ] && [ $(res uexitret) = 7 ]"
diag "unpatched local call: $(res bench 100000) ns"

log_mark
out=$(load_mod tocpatch_test_shadow_patch)
tap_check "shadow patch module loads${out:+ ($out)}" [ -z "$out" ]
tap_check "patch enabled in status" \
	grep -q '^patch tocpatch_test_shadow_patch enabled$' "$S"

# 1. N sleepers inside the replacement at once.
res reset >/dev/null
refs=$(mod_refcnt tocpatch_test_target)
stack0=$(awk '$1 == "KernelStack:" { print $2 }' /proc/meminfo)
t0=$(date +%s)
expect_call "(1) spawn $N kthreads" shadow spawn "$N" "$N"
wait_for inside "$N" 900
inside=$(res inside)
t1=$(date +%s)
stack1=$(awk '$1 == "KernelStack:" { print $2 }' /proc/meminfo)
diag "$inside tasks inside after $((t1 - t0)) s; KernelStack ${stack0} kB -> ${stack1} kB"
tap_check "(1) $N tasks asleep inside the replacement at once (inside $inside)" \
	[ "$inside" = "$N" ]
tap_check "(1) $N frames of tp_target_block (depth $(field tp_target_block depth))" \
	[ "$(field tp_target_block depth)" = "$N" ]
tap_check "(1) no fallback (fallback $(field tp_target_block fallback))" \
	[ "$(field tp_target_block fallback)" = 0 ]
res release >/dev/null
wait_for done "$N" 900
tap_check "(1) all $N returned (done $(res done))" [ "$(res done)" = "$N" ]
tap_check "(1) all got the replacement's result with r2 intact (ok $(res ok) bad $(res bad))" \
	[ "$(res ok)" = "$N" ]
expect_counts "(1)" tp_target_block "$N" 0 0
i=0
while [ "$(mod_refcnt tocpatch_test_target)" != "$refs" ] && [ $i -lt 300 ]; do
	sleep 0.2
	i=$((i + 1))
done
tap_check "(1) every sleeper has exited (refcnt $(mod_refcnt tocpatch_test_target), was $refs)" \
	[ "$(mod_refcnt tocpatch_test_target)" = "$refs" ]
res reset >/dev/null

# 2. 100 levels of local recursion through tp_target_nest (+1000 each),
# with interrupt-context calls of tp_target_irq at the bottom (a failed
# one would add its bit to the result).
expect_call "(2) 100-deep recursion, irq-context calls at the bottom" \
	shadow nest 100 100000
expect_counts "(2) recursion" tp_target_nest 101 0 0
tap_check "(2) peak depth 101 (peak $(field tp_target_nest peak))" \
	[ "$(field tp_target_nest peak)" = 101 ]
expect_counts "(2) interrupt-context calls" tp_target_irq 4 0 0
tap_check "(2) they pushed above the deep task's frames (peak $(field tp_target_irq peak))" \
	[ "$(field tp_target_irq peak)" -gt 101 ]
diag "patched local call (hook, shadow frame, trampoline): $(res bench 100000) ns"

tap_check "(1), (2) no fallback logged" sh -c "! dmesg | tail -n +$((__log_mark + 1)) | grep -q 'running the original function'"

# 3. Stack exhaustion: the fallback, its count, its log line, and the
# margin tocpatch keeps between the stack and the frames. deep CASE N:
# runs the recursion, sets r (the call's answer), levels, gap, used.
deep() {
	r=$(call shadow "$1" "$2")
	gap=$(res deepgap)
	used=$(res deepused)
	levels=$(($(echo "$r" | awk '{ print $2 }') - 1000000))
	diag "$1: $r: the original ran under $levels levels; after the refused push $used bytes of stack were used below the caller's stack pointer, and $gap stayed unwritten between the frames and the deepest write"
}
log_mark
deep deep 1000
tap_check "(3) the original ran once the stack met the frames, r2 intact ($r)" \
	sh -c "[ $levels -ge 5 ] && [ $levels -lt 1000 ] && [ '${r#* * }' = 'toc_ok 1' ]"
got="local $(field tp_target_deep local) fallback $(field tp_target_deep fallback) depth $(field tp_target_deep depth)"
tap_check "(3) counted: $got" [ "$got" = "local $((levels + 1)) fallback 1 depth 0" ]
i=0
while ! log_has 'tp_target_deep: no room for a shadow frame' && [ $i -lt 25 ]; do
	sleep 0.2
	i=$((i + 1))
done
tap_check "(3) logged once" [ "$(log_since | grep -c 'tp_target_deep: no room for a shadow frame')" = 1 ]
tap_check "(3) what ran after the refused push kept 1 KiB or more clear of the frames ($gap bytes)" \
	[ "$gap" -ge 1024 ]
expect_call "(3) a shallow call gets the replacement again" shadow deep 3 3
# With interrupts on: those that land at the bottom use the same stack.
l0=$(field tp_target_deep local)
deep deepirq 1000
tap_check "(3) interrupts on: the original ran at the bottom, r2 intact ($r)" \
	sh -c "[ $levels -ge 5 ] && [ $levels -lt 1000 ] && [ '${r#* * }' = 'toc_ok 1' ]"
got="local $(($(field tp_target_deep local) - l0)) fallback $(field tp_target_deep fallback) depth $(field tp_target_deep depth)"
tap_check "(3) interrupts on: counted: $got" [ "$got" = "local $((levels + 1)) fallback 2 depth 0" ]
tap_check "(3) interrupts on: nothing written over the frames ($gap bytes clear)" [ "$gap" -gt 0 ]

# 4. A kthread exits inside the replacement of tp_target_exiting.
log_mark
expect_call "(4) kthread exits inside the replacement" shadow exit 5 0
tap_check "(4) its frame is never popped (depth $(field tp_target_exiting depth))" \
	[ "$(field tp_target_exiting depth)" = 1 ]
tap_check "(4) no fallback (fallback $(field tp_target_exiting fallback))" \
	[ "$(field tp_target_exiting fallback)" = 0 ]
rc=$(uexit_rc 7)
tap_check "(4) a user task exits inside the replacement of tp_target_uexit (rc $rc)" \
	[ "$rc" = 7 ]
tap_check "(4) the call did not return ($(res uexitret))" [ "$(res uexitret)" = -1 ]
got="local $(field tp_target_uexit local) fallback $(field tp_target_uexit fallback) depth $(field tp_target_uexit depth)"
tap_check "(4) its frame is never popped: $got" [ "$got" = "local 1 fallback 0 depth 1" ]
tap_check "(4) nothing oopsed or warned since" quiet_log
out=$(disable_patch tocpatch_test_shadow_patch) && rc=0 || rc=$?
tap_check "(4) disable succeeds (rc $rc${out:+: $out})" [ "$rc" = 0 ]
tap_check "(4) patch released" log_has 'released patch tocpatch_test_shadow_patch$'
tap_check "(4) patch gone from the status" \
	sh -c "! grep -q '^patch tocpatch_test_shadow_patch' $S"
out=$(unload_mod tocpatch_test_shadow_patch)
tap_check "(4) patch module unloads${out:+ ($out)}" [ -z "$out" ]

unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
