#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A patch module written in Rust (samples/rust_sample.rs, through the Rust
# binding include/tocpatch.rs): an ordinary Rust replacement, and (h) a
# Rust replacement that tail-calls out of its module; its object's
# callbacks (ObjectCallbacks) run at enable and disable, in order; its
# patch state (tocpatch::State) and tocpatch::prev_state.

. "$(dirname "$0")/lib.sh"

tap_plan 15

load_mod tocpatch >/dev/null
load_mod tocpatch_test_target >/dev/null
load_mod tocpatch_test_caller >/dev/null

# cb: the sample's callback lines since the mark, on one line.
cb() {
	log_since | sed -n 's/^\[[ 0-9.]*\] tocpatch_sample_rust: \(p[a-z_]*: .*\)/\1/p' |
		tr '\n' ';'
}

log_mark
out=$(load_mod tocpatch_sample_rust)
tap_check "Rust patch module loads${out:+ ($out)}" [ -z "$out" ]
got=$(cb)
tap_check "Rust callbacks at enable: $got" \
	[ "$got" = "pre_patch: tocpatch_test_target;post_patch: tocpatch_test_target;" ]
tap_check "Rust patch state: own version, no previous one (prev_state)" \
	log_has "tocpatch_sample_rust: state 7: version 1, previous 0$"
sed 's/^/# /' "$S"
tap_check "Rust replacement with a plain body is not flagged" \
	grep -q '^  func tp_target_rust .* tail-out 0 ' "$S"
tap_check "(h) Rust replacement's tail call out is detected" \
	grep -q '^  func tp_target_tail_rust .* tail-out 1 ' "$S"
expect_call "Rust replacement, local call" target rust 3 2015
expect_call "Rust replacement, global call" caller rust 3 2015
expect_call "(h) Rust tail call, global call" caller tailrust 4 2004
expect_call "(h) Rust tail call, local call" target tailrust 4 2004
log_mark
tap_check "disable" disable_patch tocpatch_sample_rust
got=$(cb)
tap_check "Rust callbacks at disable: $got" \
	[ "$got" = "pre_unpatch: tocpatch_test_target;post_unpatch: tocpatch_test_target;" ]
expect_call "original again (local)" target rust 3 15
expect_call "original again (global, tail)" caller tailrust 4 12
out=$(unload_mod tocpatch_sample_rust)
tap_check "Rust patch module unloads${out:+ ($out)}" [ -z "$out" ]
unload_mod tocpatch_test_caller >/dev/null
unload_mod tocpatch_test_target >/dev/null
out=$(unload_mod tocpatch)
tap_check "tocpatch unloads${out:+ ($out)}" [ -z "$out" ]
tap_done
