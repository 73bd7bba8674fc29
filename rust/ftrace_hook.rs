// SPDX-License-Identifier: GPL-2.0

//! The ftrace hookup: one `ftrace_ops` per patched function (per
//! [`Site`]: however many patches are stacked on it), filtered on its
//! address, with the callback that classifies each call and redirects it
//! to the replacement of the site's top target.
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
//! hot path cannot recurse (it calls no kernel code, only our own
//! assembly); its cold paths take ftrace's recursion guard themselves.

use kernel::{
    bindings, ffi,
    prelude::*,
    sync::atomic::{Atomic, AtomicType},
    sync::Arc,
    types::Opaque,
};

use crate::asm_shim::{self, Env};
use crate::glue;
use crate::logic::insn::{reloads_toc, CallKind};
use crate::logic::shadow::Frame;
use crate::shadow;
use crate::site::Site;
use crate::target::{Target, TOC_SAVE_SLOT};
use crate::trampoline;

/// The registration of a [`Site`]'s hook: while a `Hook` exists, ftrace
/// calls [`tocpatch_ftrace_handler`] for the site's function; dropping it
/// unregisters the hook, and ftrace has then finished every callback (our
/// ops are not core kernel data, so ftrace treats them as dynamic and
/// waits for callbacks in flight). The hook holds a reference on the
/// site, so the site outlives the registration. How sites are hooked is
/// this file's business alone: today one `ftrace_ops` per site, owned by
/// its hook.
pub(crate) struct Hook {
    /// Freed by `drop` once unregistered; leaked if ftrace refuses.
    ops: core::mem::ManuallyDrop<KBox<Opaque<bindings::ftrace_ops>>>,
    site: Arc<Site>,
}

// SAFETY: the ops are only touched by ftrace (which serialises its own use
// of them) while registered, and by `register` and `drop`, which own the
// hook; nothing in it is tied to a CPU or task.
unsafe impl Send for Hook {}

impl Hook {
    /// Registers a hook on `site`'s function. Logs one line naming the
    /// function if ftrace refuses.
    pub(crate) fn register(site: &Arc<Site>) -> Result<Self> {
        let ops_box: KBox<Opaque<bindings::ftrace_ops>> = KBox::new(Opaque::zeroed(), GFP_KERNEL)?;
        let ip = site.ip;
        let ops = ops_box.get();
        // SAFETY: `ops` is ours and not registered, so nothing else reads
        // or writes it.
        unsafe {
            (*ops).func = Some(tocpatch_ftrace_handler);
            (*ops).flags = bindings::FTRACE_OPS_FL_IPMODIFY as ffi::c_ulong;
            (*ops).private = Arc::as_ptr(site).cast_mut().cast();
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
                site.name(),
                why,
                r
            );
            // SAFETY: not registered; frees whatever the filter call
            // allocated.
            unsafe { bindings::ftrace_free_filter(ops) };
            return Err(Error::from_errno(r));
        }
        // SAFETY: `ops` is valid and filtered; it (boxed) and the site (an
        // Arc, which never moves its contents) stay allocated while the
        // hook exists.
        let r = unsafe { bindings::register_ftrace_function(ops) };
        if r != 0 {
            pr_err!(
                "{}: register_ftrace_function failed: {} (-16: another ftrace user that modifies the IP, such as a kprobe with a post_handler, is on it)\n",
                site.name(),
                r
            );
            // SAFETY: not registered.
            unsafe { bindings::ftrace_free_filter(ops) };
            return Err(Error::from_errno(r));
        }
        Ok(Hook {
            ops: core::mem::ManuallyDrop::new(ops_box),
            site: site.clone(),
        })
    }
}

impl Drop for Hook {
    fn drop(&mut self) {
        let ops = self.ops.get();
        // SAFETY: registered by `register`, and only this hook unregisters.
        let r = unsafe { bindings::unregister_ftrace_function(ops) };
        if r != 0 {
            // ftrace refuses (-ENODEV after ftrace_kill()) and keeps calling
            // the ops: they, their site and the callback's code must stay
            // for good (design.rst, "ftrace_kill()"). The site's stack is
            // empty by now (a hook goes with its last target), so the
            // callback only repairs r2.
            pr_err!(
                "{}: unregister_ftrace_function failed: {}: the hook stays, and tocpatch with it\n",
                self.site.name(),
                r
            );
            core::mem::forget(self.site.clone());
            // SAFETY: plain call; our own module is live (we are running in it).
            unsafe { glue::tocpatch_pin_self() };
            return;
        }
        // SAFETY: no longer registered: the filter can go, then the ops,
        // which nothing uses any more.
        unsafe {
            bindings::ftrace_free_filter(ops);
            core::mem::ManuallyDrop::drop(&mut self.ops);
        }
    }
}

