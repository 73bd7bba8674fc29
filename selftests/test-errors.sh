#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Bad input and refused operations: each gets a clear errno and one useful
# kernel log line, and changes nothing. Also: a target module unloaded
# while patched is unpatched first (module notifier), without harm.

. "$(dirname "$0")/lib.sh"

# refused NAME WHICH ERRNO_TEXT: tocpatch_test_bad.ko which=WHICH must fail
# with ERRNO_TEXT, log one distinct tocpatch line, and leave status as is.
refused() {
	before=$(cat "$S")
	log_mark
	out=$(load_mod tocpatch_test_bad which="$2")
	lines=$(log_since | grep 'tocpatch: ' | sed 's/^\[[ 0-9.]*\] //' | sort -u)
	n=$(printf '%s\n' "$lines" | grep -c .)
	ok=1
	case "$out" in *"$3"*) ;; *) ok=0 ;; esac
	[ "$n" = 1 ] || ok=0
	[ "$(cat "$S")" = "$before" ] || ok=0
	mod_loaded tocpatch_test_bad && ok=0
	tap_check "$1: '${out##*: }', log: '$lines'" [ $ok = 1 ]
}

tap_plan 22

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# busybox insmod words ENOENT as "unknown symbol in module, or unknown
# parameter".
refused "unknown function" 1 "unknown symbol"
refused "old_sympos 2" 2 "not supported"
refused "new_func outside the patch module" 3 "Invalid argument"
refused "object module not loaded" 4 "unknown symbol"
refused "patch without functions" 5 "Invalid argument"
refused "function listed twice" 7 "Invalid argument"
refused "NULL patch" 8 "Invalid argument"

load_mod tocpatch_test_patch >/dev/null
refused "function already patched by another patch" 6 "Device or resource busy"

tap_check "enabled patch module refuses rmmod" sh -c "! rmmod tocpatch_test_patch 2>/dev/null"
tap_check "tocpatch refuses rmmod while a patch module uses it" sh -c "! rmmod tocpatch 2>/dev/null"
tap_check "control: unknown command is EINVAL" sh -c "! echo frobnicate >$C 2>/dev/null"
tap_check "control: unknown patch is refused" sh -c "! echo 'disable nosuch' >$C 2>/dev/null"
tap_check "patch still enabled after refused operations" \
	grep -q '^patch tocpatch_test_patch enabled$' "$S"

tap_check "disable the test patch" sh -c "echo 'disable tocpatch_test_patch' >$C"
out=$(unload_mod tocpatch_test_patch)
tap_check "then it unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "a second disable finds no patch" sh -c "! echo 'disable tocpatch_test_patch' >$C 2>/dev/null"

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
tap_check "disable after that works" sh -c "echo 'disable tocpatch_test_bad' >$C"
out=$(unload_mod tocpatch_test_bad)
tap_check "patch module unloads${out:+ ($out)}" [ -z "$out" ]
unload_mod tocpatch >/dev/null
tap_done
