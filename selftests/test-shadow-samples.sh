#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The shadow variable samples (samples/tocpatch_sample_shadow_*.c and
# rust_shadow_sample.rs) on the leaking module tocpatch_sample_shadow_mod
# (period_ms=100: a dummy every 0.1 s, cleanup every 0.3 s, expiry 1.2 s):
#  - fix1 keeps each new dummy's buffer in a shadow variable and frees it
#    with the dummy, destroying every variable it attached; kmemleak scans
#    (with fix1 on, and after the module's exit freed everything through
#    fix1) report no leak involving tocpatch or the samples other than
#    those of the unpatched dummy_alloc (kmemleak misses leaks here: see
#    Documentation/testbed.rst);
#  - fix2, stacked on fix1 as upstream's samples README does, counts the
#    checks of each dummy and frees fix1's buffers through its variables;
#    disabled first, it gives dummy_free back to fix1;
#  - the Rust sample does the same through the safe binding;
#  - tocpatch unloads with no shadow variable left.

. "$(dirname "$0")/lib.sh"

MOD=tocpatch_sample_shadow_mod
KM=/sys/kernel/debug/kmemleak

tap_plan 28

# kmemleak_report FILE: scan, write the suspects' reports to FILE. Several
# scans: kmemleak reports an object only once a scan has seen it unchanged
# since an earlier one. Task stacks are not scanned (stale words there
# hide leaked buffers). kmemleak still misses many of the leaks of the
# unpatched module here, so the check only needs it to report some.
kmemleak_report() {
	echo stack=off >"$KM" && echo scan >"$KM" && echo scan >"$KM" &&
		echo scan >"$KM" && cat "$KM" >"$1"
	echo stack=on >"$KM"
}

# disable_unload NAME: disable through sysfs (lib.sh), then rmmod.
disable_unload() {
	disable_patch "$1" && unload_mod "$1"
}

# The samples log every dummy; keep their (info) lines off the console,
# where they would split the TAP lines (they stay in dmesg).
printk_was=$(cut -f1 /proc/sys/kernel/printk)
echo 5 >/proc/sys/kernel/printk

load_mod tocpatch >/dev/null
# Leaks of earlier tests (their modules' addresses may be ours by now) are
# reported and set aside first.
if [ -e "$KM" ]; then
	kmemleak_report /tmp/kmemleak.txt
	diag "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak.txt) suspect(s) before, set aside"
	grep -A12 '^unreferenced object' /tmp/kmemleak.txt | head -n 26 | sed 's/^/#   /'
	echo clear >"$KM"
fi

# fix1
log_mark
out=$(load_mod $MOD period_ms=100)
tap_check "$MOD loads${out:+ ($out)}" [ -z "$out" ]
sleep 6
tap_check "$MOD allocates dummies" log_has "$MOD: dummy_alloc: dummy @ "
out=$(load_mod tocpatch_sample_shadow_fix1 period_ms=100)
tap_check "fix1 loads${out:+ ($out)}" [ -z "$out" ]
sleep 6
tap_check "fix1's dummy_alloc runs" \
	log_has "tocpatch_sample_shadow_fix1: fix1_dummy_alloc: dummy @ "
tap_check "fix1 frees the buffer of its own dummies through the destructor" \
	log_has "tocpatch_sample_shadow_fix1: leak_dtor: dummy @ [0-9a-f]+, prevented leak @ "
tap_check "fix1 reports the dummies of before the patch as leaked" \
	log_has "tocpatch_sample_shadow_fix1: fix1_dummy_free: dummy @ [0-9a-f]+ leaked!"
