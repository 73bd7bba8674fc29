#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host test of testbed/tap-verdict.sh, the guest runner's TAP check, over
# canned console logs: a stream that breaks a rule (plan mismatch, a
# non-zero exit, a script killed or a guest dead mid-script, ...) must
# fail the run, and good streams (with kernel messages in between) must
# pass with the right counts. Prints TAP; exits non-zero if a case failed.
set -uo pipefail
verdict=$(cd "$(dirname "$0")/.." && pwd)/tap-verdict.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0 bad=0
# case NAME WANT_STATUS WANT_COUNTS [SCRIPT...]: the log on stdin must make
# "tap-verdict.sh LOG SCRIPT..." exit WANT_STATUS (0 or 1) and print
# WANT_COUNTS ("P F S").
case_() {
	local name=$1 want_rc=$2 want=$3 got rc
	shift 3
	cat >"$tmp/log"
	got=$("$verdict" "$tmp/log" "$@" 2>"$tmp/err") && rc=0 || rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want_rc" ] && [ "$got" = "$want" ]; then
		echo "ok $n - $name: exit $rc, counts $got"
	else
		echo "not ok $n - $name: exit $rc, counts '$got' (want exit $want_rc, counts $want)"
		bad=$((bad + 1))
	fi
	sed 's/^/# /' "$tmp/err"
}

echo "1..19"

# (The console log has CRLF line ends before the runner strips them.)
case_ "two good scripts, kernel lines and CRs in between" 0 "4 0 1" test-a.sh test-b.sh < <(sed 's/$/\r/' <<'LOG'
tocpatch-guest: up 1.2s, 2 cpus, kernel 7.3.4
tocpatch-guest: running test-a.sh
TAP version 13
1..2
[    3.100000] tocpatch: loaded: ftrace mode mprofile-kernel
ok 1 - first
# a diagnostic
ok 2 - second[    3.2] tocpatch: a message in the middle of a line
 of the test's name
tocpatch-guest: end test-a.sh status 0
tocpatch-guest: running test-b.sh
TAP version 13
1..3
ok 1 - x
ok 2 - y # SKIP no CPU 1
ok 3 - z
tocpatch-guest: end test-b.sh status 0
tocpatch-guest: done
LOG
)

case_ "a known failure (not ok # TODO) counts as skipped, exit 0" 0 "1 0 1" <<'LOG'
tocpatch-guest: running test-a.sh
1..2
ok 1 - works
not ok 2 - a documented hole # TODO not closed
tocpatch-guest: end test-a.sh status 0
LOG

case_ "a failed test and exit 1 count as one failure" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..2
ok 1 - first
not ok 2 - second
tocpatch-guest: end test-a.sh status 1
LOG

case_ "fewer tests than planned" 1 "2 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..3
ok 1 - first
ok 2 - second
tocpatch-guest: end test-a.sh status 0
LOG

case_ "more tests than planned" 1 "3 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..2
ok 1 - first
ok 2 - second
ok 3 - third
tocpatch-guest: end test-a.sh status 0
LOG

case_ "non-zero exit with every test passed" 1 "2 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..2
ok 1 - first
ok 2 - second
tocpatch-guest: end test-a.sh status 2
LOG

case_ "script killed mid-way (oops in a test step)" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..3
ok 1 - first
[   12.000000] BUG: Unable to handle kernel data access on read at 0x00000008
Segmentation fault
tocpatch-guest: end test-a.sh status 139
tocpatch-guest: done
LOG

case_ "guest died mid-script (no end line)" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..3
ok 1 - first
[   12.000000] Kernel panic - not syncing: Fatal exception
LOG

case_ "the guest died in a later script" 1 "2 2 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
tocpatch-guest: end test-a.sh status 0
tocpatch-guest: running test-b.sh
1..2
ok 1 - first
tocpatch-guest: running test-c.sh
LOG

case_ "no plan" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
ok 1 - first
tocpatch-guest: end test-a.sh status 0
LOG

case_ "a script that does not exist (sh: can't open)" 1 "0 1 0" <<'LOG'
tocpatch-guest: running test-nosuch.sh
sh: can't open './test-nosuch.sh': No such file or directory
tocpatch-guest: end test-nosuch.sh status 2
LOG

case_ "two plans" 1 "2 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
1..1
ok 1 - again
tocpatch-guest: end test-a.sh status 0
LOG

case_ "tests out of order" 1 "2 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..2
ok 1 - first
ok 3 - third
tocpatch-guest: end test-a.sh status 0
LOG

case_ "TAP outside a script" 1 "1 1 0" <<'LOG'
ok 1 - stray
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
tocpatch-guest: end test-a.sh status 0
LOG

case_ "bail out" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
Bail out! no debugfs
tocpatch-guest: end test-a.sh status 0
LOG

case_ "end line of another script" 1 "1 1 0" <<'LOG'
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
tocpatch-guest: end test-b.sh status 0
LOG

case_ "no script at all" 1 "0 1 0" <<'LOG'
tocpatch-guest: up 1.2s, 2 cpus, kernel 7.3.4
tocpatch-guest: done
LOG

case_ "a requested script never ran" 1 "1 1 0" test-a.sh test-b.sh <<'LOG'
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
tocpatch-guest: end test-a.sh status 0
LOG

case_ "every requested script ran" 0 "2 0 0" test-a.sh test-b.sh <<'LOG'
tocpatch-guest: running test-b.sh
1..1
ok 1 - first
tocpatch-guest: end test-b.sh status 0
tocpatch-guest: running test-a.sh
1..1
ok 1 - first
tocpatch-guest: end test-a.sh status 0
LOG

[ "$n" = 19 ] || { echo "not ok - ran $n cases, planned 19"; bad=1; }
exit $((bad != 0))
