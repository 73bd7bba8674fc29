#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Patch the getpid system call while user processes hammer it: the
# counterpart of upstream's tools/testing/selftests/livepatch/
# test-syscall.sh, with our program (test_call_getpid, built static by
# testbed/mkinitramfs.sh) and our patch (tocpatch_test_syscall).
#
# On powerpc the system call goes through the syscall table, an indirect
# call from C: sys_getpid()'s global entry (a marked prologue) with the
# caller reloading its TOC afterwards. TOCPATCH_SYSCALL_NPROC processes
# (default 16, more than the CPUs so that they are preempted inside
# system calls) call getpid() in a loop and check every answer; the patch
# is enabled with their pids, and, as upstream's test_klp_syscall counts,
# every one of them must run the replacement. Then the patch is disabled
# under the same load, each process must still be running (none saw a
# wrong answer), and each ends by the signal the test sends.

. "$(dirname "$0")/lib.sh"

MOD=tocpatch_test_syscall
PROG=$(dirname "$0")/test_call_getpid
NPROC=${TOCPATCH_SYSCALL_NPROC:-16}
K=/sys/kernel/$MOD

tap_plan 14

# lines: the log since the mark: tocpatch's lifecycle lines and ours.
# Not the count of global calls that reached the hook after the markers
# were out: a process preempted inside sys_getpid's marked prologue makes
# one when it resumes, within the first RCU-tasks grace period (as
# test-stress.sh allows; a later one would also log "after the first grace
# period", which stays in the sequence and fails it).
lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		/reached the hook after the markers were out/d
		/^test_call_getpid: /p
		/^tocpatch_selftest: /p
		/^tocpatch: /p'
}

load_mod tocpatch >/dev/null
log_mark

pids=""
i=0
while [ $i -lt "$NPROC" ]; do
	"$PROG" &
	pids="$pids $!"
	i=$((i + 1))
done
pid_list=$(echo $pids | tr ' ' ,)
sleep 1
alive() {
	for p in $pids; do kill -0 "$p" 2>/dev/null || return 1; done
}
tap_check "$NPROC processes call getpid() in a loop" alive

out=$(load_mod $MOD pids="$pid_list")
tap_check "patch of sys_getpid loads while they run${out:+ ($out)}" [ -z "$out" ]

# Every process runs the replacement (upstream: loop_until npids is 0).
all_patched() {
	n=0
	while [ "$(cat $K/npids)" != 0 ]; do
		[ $n -ge 100 ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
}
all_patched
pending=$(cat $K/npids)
echo "tocpatch_selftest: $MOD: Remaining not livepatched processes: $pending" >/dev/kmsg
tap_check "every process ran the replacement: $pending remaining" [ "$pending" = 0 ]
c0=$(cat $K/calls)
sleep 1
c1=$(cat $K/calls)
diag "the replacement ran $c0 times by then, $((c1 - c0)) more in 1 s"
tap_check "the replacement keeps running: $c0 -> $c1 calls" [ "$c1" -gt "$c0" ]
g=$(field sys_getpid global) l=$(field sys_getpid local) f=$(field sys_getpid fallback)
diag "sys_getpid: local $l global $g fallback $f"
tap_check "calls through the syscall table arrive global (marked entry): global $g" [ "$g" -ge "$c0" ]
tap_check "no fallback: $f" [ "$f" = 0 ]
tap_check "the processes still run (no wrong answer)" alive
tap_check "getpid() of the shell is right while patched" [ "$(sh -c 'echo $$')" -gt 0 ]

out=$(disable_patch $MOD)
tap_check "disable under load${out:+ ($out)}" [ -z "$out" ]
out=$(unload_mod $MOD)
tap_check "patch module unloads${out:+ ($out)}" [ -z "$out" ]
sleep 1
tap_check "the processes still run after the disable" alive

for p in $pids; do kill -TERM "$p"; done
bad=""
for p in $pids; do
	wait "$p" && st=0 || st=$?
	[ "$st" = 143 ] || bad="$bad $p:$st"
done
tap_check "each process ended by SIGTERM (status 143), none exited on a wrong answer:${bad:- all}" [ -z "$bad" ]

cat >/tmp/sc.want <<END
tocpatch: enabled patch $MOD
tocpatch_selftest: $MOD: Remaining not livepatched processes: 0
tocpatch: disabled patch $MOD
tocpatch: released patch $MOD
END
log_since | grep 'reached the hook after the markers were out' | sed 's/^/# /'
lines >/tmp/sc.got
if cmp -s /tmp/sc.want /tmp/sc.got; then
	tap_ok "log sequence"
else
	diff /tmp/sc.want /tmp/sc.got | sed 's/^/# /'
	tap_not_ok "log sequence"
fi

out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_done
