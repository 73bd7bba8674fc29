#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Patch stacking and atomic replace. First the counterparts of upstream's
# tools/testing/selftests/livepatch/test-livepatch.sh (basic function
# patching, multiple livepatches, atomic replace livepatch, module
# function patching, module function patching with the livepatch first),
# with our modules (tocpatch_test_{livepatch,atomic_replace,mod_target,
# mod_patch}): the same /proc output and the same kernel-log lines in
# order (tocpatch's lifecycle lines; tocpatch has no transition, so
# upstream's transition lines have no counterpart). Upstream's second
# patch of the atomic replace case, test_klp_syscall, is
# tocpatch_test_late_patch here (a patch of a module that is not loaded:
# test-syscall.sh's counterpart is another test's). Then what upstream
# has no test for: a function stacked by two patches
# (tocpatch_test_patch, tocpatch_test_patch2) called locally, globally, by
# a sibling call into it and through a replacement that tail-calls out of
# its module; disabling the lower patch first, then the upper; atomic
# replace of some functions; a replace while calls run.
# (Our test-livepatch.sh is the refusal test of CONFIG_LIVEPATCH kernels.)

. "$(dirname "$0")/lib.sh"

LP=tocpatch_test_livepatch
REPL=tocpatch_test_atomic_replace
LP2=tocpatch_test_late_patch
LP3=tocpatch_test_callbacks_demo
TGT=tocpatch_test_mod_target
TGTP=tocpatch_test_mod_patch
P1=tocpatch_test_patch
P2=tocpatch_test_patch2

tap_plan 64

# lines: the log since the mark, our modules' lines and tocpatch's
# lifecycle lines, without timestamps (and without the function counts of
# "enabled patch").
lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		/^tocpatch_test_/p
		/^tocpatch: \(enabled patch\|disabled patch\|released patch\|applying patch\|reverting patch\|patch .* replaced by\)/p'
}

# expect NAME: the lines since the mark are those on stdin.
expect() {
	cat >/tmp/pt.want
	lines >/tmp/pt.got
	if cmp -s /tmp/pt.want /tmp/pt.got; then
		tap_ok "$1: log sequence"
	else
		diff /tmp/pt.want /tmp/pt.got | sed 's/^/# /'
		tap_not_ok "$1: log sequence"
	fi
}

# live_patched FILE: FILE's "live patched" lines, to the kernel log (as
# upstream's grep ... > /dev/kmsg).
live_patched() {
	grep 'live patched' "$1" >/dev/kmsg
}

log_mark
start=$__log_mark
load_mod tocpatch >/dev/null

# 1. basic function patching
log_mark
load_mod $LP >/dev/null
out=$(cat /proc/cmdline)
tap_check "basic: /proc/cmdline is patched: '$out'" \
	[ "$out" = "$LP: this has been live patched" ]
disable_patch $LP
unload_mod $LP >/dev/null
out=$(cat /proc/cmdline)
tap_check "basic: /proc/cmdline is the original again" \
	[ "$out" != "$LP: this has been live patched" ]
expect "basic function patching" <<END
tocpatch: enabled patch $LP
tocpatch: disabled patch $LP
tocpatch: released patch $LP
END

# 2. multiple livepatches
log_mark
load_mod $LP >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
load_mod $REPL replace=0 >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
tap_check "multiple: replace reads 0" [ "$(cat $SYSFS/$REPL/replace)" = 0 ]
disable_patch $REPL
unload_mod $REPL >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
disable_patch $LP
unload_mod $LP >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
expect "multiple livepatches" <<END
tocpatch: enabled patch $LP
$LP: this has been live patched
tocpatch: enabled patch $REPL
$LP: this has been live patched
$REPL: this has been live patched
tocpatch: disabled patch $REPL
tocpatch: released patch $REPL
$LP: this has been live patched
tocpatch: disabled patch $LP
tocpatch: released patch $LP
END

# 3. atomic replace livepatch
log_mark
load_mod $LP >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
for m in $LP2 $LP3; do
	load_mod $m >/dev/null
