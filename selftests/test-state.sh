#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Patch states (struct tocpatch_state, livepatch's klp_state): the
# counterparts of upstream's tools/testing/selftests/livepatch/
# test-state.sh, with our modules (tocpatch_test_state{,2,3}: the
# samples/tocpatch_sample_state_fix1.c console loglevel state at version
# 1, 2 and 2, cumulative patches with callbacks only). Each case compares
# the modules' log lines and tocpatch's lifecycle lines, in order, with
# upstream's sequence (no transition lines: tocpatch has no transition;
# replaced patches are released, which our lines say). The incompatible
# case is also bad input: EINVAL, one log line, nothing changed.

. "$(dirname "$0")/lib.sh"

L1=tocpatch_test_state
L2=tocpatch_test_state2
L3=tocpatch_test_state3

tap_plan 13

lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		/^tocpatch_test_state/p
		/^tocpatch: \(enabled patch\|disabled patch\|released patch\|patch .* replaced by\|patch .* is not compatible\)/p'
}

expect() {
	cat >/tmp/st.want
	lines >/tmp/st.got
	if cmp -s /tmp/st.want /tmp/st.got; then
		tap_ok "$1: log sequence"
	else
		diff /tmp/st.want /tmp/st.got | sed 's/^/# /'
		tap_not_ok "$1: log sequence"
	fi
}

loglevel() {
	cut -f1 /proc/sys/kernel/printk
}

load_mod tocpatch >/dev/null
orig=$(loglevel)

# 1. system state modification
log_mark
load_mod $L1 >/dev/null
tap_check "the patch raised the console loglevel ($(loglevel))" [ "$(loglevel)" = 15 ]
disable_patch $L1
unload_mod $L1 >/dev/null
tap_check "and put it back ($(loglevel))" [ "$(loglevel)" = "$orig" ]
expect "system state modification" <<END
$L1: pre_patch_callback: vmlinux
$L1: allocate_loglevel_state: allocating space to store console_loglevel
tocpatch: enabled patch $L1
$L1: post_patch_callback: vmlinux
$L1: fix_console_loglevel: fixing console_loglevel
$L1: pre_unpatch_callback: vmlinux
$L1: restore_console_loglevel: restoring console_loglevel
$L1: post_unpatch_callback: vmlinux
$L1: free_loglevel_state: freeing space for the stored console_loglevel
tocpatch: disabled patch $L1
tocpatch: released patch $L1
END

# 2. taking over system state modification
log_mark
load_mod $L1 >/dev/null
load_mod $L2 >/dev/null
unload_mod $L1 >/dev/null
disable_patch $L2
unload_mod $L2 >/dev/null
tap_check "taken over, then put back ($(loglevel))" [ "$(loglevel)" = "$orig" ]
expect "taking over system state modification" <<END
$L1: pre_patch_callback: vmlinux
$L1: allocate_loglevel_state: allocating space to store console_loglevel
tocpatch: enabled patch $L1
$L1: post_patch_callback: vmlinux
$L1: fix_console_loglevel: fixing console_loglevel
$L2: pre_patch_callback: vmlinux
$L2: allocate_loglevel_state: space to store console_loglevel already allocated
tocpatch: enabled patch $L2
$L2: post_patch_callback: vmlinux
$L2: fix_console_loglevel: taking over the console_loglevel change
tocpatch: patch $L1 replaced by $L2
tocpatch: released patch $L1
$L2: pre_unpatch_callback: vmlinux
$L2: restore_console_loglevel: restoring console_loglevel
$L2: post_unpatch_callback: vmlinux
$L2: free_loglevel_state: freeing space for the stored console_loglevel
tocpatch: disabled patch $L2
tocpatch: released patch $L2
END

# 3. compatible cumulative livepatches
log_mark
load_mod $L2 >/dev/null
load_mod $L3 >/dev/null
unload_mod $L2 >/dev/null
load_mod $L2 >/dev/null
disable_patch $L2
unload_mod $L2 >/dev/null
out=$(unload_mod $L3)
tap_check "the replaced patch module unloads${out:+ ($out)}" [ -z "$out" ]
expect "compatible cumulative livepatches" <<END
$L2: pre_patch_callback: vmlinux
$L2: allocate_loglevel_state: allocating space to store console_loglevel
tocpatch: enabled patch $L2
$L2: post_patch_callback: vmlinux
$L2: fix_console_loglevel: fixing console_loglevel
$L3: pre_patch_callback: vmlinux
$L3: allocate_loglevel_state: space to store console_loglevel already allocated
tocpatch: enabled patch $L3
$L3: post_patch_callback: vmlinux
$L3: fix_console_loglevel: taking over the console_loglevel change
tocpatch: patch $L2 replaced by $L3
tocpatch: released patch $L2
$L2: pre_patch_callback: vmlinux
$L2: allocate_loglevel_state: space to store console_loglevel already allocated
tocpatch: enabled patch $L2
$L2: post_patch_callback: vmlinux
$L2: fix_console_loglevel: taking over the console_loglevel change
tocpatch: patch $L3 replaced by $L2
tocpatch: released patch $L3
$L2: pre_unpatch_callback: vmlinux
$L2: restore_console_loglevel: restoring console_loglevel
$L2: post_unpatch_callback: vmlinux
$L2: free_loglevel_state: freeing space for the stored console_loglevel
tocpatch: disabled patch $L2
tocpatch: released patch $L2
END

# 4. incompatible cumulative livepatches: EINVAL, one log line, nothing
# changed.
log_mark
load_mod $L2 >/dev/null
before=$(cat "$S")
mark=$__log_mark
log_mark
out=$(load_mod $L1) && rc=0 || rc=$?
tap_check "version 1 over version 2 is refused with EINVAL: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text EINVAL)"
n=$(log_since | grep -c 'tocpatch: ')
# (busybox insmod tries finit_module(), then init_module(): two tries.)
tap_check "one log line per try ($n lines for 2 tries)" [ "$n" = 2 ]
tap_check "nothing changed" [ "$(cat "$S")" = "$before" ]
tap_check "the loglevel is still raised ($(loglevel))" [ "$(loglevel)" = 15 ]
__log_mark=$mark
disable_patch $L2
unload_mod $L2 >/dev/null
expect "incompatible cumulative livepatches" <<END
$L2: pre_patch_callback: vmlinux
$L2: allocate_loglevel_state: allocating space to store console_loglevel
tocpatch: enabled patch $L2
$L2: post_patch_callback: vmlinux
$L2: fix_console_loglevel: fixing console_loglevel
tocpatch: patch $L1 is not compatible with the enabled patches: state 1 of patch $L2 is at version 2
tocpatch: patch $L1 is not compatible with the enabled patches: state 1 of patch $L2 is at version 2
$L2: pre_unpatch_callback: vmlinux
$L2: restore_console_loglevel: restoring console_loglevel
$L2: post_unpatch_callback: vmlinux
$L2: free_loglevel_state: freeing space for the stored console_loglevel
tocpatch: disabled patch $L2
tocpatch: released patch $L2
END

# The samples: the same states, fix2 taking over from fix1.
load_mod tocpatch_sample_state_fix1 >/dev/null
load_mod tocpatch_sample_state_fix2 >/dev/null
unload_mod tocpatch_sample_state_fix1 >/dev/null
disable_patch tocpatch_sample_state_fix2
unload_mod tocpatch_sample_state_fix2 >/dev/null
tap_check "samples: fix2 took over from fix1, all unloaded, loglevel back ($(loglevel))" \
	sh -c "[ '$(loglevel)' = '$orig' ] && ! grep -q tocpatch_sample_state /proc/modules"
tap_done
