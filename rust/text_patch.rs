// SPDX-License-Identifier: GPL-2.0

//! Placing and removing odd-TOC markers in text.
//!
//! The store itself is `tocpatch_text_write()` (`kernel_glue/text_patch.c`:
//! a writable alias of the page, one aligned store, icache flush), which
//! also checks that the word still holds what we expect, so a word changed
//! behind our back (a kprobe, another patcher) is never overwritten.
//!
//! Ordering, enforced by `patch.rs`: a marker is placed only while the
//! function's ftrace hook is registered, and removed before the hook is,
//! with an RCU-tasks grace period in between (a task preempted inside a
//! marked prologue, before the ftrace call, must get past that call first).

use kernel::{ffi, prelude::*};

use crate::glue;
use crate::logic::insn::{Marker, Width};

fn write(global_entry: u64, m: &Marker, old: u64, new: u64) -> Result {
    let addr = global_entry.wrapping_add(i64::from(m.offset) as u64);
    let width = match m.width {
        Width::Word => 4,
        Width::Doubleword => 8,
    };
    // SAFETY: `addr` is inside the prologue (or TOC word) of a function
    // kallsyms resolved; the C side checks alignment and the old value.
    let r = unsafe { glue::tocpatch_text_write(addr as ffi::c_ulong, width, old, new) };
    if r < 0 {
        pr_err!("text write at {:#x} failed (errno {})\n", addr, r);
        return Err(Error::from_errno(r));
    }
    Ok(())
}

/// Places `m` in the function at `global_entry`.
pub(crate) fn apply(global_entry: u64, m: &Marker) -> Result {
    write(global_entry, m, m.old, m.new)
}

/// Restores the original word.
pub(crate) fn restore(global_entry: u64, m: &Marker) -> Result {
    write(global_entry, m, m.new, m.old)
}
