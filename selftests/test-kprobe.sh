#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tocpatch and kprobes on a vmlinux function: the counterparts of
# upstream's tools/testing/selftests/livepatch/test-kprobe.sh, on the
# cmdline sample (cmdline_proc_show, the function upstream's
# test_klp_livepatch patches) with our kprobe module
# (tocpatch_test_probe, post=1 for upstream's has_post_handler=y).
#
# A kprobe with a post_handler on an ftrace location is an IPMODIFY
# ftrace_ops, as tocpatch's is; ftrace allows one per function. So:
# 1. kprobe with post_handler, then the patch: the patch is refused with
#    EBUSY, one log line names the function, nothing changed.
# 2. kprobe without post_handler, then the patch: both work; the probe
#    sees every call and the patch's calls keep r2.
# 3. (upstream has no such case) the patch, then a kprobe with a
#    post_handler: 7.3's register_kprobe() returns 0 without arming the
#    probe (it drops arm_kprobe()'s EBUSY), so the probe never fires and
#    the patch stays in effect. A kernel that returns the EBUSY passes too.
# test-errors.sh and test-coexist.sh do the same on a module function
# (tp_target_add), with local, global and pointer calls.

. "$(dirname "$0")/lib.sh"

PATCHED="this has been live patched by tocpatch"
CMD=tocpatch_sample_cmdline
PROBE=tocpatch_test_probe

tap_plan 19

# lines: the log since the mark: tocpatch's lifecycle and refusal lines
# and the probe module's, without timestamps or the function counts of
# "enabled patch".
lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		s/^\(tocpatch_test_probe: probing [^ ]*\) at .*(on ftrace: \([01]\))/\1 (on ftrace: \2)/
		/^tocpatch_test_probe: /p
		/^tocpatch: /p'
}

# expect NAME: the lines since the mark are those on stdin.
expect() {
	cat >/tmp/kp.want
	lines >/tmp/kp.got
	if cmp -s /tmp/kp.want /tmp/kp.got; then
		tap_ok "$1: log sequence"
	else
		diff /tmp/kp.want /tmp/kp.got | sed 's/^/# /'
		tap_not_ok "$1: log sequence"
	fi
}

hits() {
	cat /sys/module/$PROBE/parameters/hits
}

load_mod tocpatch >/dev/null
[ -f /sys/kernel/debug/kprobes/enabled ] && echo 1 >/sys/kernel/debug/kprobes/enabled
orig=$(cat /proc/cmdline)

# 1. livepatch interaction with kprobed function with post_handler
log_mark
out=$(load_mod $PROBE symbol=cmdline_proc_show post=1)
tap_check "kprobe with post_handler on cmdline_proc_show${out:+ ($out)}" [ -z "$out" ]
before=$(cat "$S")
out=$(load_mod $CMD) && rc=0 || rc=$?
tap_check "then the patch is refused with EBUSY: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text EBUSY)"
tap_check "  the patch module is not loaded" mod_absent $CMD
tap_check "  the status is unchanged" [ "$(cat "$S")" = "$before" ]
tap_check "  /proc/cmdline is the original" [ "$(cat /proc/cmdline)" = "$orig" ]
unload_mod $PROBE >/dev/null
# busybox insmod tries finit_module(), then init_module(): two attempts,
# one line each (nothing else is logged: the enable undoes nothing).
expect "kprobe with post_handler, then patch" <<END
tocpatch_test_probe: probing cmdline_proc_show (on ftrace: 1)
tocpatch: cmdline_proc_show: ftrace cannot hook it: -16 (-16: another ftrace user that modifies the IP, such as a kprobe with a post_handler, is on it)
tocpatch: cmdline_proc_show: ftrace cannot hook it: -16 (-16: another ftrace user that modifies the IP, such as a kprobe with a post_handler, is on it)
END

# 2. livepatch interaction with kprobed function without post_handler
log_mark
out=$(load_mod $PROBE symbol=cmdline_proc_show)
tap_check "kprobe without post_handler on cmdline_proc_show${out:+ ($out)}" [ -z "$out" ]
out=$(load_mod $CMD)
tap_check "then the patch loads${out:+ ($out)}" [ -z "$out" ]
tap_check "  /proc/cmdline is patched" [ "$(cat /proc/cmdline)" = "$PATCHED" ]
h0=$(hits)
for i in 1 2 3 4 5; do cat /proc/cmdline >/dev/null; done
h1=$(hits)
tap_check "  the probe sees the patched function's calls: $h0 -> $h1" [ $((h1 - h0)) -ge 5 ]
unload_mod $PROBE >/dev/null
tap_check "  the probe gone, /proc/cmdline is still patched" [ "$(cat /proc/cmdline)" = "$PATCHED" ]
tap_check "  disable" disable_patch $CMD
unload_mod $CMD >/dev/null
tap_check "  /proc/cmdline is the original again" [ "$(cat /proc/cmdline)" = "$orig" ]
expect "kprobe without post_handler, then patch" <<END
tocpatch_test_probe: probing cmdline_proc_show (on ftrace: 1)
tocpatch: enabled patch $CMD
tocpatch: disabled patch $CMD
tocpatch: released patch $CMD
END

# 3. The patch, then a kprobe with a post_handler.
log_mark
load_mod $CMD >/dev/null
out=$(load_mod $PROBE symbol=cmdline_proc_show post=1) && rc=0 || rc=$?
if [ "$rc" = 0 ]; then
	cat /proc/cmdline >/dev/null
	h=$(hits)
	diag "register_kprobe returned 0 for the conflicting probe; hits after a read: $h"
	tap_check "patch, then kprobe with post_handler: the probe is not armed (7.3 hides its EBUSY): $h hits" [ "$h" = 0 ]
	unload_mod $PROBE >/dev/null
else
	tap_check "patch, then kprobe with post_handler: refused with EBUSY: '${out##*: }'" \
		refused_with "$rc" "$out" "$(insmod_errno_text EBUSY)"
fi
tap_check "  /proc/cmdline is still patched" [ "$(cat /proc/cmdline)" = "$PATCHED" ]
tap_check "  no fallback counted on cmdline_proc_show" [ "$(field cmdline_proc_show fallback)" = 0 ]
tap_check "  disable" disable_patch $CMD
unload_mod $CMD >/dev/null

out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_done
