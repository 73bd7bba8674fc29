#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tests: the engine's pure logic under `cargo test`, rustfmt over
# every Rust file (the kernel's .rustfmt.toml settings for the kernel-side
# files, which cargo fmt cannot reach: they are not in the host crate), and
# the test bed's own tests (testbed/tests/*.sh, TAP).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check
rustfmt --edition 2021 --config newline_style=Unix --check \
	rust/*.rs include/tocpatch.rs samples/*.rs
cargo test --quiet 2>&1
rc=0
for t in testbed/tests/*.sh; do
	"$t" || rc=1
done
exit $rc