if [ -e "$KM" ]; then
	kmemleak_report /tmp/kmemleak.txt
	# Each suspect's first frame in one of our modules: the leaks of the
	# unpatched dummy_alloc are expected; any other frame of ours is not.
	awk '/^unreferenced object/ { if (f != "") print f; f = "none" }
		f == "none" && /\[tocpatch/ { f = $1 " " $2 }
		END { if (f != "") print f }' /tmp/kmemleak.txt |
		sort | uniq -c | sed 's/^/# kmemleak: /'
	# The reports other than the unpatched dummy_alloc's, in full.
	awk '/^unreferenced object/ { if (r != "" && r !~ /dummy_alloc\+/) printf "%s", r; r = "" }
		{ r = r $0 "\n" } END { if (r != "" && r !~ /dummy_alloc\+/) printf "%s", r }' \
		/tmp/kmemleak.txt | head -n 40 | sed 's/^/# /'
	pre=$(grep -c "dummy_alloc+.* \[$MOD\]" /tmp/kmemleak.txt)
	ours=$(awk '/^unreferenced object/ { n++ } /\[tocpatch/ { t[n] = 1 }
		/^ +dummy_alloc\+.*\['$MOD'\]/ { d[n] = 1 }
		END { c = 0; for (i in t) if (!(i in d)) c++; print c }' /tmp/kmemleak.txt)
	# Not a test: kmemleak misses these leaks, from none to all of them.
	diag "kmemleak: $pre leak(s) of the unpatched dummy_alloc reported"
	tap_check "kmemleak: no leak involving tocpatch or the samples but the unpatched dummy_alloc's ($ours)" \
		[ "$ours" = 0 ]
else
	tap_skip "kmemleak: no leak involving tocpatch or the samples" "no $KM"
fi
log_mark
out=$(unload_mod $MOD)
tap_check "$MOD unloads with fix1 on${out:+ ($out)}" [ -z "$out" ]
tap_check "its exit frees the remaining buffers through fix1" \
	log_has "tocpatch_sample_shadow_fix1: leak_dtor: dummy @ [0-9a-f]+, prevented leak @ "
n_alloc=$(dmesg | grep -c "tocpatch_sample_shadow_fix1: fix1_dummy_alloc: dummy @ ")
n_freed=$(dmesg | grep -c "tocpatch_sample_shadow_fix1: leak_dtor: dummy @ .*, prevented leak @ ")
tap_check "every dummy fix1 allocated had its variable destroyed ($n_alloc allocated, $n_freed destroyed)" \
	[ "$n_alloc" = "$n_freed" ]
# Every buffer of fix1's dummies has been freed through its variable now:
# none of them (allocated in fix1's dummy_alloc) may be reported. (The
# leaks of the unpatched module show no module name any more.)
if [ -e "$KM" ]; then
	sleep 6
	kmemleak_report /tmp/kmemleak.txt
	diag "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak.txt) suspect(s) in all"
	grep -B6 '\[tocpatch' /tmp/kmemleak.txt | head -n 24 | sed 's/^/# /'
	tap_check "kmemleak: no leak involving tocpatch or fix1 after fix1 freed all" \
		sh -c "! grep -q '\[tocpatch' /tmp/kmemleak.txt"
else
	tap_skip "kmemleak: no leak after fix1 freed all" "no $KM"
fi
out=$(disable_unload tocpatch_sample_shadow_fix1)
tap_check "fix1 disabled and unloaded${out:+ ($out)}" [ -z "$out" ]

# fix2 on top of fix1 (upstream's samples/livepatch README): both patch
# dummy_free, fix2's wins; fix1's dummy_alloc stays.
log_mark
load_mod $MOD period_ms=100 >/dev/null
load_mod tocpatch_sample_shadow_fix1 period_ms=100 >/dev/null
out=$(load_mod tocpatch_sample_shadow_fix2)
tap_check "fix2 loads on top of fix1${out:+ ($out)}" [ -z "$out" ]
log_mark
sleep 2.5
tap_check "fix2 counts the checks of each dummy in a shadow variable" \
	log_has "tocpatch_sample_shadow_fix2: fix2_dummy_free: dummy @ [0-9a-f]+, check counter = [1-9]"
tap_check "fix2's dummy_free frees fix1's buffers through their variables" \
	log_has "tocpatch_sample_shadow_fix2: leak_dtor: dummy @ [0-9a-f]+, prevented leak @ "
tap_check "fix1's dummy_alloc still runs under fix2" \
	log_has "tocpatch_sample_shadow_fix1: fix1_dummy_alloc: dummy @ "
tap_check "fix1's dummy_free does not run while fix2 is on it" \
	sh -c "! dmesg | tail -n +$((__log_mark + 1)) | grep -q 'tocpatch_sample_shadow_fix1: leak_dtor'"
out=$(disable_unload tocpatch_sample_shadow_fix2)
tap_check "fix2 disabled and unloaded first${out:+ ($out)}" [ -z "$out" ]
log_mark
sleep 2.5
tap_check "then dummy_free is fix1's again" \
	log_has "tocpatch_sample_shadow_fix1: leak_dtor: dummy @ [0-9a-f]+, prevented leak @ "
out=$(unload_mod $MOD)
tap_check "$MOD unloads with fix1 on${out:+ ($out)}" [ -z "$out" ]
out=$(disable_unload tocpatch_sample_shadow_fix1)
tap_check "then fix1 disabled and unloaded${out:+ ($out)}" [ -z "$out" ]

# Rust
log_mark
load_mod $MOD period_ms=100 >/dev/null
out=$(load_mod tocpatch_sample_rust_shadow)
tap_check "Rust shadow sample loads${out:+ ($out)}" [ -z "$out" ]
sleep 2.5
tap_check "Rust sample counts the checks in a ShadowVar<Dummy, AtomicU32>" \
	log_has "tocpatch_sample_rust_shadow: rust_dummy_free: check counter = [1-9]"
tap_check "no dummy freed by the original dummy_free while patched" \
	sh -c "! dmesg | tail -n +$((__log_mark + 1)) | grep -q '$MOD: dummy_free:'"
out=$(unload_mod $MOD)
tap_check "$MOD unloads with the Rust sample on${out:+ ($out)}" [ -z "$out" ]
out=$(disable_unload tocpatch_sample_rust_shadow)
tap_check "Rust sample disabled and unloaded${out:+ ($out)}" [ -z "$out" ]

log_mark
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "no shadow variable was left for tocpatch to free" \
	sh -c "! dmesg | tail -n +$((__log_mark + 1)) | grep -q 'shadow variable(s) left attached'"
echo "$printk_was" >/proc/sys/kernel/printk
tap_done
