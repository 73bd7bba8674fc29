#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host tests: the engine's pure logic under `cargo test`, plus rustfmt.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --check -- rust/logic/lib.rs
cargo test --quiet 2>&1
