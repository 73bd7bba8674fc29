#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The sysfs ABI, /sys/kernel/tocpatch/<patch>/ (Documentation/ABI/testing/
# sysfs-kernel-tocpatch), with the counterparts of upstream's
# tools/testing/selftests/livepatch/test-sysfs.sh (Documentation/
# testbed.rst lists them): the tree and its modes, every value, the
# counters moving with calls, stack_order over three patches, every wrong
# write with its errno, one log line and nothing changed, a pinned patch,
# disable through `enabled`, the directory gone after the release and
# rmmod working, `patched` dropping when the patched module goes.

. "$(dirname "$0")/lib.sh"

tap_plan 93

P=$SYSFS/tocpatch_test_patch
O=$P/tocpatch_test_target

# mode PATH: the permission string ls shows (drwxr-xr-x, -rw-r--r--, ...).
mode() {
	ls -ld "$1" | cut -c1-10
}

# expect_mode PATH MODE: one test of PATH's mode.
expect_mode() {
	__m=$(mode "$1")
	tap_check "${1#"$SYSFS"/} is $2 ($__m)" [ "$__m" = "$2" ]
}

# expect_value PATH VALUE: one test of the content of PATH.
expect_value() {
	__v=$(cat "$1" 2>&1)
	tap_check "${1#"$SYSFS"/} = $2 ($__v)" [ "$__v" = "$2" ]
}

