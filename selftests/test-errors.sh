#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bad input and refused operations: each gets a clear errno and one useful
# kernel log line, and changes nothing. Also: a target module unloaded
# while patched is unpatched first (module notifier), without harm; a
# notrace function in a patch; kprobes in the way of a patch (an IPMODIFY
# kprobe, and one on the marked prologue word, which pins the patch at
# disable until it is gone).

. "$(dirname "$0")/lib.sh"

# refused NAME WHICH ERRNO [PARAMS]: tocpatch_test_bad.ko which=WHICH
# must fail with ERRNO (a name: EINVAL, ...), log one distinct tocpatch
# line, and leave status as is.
refused() {
	before=$(cat "$S")
	log_mark
	out=$(load_mod tocpatch_test_bad which="$2" $4) && rc=0 || rc=$?
	lines=$(log_since | grep 'tocpatch: ' | sed 's/^\[[ 0-9.]*\] //' | sort -u)
	n=$(printf '%s\n' "$lines" | grep -c .)
	ok=1
	refused_with "$rc" "$out" "$(insmod_errno_text "$3")" || ok=0
	[ "$n" = 1 ] || ok=0
	[ "$(cat "$S")" = "$before" ] || ok=0
	mod_loaded tocpatch_test_bad && ok=0
	tap_check "$1: '${out##*: }' (want $3), log: '$lines'" [ $ok = 1 ]
}

tap_plan 64

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# (busybox insmod words ENOENT as "unknown symbol in module, or unknown
# parameter": insmod_errno_text.)
refused "unknown function" 1 ENOENT
refused "old_sympos 2 of a unique name" 2 ENOENT
refused "new_func outside the patch module" 3 EINVAL
# An object whose module is not loaded is not an error (livepatch's
# behaviour): the patch is enabled, the object waits for its module.
out=$(load_mod tocpatch_test_bad which=4)
tap_check "object module not loaded: enabled${out:+ ($out)}, object not patched" \
	grep -q '^  object tp_no_such_module patched 0$' "$S"
disable_patch tocpatch_test_bad
unload_mod tocpatch_test_bad >/dev/null
refused "patch without functions" 5 EINVAL
refused "function listed twice" 7 EINVAL
refused "NULL patch" 8 EINVAL
long=tocpatch_test_target_with_a_name_longer_than_a_module_name_can_be
refused "object name of ${#long} bytes (a module name has at most 55)" 21 EINVAL "objname=$long"

# Duplicate names (old_sympos). The target module has two static tp_dup.
refused "old_sympos 0 of a name the module has twice" 10 EINVAL
tap_check "the log says how many" log_has 'tocpatch_test_target:tp_dup is ambiguous: 2 symbols'
refused "old_sympos 3 of a name the module has twice" 11 ENOENT
# vmlinux: a text function name that kallsyms has several times (below
# _etext, each at an address of its own), counted by the text walk.
etext=$(awk '$3 == "_etext" { print $1 }' /proc/kallsyms)
dup=$(awk -v e="$etext" 'NF == 3 && $2 ~ /^[tT]$/ && $1 < e {
		n[$3]++; at[$1]++; a[$3] = a[$3] " " $1 }
	END { for (f in n) if (n[f] > 1) {
		ok = 1; k = split(a[f], x, " ")
		for (i = 1; i <= k; i++) if (at[x[i]] != 1) ok = 0
		if (ok) { print n[f], f; exit } } }' /proc/kallsyms)
set -- ${dup:-0 none}
diag "vmlinux duplicate: $2, $1 times"
t0=$(cut -d' ' -f1 /proc/uptime)
refused "vmlinux $2 (x$1), old_sympos 0" 13 EINVAL "name=$2 sympos=0"
diag "text walk: $(cut -d' ' -f1 /proc/uptime) - $t0 s"
tap_check "the walk counted $1" log_has "vmlinux:$2 is ambiguous: $1 symbols"
refused "vmlinux $2 (x$1), old_sympos $(($1 + 1))" 13 ENOENT "name=$2 sympos=$(($1 + 1))"
tap_check "the log says how many" log_has "vmlinux:$2: old_sympos $(($1 + 1)) but only $1 symbol"

# __smp_send_nmi_ipi() carries tocpatch's own NMI hook in the shared
# ftrace ops (design.rst, "One ftrace ops"): a patch of it is refused.
if grep -q ' __smp_send_nmi_ipi$' /proc/kallsyms; then
	refused "__smp_send_nmi_ipi, tocpatch's NMI hook" 13 EBUSY "name=__smp_send_nmi_ipi sympos=1"
else
	tap_skip "__smp_send_nmi_ipi" "no CONFIG_NMI_IPI in this kernel"
fi

