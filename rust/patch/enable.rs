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
//! fail: hooks are registered and markers placed (or the sites that other
//! patches have on the functions joined) with the targets off the sites'
//! stacks (the callback only repairs r2 and runs what it ran before),
//! every allocation is made before that, and only then are the targets
//! put on top of the stacks: the newest patch wins. So a failure
//! undoes markers and hooks and nothing else: no task ran a replacement.

use kernel::{
    ffi,
    prelude::*,
    str::{CStr, CString},
    sync::Arc,
};

use super::api::{parse, resolve_obj};
use super::disable::{release, releasing, unhook, Releasing};
use super::states::{check_compatible, InTransition};
use super::{find, s, Func, Obj, Patch, Why, COMING, REGISTRY};
use crate::abi::TocpatchPatch;
use crate::glue;
use crate::logic::state::{transition, Event, Next, PatchState};
use crate::site;
use crate::target::{Target, TargetInfo};

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

/// Takes each function's place on its site (the first place on a site
/// hooks the function, then places its marker); the targets are not on
/// the stacks yet, so nothing changes for the callers.
pub(super) fn hook_all(funcs: &mut KVec<Func>) -> Result {
    let mut ts = KVec::with_capacity(funcs.len(), GFP_KERNEL)?;
    for f in funcs.iter() {
        ts.push(f.t.clone(), GFP_KERNEL)?;
    }
    let sites = site::join_all(&ts)?;
    for (f, s) in funcs.iter_mut().zip(sites) {
        f.site = Some(s);
    }
    Ok(())
}

/// Undoes a [`hook_all`] that failed. No call was redirected (the
/// targets were never on a stack), so nothing of the patch module can be
/// in use. A marker that cannot be restored keeps its site's hook for
/// good: the function stays hooked (its callback only repairs r2 and runs
/// what the stack holds, the original if nothing), and tocpatch holds a
/// reference on itself so that the callback's code stays.
pub(super) fn undo(funcs: &mut KVec<Func>) {
    if unhook(funcs, |_| true, false).stuck == 0 {
        return;
    }
    for f in funcs.iter_mut().filter(|f| f.marker_stuck) {
        pr_err!(
            "{}: keeps a hook behind its marker until tocpatch is rebooted away\n",
            f.t.name()
        );
        // Leaks the place on the site, and with it the site.
        site::abandon(&f.t);
        f.site = None;
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
    check_compatible(&reg, api, &name)?;
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
    let mut load = KVec::with_capacity(objs.len(), GFP_KERNEL)?;
    for i in 0..objs.len() {
        if let Some(m) = refs.loaded(&objs, i) {
            load.push((i, m), GFP_KERNEL)?;
        }
    }
    // A cumulative patch replaces every enabled patch: nop targets for the
    // functions of theirs it does not name, and what their release needs.
    let (mut nops, mut replaced) = if api.replace {
        (nops_for(&reg, &funcs)?, releasing_all(&reg)?)
    } else {
        (KVec::new(), KVec::new())
    };
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
            replace: api.replace,
            objs,
            funcs,
            _sysfs: sysfs,
        },
        GFP_KERNEL,
    )?;
    // Its callbacks may ask for the states of the enabled patches.
    let in_transition = InTransition::begin(reg.iter())?;
    // SAFETY: `module` is live (it is calling us, or is loaded).
    if !unsafe { glue::tocpatch_module_get(api.module) } {
        pr_err!("patch module {} is going away\n", s(&p.name));
        return Err(ENODEV);
    }
    let pm = &mut *p;
    if let Err(e) = apply(&mut pm.objs, &load, &mut pm.funcs, &mut nops) {
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
    if !replaced.is_empty() {
        discard_replaced(&mut reg, &mut replaced, &mut nops, &p.name);
    }
    drop(in_transition);
    if reg.push_within_capacity(p).is_err() {
        // Cannot happen: reserved above.
        pr_err!("registry full after reserving room\n");
    }
    drop(refs);
    drop(reg);
    // The replaced patches are releasing: wait for each, as a disable does
    // (one whose code stays in use is pinned; disabling it again retries).
    for (id, owners, text) in replaced.iter() {
        let _ = release(*id, owners, *text, true);
    }
    // The nop targets were read by callbacks at most an RCU grace period
    // ago (`release` waited for one; so did the unhooking of their sites).
    drop(nops);
    Ok(())
}

