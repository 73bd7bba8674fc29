#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Callbacks and modules loaded later: the counterparts of upstream's
# tools/testing/selftests/livepatch/test-callbacks.sh, with our modules
# (tocpatch_test_callbacks_{demo,demo2,mod,busy}). Each scenario acts,
# then compares the kernel log lines of our modules and tocpatch's
# lifecycle lines, in order, with the expected sequence (as upstream's
# check_result; tocpatch has no transition, so upstream's transition
# lines have no counterpart). Then what upstream has no test for: a
# patch enabled before its target module, whose patched function is then
# called locally, globally and through a sibling call and gets the
# replacement, across an unload and a reload of the module. Last, the
# callbacks samples are loaded.

. "$(dirname "$0")/lib.sh"

DEMO=tocpatch_test_callbacks_demo
DEMO2=tocpatch_test_callbacks_demo2
MOD=tocpatch_test_callbacks_mod
BUSY=tocpatch_test_callbacks_busy

tap_plan 31

# lines: the log since the mark, our modules' lines and tocpatch's
# lifecycle lines, without timestamps (and without the function counts of
# "enabled patch").
lines() {
	log_since | sed -n 's/^\[[ 0-9.]*\] //
		s/^\(tocpatch: enabled patch [^:]*\):.*/\1/
		/^tocpatch_test_callbacks_/p
		/^tocpatch: \(enabled patch\|disabled patch\|released patch\|applying patch\|reverting patch\|pre-patch callback failed\|cannot apply\|patch .* replaced by\)/p'
}

# expect NAME: the lines since the mark are those on stdin.
expect() {
	cat >/tmp/cb.want
	lines >/tmp/cb.got
	if cmp -s /tmp/cb.want /tmp/cb.got; then
		tap_ok "$1: log sequence"
	else
		diff /tmp/cb.want /tmp/cb.got | sed 's/^/# /'
		tap_not_ok "$1: log sequence"
	fi
}

disable() {
	disable_patch "$1"
}

LIVE="[MODULE_STATE_LIVE] Normal state"
COMING="[MODULE_STATE_COMING] Full formed, running module_init"
GOING="[MODULE_STATE_GOING] Going away"

load_mod tocpatch >/dev/null

# 1. target module before livepatch
log_mark
load_mod $MOD >/dev/null
load_mod $DEMO >/dev/null
disable $DEMO
unload_mod $DEMO >/dev/null
unload_mod $MOD >/dev/null
expect "target module before patch" <<END
$MOD: ${MOD}_init
$DEMO: pre_patch_callback: vmlinux
$DEMO: pre_patch_callback: $MOD -> $LIVE
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO: post_patch_callback: $MOD -> $LIVE
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: pre_unpatch_callback: $MOD -> $LIVE
$DEMO: post_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: $MOD -> $LIVE
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
$MOD: ${MOD}_exit
END

# 2. module_coming notifier
log_mark
load_mod $DEMO >/dev/null
tap_check "module not loaded: object not patched" \
	grep -q "^  object $MOD patched 0$" "$S"
load_mod $MOD >/dev/null
tap_check "module loaded: object patched" \
	grep -q "^  object $MOD patched 1$" "$S"
disable $DEMO
unload_mod $DEMO >/dev/null
unload_mod $MOD >/dev/null
expect "module_coming notifier" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
tocpatch: applying patch '$DEMO' to loading module '$MOD'
$DEMO: pre_patch_callback: $MOD -> $COMING
$DEMO: post_patch_callback: $MOD -> $COMING
$MOD: ${MOD}_init
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: pre_unpatch_callback: $MOD -> $LIVE
$DEMO: post_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: $MOD -> $LIVE
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
$MOD: ${MOD}_exit
END

# 3. module_going notifier
log_mark
load_mod $MOD >/dev/null
load_mod $DEMO >/dev/null
unload_mod $MOD >/dev/null
tap_check "module gone: object not patched" \
	grep -q "^  object $MOD patched 0$" "$S"
disable $DEMO
unload_mod $DEMO >/dev/null
expect "module_going notifier" <<END
$MOD: ${MOD}_init
$DEMO: pre_patch_callback: vmlinux
$DEMO: pre_patch_callback: $MOD -> $LIVE
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO: post_patch_callback: $MOD -> $LIVE
$MOD: ${MOD}_exit
$DEMO: pre_unpatch_callback: $MOD -> $GOING
tocpatch: reverting patch '$DEMO' on unloading module '$MOD'
$DEMO: post_unpatch_callback: $MOD -> $GOING
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
END

