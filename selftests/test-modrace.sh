#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A target module loading or going away while a patch for it is being
# enabled or disabled (issue 8's residue; upstream has no such test).
# TOCPATCH_MODRACE_ROUNDS rounds (default 300): in each, the target module
# (tocpatch_test_target) is loaded or unloaded in the background while, in
# most rounds, a patch of it (tocpatch_test_late_patch, which does not
# link against it, so that either can be loaded alone) is enabled (insmod) or
# disabled and unloaded in the foreground; a busy loop of a length that
# changes from round to round shifts the two against each other. After
# each round, with both done, the state must be consistent:
#   patch enabled, target loaded:   object patched 1, a call gets the
#                                    replacement with r2 intact, the
#                                    marker is in the text;
#   patch enabled, target absent:   object patched 0;
#   patch absent, target loaded:    a call gets the original, no marker
#                                    is left in the target's text.
# Every load and every enable must succeed; an unload of the target may
# only be refused with EAGAIN (an enable holds a reference on its target
# modules while it runs). The runner fails the run on any WARN, BUG or
# oops; kmemleak must find nothing of tocpatch's at the end.

. "$(dirname "$0")/lib.sh"

TGT=tocpatch_test_target
PATCH=tocpatch_test_late_patch
ROUNDS=${TOCPATCH_MODRACE_ROUNDS:-300}
KL=/sys/kernel/debug/kmemleak

tap_plan 11

load_mod tocpatch >/dev/null
[ -w $KL ] && echo clear >$KL

# The outcome of each background action goes to a file: a subshell cannot
# set the parent's variables.
R=/tmp/modrace
rm -f $R.*
: >$R.tload
: >$R.tunload
: >$R.enable
: >$R.disable
: >$R.bad

patch_enabled() {
	[ -f "$SYSFS/$PATCH/enabled" ] && [ "$(cat "$SYSFS/$PATCH/enabled")" = 1 ]
}

spin() {
	__s=0
	while [ $__s -lt "$1" ]; do __s=$((__s + 1)); done
}

bad() {
	echo "round $r: $*" >>$R.bad
}

# odd_tocs: the functions of the target module whose global entry
# computes an odd TOC (an odd-TOC marker: see design.rst), from the
# target's text file (per function, 32 bytes from entry - 8: the offset
# word of the large-model prologue, then the two entry instructions, then
# the ftrace location).
# The text itself differs from load to load (the TOC offset follows the
# module's layout), so it is not compared whole.
odd_tocs() {
	awk '{
		w0 = substr($2, 1, 8); w2 = substr($2, 17, 8); w3 = substr($2, 25, 8)
		b = ""
		if (substr(w2, 5, 4) == "4c3c") b = substr(w3, 2, 1)	# addis r2,r12 / addi r2,r2
		else if (w2 == "f8ff4ce8") b = substr(w0, 2, 1)	# ld r2,-8(r12)
		if (b != "" && index("13579bdf", b)) printf " %s", $1
	}' "$T/text"
}

# check: the state after a round is consistent.
check() {
	tl=0 pe=0
	mod_loaded $TGT && tl=1
	patch_enabled && pe=1
	echo "$pe$tl" >>$R.states
	case $pe$tl in
	11)
		grep -q "^  object $TGT patched 1$" "$S" || bad "enabled, loaded: not patched"
		out=$(call target local 5)
		[ "$out" = "result 1006 toc_ok 1" ] || bad "enabled, loaded: call: $out"
		m=$(odd_tocs)
		[ "$m" = " tp_target_add" ] || bad "enabled, loaded: odd-TOC markers in '$m', want tp_target_add's alone"
		;;
	10)
		grep -q "^  object $TGT patched 0$" "$S" || bad "enabled, not loaded: object not 'patched 0'"
		;;
	01)
		out=$(call target local 5)
		[ "$out" = "result 6 toc_ok 1" ] || bad "disabled, loaded: call: $out"
		m=$(odd_tocs)
		[ -z "$m" ] || bad "disabled, loaded: odd-TOC marker left in$m"
		;;
	esac
}

