// SPDX-License-Identifier: GPL-2.0

//! Enable: builds a patch from its description, takes its place in the
//! registry, hooks and marks its functions, and only then activates them.
//!
//! Locking: [`enable`] holds `REGISTRY` from the duplicate checks to the
//! registration (it sleeps: symbol resolution, ftrace, text writes). The
//! target modules are held (a reference each) while their functions are
//! hooked, so none goes half-patched; once the patch is registered, the
//! module notifier (which takes `REGISTRY`) unpatches a module that goes.
//!
//! Enable never lets a call into the patch module before it can no longer
//! fail: hooks are registered and markers placed with the targets
//! inactive (the callback only repairs r2), every allocation is made
//! before that, and only then are the targets activated. So a failure
//! undoes markers and hooks and nothing else: no task ran a replacement.

use kernel::{
    ffi,
    prelude::*,
    str::{CStr, CString},
    sync::atomic::Relaxed,
};

use super::api::{collect, s};
use super::disable::unhook;
use super::{Func, Patch, Why, REGISTRY};
use crate::abi::TocpatchPatch;
use crate::ftrace_hook::Hook;
use crate::glue;
use crate::logic::state::PatchState;
use crate::markers;

/// References on the modules a patch's functions are in, held for the
/// enable (dropped, in `drop`, before the registry lock is released).
struct ObjRefs(KVec<glue::ModulePtr>);

impl ObjRefs {
    /// Takes a reference on each distinct object module of `funcs`, or
    /// fails with `ENODEV` (one log line) if one is going away.
    fn get(funcs: &KVec<Func>) -> Result<Self> {
        let mut refs = ObjRefs(KVec::new());
        for (i, f) in funcs.iter().enumerate() {
            let Some(obj) = f.t.object.as_ref() else {
                continue;
            };
            if funcs[..i].iter().any(|g| {
                g.t.object
                    .as_ref()
                    .is_some_and(|o| o.to_bytes() == obj.to_bytes())
            }) {
                continue;
            }
            refs.0.reserve(1, GFP_KERNEL)?;
            let mut m: glue::ModulePtr = core::ptr::null_mut();
            // SAFETY: `obj` is a NUL-terminated string; `m` is ours.
            let r = unsafe { glue::tocpatch_object_get(obj.as_char_ptr(), &mut m) };
            if r != 0 {
                pr_err!(
                    "module {} is going away (or gone): cannot patch {}\n",
                    s(obj),
                    f.t.name()
                );
                return Err(ENODEV);
            }
            refs.0.push(m, GFP_KERNEL)?;
        }
        Ok(refs)
    }
}

impl Drop for ObjRefs {
    fn drop(&mut self) {
        for m in self.0.iter() {
            // SAFETY: a reference taken in `get`.
            unsafe { glue::tocpatch_module_put(*m) };
        }
    }
}

/// Registers hooks, then places markers; the functions stay inactive.
fn hook_all(funcs: &mut KVec<Func>) -> Result {
    for f in funcs.iter_mut() {
        f.hook = Some(Hook::register(&f.t)?);
    }
    for f in funcs.iter_mut() {
        if let Some(m) = &f.t.marker {
            if let Err(e) = markers::place(f.t.global_entry, m) {
                pr_err!("{}: cannot place the marker: {:?}\n", f.t.name(), e);
                return Err(e);
            }
            f.marker_placed = true;
        }
    }
    Ok(())
}

/// Undoes a [`hook_all`] that failed. No call was redirected (the
/// functions were never active), so nothing of the patch module can be in
/// use. A marker that cannot be restored keeps its hook for good: the
/// function stays hooked, inactive (its callback only repairs r2), and
/// tocpatch holds a reference on itself so that the callback's code stays.
fn undo(funcs: &mut KVec<Func>) {
    if unhook(funcs, |_| true, false).stuck == 0 {
        return;
    }
    for f in funcs.iter_mut().filter(|f| f.marker_stuck) {
        pr_err!(
            "{}: keeps an inactive hook behind its marker until tocpatch is rebooted away\n",
            f.t.name()
        );
        // Leaks the hook, and with it a reference on the target.
        core::mem::forget(f.hook.take());
    }
    // SAFETY: plain call; our own module is live (we are running in it).
    unsafe { glue::tocpatch_pin_self() };
}

pub(super) fn enable(api_ptr: *mut TocpatchPatch) -> Result {
    // SAFETY: the caller passes its static patch description (or NULL).
    let Some(api) = (unsafe { api_ptr.as_ref() }) else {
        pr_err!("tocpatch_enable_patch: NULL patch\n");
        return Err(EINVAL);
    };
    if api.module.is_null() {
        pr_err!("patch has no module (set .mod = THIS_MODULE)\n");
        return Err(EINVAL);
    }
    // SAFETY: `module` is the live patch module calling us.
    let name = unsafe { CStr::from_char_ptr(glue::tocpatch_module_name(api.module)) };
    let name = CString::try_from_fmt(fmt!("{}", s(name)))?;
    let (mut start, mut end): (ffi::c_ulong, ffi::c_ulong) = (0, 0);
    // SAFETY: as above; out-pointers to locals.
    unsafe { glue::tocpatch_module_text(api.module, &mut start, &mut end) };
    let text = (start as u64, end as u64);

    let mut reg = REGISTRY.lock();
    if reg
        .iter()
        .any(|p| p.api == api_ptr || p.name.to_bytes() == name.to_bytes())
    {
        pr_err!("patch {} is already registered\n", s(&name));
        return Err(EEXIST);
    }
    let funcs = collect(api, text)?;
    for f in funcs.iter() {
        if reg
            .iter()
            .flat_map(|p| p.funcs.iter())
            .any(|o| !o.gone && o.t.global_entry == f.t.global_entry)
        {
            pr_err!("{}: already patched by another patch\n", f.t.name());
            return Err(EBUSY);
        }
    }
    // The target modules cannot go while we hook and mark their functions;
    // once the patch is registered the module notifier (which waits for
    // REGISTRY) unpatches a module that goes. Dropped before REGISTRY.
    let objs = ObjRefs::get(&funcs)?;
    // Every allocation before the first hook: nothing can fail after the
    // hooks are registered but the hooks and markers themselves.
    reg.reserve(1, GFP_KERNEL)?;
    let mut p = KBox::new(
        Patch {
            api: api_ptr,
            module: api.module,
            name,
            text,
            state: PatchState::Enabled,
            why: Why::InUse,
            funcs,
        },
        GFP_KERNEL,
    )?;
    // SAFETY: `module` is live (it is calling us, or is loaded).
    if !unsafe { glue::tocpatch_module_get(api.module) } {
        pr_err!("patch module {} is going away\n", s(&p.name));
        return Err(ENODEV);
    }
    if let Err(e) = hook_all(&mut p.funcs) {
        undo(&mut p.funcs);
        // SAFETY: the reference taken above.
        unsafe { glue::tocpatch_module_put(api.module) };
        return Err(e);
    }
    for f in p.funcs.iter() {
        f.t.active.store(true, Relaxed);
    }
    let n = p.funcs.len();
    let marked = p.funcs.iter().filter(|f| f.t.marker.is_some()).count();
    pr_info!(
        "enabled patch {}: {} function(s), {} with odd-TOC marker\n",
        s(&p.name),
        n,
        marked
    );
    if reg.push_within_capacity(p).is_err() {
        // Cannot happen: reserved above.
        pr_err!("registry full after reserving room\n");
    }
    drop(objs);
    drop(reg);
    Ok(())
}
