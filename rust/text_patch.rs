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

fn word(global_entry: u64, m: &Marker) -> (u64, ffi::c_uint) {
    let addr = global_entry.wrapping_add(i64::from(m.offset) as u64);
    let width = match m.width {
        Width::Word => 4,
        Width::Doubleword => 8,
    };
    (addr, width)
}

fn write(global_entry: u64, m: &Marker, old: u64, new: u64) -> Result {
    write_sync(core::ptr::null_mut(), global_entry, m, old, new, true)
}

/// One write; `map` is a batch's page alias, or NULL (mapped for this
/// write alone).
fn write_sync(
    map: *mut glue::TextMap,
    global_entry: u64,
    m: &Marker,
    old: u64,
    new: u64,
    sync: bool,
) -> Result {
    let (addr, width) = word(global_entry, m);
    // SAFETY: `addr` is inside the prologue (or TOC word) of a function
    // kallsyms resolved; the C side checks alignment and the old value;
    // `map` is NULL or a batch's own, not used elsewhere meanwhile.
    let r = unsafe { glue::tocpatch_text_write(map, addr as ffi::c_ulong, width, old, new, sync) };
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

/// A write of many markers with one round of interrupts: [`Batch::apply`]
/// or [`Batch::restore`] each (stored, not yet fetched everywhere), then
/// [`Batch::sync`] once. Consecutive writes to one page share one
/// writable alias of it, dropped with the batch.
pub(crate) struct Batch {
    written: KVec<(u64, Marker, u64)>,
    map: glue::TextMap,
}

impl Batch {
    /// A batch with room for `n` writes.
    pub(crate) fn new(n: usize) -> Result<Self> {
        Ok(Batch {
            written: KVec::with_capacity(n, GFP_KERNEL)?,
            map: glue::TextMap::new(),
        })
    }

    fn add(&mut self, global_entry: u64, m: &Marker, old: u64, new: u64) -> Result {
        if self.written.len() == self.written.capacity() {
            return Err(ENOMEM);
        }
        write_sync(&mut self.map, global_entry, m, old, new, false)?;
        // Room checked above.
        let _ = self.written.push_within_capacity((global_entry, *m, new));
        Ok(())
    }

    /// Places `m` in the function at `global_entry` (see [`apply`]).
    pub(crate) fn apply(&mut self, global_entry: u64, m: &Marker) -> Result {
        self.add(global_entry, m, m.old, m.new)
    }

    /// Takes `m` out of the function at `global_entry` (see [`restore`]).
    pub(crate) fn restore(&mut self, global_entry: u64, m: &Marker) -> Result {
        self.add(global_entry, m, m.new, m.old)
    }

    /// Makes every CPU fetch the words written: one round of interrupts,
    /// then the second store of each (kernel_glue/text_patch.c).
    pub(crate) fn sync(mut self) {
        if self.written.is_empty() {
            return;
        }
        // SAFETY: plain call in process context.
        unsafe { glue::tocpatch_text_sync() };
        for (ge, m, val) in self.written.iter() {
            let (addr, width) = word(*ge, m);
            // SAFETY: as in `write`; a word that changed since is left
            // alone; `map` is this batch's own.
            unsafe {
                glue::tocpatch_text_store_again(&mut self.map, addr as ffi::c_ulong, width, *val)
            };
        }
    }
}

impl Drop for Batch {
    fn drop(&mut self) {
        // SAFETY: the batch's own alias (or none), not used any more.
        unsafe { glue::tocpatch_text_unmap(&mut self.map) };
    }
}
