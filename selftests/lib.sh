#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shared helpers of the tocpatch selftests (the role upstream's
# tools/testing/selftests/livepatch/functions.sh plays): TAP output,
# module loading, kernel log checks. Sourced by each test-*.sh; POSIX sh,
# so that busybox runs it in the guest.

MODDIR=${TOCPATCH_MODDIR:-/tocpatch/modules}
__tap_n=0
__tap_fail=0

# tap_plan N: start a TAP stream of N tests.
tap_plan() {
	echo "TAP version 13"
	echo "1..$1"
}

tap_ok() {
	__tap_n=$((__tap_n + 1))
	echo "ok $__tap_n - $*"
}

tap_not_ok() {
	__tap_n=$((__tap_n + 1))
	__tap_fail=$((__tap_fail + 1))
	echo "not ok $__tap_n - $*"
}

tap_skip() {
	__tap_n=$((__tap_n + 1))
	echo "ok $__tap_n - $1 # SKIP $2"
}

# tap_check NAME COMMAND...: one test that passes when COMMAND succeeds.
tap_check() {
	name=$1
	shift
	if "$@"; then tap_ok "$name"; else tap_not_ok "$name"; fi
}

# tap_todo NAME REASON COMMAND...: a test of a known, documented hole; TAP
# "# TODO": its failure does not fail the stream (the runner counts it
# with the skipped ones), and it says so when it starts passing.
tap_todo() {
	name=$1 reason=$2
	shift 2
	__tap_n=$((__tap_n + 1))
	if "$@"; then
		echo "ok $__tap_n - $name # TODO $reason (passes now)"
	else
		echo "not ok $__tap_n - $name # TODO $reason"
	fi
}

# diag TEXT: a TAP comment line.
diag() {
	echo "# $*"
}

# tap_done: exit with the stream's verdict.
tap_done() {
	exit $((__tap_fail != 0))
}

# Kernel log handling: each test looks only at what its own steps logged.
log_mark() {
	__log_mark=$(dmesg | wc -l)
}

# log_since: the kernel log lines since the last log_mark.
log_since() {
	dmesg | tail -n +$((__log_mark + 1))
}

# last_script_only N: unless this script is the last of its boot
# (TOCPATCH_LAST_SCRIPT, set by testbed/guest/run-selftests.sh), reports
# its N tests skipped and exits: it kills ftrace for the rest of the boot.
last_script_only() {
	[ "${TOCPATCH_LAST_SCRIPT:-}" = "$(basename "$0")" ] && return 0
	__i=0
	while [ $__i -lt "$1" ]; do
		tap_skip "ftrace_kill" "kills ftrace for the rest of the boot: runs only as the last script of a run"
		__i=$((__i + 1))
	done
	exit 0
}

# log_has PATTERN: the log since the mark has a line matching PATTERN (ERE).
log_has() {
	log_since | grep -qE "$1"
}

# load_mod NAME [PARAMS]: insmod MODDIR/NAME.ko; prints insmod's error.
load_mod() {
	m=$1
	shift
	# TOCPATCH_PARAMS (comma-separated, from the kernel command line):
	# parameters for every load of tocpatch.ko, but those the script
	# gives itself (a module parameter may be given only once).
	if [ "$m" = tocpatch ] && [ -n "${TOCPATCH_PARAMS:-}" ]; then
		for __p in $(echo "$TOCPATCH_PARAMS" | tr , ' '); do
			case " $* " in
			*" ${__p%%=*}="*) ;;
			*) set -- "$__p" "$@" ;;
			esac
		done
	fi
	insmod "$MODDIR/$m.ko" "$@" 2>&1
}

unload_mod() {
	rmmod "$1" 2>&1
}

mod_loaded() {
	grep -q "^$1 " /proc/modules
}

mod_absent() {
	! mod_loaded "$1"
}

# mod_refcnt NAME: the module's reference count.
mod_refcnt() {
	cat "/sys/module/$1/refcnt"
}

# The sysfs tree of the patches (Documentation/ABI/testing/
# sysfs-kernel-tocpatch), tocpatch's debugfs status file (a debug summary)
# and the selftest modules' call files.
SYSFS=/sys/kernel/tocpatch
S=/sys/kernel/debug/tocpatch/status
T=/sys/kernel/debug/tocpatch_test

# call FILE CASE ARG: make the test module behind $T/FILE call CASE with
# ARG; prints "result R toc_ok B" (B: r2 was the same after the call).
call() {
	echo "$2 $3" >"$T/$1" && cat "$T/$1"
}

# expect_call NAME FILE CASE ARG RESULT: one test of a call's result and r2.
expect_call() {
	out=$(call "$2" "$3" "$4")
	tap_check "$1: $out (want result $5 toc_ok 1)" [ "$out" = "result $5 toc_ok 1" ]
}

