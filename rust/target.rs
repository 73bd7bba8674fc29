// SPDX-License-Identifier: GPL-2.0

//! A patched function as the ftrace callback and the return trampoline see
//! it: a [`Target`], in an [`Arc`](kernel::sync::Arc), whose fields are
//! fixed before its hook is registered, except for atomics and the
//! `ftrace_ops`, which only ftrace and [`crate::ftrace_hook::Hook`] touch.
//! Nothing ever takes `&mut` of a target once it is shared; what the
//! registry changes (hook, marker state, module gone) lives in `patch.rs`,
//! behind its lock.
//!
//! `patch.rs` and `ftrace_hook.rs` depend on it, and it on none of them
//! (its counters are in `counters.rs`).

use kernel::{
    bindings,
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed},
    types::Opaque,
};

use crate::counters::Counters;
use crate::logic::insn::Marker;
use crate::shadow::PushError;

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
    pub(crate) marker: Option<Marker>,
}

/// One patched function.
pub(crate) struct Target {
    /// The function's `ftrace_ops`. Written only by [`crate::ftrace_hook`]
    /// while it is not registered (`hooked` false), read by ftrace.
    pub(crate) ops: Opaque<bindings::ftrace_ops>,
    /// A [`crate::ftrace_hook::Hook`] has `ops` registered.
    pub(crate) hooked: Atomic<bool>,
    /// Calls are redirected to the replacement only while this is set: from
    /// the moment the enable cannot fail any more until the disable drops
    /// the hook (or finds that it must keep it for a stuck marker).
    /// Otherwise the callback only repairs r2 and the original runs, so a
    /// failed enable never sent a call into the patch module.
    pub(crate) active: Atomic<bool>,
    pub(crate) name: CString,
    /// The module the function is in, `None` for vmlinux.
    pub(crate) object: Option<CString>,
    /// The replacement tail-calls out of its module through a TOC-saving
    /// stub (symbols::tail_calls_out): global calls need a shadow frame too.
    pub(crate) tail_out: bool,
    /// Replacement's global entry.
    pub(crate) new_func: u64,
    pub(crate) global_entry: u64,
    pub(crate) marker: Option<Marker>,
    /// Marker delta, 0 without a marker.
    pub(crate) delta: i64,
    pub(crate) counters: Counters,
}

// SAFETY: every field is immutable after construction or an atomic, except
// `ops`, which is written only while unregistered (by the one `Hook` that
// owns the registration, under the registry lock) and otherwise read by
// ftrace, which serialises its own use of it.
unsafe impl Sync for Target {}
// SAFETY: as above; nothing in it is tied to a CPU or task.
unsafe impl Send for Target {}

impl Target {
    /// Fails only if the per-CPU counters cannot be allocated.
    pub(crate) fn new(info: TargetInfo) -> Result<Self> {
        Ok(Self {
            ops: Opaque::zeroed(),
            hooked: Atomic::new(false),
            active: Atomic::new(false),
            name: info.name,
            object: info.object,
            tail_out: info.tail_out,
            new_func: info.new_func,
            global_entry: info.global_entry,
            delta: info.marker.map_or(0, |m| m.delta),
            marker: info.marker,
            counters: Counters::new()?,
        })
    }

    /// The function's name, for messages.
    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("?")
    }

    /// Reports, once per function, that local calls are falling back.
    pub(crate) fn report_fallback(&self, e: PushError) {
        if !self.counters.fallback_reported.xchg(true, Relaxed) {
            pr_warn!(
                "{}: {}: running the original function\n",
                self.name.to_str().unwrap_or("?"),
                match e {
                    PushError::NoRoom => "no room for a shadow frame (task stack nearly exhausted)",
                    PushError::NoStack => "task has no stack for a shadow frame",
                }
            );
        }
    }
}
