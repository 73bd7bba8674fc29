#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bad input and refused operations: each gets a clear errno and one useful
# kernel log line, and changes nothing. Also: a target module unloaded
# while patched is unpatched first (module notifier), without harm.

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

tap_plan 33

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# (busybox insmod words ENOENT as "unknown symbol in module, or unknown
# parameter": insmod_errno_text.)
refused "unknown function" 1 ENOENT
refused "old_sympos 2 of a unique name" 2 ENOENT
refused "new_func outside the patch module" 3 EINVAL
refused "object module not loaded" 4 ENOENT
refused "patch without functions" 5 EINVAL
refused "function listed twice" 7 EINVAL
refused "NULL patch" 8 EINVAL

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

# old_sympos 2 patches the second tp_dup, and only that one.
out=$(load_mod tocpatch_test_bad which=12)
tap_check "old_sympos 2 of tp_dup loads${out:+ ($out)}" [ -z "$out" ]
expect_call "first tp_dup unpatched" target dup1 5 15
expect_call "second tp_dup patched" target dup2 5 1005
disable_patch tocpatch_test_bad >/dev/null
unload_mod tocpatch_test_bad >/dev/null
expect_call "second tp_dup unpatched again" target dup2 5 25

load_mod tocpatch_test_patch >/dev/null
refused "function already patched by another patch" 6 EBUSY

# A module in use: delete_module() says EWOULDBLOCK (EAGAIN).
rmmod_refused "enabled patch module refuses rmmod" tocpatch_test_patch EAGAIN
rmmod_refused "tocpatch refuses rmmod while a patch module uses it" tocpatch EAGAIN
sysfs_refused "enabled: not a boolean" "$SYSFS/tocpatch_test_patch/enabled" maybe EINVAL
sysfs_refused "no such patch" "$SYSFS/nosuch/enabled" 0 ENOENT_DIR
tap_check "patch still enabled after refused operations" \
	grep -q '^patch tocpatch_test_patch enabled$' "$S"

tap_check "disable the test patch" disable_patch tocpatch_test_patch
out=$(unload_mod tocpatch_test_patch)
tap_check "then it unloads${out:+ ($out)}" [ -z "$out" ]
sysfs_refused "a second disable finds no patch" "$SYSFS/tocpatch_test_patch/enabled" 0 ENOENT_DIR

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