# field FUNC NAME: the value of NAME on FUNC's line of the status file.
field() {
	awk -v f="$1" -v k="$2" '$1 == "func" && $2 == f {
		for (i = 3; i < NF; i++) if ($i == k) print $(i + 1) }' "$S"
}

# expect_counts NAME FUNC LOCAL GLOBAL FALLBACK: one test of FUNC's
# counters (and no shadow frame left).
expect_counts() {
	got="local $(field "$2" local) global $(field "$2" global) fallback $(field "$2" fallback) depth $(field "$2" depth)"
	tap_check "$1 counters: $got" [ "$got" = "local $3 global $4 fallback $5 depth 0" ]
}

# Refusals: each test of an operation that must fail checks the errno it
# fails with, through the message busybox prints (the errno's strerror()
# text at the end of the line).

# errno_text ERRNO: strerror()'s text for ERRNO (a name: EINVAL, ...).
errno_text() {
	case "$1" in
	EPERM) echo "Operation not permitted" ;;
	EACCES) echo "Permission denied" ;;
	ENOENT) echo "No such file or directory" ;;
	ESRCH) echo "No such process" ;;
	ENOEXEC) echo "Exec format error" ;;
	EAGAIN | EWOULDBLOCK) echo "Resource temporarily unavailable" ;;
	ENOMEM) echo "Cannot allocate memory" ;;
	EFAULT) echo "Bad address" ;;
	EBUSY) echo "Device or resource busy" ;;
	EEXIST) echo "File exists" ;;
	ENODEV) echo "No such device" ;;
	EINVAL) echo "Invalid argument" ;;
	ENOSPC) echo "No space left on device" ;;
	ENOSYS) echo "Function not implemented" ;;
	EOPNOTSUPP | ENOTSUP) echo "Operation not supported" ;;
	ETIMEDOUT) echo "Connection timed out" ;;
	# Not strerror(): busybox sh's own words for ENOENT when a
	# redirection's directory does not exist (a patch's sysfs directory
	# that is gone).
	ENOENT_DIR) echo "nonexistent directory" ;;
	*) echo "(errno_text: unknown errno $1)" ;;
	esac
}

# insmod_errno_text ERRNO: what busybox insmod prints for ERRNO; it words
# a few its own way (modutils moderror()).
insmod_errno_text() {
	case "$1" in
	ENOENT) echo "unknown symbol in module, or unknown parameter" ;;
	ENOEXEC) echo "invalid module format" ;;
	ESRCH) echo "module has wrong symbol version" ;;
	ENOSYS) echo "kernel does not support requested operation" ;;
	*) errno_text "$1" ;;
	esac
}

# says_errno TEXT OUTPUT: OUTPUT is an error message ending in ": TEXT".
says_errno() {
	case "$2" in *": $1") return 0 ;; esac
	return 1
}

# sysfs_write FILE VALUE: write VALUE to FILE; prints the shell's error
# message, if any, and returns the write's status.
sysfs_write() {
	sh -c 'echo "$1" >"$2"' sysfs_write "$2" "$1" 2>&1
}

# wait_gone PATH: wait up to 10 s until PATH no longer exists (upstream's
# loop_until in disable_lp).
wait_gone() {
	__i=0
	while [ -e "$1" ]; do
		[ $__i -ge 100 ] && return 1
		sleep 0.1
		__i=$((__i + 1))
	done
}

# disable_patch NAME: disable patch NAME by writing 0 to its sysfs
# enabled file, as upstream's disable_lp does, and wait until its
# directory is gone (the patch was released); prints the write's error
# message, if any. Fails if the write fails or the directory stays.
disable_patch() {
	sysfs_write "$SYSFS/$1/enabled" 0 || return 1
	wait_gone "$SYSFS/$1"
}

# refused_with STATUS OUTPUT TEXT: a command's exit STATUS says it failed,
# and its error OUTPUT ends in TEXT.
refused_with() {
	[ "$1" != 0 ] && says_errno "$3" "$2"
}

# sysfs_refused NAME FILE VALUE ERRNO: one test that writing VALUE to
# FILE fails with ERRNO.
sysfs_refused() {
	__out=$(sysfs_write "$2" "$3") && __rc=0 || __rc=$?
	tap_check "$1: ${__out:+${__out##*: } }(want $4)" \
		refused_with "$__rc" "$__out" "$(errno_text "$4")"
}

# rmmod_refused NAME MODULE ERRNO: one test that rmmod MODULE fails with
# ERRNO and leaves the module loaded.
rmmod_refused() {
	__out=$(unload_mod "$2") && __rc=0 || __rc=$?
	__ok=0
	refused_with "$__rc" "$__out" "$(errno_text "$3")" && mod_loaded "$2" && __ok=1
	tap_check "$1: ${__out:+${__out##*: } }(want $3)" [ $__ok = 1 ]
}
