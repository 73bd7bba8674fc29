#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Shadow variables (tocpatch_shadow_*()), the counterpart of upstream's
# test-shadow-vars.sh: tocpatch_test_shadow_vars.ko runs upstream's
# scenario and must log the same sequence (our names and prefix); then
# what upstream has no test for: a duplicate alloc (NULL, one line, no
# WARN), a failing constructor, freeing an absent variable, calls with
# interrupts off, in hard interrupt context and in a system-reset NMI
# (get works, alloc and free are refused), and variables left attached,
# which tocpatch frees (and counts) when it is unloaded.

. "$(dirname "$0")/lib.sh"

M=tocpatch_test_shadow_vars

tap_plan 14

load_mod tocpatch >/dev/null
log_mark
out=$(load_mod $M leave=3)
tap_check "$M loads${out:+ ($out)}" [ -z "$out" ]

# The module's lines, without timestamps.
log_since | sed -n "s/^\[[ 0-9.]*\] //; /^$M: /p" >/tmp/shvar.log
cat >/tmp/shvar.want <<END
$M: tocpatch_shadow_get(obj=PTR1, id=0x1234) = PTR0
$M:   got expected NULL result
$M: shadow_ctor: PTR3 -> PTR2
$M: tocpatch_shadow_get_or_alloc(obj=PTR1, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR2 = PTR3
$M: shadow_ctor: PTR6 -> PTR5
$M: tocpatch_shadow_alloc(obj=PTR1, id=0x1235, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR5 = PTR6
$M: shadow_ctor: PTR8 -> PTR7
$M: tocpatch_shadow_alloc(obj=PTR9, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR7 = PTR8
$M: shadow_ctor: PTR11 -> PTR10
$M: tocpatch_shadow_alloc(obj=PTR9, id=0x1235, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR10 = PTR11
$M: shadow_ctor: PTR13 -> PTR12
$M: tocpatch_shadow_get_or_alloc(obj=PTR14, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR12 = PTR13
$M: shadow_ctor: PTR16 -> PTR15
$M: tocpatch_shadow_alloc(obj=PTR14, id=0x1235, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR15 = PTR16
$M: tocpatch_shadow_get(obj=PTR1, id=0x1234) = PTR3
$M:   got expected PTR3 -> PTR2 result
$M: tocpatch_shadow_get(obj=PTR1, id=0x1235) = PTR6
$M:   got expected PTR6 -> PTR5 result
$M: tocpatch_shadow_get(obj=PTR9, id=0x1234) = PTR8
$M:   got expected PTR8 -> PTR7 result
$M: tocpatch_shadow_get(obj=PTR9, id=0x1235) = PTR11
$M:   got expected PTR11 -> PTR10 result
$M: tocpatch_shadow_get(obj=PTR14, id=0x1234) = PTR13
$M:   got expected PTR13 -> PTR12 result
$M: tocpatch_shadow_get(obj=PTR14, id=0x1235) = PTR16
$M:   got expected PTR16 -> PTR15 result
$M: tocpatch_shadow_get_or_alloc(obj=PTR1, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR2 = PTR3
$M:   got expected PTR3 -> PTR2 result
$M: tocpatch_shadow_get_or_alloc(obj=PTR9, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR7 = PTR8
$M:   got expected PTR8 -> PTR7 result
$M: tocpatch_shadow_get_or_alloc(obj=PTR14, id=0x1234, size=8, gfp_flags=GFP_KERNEL), ctor=PTR4, ctor_data=PTR12 = PTR13
$M:   got expected PTR13 -> PTR12 result
$M: shadow_dtor(obj=PTR1, shadow_data=PTR3)
$M: tocpatch_shadow_free(obj=PTR1, id=0x1234, dtor=PTR17)
$M: tocpatch_shadow_get(obj=PTR1, id=0x1234) = PTR0
$M:   got expected NULL result
$M: shadow_dtor(obj=PTR9, shadow_data=PTR8)
$M: tocpatch_shadow_free(obj=PTR9, id=0x1234, dtor=PTR17)
$M: tocpatch_shadow_get(obj=PTR9, id=0x1234) = PTR0
$M:   got expected NULL result
$M: shadow_dtor(obj=PTR14, shadow_data=PTR13)
$M: tocpatch_shadow_free(obj=PTR14, id=0x1234, dtor=PTR17)
$M: tocpatch_shadow_get(obj=PTR14, id=0x1234) = PTR0
$M:   got expected NULL result
$M: tocpatch_shadow_get(obj=PTR1, id=0x1235) = PTR6
$M:   got expected PTR6 -> PTR5 result
$M: tocpatch_shadow_get(obj=PTR9, id=0x1235) = PTR11
$M:   got expected PTR11 -> PTR10 result
$M: tocpatch_shadow_get(obj=PTR14, id=0x1235) = PTR16
$M:   got expected PTR16 -> PTR15 result
$M: tocpatch_shadow_free_all(id=0x1235, dtor=PTR0)
$M: tocpatch_shadow_get(obj=PTR1, id=0x1235) = PTR0
$M:   got expected NULL result
$M: tocpatch_shadow_get(obj=PTR9, id=0x1235) = PTR0
$M:   got expected NULL result
$M: tocpatch_shadow_get(obj=PTR14, id=0x1235) = PTR0
$M:   got expected NULL result
END
head -n "$(wc -l </tmp/shvar.want)" /tmp/shvar.log >/tmp/shvar.got
if ! cmp -s /tmp/shvar.want /tmp/shvar.got; then
	diff /tmp/shvar.want /tmp/shvar.got | sed 's/^/# /'
fi
tap_check "upstream's sequence of log lines" cmp -s /tmp/shvar.want /tmp/shvar.got

tap_check "duplicate alloc: NULL, the first variable kept" \
	grep -q "^$M: duplicate alloc: NULL, first variable kept$" /tmp/shvar.log
tap_check "duplicate alloc: one tocpatch log line" \
	[ "$(log_since | grep -c 'tocpatch: duplicate shadow variable <[0-9a-f]*, 1236>: not allocated$')" = 1 ]
tap_check "failing constructor: NULL, nothing attached, one log line" \
	sh -c "grep -q '^$M: failing constructor: NULL, nothing attached$' /tmp/shvar.log &&
		[ \"\$(dmesg | tail -n +$((__log_mark + 1)) | grep -c 'tocpatch: failed to construct shadow variable <[0-9a-f]*, 1236> (-22)$')\" = 1 ]"
tap_check "free of an absent variable calls no destructor (3 calls in all)" \
	sh -c "grep -q '^$M: free of an absent variable: no destructor call$' /tmp/shvar.log &&
		[ \$(grep -c '^$M: shadow_dtor' /tmp/shvar.log) = 3 ]"
tap_check "interrupts off: alloc, get, free" \
	grep -q "^$M: interrupts off: alloc, get, free ok$" /tmp/shvar.log
tap_check "hard interrupt context: alloc, get, free" \
	grep -q "^$M: hard interrupt: alloc, get, free ok$" /tmp/shvar.log
tap_check "NMI context: get works, alloc and free are refused" \
	grep -q "^$M: NMI: get ok, alloc and free refused$" /tmp/shvar.log
tap_check "NMI context: one log line for each refusal" \
	[ "$(log_since | grep -c 'tocpatch: shadow variable <[0-9a-f]*, 123[9a]>: cannot allocate or free in NMI context$')" = 2 ]
tap_check "no WARN, BUG or oops" \
	sh -c "! dmesg | tail -n +$((__log_mark + 1)) | grep -qE 'WARNING:|BUG:|Oops|Call Trace'"
sed 's/^/# /' /tmp/shvar.log | tail -n +$(($(wc -l </tmp/shvar.want) + 1))

out=$(unload_mod $M)
tap_check "$M unloads, its 3 variables stay${out:+ ($out)}" [ -z "$out" ]
log_mark
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_check "tocpatch frees the 3 variables left attached" \
	log_has 'tocpatch: freed 3 shadow variable\(s\) left attached$'
tap_done