done
n=$(ls $SYSFS | wc -l)
tap_check "atomic replace: three patches listed ($n)" [ "$n" = 3 ]
load_mod $REPL replace=1 >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
i=0
while [ "$(ls $SYSFS | wc -l)" != 1 ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
tap_check "atomic replace: only the replace patch is listed ($(ls $SYSFS | tr '\n' ' '))" \
	[ "$(ls $SYSFS)" = "$REPL" ]
tap_check "atomic replace: replace reads 1" [ "$(cat $SYSFS/$REPL/replace)" = 1 ]
ok=1
for m in $LP3 $LP2 $LP; do
	out=$(unload_mod $m) || ok=0
	[ -z "$out" ] || diag "rmmod $m: $out"
done
tap_check "atomic replace: the replaced patch modules unload" [ $ok = 1 ]
live_patched /proc/cmdline
live_patched /proc/meminfo
disable_patch $REPL
unload_mod $REPL >/dev/null
live_patched /proc/cmdline
live_patched /proc/meminfo
tap_check "atomic replace: nothing patched at the end" \
	[ -z "$(grep -h 'live patched' /proc/cmdline /proc/meminfo)" ]
# The replaced patches get no callbacks (upstream's too).
expect "atomic replace livepatch" <<END
tocpatch: enabled patch $LP
$LP: this has been live patched
tocpatch: enabled patch $LP2
$LP3: pre_patch_callback: vmlinux
tocpatch: enabled patch $LP3
$LP3: post_patch_callback: vmlinux
tocpatch: enabled patch $REPL
tocpatch: patch $LP replaced by $REPL
tocpatch: patch $LP2 replaced by $REPL
tocpatch: patch $LP3 replaced by $REPL
tocpatch: released patch $LP
tocpatch: released patch $LP2
tocpatch: released patch $LP3
$REPL: this has been live patched
$REPL: this has been live patched
tocpatch: disabled patch $REPL
tocpatch: released patch $REPL
END

# 4. module function patching
log_mark
load_mod $TGT >/dev/null
out=$(cat /proc/$TGT)
tap_check "module: original output: '$out'" [ "$out" = "$TGT: original output" ]
load_mod $TGTP >/dev/null
out=$(cat /proc/$TGT)
tap_check "module: patched output: '$out'" [ "$out" = "$TGTP: this has been live patched" ]
disable_patch $TGTP
unload_mod $TGTP >/dev/null
out=$(cat /proc/$TGT)
tap_check "module: original output again: '$out'" [ "$out" = "$TGT: original output" ]
unload_mod $TGT >/dev/null
expect "module function patching" <<END
$TGT: tocpatch_test_mod_target_init
tocpatch: enabled patch $TGTP
tocpatch: disabled patch $TGTP
tocpatch: released patch $TGTP
$TGT: tocpatch_test_mod_target_exit
END

# 5. module function patching (livepatch first)
log_mark
load_mod $TGTP >/dev/null
load_mod $TGT >/dev/null
out=$(cat /proc/$TGT)
tap_check "module, patch first: patched output: '$out'" \
	[ "$out" = "$TGTP: this has been live patched" ]
disable_patch $TGTP
unload_mod $TGTP >/dev/null
out=$(cat /proc/$TGT)
tap_check "module, patch first: original output again: '$out'" \
	[ "$out" = "$TGT: original output" ]
unload_mod $TGT >/dev/null
expect "module function patching (livepatch first)" <<END
tocpatch: enabled patch $TGTP
tocpatch: applying patch '$TGTP' to loading module '$TGT'
$TGT: tocpatch_test_mod_target_init
tocpatch: disabled patch $TGTP
tocpatch: released patch $TGTP
$TGT: tocpatch_test_mod_target_exit
END

# 6. (TOC) one function, two patches. tp_target_add: local, global (the
# caller module), sibling call into it (tp_target_tail ends in "b
# tp_target_add"); tp_target_tail_asm: replacements that tail-call out of
# their module (tp_target_plain(x, 1000 or 2000)).
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# calls_are NAME BIAS: every way in reaches the replacement adding BIAS
# (0: the original) with the caller's r2 intact.
calls_are() {
	expect_call "$1: local call" target local 5 $((6 + $2))
	expect_call "$1: global call" caller global 5 $((7 + $2))
	expect_call "$1: sibling call" target tail 5 $((7 + $2))
	if [ "$2" = 0 ]; then
		tail_want=10
	else
		tail_want=$((5 + $2))
	fi
	expect_call "$1: global call, replacement tail-calls out" caller tailasm 5 $tail_want
}

load_mod $P1 >/dev/null
out=$(load_mod $P2)
tap_check "second patch on the same functions loads${out:+ ($out)}" [ -z "$out" ]
tap_check "stack_order 1 and 2" \
	[ "$(cat $SYSFS/$P1/stack_order) $(cat $SYSFS/$P2/stack_order)" = "1 2" ]
calls_are "stacked, the newest wins" 2000
disable_patch $P1
out=$(unload_mod $P1)
tap_check "lower patch disabled first, and unloaded${out:+ ($out)}" [ -z "$out" ]
calls_are "lower patch gone, the upper still runs" 2000
load_mod $P1 >/dev/null
calls_are "first patch enabled again: it is the newest now" 1000
disable_patch $P1
unload_mod $P1 >/dev/null
calls_are "upper patch gone, the lower takes over" 2000
disable_patch $P2
unload_mod $P2 >/dev/null
calls_are "both gone: the original" 0
tap_check "no site left hooked (status lists no patch)" \
	[ -z "$(grep '^patch ' "$S")" ]

# 7. (TOC) atomic replace of a patch whose functions the replace patch
# names only in part: tp_target_depth and tp_target_asm go back to the
# original, the others to the replace patch.
load_mod $P1 >/dev/null
out=$(load_mod $P2 replace=1)
tap_check "replace patch loads${out:+ ($out)}" [ -z "$out" ]
wait_gone "$SYSFS/$P1"
tap_check "the replaced patch is gone from sysfs" [ ! -e "$SYSFS/$P1" ]
out=$(unload_mod $P1)
tap_check "the replaced patch module unloads${out:+ ($out)}" [ -z "$out" ]
calls_are "replaced" 2000
expect_call "replaced: a function the replace patch does not name is the original" \
	target walk 3 3
expect_call "replaced: another one" target asm 5 6
disable_patch $P2
unload_mod $P2 >/dev/null
calls_are "replace patch gone: the original" 0

# 8. (TOC) replace while calls run: every answer is the first patch's or
# the replace patch's, with r2 intact.
rm -f /tmp/pt.stop /tmp/pt.bad.* /tmp/pt.calls.*
caller_loop() {
	n=0
	while [ ! -f /tmp/pt.stop ]; do
		echo "$2 1" >"$T/$1" || echo "write failed" >>"/tmp/pt.bad.$2"
		r=$(cat "$T/$1")
		case "$r" in
		"result $3 toc_ok 1" | "result $4 toc_ok 1") ;;
		*) echo "$r" >>"/tmp/pt.bad.$2" ;;
		esac
		n=$((n + 1))
	done
	echo "$n" >"/tmp/pt.calls.$2"
}
load_mod $P1 >/dev/null
# (One loop per call file: a call file holds one call's result.)
caller_loop target local 1002 2002 &
caller_loop caller global 1003 2003 &
sleep 1
out=$(load_mod $P2 replace=1)
tap_check "replace while calls run${out:+ ($out)}" [ -z "$out" ]
sleep 1
touch /tmp/pt.stop
wait
for c in local global; do
	n=$(cat /tmp/pt.calls.$c)
	tap_check "replace while calls run: $c: $n calls, all answers right" \
		sh -c "[ ! -e /tmp/pt.bad.$c ] && [ '$n' -gt 0 ]"
	[ -e /tmp/pt.bad.$c ] && head -n 3 /tmp/pt.bad.$c | sed 's/^/# /'
done
unload_mod $P1 >/dev/null
disable_patch $P2
unload_mod $P2 >/dev/null
calls_are "after the replace under load: the original" 0

unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
__log_mark=$start
errs=$(log_since | grep -E 'WARNING|BUG|Oops|tocpatch: .*(broken|could not)' | head -n 3)
tap_check "no warning in the kernel log${errs:+: $errs}" [ -z "$errs" ]
tap_done
