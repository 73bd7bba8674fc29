#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# CPU hotplug while patched functions are called: powerpc runs a CPU with
# ftrace off while it goes offline or comes online, so tocpatch takes its
# odd-TOC markers out for each hotplug operation (rust/markers.rs). Three
# tasks call patched functions (local, global, and one whose patch is
# enabled and disabled all along) while CPU 1 goes offline and online.

. "$(dirname "$0")/lib.sh"

CYCLES=${TOCPATCH_HOTPLUG_CYCLES:-20}
CPU=/sys/devices/system/cpu/cpu1/online

tap_plan 9

if [ ! -w $CPU ]; then
	for i in 1 2 3 4 5 6 7 8 9; do tap_skip "hotplug $i" "no hotplug-capable CPU 1"; done
	tap_done
fi

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null
out=$(load_mod tocpatch_test_patch)
tap_check "patch module loads${out:+ ($out)}" [ -z "$out" ]

susp() {
	sed -n 's/^markers .* hotplug-suspensions \([0-9]*\)$/\1/p' "$S"
}
s0=$(susp)
rm -f /tmp/stop /tmp/bad.* /tmp/calls.*

# caller_loop FILE CASE ARG GOOD...: call until /tmp/stop exists; note any
# answer not among GOOD in /tmp/bad.CASE.
caller_loop() {
	f=$1 c=$2 a=$3
	shift 3
	n=0
	while [ ! -f /tmp/stop ]; do
		echo "$c $a" >"$T/$f" || echo "write failed" >>"/tmp/bad.$c"
		r=$(cat "$T/$f")
		ok=0
		for g in "$@"; do [ "$r" = "$g" ] && ok=1; done
		[ $ok = 1 ] || echo "$r" >>"/tmp/bad.$c"
		n=$((n + 1))
	done
	echo $n >"/tmp/calls.$c"
}

caller_loop target local 1 "result 1002 toc_ok 1" &
caller_loop caller global 1 "result 1003 toc_ok 1" &
caller_loop target2 dup2 1 "result 21 toc_ok 1" "result 1001 toc_ok 1" &
# A patch enabled and disabled all along, on another function.
(
	while [ ! -f /tmp/stop ]; do
		load_mod tocpatch_test_bad which=12 >/dev/null &&
			disable_patch tocpatch_test_bad >/dev/null &&
			unload_mod tocpatch_test_bad >/dev/null
	done
) &

fails=0
i=0
while [ $i -lt "$CYCLES" ]; do
	echo 0 >$CPU || fails=$((fails + 1))
	sleep 0.1
	echo 1 >$CPU || fails=$((fails + 1))
	sleep 0.1
	i=$((i + 1))
done
touch /tmp/stop
wait
unload_mod tocpatch_test_bad >/dev/null 2>&1

tap_check "$CYCLES offline/online cycles of CPU 1, $fails failed" [ $fails = 0 ]
tap_check "CPU 1 is online again" [ "$(cat $CPU)" = 1 ]
for c in local global dup2; do
	tap_check "$c caller: $(cat /tmp/calls.$c) calls, all answers right" [ ! -e "/tmp/bad.$c" ]
	[ -e "/tmp/bad.$c" ] && head -n 5 "/tmp/bad.$c" | sed 's/^/# /'
done
s1=$(susp)
tap_check "markers were out for each hotplug operation: $s0 -> $s1" \
	[ "$s1" -ge $((s0 + 2 * CYCLES)) ]
tap_check "markers placed again" \
	grep -qE '^  func tp_target_add prologue .* marker placed ' "$S"
sed 's/^/# /' "$S"

disable_patch tocpatch_test_patch >/dev/null
unload_mod tocpatch_test_patch >/dev/null
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads afterwards${out:+ ($out)}" [ -z "$out" ]
tap_done