# old_sympos 2 patches the second tp_dup, and only that one.
out=$(load_mod tocpatch_test_bad which=12)
tap_check "old_sympos 2 of tp_dup loads${out:+ ($out)}" [ -z "$out" ]
expect_call "first tp_dup unpatched" target dup1 5 15
expect_call "second tp_dup patched" target dup2 5 1005
disable_patch tocpatch_test_bad >/dev/null
unload_mod tocpatch_test_bad >/dev/null
expect_call "second tp_dup unpatched again" target dup2 5 25

# has OUT ERRNO_TEXT: OUT (what insmod, rmmod or sh said) ends in ERRNO_TEXT.
has() {
	case "$1" in *"$2") return 0 ;; esac
	return 1
}

# untouched: the target text is as before any patch, and no patch is listed.
text0=$(cat "$T/text")
untouched() {
	[ "$(cat "$T/text")" = "$text0" ] && ! grep -q '^patch ' "$S"
}

# A notrace function after a patchable one: refused once the first is
# hooked, which is undone.
refused "second function notrace" 14 EINVAL
tap_check "the log names it" log_has 'tocpatch: tp_target_notrace: .*ftrace'
tap_check "text unchanged after the notrace refusal" untouched

# A kprobe with a post_handler is an IPMODIFY ftrace user on its function,
# as tocpatch is; ftrace allows one per function: the second is refused.
out=$(load_mod tocpatch_test_probe symbol=tp_target_add post=1)
tap_check "kprobe with post_handler on tp_target_add${out:+ ($out)}" [ -z "$out" ]
# "Unchanged" is now as the kprobe left it (its ftrace call is in the text).
text_free=$text0
text0=$(cat "$T/text")
log_mark
out=$(load_mod tocpatch_test_patch)
tap_check "then a patch of it is refused with EBUSY: '${out##*: }'" has "$out" "Device or resource busy"
tap_check "the log names the function" log_has 'tocpatch: tp_target_add: .*-16'
tap_check "the refused patch changed nothing" untouched
tap_check "  and its module is not loaded" mod_absent tocpatch_test_patch
unload_mod tocpatch_test_probe >/dev/null
text0=$text_free
out=$(load_mod tocpatch_test_patch)
tap_check "without the kprobe the patch loads${out:+ ($out)}" [ -z "$out" ]
# The other way round, 7.3's register_kprobe() returns 0 although arming
# failed with EBUSY (__register_kprobe() drops arm_kprobe()'s error since
# its guard() rework): the probe is then simply not there. Either way the
# patch must be unaffected.
out=$(load_mod tocpatch_test_probe symbol=tp_target_add post=1)
if [ -z "$out" ]; then
	call target local 5 >/dev/null
	h=$(cat /sys/module/tocpatch_test_probe/parameters/hits)
	diag "register_kprobe returned 0 for the conflicting probe; hits after a call: $h"
	tap_check "a kprobe with post_handler on the patched function is not armed (7.3 hides its EBUSY): $h hits" [ "$h" = 0 ]
	unload_mod tocpatch_test_probe >/dev/null
else
	tap_check "a kprobe with post_handler on the patched function is refused with EBUSY: '${out##*: }'" \
		has "$out" "Device or resource busy"
fi
expect_call "the patch still works" target local 5 1006

# A second patch of the same function stacks on it (it used to be
# refused with EBUSY): it wins while enabled, and the first takes over
# again when it goes (test-patching.sh has the stacking cases).
out=$(load_mod tocpatch_test_bad which=6)
tap_check "a second patch of a patched function stacks${out:+ ($out)}" [ -z "$out" ]
expect_call "  and its replacement runs" target local 5 4
disable_patch tocpatch_test_bad
unload_mod tocpatch_test_bad >/dev/null
expect_call "  and once it is gone, the first patch's again" target local 5 1006

# A module in use: delete_module() says EWOULDBLOCK (EAGAIN).
rmmod_refused "enabled patch module refuses rmmod" tocpatch_test_patch EAGAIN
rmmod_refused "tocpatch refuses rmmod while a patch module uses it" tocpatch EAGAIN
sysfs_refused "enabled: not a boolean" "$SYSFS/tocpatch_test_patch/enabled" maybe EINVAL
sysfs_refused "no such patch" "$SYSFS/nosuch/enabled" 0 ENOENT_DIR
tap_check "patch still enabled after refused operations" \
	grep -q '^patch tocpatch_test_patch enabled$' "$S"

