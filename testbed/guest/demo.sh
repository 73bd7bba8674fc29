#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make demo`: tocpatch and the cmdline sample at work.
. /tocpatch/selftests/lib.sh
M=/tocpatch/modules
say() { echo "tocpatch-demo: $*"; }
show() { sed 's/^/tocpatch-demo:     /'; }
# The brackets the host's TAP check (testbed/tap-verdict.sh) expects.
echo "tocpatch-guest: running demo"
tap_plan 5
say "\$ cat /proc/cmdline"
cat /proc/cmdline | show
say "\$ insmod tocpatch.ko"
tap_check "insmod tocpatch.ko" insmod $M/tocpatch.ko
say "\$ insmod tocpatch_sample_cmdline.ko"
tap_check "insmod tocpatch_sample_cmdline.ko" insmod $M/tocpatch_sample_cmdline.ko
say "\$ cat /proc/cmdline"
cat /proc/cmdline | show
say "\$ cat /sys/kernel/debug/tocpatch/status"
cat /sys/kernel/debug/tocpatch/status | show
say "\$ grep . /sys/kernel/tocpatch/tocpatch_sample_cmdline/vmlinux/cmdline_proc_show,1/*"
grep . /sys/kernel/tocpatch/tocpatch_sample_cmdline/vmlinux/cmdline_proc_show,1/* | show
say "\$ echo 0 > /sys/kernel/tocpatch/tocpatch_sample_cmdline/enabled"
tap_check "disable" sh -c "echo 0 >/sys/kernel/tocpatch/tocpatch_sample_cmdline/enabled"
say "\$ cat /proc/cmdline"
cat /proc/cmdline | show
say "\$ rmmod tocpatch_sample_cmdline tocpatch"
tap_check "rmmod sample" rmmod tocpatch_sample_cmdline
tap_check "rmmod tocpatch" rmmod tocpatch
dmesg | grep 'tocpatch' | sed 's/^/tocpatch-demo: dmesg: /'
echo "tocpatch-guest: end demo status $((__tap_fail != 0))"
