#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: run the selftest scripts, each printing its
# own TAP stream; the host counts the results and reads the kernel log.
# TOCPATCH_TESTS (kernel command line) picks scripts; by default all but
# test-stress.sh, which `make stress` runs: it still finds a rare crash on
# the mprofile kernel (Documentation/testbed.rst, "Open").
cd /tocpatch/selftests || exit 1
tests=$TOCPATCH_TESTS
if [ -z "$tests" ]; then
	for t in test-*.sh; do
		[ "$t" = test-stress.sh ] || tests="$tests $t"
	done
fi
for t in $tests; do
	echo "tocpatch-guest: running $t"
	sh "./$t"
done
