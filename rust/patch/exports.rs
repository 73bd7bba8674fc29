// SPDX-License-Identifier: GPL-2.0

//! The C exports of `include/tocpatch.h` for patches:
//! `tocpatch_enable_patch()` and `tocpatch_disable_patch()`, errno in,
//! errno out (the shadow-variable exports are in `shadow_var.rs`).
//!
//! Locking: none of its own; see `enable.rs` and `disable.rs`. Both may
//! sleep: process context only (a patch module's init, or kernel code
//! that may sleep).

use kernel::{ffi, prelude::*};

use super::disable::disable;
use super::enable::enable;
use crate::abi::TocpatchPatch;

/// `int tocpatch_enable_patch(struct tocpatch_patch *patch)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_enable_patch(patch: *mut TocpatchPatch) -> ffi::c_int {
    match enable(patch) {
        Ok(()) => 0,
        Err(e) => {
            if e == ENOMEM {
                // The other failures said what they were.
                pr_err!("enable failed: out of memory; nothing changed\n");
            }
            e.to_errno()
        }
    }
}

/// `int tocpatch_disable_patch(struct tocpatch_patch *patch)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_disable_patch(patch: *mut TocpatchPatch) -> ffi::c_int {
    match disable(|p| p.api == patch) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
