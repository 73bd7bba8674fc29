#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every failure of an enable is undone completely. With per-task fault
# injection (the task's fail-nth count, as /proc/self/fail-nth sets it;
# failslab and fail_page_alloc, GFP_KERNEL allocations included) the 1st,
# 2nd, ... Nth allocation of a patch module's enable fails, until the
# whole enable ran without the injected failure (every point up to 64,
# then every 8th unless TOCPATCH_FAULT_STRIDE says otherwise). The patch
# module's init
# sets the count just before it calls tocpatch_enable_patch() (module
# parameter fail_nth, selftests/test_modules/test_target.h): counted from
# /proc/self/fail-nth before insmod, most points would fall in exec and
# the module loader, and each point costs the guest about 2 s. After each
# load: the text of every function the patch touches (32 bytes from entry
# - 8: the marker's word and the ftrace location) is byte for byte what
# it was (after disabling, if the enable absorbed the failure and
# succeeded), the status shows no patch, the patch module is not loaded,
# tocpatch's reference count is back, a failed enable returned ENOMEM
# and logged one line saying so, and the kernel logged no WARN, BUG or
# oops. At the end a kmemleak scan
# finds no leak with a tocpatch frame. The same for a patch whose second
# function is notrace (refused with EINVAL whatever fails), and for
# tocpatch_test_patch2 on top of an enabled tocpatch_test_patch: stacked
# on the same functions, and as a cumulative patch (replace=1) that
# replaces it. There "nothing changed" means the first patch is as it was
# (status and text the same as before the load; after a replace that ran
# through, the first patch is loaded again to get back there). Then the
# disable, swept the same way through the writer's own fail-nth: it
# absorbs every failure once it has started (disable_faults below).

. "$(dirname "$0")/lib.sh"

D=/sys/kernel/debug
KL=$D/kmemleak
# Which fault points: every one of the first DENSE, then every STRIDEth
# (each costs the guest about 2 s, and an enable has several hundred, most
# of them in building its sysfs tree). TOCPATCH_FAULT_STRIDE=1 (passed
# through by testbed/check.sh) tries every point.
DENSE=64
STRIDE=${TOCPATCH_FAULT_STRIDE:-8}

tap_plan 19

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# Only the task that writes its fail-nth gets failures (probability 0 for
# everyone else), and GFP_KERNEL allocations are not exempt; order-0 pages
# too.
for a in failslab fail_page_alloc; do
	echo N >$D/$a/ignore-gfp-wait
	echo 0 >$D/$a/verbose
done
echo 0 >$D/fail_page_alloc/min-order
[ -w $KL ] && echo clear >$KL

text0=$(cat "$T/text")

# kernel_trouble: the log since the mark has a WARN, BUG or oops.
kernel_trouble() {
	log_since | grep -qE 'WARNING:|BUG:|kernel BUG|Oops|Unable to handle|refcount_t:|list_(add|del) corruption'
}

# after_point: the checks every fault point ends with, added to why: the
# text and the status as at the start (text0, status0), tocpatch's
# reference count back (ref0), no WARN, BUG or oops.
after_point() {
	[ "$(cat "$T/text")" = "$text0" ] || why="$why text-changed"
	[ "$(cat "$S")" = "$status0" ] || why="$why status-changed"
	[ "$(mod_refcnt tocpatch)" = "$ref0" ] || why="$why tocpatch-ref-$ref0-to-$(mod_refcnt tocpatch)"
	kernel_trouble && why="$why kernel-trouble"
}

# tally DESC: a point whose why is not empty counts as bad; the first 5
# get a line (DESC, then why), the first 2 the end of the log too.
tally() {
	[ -n "$why" ] || return 0
	bad=$((bad + 1))
	[ $bad -le 5 ] && diag "$1:$why"
	[ $bad -le 2 ] && log_since | tail -n 15 | sed 's/^/#   /'
	return 0
}

