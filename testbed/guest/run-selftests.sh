#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check`: run every selftest script, each printing its
# own TAP stream; the host counts the results and reads the kernel log.
cd /tocpatch/selftests || exit 1
for t in ${TOCPATCH_TESTS:-test-*.sh}; do
	echo "tocpatch-guest: running $t"
	sh "./$t"
done
