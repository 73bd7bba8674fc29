// SPDX-License-Identifier: GPL-2.0

//! The engine's pure logic: no kernel types, so that the same files are
//! built into `tocpatch.ko` and tested on the host by `cargo test` (the host
//! crate root is `rust/logic/lib.rs`, which lists the same modules).

// The items are `pub` for the host library; inside the module they are
// crate-internal, which is what `unreachable_pub` would have us spell.
#![allow(unreachable_pub)]
// The instruction encoders, `repair_toc` (the arithmetic the asm shim does,
// as a tested specification), `GlobalEntry::toc` and a few constants are
// used by the host tests only.
#![allow(dead_code)]

pub(crate) mod insn;
pub(crate) mod iptable;
pub(crate) mod shadow;
pub(crate) mod shadow_var;
pub(crate) mod state;
pub(crate) mod symmatch;
pub(crate) mod sysfs;
