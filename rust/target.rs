// SPDX-License-Identifier: GPL-2.0

//! A patch's replacement of one function as the ftrace callback and the
//! return trampoline see it: a [`Target`], in an
//! [`Arc`](kernel::sync::Arc), whose fields are fixed before it goes on
//! its function's site (`site.rs`), except for atomics. A target is
//! redirected to while it is the top of its site's stack.
//! Nothing ever takes `&mut` of a target once it is shared; what the
//! registry changes (hook, marker state, module gone) lives in `patch.rs`,
//! behind its lock.
//!
//! This is a leaf module: `patch.rs`, `site.rs`, `ftrace_hook.rs` and
//! `trampoline.rs` depend on it, and it on none of them (its counters are
//! in `counters.rs`).

use kernel::{prelude::*, str::CString, sync::atomic::Relaxed};

use crate::counters::Counters;
use crate::glue;
use crate::logic::insn::Marker;

/// Offset of the TOC save slot in an ELFv2 stack frame header
/// ([`crate::logic::insn::TOC_SAVE_SLOT`], as a byte offset): the kernel's
/// `STK_GOT` (`asm/ppc_asm.h`), also `R2_STACK_OFFSET`
/// (`asm/text-patching.h`), which [`crate::abi::check_layout`] compares it
/// with when tocpatch loads.
pub(crate) const TOC_SAVE_SLOT: usize = crate::logic::insn::TOC_SAVE_SLOT as usize;

/// What a [`Target`] is made from.
pub(crate) struct TargetInfo {
    pub(crate) name: CString,
    /// The module the function is in, `None` for vmlinux.
    pub(crate) object: Option<CString>,
    pub(crate) tail_out: bool,
    pub(crate) new_func: u64,
    pub(crate) global_entry: u64,
    /// The function's size (kallsyms'), which bounds the search for its
    /// ftrace location.
    pub(crate) size: u64,
    pub(crate) marker: Option<Marker>,
}

/// One patched function.
#[repr(C)]
pub(crate) struct Target {
    /// Replacement's global entry; 0 for a nop target (atomic replace:
    /// the original runs, as livepatch's `klp_func.nop`).
    pub(crate) new_func: u64,
    pub(crate) counters: Counters,
    /// The replacement tail-calls out of its module through a TOC-saving
    /// stub (symbols::tail_calls_out): global calls need a shadow frame too.
    pub(crate) tail_out: bool,
    pub(crate) name: CString,
    /// The module the function is in, `None` for vmlinux.
    pub(crate) object: Option<CString>,
    pub(crate) global_entry: u64,
    /// The function's size (kallsyms').
    pub(crate) size: u64,
    pub(crate) marker: Option<Marker>,
}

// The fields the direct trampoline's fast path reads (direct.S DT_TGT_*).
const _: () = assert!(core::mem::offset_of!(Target, new_func) == 0);
const _: () = assert!(core::mem::offset_of!(Target, counters) == 8);

// SAFETY: every field is immutable after construction or an atomic.
unsafe impl Sync for Target {}
// SAFETY: as above; nothing in it is tied to a CPU or task.
unsafe impl Send for Target {}

impl Target {
    /// Fails only if the per-CPU counters cannot be allocated.
    pub(crate) fn new(info: TargetInfo) -> Result<Self> {
        Ok(Self {
            name: info.name,
            object: info.object,
            tail_out: info.tail_out,
            new_func: info.new_func,
            global_entry: info.global_entry,
            size: info.size,
            marker: info.marker,
            counters: Counters::new()?,
        })
    }

    /// A nop target: calls that find it on top run the original.
    #[inline(always)]
    pub(crate) fn is_nop(&self) -> bool {
        self.new_func == 0
    }

    /// The function's name, for messages.
    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("?")
    }

    /// Gets the fallback of this function's calls logged, once, later: the
    /// call that falls back runs near the end of its task's stack, where
    /// a printk could take more stack than is left. The first fallback
    /// asks `kernel_glue/report.c` for the report, which calls
    /// [`Target::log_fallback`] from process context.
    pub(crate) fn report_fallback(&self) {
        if !self.counters.fallback_flagged.xchg(true, Relaxed) {
            // SAFETY: plain call; safe in any context.
            unsafe { glue::tocpatch_report_kick() };
        }
    }

    /// Logs the fallback, once, if a call has fallen back.
    pub(crate) fn log_fallback(&self) {
        if self.counters.fallback_flagged.load(Relaxed)
            && !self.counters.fallback_logged.xchg(true, Relaxed)
        {
            pr_warn!(
                "{}: no room for a shadow frame (task stack nearly exhausted): running the original function\n",
                self.name()
            );
        }
    }
}
