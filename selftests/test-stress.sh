#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Enable and disable a patch 1000 times (insmod, disable, rmmod) while two
# tasks call the patched function, one through local calls and one
# through global calls. Every call must return either the original or the
# patched result with the caller's r2 intact; every cycle must succeed.

. "$(dirname "$0")/lib.sh"

CYCLES=${TOCPATCH_STRESS_CYCLES:-1000}

tap_plan 7
# Only this script's part of the kernel log is checked for errors (other
# scripts provoke some on purpose).
log_mark

# TOCPATCH_MARKERS=0 (kernel command line) loads tocpatch without markers,
# to tell marker problems from others.
# The log checks below look at this script's part of the log only: the
# scripts before it may have logged failures on purpose.
log_mark
load_mod tocpatch ${TOCPATCH_MARKERS:+markers=$TOCPATCH_MARKERS} >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
rm -f /tmp/stop /tmp/bad.*

# caller_loop FILE CASE ORIG PATCHED: call until /tmp/stop exists; note any
# answer that is neither ORIG nor PATCHED in /tmp/bad.CASE, and the number
# of calls and of patched answers.
caller_loop() {
	n=0
	p=0
	while [ ! -f /tmp/stop ]; do
		echo "$2 1" >"$T/$1" || echo "write failed" >>"/tmp/bad.$2"
		r=$(cat "$T/$1")
		if [ "$r" = "$4" ]; then
			p=$((p + 1))
		elif [ "$r" != "$3" ]; then
			echo "$r" >>"/tmp/bad.$2"
		fi
		n=$((n + 1))
	done
	echo "$n $p" >"/tmp/calls.$2"
}

# tp_target_add(1, 1) locally: 2, or 1 - 1 patched; (1, 2) globally: 3 or -1.
caller_loop target local "result 2 toc_ok 1" "result 0 toc_ok 1" &
caller_loop caller global "result 3 toc_ok 1" "result -1 toc_ok 1" &

fails=0
i=0
while [ $i -lt "$CYCLES" ]; do
	if ! load_mod tocpatch_test_bad which=9 >/dev/null ||
	   ! disable_patch tocpatch_test_bad >/dev/null ||
	   ! unload_mod tocpatch_test_bad >/dev/null; then
		fails=$((fails + 1))
		unload_mod tocpatch_test_bad >/dev/null 2>&1
	fi
	i=$((i + 1))
done
touch /tmp/stop
wait

tap_check "$CYCLES enable/disable cycles, $fails failed" [ $fails = 0 ]
# Global calls that reached the hook after the markers were out: a task
# preempted inside the marked prologue may make one within the first
# RCU-tasks grace period; any later one ran a restored prologue from stale
# instruction fetch (Documentation/testbed.rst, "The stale prologue").
late=$(log_since | grep 'after the markers were out')
diag "disables with late global calls: $(printf '%s' "$late" | grep -c .)"
printf '%s\n' "$late" | grep . | sort -t' ' -k13 -n | tail -n 3 | sed 's/^/# /'
stale=$(log_since | grep -E 'tocpatch: .*(after the first grace period|unhooking anyway)')
printf '%s\n' "$stale" | grep . | head -n 3 | sed 's/^/# /'
tap_check "no restored prologue ran after the first grace period" [ -z "$stale" ]
# caller_ok CASE N P: no wrong answer, and both the original and the
# replacement answered (0 < P < N).
caller_ok() {
	[ ! -e "/tmp/bad.$1" ] && [ "$3" -gt 0 ] && [ "$3" -lt "$2" ]
}
for c in local global; do
	read -r n p <"/tmp/calls.$c"
	tap_check "$c caller: $n calls, $p patched, all answers right" caller_ok $c "$n" "$p"
done
[ -e /tmp/bad.local ] && head -n 5 /tmp/bad.local | sed 's/^/# /'
[ -e /tmp/bad.global ] && head -n 5 /tmp/bad.global | sed 's/^/# /'
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads afterwards${out:+ ($out)}" [ -z "$out" ]
errs=$(log_since | grep -E 'tocpatch: .*(fail|broken|could not)' | head -n 3)
tap_check "no tocpatch error in the log${errs:+: $errs}" [ -z "$errs" ]
# The checks on the log above need all of it since the mark: the runner
# boots with log_buf_len=8M (1000 cycles log about 300 KB; the default
# buffer is 128 KB), and log_since counts lines from the start.
tap_check "the kernel log still starts at boot" sh -c "dmesg | head -n 1 | grep -q '^\[ *0\.000000\]'"
tap_done
