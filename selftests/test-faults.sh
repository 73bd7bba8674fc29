#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Every failure of an enable is undone completely. With per-task fault
# injection (/proc/self/fail-nth, failslab and fail_page_alloc, GFP_KERNEL
# allocations included) the 1st, 2nd, ... Nth allocation of loading and
# enabling a patch module fails, until the whole enable ran without the
# injected failure. After each failed load: the text of every function the
# patch touches is byte for byte what it was, the status shows no patch,
# the patch module is not loaded, and the kernel logged no WARN, BUG or
# oops. At the end a kmemleak scan finds no leak with a tocpatch frame.
# The same for a patch whose second function is notrace (refused with
# EINVAL whatever fails).

. "$(dirname "$0")/lib.sh"

D=/sys/kernel/debug
KL=$D/kmemleak

tap_plan 9

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

# faults NAME MODULE PARAMS WANT: loads MODULE with fault_report=1 PARAMS
# failing the Nth allocation of the task, N = 1, 2, ...; WANT is what
# the enable returns without injected failure (0, or the errno of a
# refused patch). Ends when the enable ran and returned WANT with the
# failure still pending (it would come after the enable). Sets tried
# (points tried), in_enable (failures injected inside the enable), bad
# (failed checks) and sets the tests' verdicts.
faults() {
	name=$1 mod=$2 params=$3 want=$4
	n=0 tried=0 in_enable=0 bad=0 done=0
	while [ $done = 0 ] && [ $n -lt 3000 ]; do
		n=$((n + 1))
		log_mark
		sh -c "echo $n >/proc/self/fail-nth && exec insmod $MODDIR/$mod.ko fault_report=1 $params" \
			>/dev/null 2>&1
		rc=$?
		rep=$(log_since | sed -n 's/.*enable returned \(-*[0-9]*\), fail-nth \([0-9]*\) before, \([0-9]*\) after$/\1 \2 \3/p' | tail -n 1)
		set -- $rep
		ret=${1:-none} before=${2:-0} after=${3:-0}
		[ "$before" != 0 ] && [ "$after" = 0 ] && in_enable=$((in_enable + 1))
		why=""
		if [ "$rc" = 0 ]; then
			# Loaded: an injected failure that something absorbed.
			echo "disable $mod" >"$C" 2>/dev/null || why="$why disable-failed"
			unload_mod "$mod" >/dev/null || why="$why rmmod-failed"
		fi
		[ "$(cat "$T/text")" = "$text0" ] || why="$why text-changed"
		grep -q '^patch ' "$S" && why="$why status-shows-patch"
		mod_loaded "$mod" && why="$why module-left-loaded"
		kernel_trouble && why="$why kernel-trouble"
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			[ $bad -le 5 ] && diag "$name: fail-nth $n (enable returned $ret):$why"
			[ $bad -le 2 ] && log_since | tail -n 15 | sed 's/^/#   /'
		fi
		if [ "$ret" = "$want" ] && [ "$before" != 0 ] && [ "$after" != 0 ]; then
			done=1
		else
			tried=$n
		fi
	done
	diag "$name: $tried fault points tried, $in_enable of them inside the enable, $bad with a failed check"
	tap_check "$name: ran until the enable saw no injected failure (after $tried)" [ $done = 1 ]
	tap_check "$name: some failures were injected inside the enable ($in_enable)" [ $in_enable -gt 0 ]
	tap_check "$name: every failure undone (text, status, module, log): $bad bad" [ $bad = 0 ]
}

faults "patch of 5 functions" tocpatch_test_patch "" 0
faults "second function notrace" tocpatch_test_bad "which=14" -22

for a in failslab fail_page_alloc; do
	echo Y >$D/$a/ignore-gfp-wait
done
echo 1 >$D/fail_page_alloc/min-order

expect_call "the target works unpatched after all that" target local 5 6
out=$(load_mod tocpatch_test_patch)
expect_call "and a patch still applies" target local 5 1006
echo "disable tocpatch_test_patch" >"$C"
unload_mod tocpatch_test_patch >/dev/null

if [ -w $KL ]; then
	# kmemleak reports objects unreferenced for 5 s or more.
	sleep 6
	echo scan >$KL
	sleep 1
	echo scan >$KL
	leaks=$(grep -c '\[tocpatch\]' $KL)
	[ "$leaks" = 0 ] || sed 's/^/#   /' $KL | head -n 40
	tap_check "kmemleak: no leak with a tocpatch frame ($leaks frames)" [ "$leaks" = 0 ]
else
	tap_skip "kmemleak" "no $KL"
fi
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
