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
//! callback on recursion and leave a marked (odd) TOC in r2. The callback's
//! hot path cannot recurse (it calls no kernel code); its cold paths take
//! ftrace's recursion guard themselves.

use kernel::{
    bindings, ffi,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
    sync::Arc,
};

use crate::asm_shim::{self, Env};
use crate::glue;
use crate::logic::insn::{reloads_toc, CallKind};
use crate::logic::shadow::Frame;
use crate::shadow;
use crate::target::{Target, TOC_SAVE_SLOT};
use crate::trampoline;

/// The registration of a [`Target`]'s `ftrace_ops`: while a `Hook` exists,
/// ftrace calls [`tocpatch_ftrace_handler`] for the target's function;
/// dropping it unregisters the ops, and ftrace has then finished every
/// callback (our ops are not core kernel data, so ftrace treats them as
/// dynamic and waits for callbacks in flight). The hook holds a reference
/// on the target, so the target, ops included, outlives the registration;
/// and at most one hook exists per target.
pub(crate) struct Hook {
    target: Arc<Target>,
}

impl Hook {
    /// Registers `target`'s ops on its function. Logs one line naming the
    /// function if ftrace refuses.
    pub(crate) fn register(target: &Arc<Target>) -> Result<Self> {
        if target.hooked.cmpxchg(false, true, Relaxed).is_err() {
            return Err(EBUSY);
        }
        let ip = target.global_entry;
        let ops = target.ops.get();
        // SAFETY: `ops` is not registered (`hooked` was false and we set
        // it), so nothing else reads or writes it.
        unsafe {
            (*ops).func = Some(tocpatch_ftrace_handler);
            (*ops).flags = bindings::FTRACE_OPS_FL_IPMODIFY as ffi::c_ulong;
            (*ops).private = Arc::as_ptr(target).cast_mut().cast();
        }
        // SAFETY: `ops` is a valid, unregistered ftrace_ops.
        let r = unsafe { bindings::ftrace_set_filter_ip(ops, ip as ffi::c_ulong, 0, 0) };
        if r != 0 {
            let why = if r == EINVAL.to_errno() {
                " (not an ftrace location: notrace?)"
            } else {
                ""
            };
            pr_err!(
                "{}: ftrace cannot hook it{}: ftrace_set_filter_ip: {}\n",
                target.name(),
                why,
                r
            );
            // SAFETY: not registered; frees whatever the filter call
            // allocated.
            unsafe { Self::reset(target) };
            return Err(Error::from_errno(r));
        }
        // SAFETY: `ops` is valid and filtered; `target` (an Arc, which
        // never moves its contents) stays allocated while the hook keeps
        // its reference.
        let r = unsafe { bindings::register_ftrace_function(ops) };
        if r != 0 {
            pr_err!(
                "{}: register_ftrace_function failed: {} (-16: another ftrace user that modifies the IP, such as a kprobe with a post_handler, is on it)\n",
                target.name(),
                r
            );
            // SAFETY: not registered.
            unsafe { Self::reset(target) };
            return Err(Error::from_errno(r));
        }
        Ok(Hook {
            target: target.clone(),
        })
    }

    /// Frees the ops' filter, clears the ops and lets another hook
    /// register them.
    ///
    /// # Safety
    ///
    /// The ops must not be registered.
    unsafe fn reset(target: &Target) {
        let ops = target.ops.get();
        // SAFETY: not registered (our contract), so the filter can go and
        // the ops be rewritten.
        unsafe {
            bindings::ftrace_free_filter(ops);
            core::ptr::write_bytes(ops, 0, 1);
        }
        target.hooked.store(false, Relaxed);
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        let ops = self.target.ops.get();
        // SAFETY: registered by `register`, and only this hook unregisters.
        let r = unsafe { bindings::unregister_ftrace_function(ops) };
        if r != 0 {
            pr_err!(
                "{}: unregister_ftrace_function failed: {}\n",
                self.target.name(),
                r
            );
        }
        // SAFETY: no longer registered.
        unsafe { Self::reset(&self.target) };
    }
}

/// A plain (`READ_ONCE`) load of an atomic: the kernel crate's `load` is a
/// call to a C helper, too much for the hot path.
#[inline(always)]
fn read_once<T: kernel::sync::atomic::AtomicType + Copy>(a: &Atomic<T>) -> T {
    // SAFETY: `as_ptr` is valid and aligned; a volatile load of an aligned
    // word is what `READ_ONCE` (and a relaxed atomic load) is.
    unsafe { core::ptr::read_volatile(a.as_ptr()) }
}