# 4. module_coming and module_going notifiers
log_mark
load_mod $DEMO >/dev/null
load_mod $MOD >/dev/null
unload_mod $MOD >/dev/null
disable $DEMO
unload_mod $DEMO >/dev/null
expect "module_coming and module_going notifiers" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
tocpatch: applying patch '$DEMO' to loading module '$MOD'
$DEMO: pre_patch_callback: $MOD -> $COMING
$DEMO: post_patch_callback: $MOD -> $COMING
$MOD: ${MOD}_init
$MOD: ${MOD}_exit
$DEMO: pre_unpatch_callback: $MOD -> $GOING
tocpatch: reverting patch '$DEMO' on unloading module '$MOD'
$DEMO: post_unpatch_callback: $MOD -> $GOING
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
END

# 5. target module not present
log_mark
load_mod $DEMO >/dev/null
disable $DEMO
unload_mod $DEMO >/dev/null
expect "target module not present" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
END

# 6. pre-patch callback -ENODEV: the enable fails with it, nothing changes.
load_mod $MOD >/dev/null
before=$(cat "$S")
log_mark
out=$(load_mod $DEMO pre_patch_ret=-19) && rc=0 || rc=$?
tap_check "pre_patch -ENODEV fails the enable: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text ENODEV)"
tap_check "nothing changed" [ "$(cat "$S")" = "$before" ]
tap_check "patch module not loaded" mod_absent $DEMO
unload_mod $MOD >/dev/null
# (busybox insmod tries finit_module(), then init_module() when that
# fails: a refused load runs twice.)
expect "pre-patch callback -ENODEV" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: pre-patch callback failed for object 'vmlinux'
$DEMO: pre_patch_callback: vmlinux
tocpatch: pre-patch callback failed for object 'vmlinux'
$MOD: ${MOD}_exit
END

# 7. module_coming + pre-patch callback -ENODEV: the module's load fails
# with it, the patch stays as it was.
log_mark
load_mod $DEMO >/dev/null
echo -19 >/sys/module/$DEMO/parameters/pre_patch_ret
before=$(cat "$S")
out=$(load_mod $MOD) && rc=0 || rc=$?
tap_check "pre_patch -ENODEV fails the module's load: '${out##*: }'" \
	refused_with "$rc" "$out" "$(insmod_errno_text ENODEV)"
tap_check "nothing changed" [ "$(cat "$S")" = "$before" ]
tap_check "target module not loaded" mod_absent $MOD
disable $DEMO
unload_mod $DEMO >/dev/null
expect "module_coming + pre-patch callback -ENODEV" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
tocpatch: applying patch '$DEMO' to loading module '$MOD'
$DEMO: pre_patch_callback: $MOD -> $COMING
tocpatch: pre-patch callback failed for object '$MOD'
tocpatch: cannot apply a patch to loading module '$MOD' (-19): refusing its load
tocpatch: applying patch '$DEMO' to loading module '$MOD'
$DEMO: pre_patch_callback: $MOD -> $COMING
tocpatch: pre-patch callback failed for object '$MOD'
tocpatch: cannot apply a patch to loading module '$MOD' (-19): refusing its load
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
END

# 8. multiple target modules: the busy module's work function, run by its
# init, is the original before the patch and the replacement when the
# module is loaded after the patch (patched before its init runs).
log_mark
load_mod $BUSY >/dev/null
load_mod $DEMO >/dev/null
load_mod $MOD >/dev/null
unload_mod $BUSY >/dev/null
load_mod $BUSY >/dev/null
disable $DEMO
unload_mod $DEMO >/dev/null
unload_mod $MOD >/dev/null
unload_mod $BUSY >/dev/null
expect "multiple target modules" <<END
$BUSY: ${BUSY}_init
$BUSY: tp_busymod_work_func enter
$BUSY: tp_busymod_work_func exit
$DEMO: pre_patch_callback: vmlinux
$DEMO: pre_patch_callback: $BUSY -> $LIVE
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO: post_patch_callback: $BUSY -> $LIVE
tocpatch: applying patch '$DEMO' to loading module '$MOD'
$DEMO: pre_patch_callback: $MOD -> $COMING
$DEMO: post_patch_callback: $MOD -> $COMING
$MOD: ${MOD}_init
$BUSY: ${BUSY}_exit
$DEMO: pre_unpatch_callback: $BUSY -> $GOING
tocpatch: reverting patch '$DEMO' on unloading module '$BUSY'
$DEMO: post_unpatch_callback: $BUSY -> $GOING
tocpatch: applying patch '$DEMO' to loading module '$BUSY'
$DEMO: pre_patch_callback: $BUSY -> $COMING
$DEMO: post_patch_callback: $BUSY -> $COMING
$BUSY: ${BUSY}_init
$DEMO: patched_work_func
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: pre_unpatch_callback: $MOD -> $LIVE
$DEMO: pre_unpatch_callback: $BUSY -> $LIVE
$DEMO: post_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: $MOD -> $LIVE
$DEMO: post_unpatch_callback: $BUSY -> $LIVE
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
$MOD: ${MOD}_exit
$BUSY: ${BUSY}_exit
END

