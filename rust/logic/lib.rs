// SPDX-License-Identifier: GPL-2.0

//! Host build of tocpatch's pure logic, for `cargo test`.
//!
//! The kernel module includes the same files through `rust/logic.rs`; this
//! root only exists so that they can be built and tested without a kernel.

#![no_std]

#[cfg(test)]
extern crate std;

pub mod insn;
pub mod iptable;
pub mod shadow;
pub mod shadow_var;
pub mod state;
pub mod symmatch;
pub mod sysfs;
