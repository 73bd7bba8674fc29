#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tocpatch.ko itself: it loads, its Rust code calls the assembly shims and
# checks them (module TOC, asm-offsets against bindgen's pt_regs), it
# unloads and loads again, and the kernel log stays clean. It hooks through
# ftrace direct calls on out-of-line kernels (through callbacks with
# direct=0, and always on -mprofile-kernel ones).

. "$(dirname "$0")/lib.sh"

tap_plan 9

# The path out-of-line kernels hook through: direct calls unless the run
# asks for callbacks (TOCPATCH_PARAMS, lib.sh load_mod).
case ",${TOCPATCH_PARAMS:-}," in
*,direct=0,*) ool_hooks=callbacks ;;
*) ool_hooks="direct calls" ;;
esac

log_mark
out=$(load_mod tocpatch)
tap_check "insmod tocpatch.ko succeeds${out:+ ($out)}" [ -z "$out" ]
tap_check "tocpatch is listed in /proc/modules" mod_loaded tocpatch
tap_check "asm self-test passed at load" \
	log_has "^(\\[[ 0-9.]+\\] )?tocpatch: loaded: ftrace mode (mprofile-kernel, hooks through ftrace callbacks|out-of-line, hooks through ftrace $ool_hooks), asm self-test passed, module TOC 0x[0-9a-f]*[02468ace],"
out=$(unload_mod tocpatch)
tap_check "rmmod tocpatch succeeds${out:+ ($out)}" [ -z "$out" ]
tap_check "tocpatch is gone from /proc/modules" mod_absent tocpatch
tap_check "unload was logged" log_has 'tocpatch: unloaded$'

# A second cycle: nothing left behind by the first one gets in the way.
out=$(load_mod tocpatch; unload_mod tocpatch)
tap_check "second load/unload cycle is clean${out:+ ($out)}" [ -z "$out" ]

# direct=0 asks for the callback path, on either mode.
log_mark
out=$(load_mod tocpatch direct=0; unload_mod tocpatch)
tap_check "load/unload with direct=0 is clean${out:+ ($out)}" [ -z "$out" ]
tap_check "direct=0 hooks through callbacks" \
	log_has 'tocpatch: loaded: ftrace mode [a-z-]*, hooks through ftrace callbacks,'

tap_done
