// SPDX-License-Identifier: GPL-2.0

//! Per-function counters, per CPU: the callback and the return trampoline
//! add to this CPU's copy (no atomic read-modify-write on a cache line that
//! other CPUs write), and readers (the status file, sysfs) sum the copies.
//!
//! The per-call adds are `tocpatch_pcpu_add` and `tocpatch_pcpu_pushed`
//! (`arch_powerpc_asm/toc_shim.S`; one call per patched call): r13's
//! `paca->data_offset` plus a larx/stcx. pair on this CPU's word, safe
//! against interrupts and NMIs that count on the same CPU and against
//! migration (the add then lands in the old CPU's copy, which the sum
//! still sees). `depth` is a per-CPU
//! difference: a frame pushed on one CPU and popped on another adds 1 to
//! one copy and -1 to the other, and the sum is right.
//!
//! The address of a function's per-CPU block ([`Counters::owner`]) is also
//! the owner word of its shadow frames: unique while the target lives, and
//! what the return trampoline's pop needs (its `depth` word is at offset 0).

use kernel::{prelude::*, sync::atomic::Atomic};

use crate::glue;
use crate::logic::insn::CallKind;

/// One CPU's copy of a function's counters. The return trampoline
/// (`TP_POP` in `arch_powerpc_asm/trampolines.S`) decrements `depth` at
/// offset 0; the status folds the words in this order.
#[repr(C)]
struct PerCpu {
    /// Frames of this function pushed minus popped on this CPU.
    depth: i64,
    /// Calls through the local entry (even TOC).
    local: u64,
    /// Calls through the marked global entry (odd TOC).
    global: u64,
    /// Calls not redirected: no room for a shadow frame.
    fallback: u64,
    /// Deepest shadow stack seen at a push (the fold takes the maximum).
    peak: u64,
}

const _: () = assert!(core::mem::offset_of!(PerCpu, depth) == 0);
const WORDS: usize = core::mem::size_of::<PerCpu>() / 8;
const LOCAL: usize = core::mem::offset_of!(PerCpu, local);
const GLOBAL: usize = core::mem::offset_of!(PerCpu, global);
const FALLBACK: usize = core::mem::offset_of!(PerCpu, fallback);
const PEAK: usize = core::mem::offset_of!(PerCpu, peak);
// The direct trampoline's fast path counts calls and frames (direct.S
// DT_PCPU_*) in the per-CPU block the first word of a `Counters` points
// to (DT_TGT_PCPU), global calls through the second (DT_TGT_GLOBAL).
const _: () = assert!(LOCAL == 8 && GLOBAL == 16 && PEAK == 32);
const _: () = assert!(core::mem::offset_of!(Counters, pcpu) == 0);
const _: () = assert!(core::mem::offset_of!(Counters, global_word) == 8);

/// The counters summed over every CPU.
pub(crate) struct Sums {
    pub(crate) calls: u64,
    pub(crate) local: u64,
    pub(crate) global: u64,
    pub(crate) fallback: u64,
    pub(crate) depth: i64,
    pub(crate) peak: u64,
}

/// A function's counters: the per-call ones per CPU, and the fallback
/// report's two flags as plain atomics (the late-call check of a disable
/// is per function, on its site: `site.rs`).
#[repr(C)]
pub(crate) struct Counters {
    /// The `__percpu` block: a per-CPU offset, not a pointer to memory.
    pcpu: usize,
    /// `pcpu` plus the offset of `global`: the direct trampoline's fast
    /// path adds this CPU's offset to it in its indexed larx/stcx. pair.
    global_word: usize,
    /// A call fell back (set by the first one; it asks for the report).
    pub(crate) fallback_flagged: Atomic<bool>,
    /// The fallback has been logged (by the deferred report).
    pub(crate) fallback_logged: Atomic<bool>,
}

impl Counters {
    /// Allocates the per-CPU block (zeroed).
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain allocation call.
        let p = unsafe { glue::tocpatch_percpu_alloc(core::mem::size_of::<PerCpu>()) };
        if p.is_null() {
            return Err(ENOMEM);
        }
        Ok(Self {
            pcpu: p as usize,
            global_word: p as usize + GLOBAL,
            fallback_flagged: Atomic::new(false),
            fallback_logged: Atomic::new(false),
        })
    }

    /// The owner word of this function's shadow frames.
    #[inline(always)]
    pub(crate) fn owner(&self) -> usize {
        self.pcpu
    }

    #[inline(always)]
    fn add(&self, off: usize, v: i64) {
        // SAFETY: `pcpu + off` is a word of our live per-CPU block; the
        // shim adds this CPU's offset and touches only that word.
        unsafe { tocpatch_pcpu_add(self.pcpu + off, v) }
    }

    /// The word that counts calls of `kind`.
    #[inline(always)]
    fn calls_of(kind: CallKind) -> usize {
        match kind {
            CallKind::Local => LOCAL,
            CallKind::Global => GLOBAL,
        }
    }

    /// A call of `kind` that needed no shadow frame.
    #[inline(always)]
    pub(crate) fn call(&self, kind: CallKind) {
        self.add(Self::calls_of(kind), 1);
    }

    /// A call of `kind` that pushed a frame, making the task's shadow
    /// stack `depth` deep.
    #[inline(always)]
    pub(crate) fn pushed(&self, kind: CallKind, depth: usize) {
        // SAFETY: the offsets are words of our live per-CPU block; the
        // shim adds this CPU's offset and touches only those words.
        unsafe { tocpatch_pcpu_pushed(self.pcpu, Self::calls_of(kind), depth as u64, PEAK) }
    }

    /// A call of `kind` that ran the original function (no room for its
    /// frame).
    #[cold]
    pub(crate) fn fell_back(&self, kind: CallKind) {
        self.add(Self::calls_of(kind), 1);
        self.add(FALLBACK, 1);
    }

    /// A frame popped (the reference for the return trampoline's own
    /// decrement, used on its slow path).
    ///
    /// # Safety
    ///
    /// `owner` must be the [`Counters::owner`] of a live target.
    pub(crate) unsafe fn popped(owner: usize) {
        // SAFETY: per this function's contract, `owner` is a live block.
        unsafe { tocpatch_pcpu_add(owner, -1) }
    }

    /// The counters summed over every CPU (`peak`: the maximum).
    pub(crate) fn sums(&self) -> Sums {
        let mut w = [0u64; WORDS];
        // SAFETY: our live block of `WORDS` words; `w` has room for them.
        unsafe {
            glue::tocpatch_percpu_fold(
                self.pcpu as *const kernel::ffi::c_void,
                WORDS as u32,
                1 << (PEAK / 8),
                w.as_mut_ptr(),
            )
        };
        let (local, global) = (w[LOCAL / 8], w[GLOBAL / 8]);
        Sums {
            calls: local + global,
            local,
            global,
            fallback: w[FALLBACK / 8],
            depth: w[0] as i64,
            peak: w[PEAK / 8],
        }
    }
}

impl Drop for Counters {
    fn drop(&mut self) {
        // SAFETY: allocated in `new`; the target that owns us is freed only
        // once no callback runs for it and no live task holds its frames.
        unsafe { glue::tocpatch_percpu_free(self.pcpu as *mut kernel::ffi::c_void) };
    }
}

extern "C" {
    fn tocpatch_pcpu_add(p: usize, v: i64);
    fn tocpatch_pcpu_pushed(p: usize, count: usize, depth: u64, peak: usize);
}