# wrong_write NAME FILE VALUE ERRNO LOGLINES: one test that writing VALUE
# to FILE fails with ERRNO, logs LOGLINES distinct tocpatch lines (1; 0
# when sysfs itself refuses) and changes nothing (the status summary and
# every enabled file are the same after).
snapshot() {
	cat "$S" $SYSFS/*/enabled 2>/dev/null
}
wrong_write() {
	__before=$(snapshot)
	log_mark
	__out=$(sysfs_write "$2" "$3") && __rc=0 || __rc=$?
	__lines=$(log_since | grep 'tocpatch: ' | sed 's/^\[[ 0-9.]*\] //' | sort -u)
	__n=$(printf '%s' "$__lines" | grep -c .)
	__ok=1
	refused_with "$__rc" "$__out" "$(errno_text "$4")" || __ok=0
	[ "$__n" = "$5" ] || __ok=0
	[ "$(snapshot)" = "$__before" ] || __ok=0
	tap_check "$1: '${__out##*: }' (want $4), log: '$__lines'" [ $__ok = 1 ]
}

load_mod tocpatch >/dev/null
tap_check "/sys/kernel/tocpatch exists, empty" \
	sh -c '[ -d "$1" ] && [ -z "$(ls "$1")" ]' _ "$SYSFS"
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# A patch that names one object twice, whose directory would be there
# twice: refused with EINVAL, one log line, no directory left.
before=$(snapshot)
log_mark
out=$(load_mod tocpatch_test_bad which=20) && rc=0 || rc=$?
lines=$(log_since | grep 'tocpatch: ' | sed 's/^\[[ 0-9.]*\] //' | sort -u)
ok=1
refused_with "$rc" "$out" "$(insmod_errno_text EINVAL)" || ok=0
[ "$(printf '%s' "$lines" | grep -c .)" = 1 ] || ok=0
[ "$(snapshot)" = "$before" ] && [ -z "$(ls "$SYSFS")" ] || ok=0
tap_check "object listed twice: '${out##*: }' (want EINVAL), log: '$lines'" [ $ok = 1 ]

out=$(load_mod tocpatch_test_patch)
tap_check "test patch loads${out:+ ($out)}" [ -z "$out" ]

# The tree and its modes (upstream: "sysfs test").
expect_mode "$P" drwxr-xr-x
expect_mode "$P/enabled" -rw-r--r--
expect_mode "$P/force" --w-------
expect_mode "$P/transition" -r--r--r--
expect_mode "$P/replace" -r--r--r--
expect_mode "$P/stack_order" -r--r--r--
expect_mode "$O" drwxr-xr-x
expect_mode "$O/patched" -r--r--r--
tap_check "patch directory: $(ls "$P" | tr '\n' ' ')" \
	[ "$(ls "$P" | tr '\n' ' ')" = "enabled force replace stack_order tocpatch_test_target transition " ]
tap_check "object directory: $(ls "$O" | tr '\n' ' ')" \
	[ "$(ls "$O" | tr '\n' ' ')" = "patched tp_target_add,1 tp_target_asm,1 tp_target_depth,1 tp_target_sleep,1 tp_target_tail_asm,1 " ]
F=$O/tp_target_add,1
expect_mode "$F" drwxr-xr-x
tap_check "function directory: $(ls "$F" | tr '\n' ' ')" \
	[ "$(ls "$F" | tr '\n' ' ')" = "marker stat " ]
for f in marker stat; do
	expect_mode "$F/$f" -r--r--r--
done

# The values.
expect_value "$P/enabled" 1
expect_value "$P/transition" 0
expect_value "$P/replace" 0
expect_value "$P/stack_order" 1
expect_value "$O/patched" 1
expect_value "$F/marker" placed
expect_value "$F/stat" "0 0 0 0 0 0"
expect_value "$O/tp_target_asm,1/marker" none
# The facts fixed at enable are in the debugfs status only.
v=$(field tp_target_add prologue)
case "$v" in toc-relative | toc-load) ok=1 ;; *) ok=0 ;; esac
tap_check "status: tp_target_add prologue toc-relative or toc-load ($v)" [ $ok = 1 ]
tap_check "status: tp_target_asm prologue none" [ "$(field tp_target_asm prologue)" = none ]
tap_check "status: tp_target_tail_asm tail-out 1" [ "$(field tp_target_tail_asm tail-out)" = 1 ]

# The counters move with calls, as the status line's do: stat is calls,
# local, global, fallback, depth, peak.
expect_call "local call" target local 5 1006
expect_value "$F/stat" "1 1 0 0 0 1"
expect_call "global call" caller global 5 1007
expect_value "$F/stat" "2 1 1 0 0 1"
agree() {
	__want=
	for f in calls local global fallback depth peak; do
		__want="$__want${__want:+ }$(field tp_target_add $f)"
	done
	[ "$(cat "$F/stat")" = "$__want" ]
}
tap_check "the function's stat agrees with the status line" agree

# A vmlinux object, and stack_order over three patches (upstream: "sysfs
# test stack_order value").
out=$(load_mod tocpatch_sample_cmdline)
tap_check "cmdline sample loads${out:+ ($out)}" [ -z "$out" ]
V=$SYSFS/tocpatch_sample_cmdline/vmlinux
tap_check "the NULL object is named vmlinux: $(ls "$V" | tr '\n' ' ')" \
	[ "$(ls "$V" | tr '\n' ' ')" = "cmdline_proc_show,1 patched " ]
expect_value "$V/patched" 1
g0=$(cut -d' ' -f3 "$V/cmdline_proc_show,1/stat")
cat /proc/cmdline >/dev/null
g1=$(cut -d' ' -f3 "$V/cmdline_proc_show,1/stat")
tap_check "reading /proc/cmdline counts a global call: $g0 -> $g1" [ "$g1" -gt "$g0" ]
out=$(load_mod tocpatch_test_bad which=12)
tap_check "a third patch (tp_dup, old_sympos 2) loads${out:+ ($out)}" [ -z "$out" ]
tap_check "its function directory is tp_dup,2" [ -d "$SYSFS/tocpatch_test_bad/tocpatch_test_target/tp_dup,2" ]
expect_value "$P/stack_order" 1
expect_value "$SYSFS/tocpatch_sample_cmdline/stack_order" 2
expect_value "$SYSFS/tocpatch_test_bad/stack_order" 3
tap_check "disable the second patch" disable_patch tocpatch_sample_cmdline
out=$(unload_mod tocpatch_sample_cmdline)
tap_check "it unloads${out:+ ($out)}" [ -z "$out" ]
expect_value "$P/stack_order" 1
expect_value "$SYSFS/tocpatch_test_bad/stack_order" 2

# Wrong writes: each its errno (livepatch's), one log line, nothing changed.
wrong_write "enabled: 1 to an enabled patch" "$P/enabled" 1 EINVAL 1
wrong_write "enabled: not a boolean" "$P/enabled" maybe EINVAL 1
wrong_write "enabled: empty" "$P/enabled" "" EINVAL 1
wrong_write "force: 1 without a transition" "$P/force" 1 EINVAL 1
wrong_write "force: not a boolean" "$P/force" 2 EINVAL 1
wrong_write "transition is read-only" "$P/transition" 0 EACCES 0
wrong_write "replace is read-only" "$P/replace" 1 EACCES 0
wrong_write "stack_order is read-only" "$P/stack_order" 1 EACCES 0
wrong_write "patched is read-only" "$O/patched" 0 EACCES 0
wrong_write "stat is read-only" "$F/stat" 0 EACCES 0
wrong_write "marker is read-only" "$F/marker" none EACCES 0
out=$(cat "$P/force" 2>&1) && rc=0 || rc=$?
tap_check "force is write-only: '${out##*: }'" refused_with "$rc" "$out" "$(errno_text EACCES)"
out=$(sysfs_write "$P/force" 0) && rc=0 || rc=$?
tap_check "force: 0 is accepted and does nothing (rc $rc${out:+: $out})" [ "$rc" = 0 ]
expect_value "$P/enabled" 1
expect_call "still patched after the refused writes" target local 5 1006

# Disable while a task sleeps inside a replacement for longer than the
# release wait (10 s): EBUSY, the patch stays, disabled (pinned); 1 is
# refused as livepatch refuses to enable a disabled patch; 0 again, once
# the sleeper is out, releases it.
(call target sleep 20000 >/tmp/sysfs-sleeper.out) &
sleeper=$!
sleep 0.5
out=$(sysfs_write "$P/enabled" 0) && rc=0 || rc=$?
tap_check "disable with a sleeper inside: '${out##*: }' (want EBUSY)" \
	refused_with "$rc" "$out" "$(errno_text EBUSY)"
expect_value "$P/enabled" 0
expect_value "$O/patched" 0
expect_value "$F/marker" removed
expect_value "$P/stack_order" 1
tap_check "the pinned patch's directory stays" [ -d "$P" ]
wrong_write "enabled: 1 to a disabled patch" "$P/enabled" 1 EINVAL 1
wait $sleeper
tap_check "the sleeper got the replacement's result: $(cat /tmp/sysfs-sleeper.out)" \
	[ "$(cat /tmp/sysfs-sleeper.out)" = "result 21000 toc_ok 1" ]
tap_check "the bad patch is now first: stack_order 1" \
	[ "$(cat "$SYSFS/tocpatch_test_bad/stack_order")" = 1 ]
log_mark
out=$(disable_patch tocpatch_test_patch) && rc=0 || rc=$?
tap_check "0 again releases it (rc $rc${out:+: $out}), its directory is gone" [ "$rc" = 0 ]
tap_check "released patch in the log" log_has 'tocpatch: released patch tocpatch_test_patch$'
wrong_write "enabled of a released patch" "$P/enabled" 0 ENOENT_DIR 0
out=$(unload_mod tocpatch_test_patch)
tap_check "rmmod of the patch module works${out:+ ($out)}" [ -z "$out" ]
expect_call "unpatched again" target local 5 6

# Readers racing with the releases: a task reads every file of every
# patch in a loop while a patch is enabled, disabled through `enabled`
# and unloaded 10 times (each removal waits for the reads in progress; a
# read of a released patch fails with ENODEV).
rm -f /tmp/sysfs-stop
(
	n=0 gone=0
	while [ ! -f /tmp/sysfs-stop ]; do
		e=$(cat $SYSFS/*/* $SYSFS/*/*/* $SYSFS/*/*/*/* 2>&1 >/dev/null |
			grep -c 'No such device')
		n=$((n + 1)) gone=$((gone + e))
	done
	echo "$n read loops, $gone ENODEV" >/tmp/sysfs-reads
) &
reader=$!
ok=0
for i in 1 2 3 4 5 6 7 8 9 10; do
	load_mod tocpatch_test_patch >/dev/null &&
		disable_patch tocpatch_test_patch >/dev/null &&
		[ -z "$(unload_mod tocpatch_test_patch)" ] && ok=$((ok + 1))
done
touch /tmp/sysfs-stop
wait $reader
tap_check "10 enable/disable/rmmod cycles under a reader: $ok succeeded, $(cat /tmp/sysfs-reads)" \
	[ $ok = 10 ]
expect_call "unpatched after the cycles" target local 5 6

# `patched` drops when the patched module goes (the second half of
# upstream's "sysfs test object/patched"; loading it later is not
# supported yet).
B=$SYSFS/tocpatch_test_bad/tocpatch_test_target
expect_value "$B/patched" 1
unload_mod tocpatch_test_caller >/dev/null
out=$(unload_mod tocpatch_test_target)
tap_check "the patched module unloads${out:+ ($out)}" [ -z "$out" ]
expect_value "$B/patched" 0
expect_value "$B/tp_dup,2/marker" gone
expect_value "$SYSFS/tocpatch_test_bad/enabled" 1
tap_check "disable the last patch" disable_patch tocpatch_test_bad
tap_check "rmmod it right after" [ -z "$(unload_mod tocpatch_test_bad)" ]
tap_check "/sys/kernel/tocpatch is empty" [ -z "$(ls "$SYSFS")" ]

# Upstream's "sysfs test replace enabled" and "replace disabled": a
# cumulative patch's replace file reads 1, a plain one's 0; same log as
# any patch.
R=tocpatch_test_atomic_replace
for rep in 1 0; do
	log_mark
	load_mod $R replace=$rep >/dev/null
	expect_mode "$SYSFS/$R/replace" -r--r--r--
	expect_value "$SYSFS/$R/replace" $rep
	disable_patch $R
	unload_mod $R >/dev/null
	got=$(log_since | sed -n "s/^\[[ 0-9.]*\] tocpatch: \(enabled\|disabled\|released\) patch $R.*/\1/p" | tr '\n' ' ')
	tap_check "replace=$rep: log: $got" [ "$got" = "enabled disabled released " ]
done
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "/sys/kernel/tocpatch is gone" [ ! -e "$SYSFS" ]
tap_done
