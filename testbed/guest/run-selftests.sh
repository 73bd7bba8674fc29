#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: run the selftest scripts, each printing its
# own TAP stream between "tocpatch-guest: running SCRIPT" and
# "tocpatch-guest: end SCRIPT status N" (its exit status); the host
# (testbed/tap-verdict.sh) checks each stream's plan, numbering and exit
# status, counts the results and reads the kernel log.
# TOCPATCH_TESTS (kernel command line, comma-separated: a command-line
# word has no spaces) picks scripts; by default all of them, in name order,
# except that test-ftrace-kill.sh always runs last (it kills ftrace for the
# rest of the boot) and test-ftrace-kill-idle.sh, which kills it too, runs
# only when named (testbed/check.sh gives it a boot of its own).
# TOCPATCH_LAST_SCRIPT names the last script of the run.
cd /tocpatch/selftests || exit 1
tests=$(echo "${TOCPATCH_TESTS:-$(echo test-*.sh | sed 's/ test-ftrace-kill-idle\.sh//')}" | tr , ' ')
case " $tests " in
*" test-ftrace-kill.sh "*)
	tests="$(echo " $tests " | sed 's/ test-ftrace-kill.sh / /g') test-ftrace-kill.sh" ;;
esac
for t in $tests; do
	TOCPATCH_LAST_SCRIPT=$t
done
export TOCPATCH_LAST_SCRIPT
for t in $tests; do
	echo "tocpatch-guest: running $t"
	sh "./$t"
	echo "tocpatch-guest: end $t status $?"
done