# faults WHAT MODULE PARAMS WANT: loads MODULE with PARAMS and fail_nth=N,
# N = 1, 2, ...; WANT is what the enable returns without injected failure
# (0, or the errno of a refused patch). Ends when the enable returned WANT
# with the failure still pending (it would have come after the enable).
# Logs the points tried, the failures that made the enable fail, the
# failed checks, and sets the tests' verdicts.
# faults WHAT MODULE PARAMS WANT [BASE]: BASE, a patch module enabled
# before (and loaded again after a load of MODULE replaced it).
faults() {
	what=$1 mod=$2 params=$3 want=$4 base=$5
	[ -n "$base" ] && load_mod "$base" >/dev/null
	text0=$(cat "$T/text")
	status0=$(cat "$S")
	ref0=$(mod_refcnt tocpatch)
	n=0 tried=0 failed=0 bad=0 done=0
	while [ $done = 0 ] && [ $n -lt 2000 ]; do
		if [ $n -lt $DENSE ]; then
			n=$((n + 1))
		else
			n=$((n + STRIDE))
		fi
		log_mark
		insmod "$MODDIR/$mod.ko" fail_nth=$n $params >/dev/null 2>&1
		rc=$?
		rep=$(log_since | sed -n 's/.*enable with fail-nth [0-9]* returned \(-*[0-9]*\), \([0-9]*\) left$/\1 \2/p' | tail -n 1)
		set -- $rep
		ret=${1:-none} left=${2:-none}
		why=""
		[ "$ret" = none ] && why="$why no-report"
		# A failure the enable did not absorb: ENOMEM, and one line for
		# each enable that failed so (busybox's insmod tries
		# init_module() again after a failed finit_module(): two enables).
		if [ "$ret" != none ] && [ "$ret" != "$want" ]; then
			[ "$ret" = -12 ] || why="$why errno-$ret"
			[ "$(log_since | grep -c 'tocpatch: enable failed: out of memory; nothing changed$')" = \
				"$(log_since | grep -c 'enable with fail-nth [0-9]* returned -12, ')" ] ||
				why="$why not-one-log-line-per-failed-enable"
		fi
		if [ "$rc" = 0 ]; then
			# Loaded: the enable absorbed the failure (or saw none).
			disable_patch "$mod" >/dev/null 2>&1 || why="$why disable-failed"
			unload_mod "$mod" >/dev/null || why="$why rmmod-failed"
			if [ -n "$base" ] && ! grep -q "^patch $base enabled$" "$S"; then
				# Replaced (and released): back to the start.
				unload_mod "$base" >/dev/null || why="$why base-rmmod-failed"
				load_mod "$base" >/dev/null || why="$why base-reload-failed"
			fi
		fi
		mod_loaded "$mod" && why="$why module-left-loaded"
		after_point
		tally "$what: fail-nth $n (enable returned $ret)"
		if [ "$left" != 0 ] && [ "$ret" = "$want" ]; then
			done=1
		else
			tried=$((tried + 1)) last=$n
			[ "$ret" != "$want" ] && failed=$((failed + 1))
		fi
	done
	diag "$what: $tried fault points tried of the first $last in the enable (every one up to $DENSE, then every ${STRIDE}th), $failed of them made it fail ($((tried - failed)) absorbed), $bad with a failed check"
	tap_check "$what: ran until the enable saw no injected failure (after $tried points)" [ $done = 1 ]
	tap_check "$what: some injected failures made the enable fail ($failed)" [ $failed -gt 0 ]
	tap_check "$what: every failure undone (text, status, module, references, log): $bad bad" [ $bad = 0 ]
	if [ -n "$base" ]; then
		disable_patch "$base" >/dev/null
		unload_mod "$base" >/dev/null
	fi
}