/// Nop targets (the original runs) for the functions of the enabled
/// patches of `reg` that a cumulative patch, whose functions are `funcs`,
/// does not name: one per function, not on its site yet.
fn nops_for(reg: &KVec<KBox<Patch>>, funcs: &KVec<Func>) -> Result<KVec<Func>> {
    let mut nops = KVec::<Func>::new();
    for q in reg.iter().filter(|q| q.state == PatchState::Enabled) {
        for f in q.funcs.iter().filter(|f| f.site.is_some()) {
            let ip = f.t.global_entry;
            if Iterator::chain(funcs.iter(), nops.iter()).any(|x| x.t.global_entry == ip) {
                continue;
            }
            let t = Target::new(TargetInfo {
                name: CString::try_from_fmt(fmt!("{}", f.t.name()))?,
                object: match f.t.object.as_deref() {
                    Some(o) => Some(CString::try_from_fmt(fmt!("{}", s(o)))?),
                    None => None,
                },
                tail_out: false,
                new_func: 0,
                global_entry: ip,
                size: f.t.size,
                marker: f.t.marker,
            })?;
            nops.push(
                Func {
                    obj: 0,
                    desc: usize::MAX,
                    t: Arc::new(t, GFP_KERNEL)?,
                    site: None,
                    marker_stuck: false,
                    gone: false,
                },
                GFP_KERNEL,
            )?;
        }
    }
    Ok(nops)
}

/// The [`Releasing`] facts of every enabled patch of `reg` (a cumulative
/// patch is about to replace them), made before anything changes.
fn releasing_all(reg: &KVec<KBox<Patch>>) -> Result<KVec<Releasing>> {
    let mut all = KVec::new();
    for q in reg.iter().filter(|q| q.state == PatchState::Enabled) {
        all.push(releasing(q)?, GFP_KERNEL)?;
    }
    Ok(all)
}

/// The end of a cumulative patch's step (livepatch's
/// `klp_discard_replaced_patches()` and `klp_discard_nops()`): the patches
/// `replaced` names (enabled until now) become `releasing`, without any
/// callback, and their targets leave their sites (each is below the new
/// patch's target or a nop, so no hook or marker goes); then the nops
/// leave theirs, which unhooks the functions that the new patch does not
/// name (markers out first). Cannot fail.
fn discard_replaced(
    reg: &mut KVec<KBox<Patch>>,
    replaced: &mut KVec<Releasing>,
    nops: &mut KVec<Func>,
    by: &CStr,
) {
    for (id, _, _) in replaced.iter() {
        let Some(k) = find(reg, *id) else { continue };
        let q = &mut reg[k];
        if let Some(Next::To(next)) = transition(q.state, Event::Disable) {
            q.state = next;
        }
        for o in q.objs.iter_mut() {
            o.discard();
        }
        let done = unhook(&mut q.funcs, |f| !f.gone, false);
        if done.stuck != 0 {
            // Cannot happen: a nop or the new patch shares each site.
            pr_err!(
                "patch {}: a marker stuck while it was replaced\n",
                s(&q.name)
            );
        }
        pr_info!("patch {} replaced by {}\n", s(&q.name), s(by));
    }
    let done = unhook(nops, |_| true, false);
    if done.stuck != 0 {
        pr_err!(
            "{} function(s) keep their hooks behind markers that cannot be restored\n",
            done.stuck
        );
        undo(nops);
    }
}

/// Patches the objects `load` lists (index in `objs`, module) whose
/// functions are `funcs` (resolved, inactive): runs each one's
/// `pre_patch`, hooks and marks the functions (or joins the sites other
/// patches have on them), and puts them on top of their sites; the
/// caller runs `post_patch`. `nops` (a cumulative patch's nop targets)
/// join and go on top with them. On failure nothing stays patched: hooks and
/// markers are undone, and the objects whose `pre_patch` ran get
/// `post_unpatch` (as livepatch's cancelled transition).
pub(super) fn apply(
    objs: &mut KVec<Obj>,
    load: &[(usize, glue::ModulePtr)],
    funcs: &mut KVec<Func>,
    nops: &mut KVec<Func>,
) -> Result {
    for (k, &(i, m)) in load.iter().enumerate() {
        if let Err(e) = objs[i].pre_patch(m) {
            for &(j, _) in load[..k].iter() {
                objs[j].post_unpatch();
            }
            return Err(e);
        }
    }
    if let Err(e) = hook_all(funcs).and_then(|()| hook_all(nops)) {
        undo(funcs);
        undo(nops);
        for &(j, _) in load.iter() {
            objs[j].post_unpatch();
        }
        return Err(e);
    }
    for f in Iterator::chain(funcs.iter(), nops.iter()) {
        site::activate(&f.t);
    }
    Ok(())
}
