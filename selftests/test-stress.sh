#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Enable and disable a patch 1000 times (insmod, disable, rmmod) while two
# tasks call the patched function, one through local calls and one
# through global calls. Every call must return either the original or the
# patched result with the caller's r2 intact; every cycle must succeed.

. "$(dirname "$0")/lib.sh"

CYCLES=${TOCPATCH_STRESS_CYCLES:-1000}

tap_plan 5

# TOCPATCH_MARKERS=0 (kernel command line) loads tocpatch without markers,
# to tell marker problems from others.
load_mod tocpatch ${TOCPATCH_MARKERS:+markers=$TOCPATCH_MARKERS} >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
rm -f /tmp/stop /tmp/bad.*

# caller_loop FILE CASE GOOD1 GOOD2: call until /tmp/stop exists; note any
# unexpected answer in /tmp/bad.CASE, and the number of calls.
caller_loop() {
	n=0
	while [ ! -f /tmp/stop ]; do
		echo "$2 1" >"$T/$1" || echo "write failed" >>"/tmp/bad.$2"
		r=$(cat "$T/$1")
		[ "$r" = "$3" ] || [ "$r" = "$4" ] || echo "$r" >>"/tmp/bad.$2"
		n=$((n + 1))
	done
	echo $n >"/tmp/calls.$2"
}

# tp_target_add(1, 1) locally: 2, or 1 - 1 patched; (1, 2) globally: 3 or -1.
caller_loop target local "result 2 toc_ok 1" "result 0 toc_ok 1" &
caller_loop caller global "result 3 toc_ok 1" "result -1 toc_ok 1" &

fails=0
i=0
while [ $i -lt "$CYCLES" ]; do
	if ! load_mod tocpatch_test_bad which=9 >/dev/null ||
	   ! echo "disable tocpatch_test_bad" >"$C" ||
	   ! unload_mod tocpatch_test_bad >/dev/null; then
		fails=$((fails + 1))
		unload_mod tocpatch_test_bad >/dev/null 2>&1
	fi
	i=$((i + 1))
done
touch /tmp/stop
wait

tap_check "$CYCLES enable/disable cycles, $fails failed" [ $fails = 0 ]
tap_check "local caller: $(cat /tmp/calls.local) calls, all answers right" [ ! -e /tmp/bad.local ]
tap_check "global caller: $(cat /tmp/calls.global) calls, all answers right" [ ! -e /tmp/bad.global ]
[ -e /tmp/bad.local ] && head -n 5 /tmp/bad.local | sed 's/^/# /'
[ -e /tmp/bad.global ] && head -n 5 /tmp/bad.global | sed 's/^/# /'
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads afterwards${out:+ ($out)}" [ -z "$out" ]
tap_check "no tocpatch error in the log" sh -c "! dmesg | grep -qE 'tocpatch: .*(fail|broken|could not)'"
tap_done