# The check works: no odd TOC in the unpatched target, tp_target_add's
# with the patch.
load_mod $TGT >/dev/null
m0=$(odd_tocs)
load_mod $PATCH >/dev/null
m1=$(odd_tocs)
disable_patch $PATCH >/dev/null
unload_mod $PATCH >/dev/null
unload_mod $TGT >/dev/null
tap_check "odd TOCs in the target's text: unpatched '$m0', patched '$m1'" \
	[ "$m0|$m1" = "| tp_target_add" ]

r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	d=$(((r * 37) % 23 * 15))
	if mod_loaded $TGT; then
		(spin $d; out=$(unload_mod $TGT) && echo ok >>$R.tunload ||
			echo "$out" >>$R.tunload) &
	else
		(spin $d; out=$(load_mod $TGT) && echo "ok${out:+ $out}" >>$R.tload ||
			echo "$out" >>$R.tload) &
	fi
	bg=$!
	# The patch acts in two rounds of three, so that each target action
	# meets enables and disables.
	if [ $((r % 3)) != 0 ]; then
		if [ -d "$SYSFS/$PATCH" ]; then
			out=$(disable_patch $PATCH) && out=$(unload_mod $PATCH) &&
				echo ok >>$R.disable || echo "disable: $out" >>$R.disable
		else
			out=$(load_mod $PATCH) && echo "ok${out:+ $out}" >>$R.enable ||
				echo "$out" >>$R.enable
		fi
	fi
	wait $bg
	check
done

diag "$ROUNDS rounds; states after a round (patch enabled, target loaded): $(sort $R.states | uniq -c | tr '\n' ' ')"
n_ok() {
	grep -c '^ok$' "$1"
}
others() {
	grep -v '^ok$' "$1" | sort | uniq -c | tr '\n' ';'
}
tap_check "target loads: $(n_ok $R.tload) of $(grep -c . $R.tload) succeeded ($(others $R.tload))" \
	[ "$(n_ok $R.tload)" = "$(grep -c . $R.tload)" ]
refused=$(grep -vc '^ok$' $R.tunload)
only_eagain() {
	! grep -v '^ok$' $R.tunload | grep -qv ": $(errno_text EAGAIN)$"
}
tap_check "target unloads: $(n_ok $R.tunload) of $(grep -c . $R.tunload) succeeded, $refused refused, only with EAGAIN ($(others $R.tunload))" \
	only_eagain
tap_check "patch enables: $(n_ok $R.enable) of $(grep -c . $R.enable) succeeded ($(others $R.enable))" \
	[ "$(n_ok $R.enable)" = "$(grep -c . $R.enable)" ]
tap_check "patch disables and unloads: $(n_ok $R.disable) of $(grep -c . $R.disable) succeeded ($(others $R.disable))" \
	[ "$(n_ok $R.disable)" = "$(grep -c . $R.disable)" ]
nbad=$(grep -c . $R.bad)
[ "$nbad" = 0 ] || head -n 20 $R.bad | sed 's/^/# /'
tap_check "the state after each round is consistent: $nbad inconsistencies" [ "$nbad" = 0 ]
all_kinds() {
	for k in 11 10 01; do grep -qx $k $R.states || return 1; done
}
tap_check "rounds ended in each of the three states with something to check" all_kinds

# Clean up: the patch, then the target, then tocpatch.
[ -d "$SYSFS/$PATCH" ] && disable_patch $PATCH >/dev/null
mod_loaded $PATCH && unload_mod $PATCH >/dev/null
mod_loaded $TGT && unload_mod $TGT >/dev/null
tap_check "no patch left" sh -c "! grep -q '^patch ' $S"
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "no module of the test left" sh -c "! grep -qE '^($TGT|$PATCH|tocpatch) ' /proc/modules"

if [ -w $KL ]; then
	# kmemleak reports objects unreferenced for 5 s or more.
	sleep 6
	scanned=0
	echo scan >$KL && sleep 1 && echo scan >$KL && scanned=1
	leaks=$(grep -c '\[tocpatch' $KL)
	[ "$leaks" = 0 ] || sed 's/^/#   /' $KL | head -n 40
	diag "kmemleak: $(grep -c 'unreferenced object' $KL) unreferenced object(s) in all"
	tap_check "kmemleak scanned: no leak with a frame of tocpatch or its test modules ($leaks frames)" \
		[ "$scanned$leaks" = 10 ]
else
	tap_skip "kmemleak" "no $KL"
fi
tap_done
