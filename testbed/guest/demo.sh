#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: tocpatch loaded, at work, unloaded.
. /tocpatch/selftests/lib.sh
M=/tocpatch/modules
tap_plan 2
echo "tocpatch-demo: \$ cat /proc/cmdline"
cat /proc/cmdline
echo "tocpatch-demo: \$ insmod tocpatch.ko"
tap_check "insmod tocpatch.ko" insmod $M/tocpatch.ko
dmesg | grep 'tocpatch:' | sed 's/^/tocpatch-demo: dmesg: /'
grep tocpatch /proc/modules | sed 's/^/tocpatch-demo: lsmod: /'
echo "tocpatch-demo: \$ rmmod tocpatch"
tap_check "rmmod tocpatch" rmmod tocpatch
dmesg | grep 'tocpatch: unloaded' | sed 's/^/tocpatch-demo: dmesg: /'
