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

use super::api::{parse, resolve_obj};
use super::disable::unhook;
use super::{s, Func, Obj, Patch, Why, COMING, REGISTRY};
use crate::abi::TocpatchPatch;
use crate::ftrace_hook::Hook;
use crate::glue;
use crate::logic::state::PatchState;
use crate::markers;

/// References on the loaded modules of a patch's objects, held for the
/// enable (dropped, in `drop`, before the registry lock is released).
pub(super) struct ObjRefs(KVec<(usize, glue::ModulePtr)>);

impl ObjRefs {
    /// Takes a reference on the module of each object of `objs` that is
    /// loaded: live, or coming and seen by the notifier (`coming`). A
    /// module that is not loaded, going away, or coming but not yet seen
    /// is left to the notifier (as livepatch does).
    pub(super) fn get(objs: &KVec<Obj>, coming: &[glue::ModulePtr]) -> Result<Self> {
        let mut refs = ObjRefs(KVec::new());
        for (i, o) in objs.iter().enumerate() {
            let Some(name) = o.name.as_ref() else {
                continue;
            };
            refs.0.reserve(1, GFP_KERNEL)?;
            let mut m: glue::ModulePtr = core::ptr::null_mut();
            // SAFETY: `name` is a NUL-terminated string; `m` is ours.
            let r = unsafe { glue::tocpatch_object_get(name.as_char_ptr(), &mut m) };
            if r == 0 || (r == 1 && coming.contains(&m)) {
                refs.0.push((i, m), GFP_KERNEL)?;
            } else if r == 1 {
                // SAFETY: the reference just taken.
                unsafe { glue::tocpatch_module_put(m) };
            }
        }
        Ok(refs)
    }

    /// Whether object `i` is loaded, and its module (NULL for vmlinux).
    pub(super) fn loaded(&self, objs: &KVec<Obj>, i: usize) -> Option<glue::ModulePtr> {
        if objs[i].name.is_none() {
            return Some(core::ptr::null_mut());
        }
        self.0.iter().find(|(j, _)| *j == i).map(|(_, m)| *m)
    }
}

impl Drop for ObjRefs {
    fn drop(&mut self) {
        for (_, m) in self.0.iter() {
            // SAFETY: a reference taken in `get`.
            unsafe { glue::tocpatch_module_put(*m) };
        }
    }
}

/// Registers hooks, then places markers; the functions stay inactive.
pub(super) fn hook_all(funcs: &mut KVec<Func>) -> Result {
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
pub(super) fn undo(funcs: &mut KVec<Func>) {
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

    // Directories of released patches go first (not under REGISTRY).
    crate::sysfs::settle();
    let mut reg = REGISTRY.lock();
    if reg
        .iter()
        .any(|p| p.api == api_ptr || p.name.to_bytes() == name.to_bytes())
    {
        pr_err!("patch {} is already registered\n", s(&name));
        return Err(EEXIST);
    }
    let objs = parse(api, text)?;
    // The loaded target modules cannot go while we hook and mark their
    // functions; once the patch is registered the module notifier (which
    // waits for REGISTRY) patches a module that comes and unpatches one
    // that goes. Dropped before REGISTRY.
    let refs = ObjRefs::get(&objs, &COMING.lock().0)?;
    let mut funcs = KVec::new();
    for i in 0..objs.len() {
        if refs.loaded(&objs, i).is_some() {
            resolve_obj(&objs, i, text, &mut funcs)?;
        }
    }
    check_conflicts(&reg, &funcs)?;
    let mut load = KVec::with_capacity(objs.len(), GFP_KERNEL)?;
    for i in 0..objs.len() {
        if let Some(m) = refs.loaded(&objs, i) {
            load.push((i, m), GFP_KERNEL)?;
        }
    }
    let sysfs = crate::sysfs::Entry::add(&name, api_ptr)?;
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
            objs,
            funcs,
            _sysfs: sysfs,
        },
        GFP_KERNEL,
    )?;
    // SAFETY: `module` is live (it is calling us, or is loaded).
    if !unsafe { glue::tocpatch_module_get(api.module) } {
        pr_err!("patch module {} is going away\n", s(&p.name));
        return Err(ENODEV);
    }
    let pm = &mut *p;
    if let Err(e) = apply(&mut pm.objs, &load, &mut pm.funcs) {
        // SAFETY: the reference taken above.
        unsafe { glue::tocpatch_module_put(api.module) };
        return Err(e);
    }
    let n = p.funcs.len();
    let marked = p.funcs.iter().filter(|f| f.t.marker.is_some()).count();
    pr_info!(
        "enabled patch {}: {} function(s), {} with odd-TOC marker\n",
        s(&p.name),
        n,
        marked
    );
    for &(i, _) in load.iter() {
        p.objs[i].post_patch();
    }
    if reg.push_within_capacity(p).is_err() {
        // Cannot happen: reserved above.
        pr_err!("registry full after reserving room\n");
    }
    drop(refs);
    drop(reg);
    Ok(())
}

/// Fails with `EBUSY` (one log line) if a function of `funcs` is patched
/// by a registered patch already.
pub(super) fn check_conflicts(reg: &KVec<KBox<Patch>>, funcs: &KVec<Func>) -> Result {
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
    Ok(())
}

/// Patches the objects `load` lists (index in `objs`, module) whose
/// functions are `funcs` (resolved, inactive): runs each one's
/// `pre_patch`, hooks and marks the functions, and activates them; the
/// caller runs `post_patch`. On failure nothing stays patched: hooks and
/// markers are undone, and the objects whose `pre_patch` ran get
/// `post_unpatch` (as livepatch's cancelled transition).
pub(super) fn apply(
    objs: &mut KVec<Obj>,
    load: &[(usize, glue::ModulePtr)],
    funcs: &mut KVec<Func>,
) -> Result {
    for (k, &(i, m)) in load.iter().enumerate() {
        if let Err(e) = objs[i].pre_patch(m) {
            for &(j, _) in load[..k].iter() {
                objs[j].post_unpatch();
            }
            return Err(e);
        }
    }
    if let Err(e) = hook_all(funcs) {
        undo(funcs);
        for &(j, _) in load.iter() {
            objs[j].post_unpatch();
        }
        return Err(e);
    }
    for f in funcs.iter() {
        f.t.active.store(true, Relaxed);
    }
    Ok(())
}
