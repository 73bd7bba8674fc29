// SPDX-License-Identifier: GPL-2.0

//! The ftrace hookup: one `ftrace_ops` per patched function, filtered on
//! its address, with the callback that classifies each call and redirects
//! it to the replacement.
//!
//! The ops use `FTRACE_OPS_FL_IPMODIFY` alone, as livepatch does on
//! architectures with `DYNAMIC_FTRACE_WITH_ARGS`: ftrace then calls them from
//! `ftrace_caller`, whose `pt_regs` hold r0 (`link`), r1, r3..r10 and the
//! nip, and whose exit path loads r0 from `link`, r2 from the frame's
//! `STK_GOT` slot and branches to nip. That is all the redirection needs
//! (see `arch_powerpc_asm/trampolines.S`). `ftrace_regs_caller`, used when
//! another ops on the same function asks for all registers, does the same
//! and more. Not asking for them matters: `ftrace_regs_caller` also reloads
//! r13 (the paca) from its `pt_regs`, which is stale if the task migrated
//! to another CPU while in there.
//!
//! The ops do not ask ftrace for recursion protection: ftrace would skip the
//! callback on recursion and leave a marked (odd) TOC in r2. The callback
//! takes ftrace's recursion guard itself and, on recursion, repairs the TOC
//! but redirects nothing.

use kernel::{bindings, ffi, prelude::*, sync::atomic::Relaxed, types::Opaque};

use crate::asm_shim;
use crate::glue;
use crate::logic::insn::{reloads_toc, CallKind};
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
            (*ops).flags = bindings::FTRACE_OPS_FL_IPMODIFY as ffi::c_ulong;
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
/// happens, with the function's arguments in `fregs` and nothing allocated.
///
/// # Safety
///
/// Only ftrace calls this, for an ops registered by [`Hook::register`],
/// with the `ftrace_regs` of its `ftrace_caller` (or `ftrace_regs_caller`)
/// frame as `fregs`.
unsafe extern "C" fn tocpatch_ftrace_handler(
    ip: ffi::c_ulong,
    parent_ip: ffi::c_ulong,
    op: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: `private` was set to the owning target at registration and
    // the target outlives the registration.
    let t = unsafe { &*(*op).private.cast::<Target>() };
    // On powerpc, ftrace_regs is the pt_regs of the ftrace caller's frame
    // (struct __arch_ftrace_regs); with WITH_ARGS only some of it is filled
    // in: r0 as `link`, r1, r3..r10 and nip, which is all we touch.
    let regs = fregs.cast::<bindings::pt_regs>();
    // SAFETY: `regs` is that frame's pt_regs, as the shim requires. First,
    // before anything can fail: the TOC must be repaired whatever happens.
    let (kind, toc) = unsafe { asm_shim::classify_call(regs, t.delta) };
    let c = &t.counters;
    c.calls.add(1, Relaxed);
    // SAFETY: plain call of ftrace's recursion guard; it disables
    // preemption until the matching unlock.
    let bit = unsafe { glue::tocpatch_recursion_trylock(ip, parent_ip) };
    if bit < 0 {
        // The callback recursed (something on its path is patched): B itself
        // runs, with the TOC repaired above.
        c.fallback.add(1, Relaxed);
        t.report_recursion();
        return;
    }
    // SAFETY: `regs` is valid for the duration of the callback.
    unsafe { redirect(t, kind, toc, regs) };
    // SAFETY: `bit` came from the trylock above.
    unsafe { glue::tocpatch_recursion_unlock(bit) };
}

/// Counts a global call that arrived after `t`'s markers were taken out
/// (a diagnostic: only tasks that were between the marked prologue and the
/// hook at that moment should).
#[inline(always)]
fn note_late_global(t: &Target) {
    let c = &t.counters;
    let out = c.markers_out_ns.load(Relaxed);
    if out == 0 {
        return;
    }
    // SAFETY: plain clock read, safe in any context.
    let now = unsafe { bindings::ktime_get_mono_fast_ns() };
    c.late_global.add(1, Relaxed);
    let after = now.saturating_sub(out);
    if after > c.late_max_ns.load(Relaxed) {
        c.late_max_ns.store(after, Relaxed);
    }
}

/// Sends the call that reached `t`'s hook to `t`'s replacement, with a
/// shadow frame if its return must come back through the return trampoline;
/// leaves it alone (B runs) if the shadow stack cannot take the frame.
///
/// # Safety
///
/// `regs` must be the `pt_regs` of the live ftrace frame of this call, and
/// `kind`, `toc` what the classification shim said of it.
#[inline(always)]
unsafe fn redirect(t: &Target, kind: CallKind, toc: u64, regs: *mut bindings::pt_regs) {
    let c = &t.counters;
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
        CallKind::Global => {
            c.global.add(1, Relaxed);
            note_late_global(t);
            // SAFETY: `link` is this call's return address: the instruction
            // after the caller's branch-and-link, in kernel or module text
            // that stays mapped while the caller runs (or the address of
            // another tracer's return handler, also text).
            let site = unsafe { core::ptr::read_volatile(r.link as *const u32) };
            if !reloads_toc(site) {
                // The caller carries on with the r2 it gets back (an
                // assembly caller, design.rst "When a global call may skip
                // its frame"): give it back B's TOC, as B itself would.
                Some(Frame {
                    ret: r.link as u64,
                    toc,
                    slot: caller_slot(),
                    owner: core::ptr::from_ref(t) as usize,
                })
            } else if t.tail_out {
                // The caller reloads r2 from its slot, which C's tail call
                // out overwrites: the trampoline puts the slot back.
                let slot = caller_slot();
                Some(Frame {
                    ret: r.link as u64,
                    toc: slot,
                    slot,
                    owner: core::ptr::from_ref(t) as usize,
                })
            } else {
                // The caller reloads its own r2: straight to C and back.
                None
            }
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
    // SAFETY: `regs` is the live ftrace frame's pt_regs (our contract).
    unsafe { asm_shim::set_exit_r2(regs, t.new_func) };
    r.nip = trampoline::entry_tramp() as usize;
}