# 9. multiple livepatches
log_mark
load_mod $DEMO >/dev/null
load_mod $DEMO2 >/dev/null
disable $DEMO2
unload_mod $DEMO2 >/dev/null
disable $DEMO
unload_mod $DEMO >/dev/null
expect "multiple patches" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO2: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO2
$DEMO2: post_patch_callback: vmlinux
$DEMO2: pre_unpatch_callback: vmlinux
$DEMO2: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO2
tocpatch: released patch $DEMO2
$DEMO: pre_unpatch_callback: vmlinux
$DEMO: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO
tocpatch: released patch $DEMO
END

# 9b. atomic replace: once the replace patch is enabled, only its own
# callbacks run; the replaced patch gets none, and is released.
log_mark
load_mod $DEMO >/dev/null
load_mod $DEMO2 replace=1 >/dev/null
disable $DEMO2
unload_mod $DEMO2 >/dev/null
out=$(unload_mod $DEMO)
tap_check "atomic replace: the replaced patch module unloads${out:+ ($out)}" [ -z "$out" ]
expect "atomic replace" <<END
$DEMO: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO
$DEMO: post_patch_callback: vmlinux
$DEMO2: pre_patch_callback: vmlinux
tocpatch: enabled patch $DEMO2
$DEMO2: post_patch_callback: vmlinux
tocpatch: patch $DEMO replaced by $DEMO2
tocpatch: released patch $DEMO
$DEMO2: pre_unpatch_callback: vmlinux
$DEMO2: post_unpatch_callback: vmlinux
tocpatch: disabled patch $DEMO2
tocpatch: released patch $DEMO2
END

# 10. (TOC) a patch enabled before its target module: the module's
# functions are patched when it loads; local, global and sibling calls
# get the replacement and keep r2; the same after an unload and a reload.
out=$(load_mod tocpatch_test_late_patch)
tap_check "patch before its target loads${out:+ ($out)}" [ -z "$out" ]
tap_check "target object not patched yet" \
	grep -q '^  object tocpatch_test_target patched 0$' "$S"
for round in "loaded after the patch" "reloaded"; do
	load_mod tocpatch_test_target >/dev/null
	load_mod tocpatch_test_caller >/dev/null
	expect_call "$round: local call" target local 5 1006
	expect_call "$round: global call" caller global 5 1007
	expect_call "$round: sibling call" target tail 5 1007
	unload_mod tocpatch_test_caller >/dev/null
	unload_mod tocpatch_test_target >/dev/null
done
disable tocpatch_test_late_patch
unload_mod tocpatch_test_late_patch >/dev/null
tap_check "all unloaded" mod_absent tocpatch_test_late_patch

# 11. The samples (samples/tocpatch_sample_callbacks_*): the demo first,
# then its targets; the busy module's delayed work runs the replacement.
SD=tocpatch_sample_callbacks_demo
log_mark
load_mod $SD >/dev/null
load_mod tocpatch_sample_callbacks_busymod sleep_ms=0 >/dev/null
load_mod tocpatch_sample_callbacks_mod >/dev/null
sleep 1
tap_check "samples: the busy module's work runs the replacement" \
	log_has "^\[[ 0-9.]*\] $SD: patched_work_func"
tap_check "samples: the late module's callbacks ran at its load" \
	log_has "$SD: post_patch_callback: tocpatch_sample_callbacks_mod -> \\[MODULE_STATE_COMING\\]"
disable $SD
unload_mod $SD >/dev/null
unload_mod tocpatch_sample_callbacks_mod >/dev/null
unload_mod tocpatch_sample_callbacks_busymod >/dev/null

tap_done