# disable_faults WHAT MODULE: loads MODULE (its patch enabled), then
# writes 0 to its enabled file with the writer's fail-nth = N, N = 1, 2,
# ..., until the disable ran without the injected failure. Once a disable
# has started it cannot fail (its unhook retries, or falls back to a buffer
# on the stack); the write may fail before it starts (the sysfs open or
# write runs out of memory), and then nothing changed. After each: either
# the write succeeded and the patch is gone (status, text, module unloads,
# references back), or it failed and the patch is as it was; and no WARN,
# BUG or oops. Every point is tried: a disable has few allocations.
disable_faults() {
	what=$1 mod=$2
	text0=$(cat "$T/text")
	status0=$(cat "$S")
	ref0=$(mod_refcnt tocpatch)
	n=0 tried=0 refused=0 bad=0 done=0
	while [ $done = 0 ] && [ $n -lt 1000 ]; do
		n=$((n + 1))
		why=""
		load_mod "$mod" >/dev/null || why="$why load-failed"
		text1=$(cat "$T/text")
		status1=$(cat "$S")
		log_mark
		# One task: its fail-nth counts the allocations of the write of
		# enabled (echo and read are shell builtins).
		rep=$( (echo $n >/proc/self/fail-nth || exit 1
			echo 0 >"$SYSFS/$mod/enabled"
			rc=$?
			# The failure may also hit the open for this read: then it
			# came after the disable.
			read -r l </proc/self/fail-nth || l=0
			echo "$rc ${l:-none}") 2>/dev/null)
		set -- $rep
		rc=${1:-none} left=${2:-none}
		[ "$left" = none ] && why="$why no-fail-nth"
		if [ "$rc" = 0 ]; then
			wait_gone "$SYSFS/$mod" || why="$why patch-not-released"
		else
			refused=$((refused + 1))
			[ "$(cat "$T/text")" = "$text1" ] || why="$why refused-but-text-changed"
			[ "$(cat "$S")" = "$status1" ] || why="$why refused-but-status-changed"
			disable_patch "$mod" >/dev/null 2>&1 || why="$why disable-failed"
		fi
		unload_mod "$mod" >/dev/null || why="$why rmmod-failed"
		after_point
		tally "$what: fail-nth $n (write status $rc)"
		if [ "$rc" = 0 ] && [ "$left" != none ] && [ "$left" != 0 ]; then
			done=1
		else
			tried=$((tried + 1))
		fi
		# A patch left stuck fails every later point: stop early.
		[ $bad -ge 10 ] && break
	done
	diag "$what: $tried fault points tried in the disable, $refused of them refused the write"
	tap_check "$what: ran until the disable saw no injected failure (after $tried points)" [ $done = 1 ]
	tap_check "$what: every injected failure absorbed or refused cleanly: $bad bad" [ $bad = 0 ]
	tap_check "$what: the disable absorbed some failures ($((tried - refused)))" \
		[ $((tried - refused)) -gt 0 ]
}

faults "patch of 5 functions" tocpatch_test_patch "" 0
faults "second function notrace" tocpatch_test_bad "which=14" -22
faults "second patch stacked on a patched one" tocpatch_test_patch2 "" 0 \
	tocpatch_test_patch
faults "replace patch over an enabled one" tocpatch_test_patch2 "replace=1" 0 \
	tocpatch_test_patch
disable_faults "disable of a patch of 5 functions" tocpatch_test_patch

for a in failslab fail_page_alloc; do
	echo Y >$D/$a/ignore-gfp-wait
done
echo 1 >$D/fail_page_alloc/min-order

expect_call "the target works unpatched after all that" target local 5 6
out=$(load_mod tocpatch_test_patch)
expect_call "and a patch still applies" target local 5 1006
disable_patch tocpatch_test_patch >/dev/null
unload_mod tocpatch_test_patch >/dev/null

if [ -w $KL ]; then
	# kmemleak reports objects unreferenced for 5 s or more.
	sleep 6
	scanned=0
	echo scan >$KL && sleep 1 && echo scan >$KL && scanned=1
	leaks=$(grep -c '\[tocpatch\]' $KL)
	[ "$leaks" = 0 ] || sed 's/^/#   /' $KL | head -n 40
	diag "kmemleak: $(grep -c 'unreferenced object' $KL) unreferenced object(s) in all"
	tap_check "kmemleak scanned: no leak with a tocpatch frame ($leaks frames)" \
		[ "$scanned$leaks" = 10 ]
else
	tap_skip "kmemleak" "no $KL"
fi
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads at the end${out:+ ($out)}" [ -z "$out" ]
tap_done
