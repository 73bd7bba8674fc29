#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# (g) a vmlinux function: samples/tocpatch_sample_cmdline.ko replaces
# cmdline_proc_show(). seq_file calls it through a function pointer, so
# through its (marked) global entry: every call counts as global.

. "$(dirname "$0")/lib.sh"

PATCHED="this has been live patched by tocpatch"

tap_plan 9

load_mod tocpatch >/dev/null
orig=$(cat /proc/cmdline)
tap_check "unpatched /proc/cmdline is the command line" [ "$orig" != "$PATCHED" ]
out=$(load_mod tocpatch_sample_cmdline)
tap_check "sample patch loads${out:+ ($out)}" [ -z "$out" ]
tap_check "cmdline_proc_show has a toc-relative marker placed" \
	grep -q '^  func cmdline_proc_show prologue toc-relative marker placed ' "$S"
# Anything else in the system may read /proc/cmdline too, so the counters
# only have to grow by at least our reads (one call each); but no call of
# cmdline_proc_show is local (its one caller is seq_file's ->show pointer).
g0=$(field cmdline_proc_show global) l0=$(field cmdline_proc_show local)
tap_check "/proc/cmdline shows the patched text" [ "$(cat /proc/cmdline)" = "$PATCHED" ]
for i in 2 3 4 5; do cat /proc/cmdline >/dev/null; done
g1=$(field cmdline_proc_show global) l1=$(field cmdline_proc_show local)
all_global() {
	[ "$((g1 - g0))" -ge 5 ] && [ "$l1" = "$l0" ]
}
tap_check "our 5 reads were global calls: global $g0 -> $g1, local $l0 -> $l1" all_global
tap_check "disable through sysfs" disable_patch tocpatch_sample_cmdline
tap_check "/proc/cmdline is the original again" [ "$(cat /proc/cmdline)" = "$orig" ]
out=$(unload_mod tocpatch_sample_cmdline)
tap_check "sample patch unloads${out:+ ($out)}" [ -z "$out" ]
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_done
