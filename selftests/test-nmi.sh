#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A patched, marked function entered where ftrace does not call tocpatch's
# hook behind the marked global entry:
#  - from a system-reset NMI IPI (smp_send_nmi_ipi, and __smp_send_nmi_ipi
#    as smp_send_stop and crash_send_ipi call it): powerpc runs NMI
#    handlers with ftrace off on their CPU (entry-common.h);
#  - from an ftrace callback nested two deep in another ftrace user's
#    callbacks: ftrace's list function refuses that recursion (a known
#    hole, TAP TODO);
#  - on a crash path started with ftrace off (kmsg dumpers and die
#    notifiers called for an oops, as a system reset or machine check
#    handler calls them): tocpatch's dumper and die notifier turn ftrace
#    back on for the CPU;
#  - while a module called kvm_hv is loaded (KVM HV guest entry and exit
#    run with ftrace off): markers are out then.
# The target (tocpatch_test_nmi.ko) does nothing when it runs with an odd
# r2; each case counts who ran (see test_modules/test_nmi.c).

. "$(dirname "$0")/lib.sh"

ROUNDS=${TOCPATCH_NMI_ROUNDS:-300}
N=/sys/kernel/debug/tocpatch_nmi

tap_plan 22

if [ "$(nproc)" -lt 2 ]; then
	for i in $(seq 22); do tap_skip "nmi $i" "needs 2 CPUs"; done
	tap_done
fi

# nmi_run CASE COUNT: the call file's answer after COUNT calls of CASE.
nmi_run() {
	echo "$1 $2" >$N && cat $N
}

load_mod tocpatch >/dev/null
out=$(load_mod tocpatch_test_nmi)
if [ -n "$out" ]; then
	# Only a kernel without NMI IPIs (CONFIG_NMI_IPI) may lack what it
	# needs; the test-bed kernels all have them.
	if grep -q ' smp_send_nmi_ipi$' /proc/kallsyms; then
		tap_not_ok "tocpatch_test_nmi loads on a kernel with NMI IPIs: $out"
	else
		tap_skip "nmi 1" "no smp_send_nmi_ipi (CONFIG_NMI_IPI) in this kernel"
	fi
	for i in $(seq 2 22); do
		tap_skip "nmi $i" "tocpatch_test_nmi did not load"
	done
	unload_mod tocpatch >/dev/null
	tap_done
fi
out=$(load_mod tocpatch_test_nmi_patch)
tap_check "patch module loads${out:+ ($out)}" [ -z "$out" ]
tap_check "tp_nmi_func has its marker" \
	grep -qE '^  func tp_nmi_func prologue .* marker placed ' "$S"

g0=$(field tp_nmi_func global)
log_mark
out=$(nmi_run nmi "$ROUNDS")
tap_check "$ROUNDS NMI IPIs running tp_nmi_func: $out" \
	[ "$out" = "rounds $ROUNDS orig 0 patched $ROUNDS lost 0" ]
out=$(nmi_run nmicall "$ROUNDS")
tap_check "$ROUNDS NMI IPIs calling tp_nmi_func through a pointer: $out" \
	[ "$out" = "rounds $ROUNDS orig 0 patched $ROUNDS lost 0" ]
# smp_send_stop() and crash_send_ipi() branch to __smp_send_nmi_ipi()
# without smp_send_nmi_ipi(); the hook is on the former.
out=$(nmi_run nmiinner "$ROUNDS")
tap_check "$ROUNDS NMI IPIs sent through __smp_send_nmi_ipi(): $out" \
	[ "$out" = "rounds $ROUNDS orig 0 patched $ROUNDS lost 0" ]
g1=$(field tp_nmi_func global)
tap_check "the hook classified the NMI calls as global: $g0 -> $g1" \
	[ "$g1" -ge $((g0 + 3 * ROUNDS)) ]
out=$(nmi_run call 20)
tap_check "after the NMIs, calls from a task: $out" \
	[ "$out" = "rounds 20 orig 0 patched 20 lost 0" ]

out=$(nmi_run list1 20)
tap_check "from an ftrace callback: $out" \
	[ "$out" = "rounds 20 orig 0 patched 20 lost 0" ]
# ftrace's list function refuses a third nested call in one context and
# calls no ops: the marked prologue runs without the hook (design.rst,
# "Paths that run a marked prologue without the hook").
out=$(nmi_run list 20)
tap_todo "from an ftrace callback nested in another: $out" \
	"ftrace list-function recursion guard, not closed" \
	[ "$out" = "rounds 20 orig 0 patched 20 lost 0" ]
log_since | grep -E 'tocpatch|nmi|System Reset' | head -n 20 | sed 's/^/# /'

