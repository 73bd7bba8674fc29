#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Judge the TAP streams in a guest console log:
#   tap-verdict.sh LOG [SCRIPT...]
#
# The guest runner (guest/run-selftests.sh) brackets each script's output
# with "tocpatch-guest: running SCRIPT" and "tocpatch-guest: end SCRIPT
# status N" (N: the script's exit status). Each script must
#   - print exactly one plan line "1..N",
#   - number its tests 1, 2, ... in order, and run as many as it planned,
#   - end (the end line is there: no crash or hang mid-script),
#   - exit 0, unless one of its tests failed (then it exits non-zero),
#   - not bail out.
# A "not ok ... # TODO" is a known failure (TAP): counted as skipped.
# Each SCRIPT named must have run (a script that never started is one
# failed test).
# A script that breaks a rule counts as one more failed test, with one
# line on stderr for each rule it breaks. A TAP line outside a script's
# brackets is a failure too. Kernel messages may be interleaved with the
# TAP lines (the guest sends them to the console); only lines that start
# with a TAP keyword count.
#
# Prints "P F S" (passed, failed, skipped) on stdout; exits 1 when F > 0
# (no script at all counts as a failure).
set -euo pipefail

logf=${1:?usage: tap-verdict.sh CONSOLE_LOG [SCRIPT...]}
shift
[ -r "$logf" ] || { echo "tap: cannot read $logf" >&2; exit 2; }

sed 's/\r$//' "$logf" | awk -v want="$*" '
# A broken rule: said on stderr; one failure per script (however many
# rules it breaks), or per line outside any script.
function problem(what) {
	printf "tap: %s: %s\n", (cur == "" ? "(no script)" : cur), what > "/dev/stderr"
	if (cur == "")
		failed++
	else
		broken = 1
}
# The end of a script section: check its plan, numbering and exit status.
function finish(ended, status) {
	if (cur == "")
		return
	if (!ended)
		problem(sprintf("did not finish: %d test(s) ran of %s planned", n, nplan ? plan : "none"))
	else {
		if (nplan == 0)
			problem(sprintf("no TAP plan (%d test(s) ran)", n))
		else if (n != plan)
			problem(sprintf("planned %d test(s), ran %d", plan, n))
		if (status != 0 && sfail == 0)
			problem(sprintf("exited with status %d, but no test failed", status))
	}
	failed += broken
	cur = ""
}
/^tocpatch-guest: running / {
	finish(0, 0)
	cur = $3
	scripts++
	ran[cur] = 1
	n = 0; plan = 0; nplan = 0; sfail = 0; misnum = 0; broken = 0
	next
}
/^tocpatch-guest: end [^ ]+ status [0-9]+$/ {
	if ($3 != cur) {
		problem("end line for " $3 " while running another script")
		next
	}
	finish(1, $5 + 0)
	next
}
/^1\.\.[0-9]+/ {
	if (cur == "") { problem("TAP plan outside a script: " $0); next }
	if (nplan++) { problem("a second TAP plan: " $0); next }
	plan = substr($1, 4) + 0
	next
}
/^(not )?ok [0-9]+/ {
	if (cur == "") { problem("TAP test outside a script: " $0); next }
	num = ($1 == "not") ? $3 : $2
	n++
	if (num + 0 != n && !misnum) {
		misnum = 1
		problem(sprintf("test numbered %s where %d was due", num, n))
	}
	if ($1 == "not" && $0 ~ /# [Tt][Oo][Dd][Oo]/)
		skipped++	# a known failure (TAP TODO)
	else if ($1 == "not") {
		failed++
		sfail++
	} else if ($0 ~ /# [Ss][Kk][Ii][Pp]/)
		skipped++
	else
		passed++
	next
}
/^Bail out!/ {
	problem("bailed out: " $0)
	next
}
END {
	finish(0, 0)
	if (scripts == 0)
		problem("no test script ran")
	nw = split(want, w, " ")
	for (i = 1; i <= nw; i++)
		if (!(w[i] in ran)) {
			cur = w[i]
			problem("never ran")
			failed++
			cur = ""
		}
	print passed + 0, failed + 0, skipped + 0
	exit (failed > 0)
}'