/// A plain (`READ_ONCE`) load of an atomic: the kernel crate's `load` is a
/// call to a C helper, too much for the hot path.
#[inline(always)]
fn read_once<T: AtomicType + Copy>(a: &Atomic<T>) -> T {
    // SAFETY: `as_ptr` is valid and aligned; a volatile load of an aligned
    // word is what `READ_ONCE` (and a relaxed atomic load) is.
    unsafe { core::ptr::read_volatile(a.as_ptr()) }
}

/// The ftrace callback of every patched function.
///
/// Runs for each call of the function, in whatever context the call
/// happens, with the function's arguments in `fregs` and nothing allocated.
/// Classifies with the site's delta first (r2 must be repaired whatever
/// happens), then reads the top target of the site's stack and redirects
/// to it; with an empty stack, or a nop on top, the original runs. Its hot
/// path calls only tocpatch's own assembly (classification, per-CPU adds),
/// which ftrace does not trace: it cannot recurse into a patched function.
/// The cold paths that call kernel code (the reports made once per
/// function, the late-call clock of a disable) take ftrace's recursion
/// guard, and do nothing when it is taken.
///
/// The callback may be preempted (ftrace calls it with preemption on where
/// the ftrace mode allows): a target it read stays valid because a target
/// taken off a site that stays hooked is dropped only after
/// `synchronize_rcu_tasks_rude()` and `synchronize_rcu_tasks()`, as ftrace
/// itself waits for the callbacks of dynamic ops (the lifetime rule of
/// `site.rs`).
///
/// # Safety
///
/// Only ftrace calls this, for an ops registered by [`Hook::register`]
/// (whose hook keeps the site alive until ftrace is done with it), with
/// the `ftrace_regs` of its `ftrace_caller` (or `ftrace_regs_caller`)
/// frame as `fregs`.
unsafe extern "C" fn tocpatch_ftrace_handler(
    _ip: ffi::c_ulong,
    _parent_ip: ffi::c_ulong,
    op: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: `private` was set to the hook's site at registration, and
    // the hook's reference keeps it alive while the ops are registered.
    let site = unsafe { &*(*op).private.cast::<Site>() };
    // On powerpc, ftrace_regs is the pt_regs of the ftrace caller's frame
    // (struct __arch_ftrace_regs); with WITH_ARGS only some of it is filled
    // in: r0 as `link`, r1, r3..r10 and nip, which is all we touch.
    let regs = fregs.cast::<bindings::pt_regs>();
    // SAFETY: `regs` is that frame's pt_regs, as the shim requires. First,
    // before anything can fail: the TOC must be repaired whatever happens.
    let (kind, toc, env) = unsafe { asm_shim::classify_call(regs, site.delta) };
    if kind == CallKind::Global && read_once(&site.markers_out_ns) != 0 {
        // SAFETY: `regs` is valid for the duration of the callback.
        let link = unsafe { (*regs).__bindgen_anon_1.__bindgen_anon_1.link };
        guarded(site.ip, link, || site.note_late_global());
    }
    // A nop target on top (atomic replace, for the step's duration): the
    // original runs.
    // SAFETY: the target is used only within this callback (the lifetime
    // rule above).
    if let Some(t) = unsafe { site.top() }.filter(|t| !t.is_nop()) {
        // SAFETY: `regs` is valid for the duration of the callback.
        unsafe { redirect(t, kind, toc, &env, regs) };
    }
}

/// Runs `f` under ftrace's recursion guard (for the callback's cold paths,
/// which call kernel code); skips it if the guard is taken. `ip` (the
/// patched function) and `parent` (the call's return address) name the call
/// for ftrace's recursion record: the callback's own `ip` and `parent_ip`
/// would have to be kept live across the whole hot path for it.
#[cold]
fn guarded(ip: u64, parent: usize, f: impl FnOnce()) {
    // SAFETY: plain call of ftrace's recursion guard; it disables
    // preemption until the matching unlock.
    let bit =
        unsafe { glue::tocpatch_recursion_trylock(ip as ffi::c_ulong, parent as ffi::c_ulong) };
    if bit >= 0 {
        f();
        // SAFETY: `bit` came from the trylock above.
        unsafe { glue::tocpatch_recursion_unlock(bit) };
    }
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
                guarded(t.global_entry, r.link, || t.report_fallback(e));
                return;
            }
        },
    }
    // SAFETY: `env` is this live ftrace frame's (our contract).
    unsafe { env.set_exit_r2(t.new_func) };
    r.nip = trampoline::entry_tramp() as usize;
}
