// SPDX-License-Identifier: GPL-2.0

//! The ftrace hookup: one `ftrace_ops` per patched function, filtered on
//! its address, with the callback that classifies each call and redirects
//! it to the replacement.
//!
//! The ops use `FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_IPMODIFY`: the
//! callback then gets the full `pt_regs` of `ftrace_regs_caller`, whose exit
//! path loads r12, r0 (from `link`) and the new nip from them, which the
//! entry trampoline relies on (see `arch_powerpc_asm/trampolines.S`).

use kernel::{bindings, ffi, prelude::*, sync::atomic::Relaxed, types::Opaque};

use crate::asm_shim;
use crate::logic::insn::CallKind;
use crate::logic::shadow::Frame;
use crate::patch::Target;
use crate::shadow;
use crate::trampoline;

/// An `ftrace_ops` owned by a [`Target`].
pub(crate) struct Hook {
    ops: Opaque<bindings::ftrace_ops>,
}

impl Hook {
    pub(crate) fn new() -> Self {
        Self {
            ops: Opaque::zeroed(),
        }
    }

    /// Registers the hook on the function at `ip` for `target`.
    ///
    /// # Safety
    ///
    /// `self` and `target` must stay at their addresses until
    /// [`Hook::unregister`] returned; `self` must not be registered.
    pub(crate) unsafe fn register(&self, ip: u64, target: *const Target) -> Result {
        let ops = self.ops.get();
        // SAFETY: `ops` is ours and not registered, so we may write it.
        unsafe {
            (*ops).func = Some(tocpatch_ftrace_handler);
            (*ops).flags = (bindings::FTRACE_OPS_FL_SAVE_REGS | bindings::FTRACE_OPS_FL_IPMODIFY)
                as ffi::c_ulong;
            (*ops).private = target.cast_mut().cast();
        }
        // SAFETY: `ops` is a valid, unregistered ftrace_ops.
        let r = unsafe { bindings::ftrace_set_filter_ip(ops, ip as ffi::c_ulong, 0, 0) };
        if r != 0 {
            pr_err!("ftrace_set_filter_ip({:#x}) failed: {}\n", ip, r);
            // SAFETY: as above; frees whatever the filter call allocated.
            unsafe { bindings::ftrace_free_filter(ops) };
            return Err(Error::from_errno(r));
        }
        // SAFETY: `ops` is valid and filtered; the caller keeps it in place.
        let r = unsafe { bindings::register_ftrace_function(ops) };
        if r != 0 {
            pr_err!("register_ftrace_function({:#x}) failed: {}\n", ip, r);
            // SAFETY: not registered, so the filter can go.
            unsafe { bindings::ftrace_free_filter(ops) };
            return Err(Error::from_errno(r));
        }
        Ok(())
    }

    /// Unregisters the hook; when this returns the callback no longer runs.
    ///
    /// # Safety
    ///
    /// The hook must be registered.
    pub(crate) unsafe fn unregister(&self) {
        let ops = self.ops.get();
        // SAFETY: registered by `register`.
        let r = unsafe { bindings::unregister_ftrace_function(ops) };
        if r != 0 {
            pr_err!("unregister_ftrace_function failed: {}\n", r);
        }
        // SAFETY: no longer registered.
        unsafe { bindings::ftrace_free_filter(ops) };
    }
}

/// The ftrace callback of every patched function.
///
/// Runs for each call of the function, in whatever context the call
/// happens, with the function's arguments in `regs` and nothing allocated.
///
/// # Safety
///
/// Only ftrace calls this, for an ops registered by [`Hook::register`],
/// with the `pt_regs` of its `ftrace_regs_caller` frame as `fregs`.
unsafe extern "C" fn tocpatch_ftrace_handler(
    _ip: ffi::c_ulong,
    _parent_ip: ffi::c_ulong,
    op: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: `private` was set to the owning target at registration and
    // the target outlives the registration.
    let t = unsafe { &*(*op).private.cast::<Target>() };
    // With FTRACE_OPS_FL_SAVE_REGS on powerpc, ftrace_regs is the full
    // pt_regs of the ftrace_regs_caller frame (arch_ftrace_get_regs()).
    let regs = fregs.cast::<bindings::pt_regs>();
    // SAFETY: `regs` is that frame's pt_regs, as the shim requires.
    let (kind, toc) = unsafe { asm_shim::classify_call(regs, t.delta) };
    let c = &t.counters;
    c.calls.add(1, Relaxed);
    // SAFETY: `regs` is valid for the duration of the callback; the
    // anonymous members are bindgen's view of the user_pt_regs union.
    let r = unsafe { &mut (*regs).__bindgen_anon_1.__bindgen_anon_1 };
    // The caller's TOC save slot, as it is now; only read for calls that
    // get a shadow frame.
    let caller_slot = || {
        let caller_sp = r.gpr[1] as u64;
        // SAFETY: the caller's stack frame header (32 bytes at r1) is always
        // present under the ELFv2 ABI; 24(r1) is its TOC save slot.
        unsafe { core::ptr::read_volatile((caller_sp + 24) as *const u64) }
    };
    let frame = match kind {
        // The caller restores its own r2 from its slot: straight to C and
        // back, unless C's tail call out would overwrite that slot.
        CallKind::Global => {
            c.global.add(1, Relaxed);
            t.tail_out.then(|| {
                let slot = caller_slot();
                Frame {
                    ret: r.link as u64,
                    toc: slot,
                    slot,
                    owner: core::ptr::from_ref(t) as usize,
                }
            })
        }
        CallKind::Local => {
            c.local.add(1, Relaxed);
            Some(Frame {
                ret: r.link as u64,
                toc,
                slot: caller_slot(),
                owner: core::ptr::from_ref(t) as usize,
            })
        }
    };
    if let Some(frame) = frame {
        match shadow::push(frame) {
            Ok(depth) => {
                c.depth.add(1, Relaxed);
                if depth as u64 > c.peak.load(Relaxed) {
                    c.peak.store(depth as u64, Relaxed);
                }
                r.link = trampoline::return_tramp() as usize;
            }
            Err(e) => {
                // Not redirected: B itself runs, with the TOC it had.
                c.fallback.add(1, Relaxed);
                t.report_fallback(e);
                return;
            }
        }
    }
    r.gpr[12] = t.new_func as usize;
    r.nip = trampoline::entry_tramp() as usize;
}
