#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: run the selftest scripts, each printing its
# own TAP stream; the host counts the results and reads the kernel log.
# TOCPATCH_TESTS (kernel command line, comma-separated: the host turns the
# spaces of its TOCPATCH_TESTS into commas) picks scripts; by default all of
# them, in name order (so the long test-stress.sh comes last).
cd /tocpatch/selftests || exit 1
tests=$(echo "${TOCPATCH_TESTS:-$(echo test-*.sh)}" | tr , " ")
for t in $tests; do
	echo "tocpatch-guest: running $t"
	sh "./$t"
done