/// The ftrace callback of every patched function.
///
/// Runs for each call of the function, in whatever context the call
/// happens, with the function's arguments in `fregs` and nothing allocated.
/// Its hot path calls only tocpatch's own assembly (classification,
/// per-CPU adds), which ftrace does not trace: it cannot recurse into a
/// patched function. The cold paths that call kernel code (the reports
/// made once per function, the late-call clock of a disable) take ftrace's
/// recursion guard, and do nothing when it is taken.
///
/// # Safety
///
/// Only ftrace calls this, for an ops registered by [`Hook::register`]
/// (whose hook keeps the target alive until ftrace is done with it), with
/// the `ftrace_regs` of its `ftrace_caller` (or `ftrace_regs_caller`)
/// frame as `fregs`.
unsafe extern "C" fn tocpatch_ftrace_handler(
    _ip: ffi::c_ulong,
    _parent_ip: ffi::c_ulong,
    op: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: `private` was set to the owning target at registration, and
    // the hook's reference keeps it alive while the ops are registered.
    let t = unsafe { &*(*op).private.cast::<Target>() };
    // On powerpc, ftrace_regs is the pt_regs of the ftrace caller's frame
    // (struct __arch_ftrace_regs); with WITH_ARGS only some of it is filled
    // in: r0 as `link`, r1, r3..r10 and nip, which is all we touch.
    let regs = fregs.cast::<bindings::pt_regs>();
    // SAFETY: `regs` is that frame's pt_regs, as the shim requires. First,
    // before anything can fail: the TOC must be repaired whatever happens.
    let (kind, toc, env) = unsafe { asm_shim::classify_call(regs, t.delta) };
    if !read_once(&t.active) {
        // Not (or no longer) enabled: the original runs, r2 repaired.
        return;
    }
    // SAFETY: `regs` is valid for the duration of the callback.
    unsafe { redirect(t, kind, toc, &env, regs) };
}

/// Runs `f` under ftrace's recursion guard (for the callback's cold paths,
/// which call kernel code); skips it if the guard is taken. `t` and `parent`
/// (the call's return address) name the call for ftrace's recursion record:
/// the callback's own `ip` and `parent_ip` would have to be kept live
/// across the whole hot path for it.
#[cold]
fn guarded(t: &Target, parent: usize, f: impl FnOnce()) {
    // SAFETY: plain call of ftrace's recursion guard; it disables
    // preemption until the matching unlock.
    let bit = unsafe {
        glue::tocpatch_recursion_trylock(t.global_entry as ffi::c_ulong, parent as ffi::c_ulong)
    };
    if bit >= 0 {
        f();
        // SAFETY: `bit` came from the trylock above.
        unsafe { glue::tocpatch_recursion_unlock(bit) };
    }
}

/// Counts a global call that arrived after `t`'s markers were taken out
/// (a diagnostic: only tasks that were between the marked prologue and the
/// hook at that moment should).
#[inline(always)]
fn note_late_global(t: &Target, parent: usize) {
    let c = &t.counters;
    let out = read_once(&c.markers_out_ns);
    if out == 0 {
        return;
    }
    guarded(t, parent, || {
        // SAFETY: plain clock read, safe in any context.
        let now = unsafe { bindings::ktime_get_mono_fast_ns() };
        c.late_global.add(1, Relaxed);
        let after = now.saturating_sub(out);
        if after > c.late_max_ns.load(Relaxed) {
            c.late_max_ns.store(after, Relaxed);
        }
    });
}

/// Sends the call that reached `t`'s hook to `t`'s replacement, with a
/// shadow frame if its return must come back through the return trampoline;
/// leaves it alone (B runs) if the shadow stack cannot take the frame.
///
/// # Safety
///
/// `regs` must be the `pt_regs` of the live ftrace frame of this call, and
/// `kind`, `toc`, `env` what the classification shim said of it.
#[inline(always)]
unsafe fn redirect(t: &Target, kind: CallKind, toc: u64, env: &Env, regs: *mut bindings::pt_regs) {
    let c = &t.counters;
    // SAFETY: `regs` is valid for the duration of the callback; the
    // anonymous members are bindgen's view of the user_pt_regs union.
    let r = unsafe { &mut (*regs).__bindgen_anon_1.__bindgen_anon_1 };
    // The caller's TOC save slot, as it is now; only read for calls that
    // get a shadow frame.
    let caller_slot = || {
        let caller_sp = r.gpr[1] as u64;
        // SAFETY: the caller's stack frame header (32 bytes at r1) is always
        // present under the ELFv2 ABI, with its TOC save slot.
        unsafe { core::ptr::read_volatile((caller_sp + TOC_SAVE_SLOT as u64) as *const u64) }
    };
    let frame = match kind {
        CallKind::Global => {
            note_late_global(t, r.link);
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
                    owner: c.owner(),
                })
            } else if t.tail_out {
                // The caller reloads r2 from its slot, which C's tail call
                // out overwrites: the trampoline puts the slot back.
                let slot = caller_slot();
                Some(Frame {
                    ret: r.link as u64,
                    toc: slot,
                    slot,
                    owner: c.owner(),
                })
            } else {
                // The caller reloads its own r2: straight to C and back.
                None
            }
        }
        CallKind::Local => Some(Frame {
            ret: r.link as u64,
            toc,
            slot: caller_slot(),
            owner: c.owner(),
        }),
    };
    match frame {
        None => c.call(kind),
        Some(frame) => match shadow::push(frame, env) {
            Ok(depth) => {
                c.pushed(kind, depth);
                r.link = trampoline::return_tramp() as usize;
            }
            Err(e) => {
                // Not redirected: B itself runs, with the TOC it had.
                c.fell_back(kind);
                guarded(t, r.link, || t.report_fallback(e));
                return;
            }
        },
    }
    // SAFETY: `env` is this live ftrace frame's (our contract).
    unsafe { env.set_exit_r2(t.new_func) };
    r.nip = trampoline::entry_tramp() as usize;
}