# A kprobe armed on the marked prologue word (tp_target_add+4, the addi)
# after the enable: the marker cannot be restored while it is there. The
# disable keeps that function's hook (which repairs r2 behind the marker),
# pins the patch with the reason and is refused with EBUSY; once the kprobe
# is gone, the next disable finishes.
if [ "$(field tp_target_add prologue)" = toc-relative ]; then
	out=$(load_mod tocpatch_test_probe symbol=tp_target_add offset=4)
	tap_check "kprobe at tp_target_add+4${out:+ ($out)}" [ -z "$out" ]
	expect_call "probed at +4: global call" caller global 5 1007
	log_mark
	out=$(sysfs_write "$SYSFS/tocpatch_test_patch/enabled" 0)
	tap_check "disable refused with EBUSY: '${out##*: }'" has "$out" "Device or resource busy"
	tap_check "status: pinned, with the reason" \
		grep -qE '^patch tocpatch_test_patch pinned \(marker of tp_target_add cannot be restored' "$S"
	tap_check "status: tp_target_add's marker is stuck" [ "$(field tp_target_add marker)" = stuck ]
	tap_check "the log says why" log_has 'tocpatch: tp_target_add: the marker cannot be restored'
	expect_call "pinned: local call runs the original" target local 5 6
	expect_call "pinned: global call (marked prologue, kprobe) runs the original" caller global 5 7
	out=$(unload_mod tocpatch_test_patch)
	tap_check "pinned patch module refuses rmmod: '${out##*: }'" has "$out" "Resource temporarily unavailable"
	unload_mod tocpatch_test_probe >/dev/null
	tap_check "after the kprobe is gone, disable works" disable_patch tocpatch_test_patch
else
	diag "tp_target_add has prologue $(field tp_target_add prologue): no marker at +4"
	for i in 1 2 3 4 5 6 7 8 9; do tap_skip "kprobe at +4" "no toc-relative prologue"; done
	tap_check "disable the test patch" disable_patch tocpatch_test_patch
fi
out=$(unload_mod tocpatch_test_patch)
tap_check "then it unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "text as before any patch" untouched
sysfs_refused "a second disable finds no patch" "$SYSFS/tocpatch_test_patch/enabled" 0 ENOENT_DIR

# A disable that waits for a sleeper inside a replacement does not hold
# the registry lock: meanwhile the status reads at once and says the patch
# is releasing, a second disable of it is refused with EBUSY, and another
# patch can be enabled.
uptime_cs() {
	awk '{ split($1, t, "."); print t[1] * 100 + t[2] }' /proc/uptime
}
load_mod tocpatch_test_patch >/dev/null
(call target sleep 3000 >/tmp/sleeper.out) &
sleeper=$!
sleep 0.5
(sysfs_write "$SYSFS/tocpatch_test_patch/enabled" 0; echo "rc $?" >/tmp/disable.out) &
disabler=$!
sleep 0.5
t0=$(uptime_cs)
st=$(grep '^patch ' "$S")
t1=$(uptime_cs)
tap_check "status read in $((t1 - t0))0 ms while a disable waits: '$st'" \
	[ "$st" = "patch tocpatch_test_patch releasing (waiting for its code to fall out of use)" ]
out=$(sysfs_write "$SYSFS/tocpatch_test_patch/enabled" 0)
tap_check "a second disable meanwhile is refused with EINVAL (already disabled, as livepatch): '${out##*: }'" has "$out" "Invalid argument"
t0=$(uptime_cs)
out=$(load_mod tocpatch_test_bad which=12)
t1=$(uptime_cs)
tap_check "another patch enables meanwhile, in $((t1 - t0))0 ms${out:+ ($out)}" [ -z "$out" ]
busy=$(kill -0 $disabler 2>/dev/null && echo waiting || echo done)
tap_check "and the disable was still waiting then ($busy)" [ $busy = waiting ]
wait $sleeper
wait $disabler
tap_check "sleeper got the replacement's result: $(cat /tmp/sleeper.out)" \
	[ "$(cat /tmp/sleeper.out)" = "result 4000 toc_ok 1" ]
tap_check "the disable succeeded: $(cat /tmp/disable.out)" [ "$(cat /tmp/disable.out)" = "rc 0" ]
unload_mod tocpatch_test_patch >/dev/null
disable_patch tocpatch_test_bad >/dev/null
unload_mod tocpatch_test_bad >/dev/null

# The target module goes while patched (by a patch that does not link to
# it): its functions are unpatched first.
out=$(load_mod tocpatch_test_bad which=9)
tap_check "a patch not linked to the target module loads${out:+ ($out)}" [ -z "$out" ]
log_mark
unload_mod tocpatch_test_caller >/dev/null
out=$(unload_mod tocpatch_test_target)
tap_check "patched target module unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "its function was unpatched" \
	log_has 'tocpatch: patch tocpatch_test_bad: module tocpatch_test_target is going, 1 function\(s\) unpatched'
tap_check "status shows it gone" grep -q '^  func tp_target_add .* marker gone ' "$S"
tap_check "disable after that works" disable_patch tocpatch_test_bad
out=$(unload_mod tocpatch_test_bad)
tap_check "patch module unloads${out:+ ($out)}" [ -z "$out" ]
unload_mod tocpatch >/dev/null
tap_done
