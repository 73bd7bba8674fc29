#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tocpatch unloaded after ftrace killed itself (ftrace_kill()) while no
# patch was enabled: see design.rst, "ftrace_kill()". ftrace then refuses
# to unregister tocpatch's ops and keeps calling it, for the functions in
# its filter (__smp_send_nmi_ipi(), hooked for the NMI guard, and the
# anchor), but the unload frees the callback's code. tocpatch must leave
# the ops behind with ftrace's own stub as its callback: NMI IPIs sent
# afterwards (each a call of __smp_send_nmi_ipi()) go through it without an
# oops. Before, the callback pointed into the freed module text.
#
# Killing ftrace lasts for the rest of the boot, and test-ftrace-kill.sh
# needs ftrace alive until it kills it with a patch enabled: this script
# gets a boot of its own (testbed/check.sh), and runs only as the last
# script of a run; anywhere else, or run by hand, it reports each test
# skipped.

. "$(dirname "$0")/lib.sh"

N=8
NMI=/sys/kernel/debug/tocpatch_nmi
tap_plan $N

last_script_only $N

out=$(load_mod tocpatch)
tap_check "tocpatch loads${out:+ ($out)}" [ -z "$out" ]
nmi=0
if [ "$(nproc)" -ge 2 ] && out=$(load_mod tocpatch_test_nmi) && [ -z "$out" ]; then
	nmi=1
fi
log_mark
out=$(load_mod tocpatch_test_ftrace_kill)
tap_check "ftrace killed${out:+ ($out)}" log_has 'tocpatch_test_ftrace_kill: ftrace killed'

log_mark
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads, no patch enabled${out:+ ($out)}" [ -z "$out" ]
tap_check "  the log says the ops stays, its callback ftrace's stub" \
	log_has 'unregister_ftrace_function failed: -19: the ftrace ops is leaked, its callback now ftrace_stub'
if [ $nmi = 1 ]; then
	# __smp_send_nmi_ipi() is still in the leaked ops' filter.
	r=$(echo "nmi 20" >$NMI && cat $NMI)
	tap_check "20 NMI IPIs after the unload: $r (want rounds 20 orig 20)" \
		[ "$r" = "rounds 20 orig 20 patched 0 lost 0" ]
else
	tap_skip "NMI IPIs after the unload" "needs 2 CPUs and CONFIG_NMI_IPI (tocpatch_test_nmi)"
fi
# no_trouble: no WARN, BUG or oops in the log since the mark.
no_trouble() {
	! log_since | grep -qE 'WARNING:|BUG:|Oops|Unable to handle'
}
tap_check "no WARN, BUG or oops since the unload" no_trouble

log_mark
out=$(load_mod tocpatch) && rc=0 || rc=$?
tap_check "loading tocpatch again is refused with ENODEV: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text ENODEV)"
tap_check "  one line says why" log_has 'tocpatch: cannot register the ftrace ops: -19'
tap_done
