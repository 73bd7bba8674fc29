#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The cost of a patched call (tocpatch_test_cost.ko): N calls in a row
# (TOCPATCH_COST_CALLS, default 100000, three rounds) of a small TOC-using function from
# a local and from a global caller, interrupts on and off, unpatched,
# patched, and of an unpatched copy under an empty ftrace ops (the cost of
# ftrace itself). The figures (ns per call; guest instructions per call
# under TOCPATCH_ICOUNT=1) are TAP comments: only correctness is asserted
# (every call returned what the function that must have run returns, r2
# intact, every call counted, no fallback, no frame left), also with every
# CPU calling at once (the per-CPU counters' sums exact).

. "$(dirname "$0")/lib.sh"

N=${TOCPATCH_COST_CALLS:-100000}

tap_plan 18

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_cost >/dev/null

res() {
	call cost "$1" "$2" | awk '{ print $2 }'
}

# measure LABEL CASE: one test that three rounds of N calls of CASE all
# returned the right result with r2 intact; sets the variable named CASE
# to the lowest ns per call of the three (the others caught more timer
# interrupts).
measure() {
	best="" bad=""
	for round in 1 2 3; do
		out=$(call cost "$2" "$N")
		v=$(echo "$out" | awk '{ print $2 }')
		if [ "$v" -ge 0 ] 2>/dev/null && [ "${out##* }" = 1 ]; then
			[ -z "$best" ] || [ "$v" -lt "$best" ] && best=$v
		else
			bad="$bad [$out]"
		fi
	done
	tap_check "$1 ($2): ${best:-none}${bad:+, bad:$bad}" [ -z "$bad" ]
	eval "$2=\${best:-0}"
}

measure "unpatched, local" local
measure "unpatched, global" global
measure "unpatched, local, irqs off" localirq
measure "unpatched, global, irqs off" globalirq
u_local=$local u_global=$global u_localirq=$localirq u_globalirq=$globalirq

expect_call "empty ftrace ops on tp_cost_plain" cost ops 1 0
measure "empty ftrace ops, local" plain
measure "empty ftrace ops, global" plainglobal
expect_call "empty ftrace ops off" cost ops 0 0

out=$(load_mod tocpatch_test_cost_patch)
tap_check "cost patch module loads${out:+ ($out)}" [ -z "$out" ]
expect_call "patched: the replacement runs" cost bias 0 1000
measure "patched, local" local
measure "patched, global" global
measure "patched, local, irqs off" localirq
measure "patched, global, irqs off" globalirq
# bias: 1 local call; local and localirq: 3 (N + 1) each; global ones
# likewise.
expect_counts "patched" tp_cost_target $((6 * N + 7)) $((6 * N + 6)) 0

# The per-CPU counters, summed, are exact with every CPU calling at once.
l0=$(field tp_cost_target local) g0=$(field tp_cost_target global)
out=$(call cost smp "$N")
ncpu=$(echo "$out" | awk '{ print $2 }')
tap_check "every CPU at once: $out (want the number of CPUs, toc_ok 1)" \
	sh -c "[ '$ncpu' -ge 1 ] && [ '${out##* }' = 1 ]"
[ "$ncpu" -ge 1 ] 2>/dev/null || ncpu=0
expect_counts "every CPU at once ($ncpu)" tp_cost_target \
	$((l0 + ncpu * (N + 1))) $((g0 + ncpu * (N + 1))) 0

diag "per call (ns; instructions under TOCPATCH_ICOUNT=1), N=$N:"
diag "  unpatched:        local $u_local, global $u_global, local irqs off $u_localirq, global irqs off $u_globalirq"
diag "  empty ftrace ops: local $plain, global $plainglobal"
diag "  patched:          local $local, global $global, local irqs off $localirq, global irqs off $globalirq"
diag "  overhead: ftrace local $((plain - u_local)) global $((plainglobal - u_global));" \
	"tocpatch local $((local - u_local)) global $((global - u_global))" \
	"local irqs off $((localirq - u_localirq)) global irqs off $((globalirq - u_globalirq))"

out=$(disable_patch tocpatch_test_cost_patch) && rc=0 || rc=$?
tap_check "disable succeeds (rc $rc${out:+: $out})" [ "$rc" = 0 ]
unload_mod tocpatch_test_cost_patch >/dev/null
unload_mod tocpatch_test_cost >/dev/null
unload_mod tocpatch_test_target >/dev/null
unload_mod tocpatch >/dev/null
tap_done