# A crash path that starts with ftrace off: the dumpers (or die notifiers)
# run first, then a call through the pointer.
out=$(nmi_run dump 50)
tap_check "crash path with ftrace off, kmsg dumpers first: $out" \
	[ "$out" = "rounds 50 orig 0 patched 50 lost 0" ]
out=$(nmi_run die 50)
tap_check "crash path with ftrace off, die notifiers first: $out" \
	[ "$out" = "rounds 50 orig 0 patched 50 lost 0" ]

# KVM HV runs guest entry and exit with ftrace off: markers are out while
# a module called kvm_hv is loaded (here an empty stand-in). Calls through
# the pointer then arrive with an even r2 and count as local.
# calls_as KIND: 5 calls through the pointer all reach the replacement and
# count as KIND (local or global) only.
calls_as() {
	l0=$(field tp_nmi_func local) g0=$(field tp_nmi_func global)
	r=$(nmi_run call 5)
	l1=$(field tp_nmi_func local) g1=$(field tp_nmi_func global)
	diag "$r; local $l0 -> $l1, global $g0 -> $g1"
	[ "$r" = "rounds 5 orig 0 patched 5 lost 0" ] || return 1
	if [ "$1" = local ]; then
		[ "$l1" = $((l0 + 5)) ] && [ "$g1" = "$g0" ]
	else
		[ "$g1" = $((g0 + 5)) ] && [ "$l1" = "$l0" ]
	fi
}
out=$(load_mod kvm_hv)
tap_check "kvm_hv loads${out:+ ($out)}; markers suspended" grep -q '^markers suspended' "$S"
tap_check "with kvm_hv loaded, calls arrive without the marker" calls_as local
out=$(unload_mod kvm_hv)
tap_check "kvm_hv unloads${out:+ ($out)}; markers active" grep -q '^markers active' "$S"
tap_check "after kvm_hv, calls arrive with the marker again" calls_as global

disable_patch tocpatch_test_nmi_patch >/dev/null
out=$(unload_mod tocpatch_test_nmi_patch)
tap_check "patch disabled and unloaded${out:+ ($out)}" [ -z "$out" ]

# Without the patch the original runs, with a correct r2, in the NMI too.
out=$(nmi_run nmi 20)
tap_check "unpatched, 20 NMI IPIs: $out" \
	[ "$out" = "rounds 20 orig 20 patched 0 lost 0" ]

unload_mod tocpatch_test_nmi >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads afterwards${out:+ ($out)}" [ -z "$out" ]

# NMIs while markers come and go: a patch enabled and disabled 20 times
# while NMI IPIs keep coming. Every round must run the original or the
# replacement, never the original with an odd r2 (a wrapper must not leave
# ftrace off while a marker is in text).
load_mod tocpatch >/dev/null
load_mod tocpatch_test_nmi >/dev/null
rm -f /tmp/nmi.stop /tmp/nmi.cycles
(
	ok=0
	for i in $(seq 20); do
		load_mod tocpatch_test_nmi_patch >/dev/null &&
			disable_patch tocpatch_test_nmi_patch >/dev/null &&
			unload_mod tocpatch_test_nmi_patch >/dev/null && ok=$((ok + 1))
	done
	echo $ok >/tmp/nmi.cycles
	touch /tmp/nmi.stop
) &
tot=0 orig=0 patched=0 lost=0
while [ ! -f /tmp/nmi.stop ]; do
	for c in nmi nmicall; do
		set -- $(nmi_run $c 10)
		tot=$((tot + $2)) orig=$((orig + $4)) patched=$((patched + $6)) lost=$((lost + $8))
	done
done
wait
tap_check "patch enabled and disabled $(cat /tmp/nmi.cycles) of 20 times meanwhile" \
	[ "$(cat /tmp/nmi.cycles)" = 20 ]
tap_check "$tot NMI IPIs meanwhile: orig $orig patched $patched lost $lost" \
	[ "$lost" = 0 -a "$tot" -gt 0 ]
unload_mod tocpatch_test_nmi >/dev/null
unload_mod tocpatch >/dev/null

# markers=0, as a reference: the marker was the only problem.
load_mod tocpatch markers=0 >/dev/null
load_mod tocpatch_test_nmi >/dev/null
load_mod tocpatch_test_nmi_patch >/dev/null
out=$(nmi_run nmi 20)
tap_check "markers=0, 20 NMI IPIs: $out (the original runs: ftrace is off)" \
	[ "$out" = "rounds 20 orig 20 patched 0 lost 0" ]
out=$(nmi_run dump 20)
tap_check "markers=0, crash path with ftrace off: $out (ftrace stays off)" \
	[ "$out" = "rounds 20 orig 20 patched 0 lost 0" ]
disable_patch tocpatch_test_nmi_patch >/dev/null
unload_mod tocpatch_test_nmi_patch >/dev/null
unload_mod tocpatch_test_nmi >/dev/null
unload_mod tocpatch >/dev/null
tap_done
