// SPDX-License-Identifier: GPL-2.0

//! The module notifier's side (`kernel_glue/module_notify.c` calls in):
//! unpatches the functions of a module that goes, while its text is still
//! mapped, as livepatch unpatches the objects of a going module.
//!
//! Locking: takes `REGISTRY` (may sleep: grace periods, text writes); the
//! module loader's notifier chain calls it in process context.

use kernel::{ffi, prelude::*, str::CStr};

use super::api::cstr;
use super::api::resolve_obj;
use super::disable::unhook;
use super::enable::apply;
use super::{s, Func, Obj, Patch, COMING, REGISTRY};
use crate::glue;
use crate::logic::state::PatchState;

/// Unpatches every function of module `name` in every patch, while its
/// text is still there: for each object of it that is patched,
/// `pre_unpatch`, the unhooking, then `post_unpatch`.
fn unpatch_module(reg: &mut KVec<KBox<Patch>>, name: &CStr) {
    for p in reg.iter_mut() {
        let in_module = |f: &Func| {
            !f.gone
                && f.t
                    .object
                    .as_ref()
                    .is_some_and(|o| o.to_bytes() == name.to_bytes())
        };
        let is_obj = |o: &Obj| {
            o.name
                .as_deref()
                .is_some_and(|n| n.to_bytes() == name.to_bytes())
        };
        if !p.funcs.iter().any(&in_module) && !p.objs.iter().any(|o| o.patched && is_obj(o)) {
            continue;
        }
        // A disabled patch (pinned by a stuck marker) ran its
        // `pre_unpatch` at the disable.
        if p.state == PatchState::Enabled {
            for o in p.objs.iter().filter(|o| o.patched && is_obj(o)) {
                o.pre_unpatch();
            }
        }
        pr_info!(
            "reverting patch '{}' on unloading module '{}'\n",
            s(&p.name),
            s(name)
        );
        let n = unhook(&mut p.funcs, in_module, true).hooks;
        for f in p.funcs.iter_mut().filter(|f| in_module(f)) {
            f.gone = true;
            f.marker_stuck = false;
        }
        for o in p.objs.iter_mut().filter(|o| o.patched && is_obj(o)) {
            o.post_unpatch();
        }
        pr_info!(
            "patch {}: module {} is going, {} function(s) unpatched\n",
            s(&p.name),
            s(name),
            n
        );
    }
}

/// Applies every enabled patch's object `name` to that module, coming
/// (`module`): as an enable does, per patch, in registration order.
fn patch_module(reg: &mut KVec<KBox<Patch>>, module: glue::ModulePtr, name: &CStr) -> Result {
    for k in 0..reg.len() {
        let p = &reg[k];
        if p.state != PatchState::Enabled {
            continue;
        }
        let Some(i) = p.objs.iter().position(|o| {
            !o.patched
                && o.name
                    .as_deref()
                    .is_some_and(|n| n.to_bytes() == name.to_bytes())
        }) else {
            continue;
        };
        pr_info!(
            "applying patch '{}' to loading module '{}'\n",
            s(&p.name),
            s(name)
        );
        let mut funcs = KVec::new();
        resolve_obj(&p.objs, i, p.text, &mut funcs)?;
        let p = &mut *reg[k];
        p.funcs.reserve(funcs.len(), GFP_KERNEL)?;
        let pm = &mut *p;
        apply(&mut pm.objs, &[(i, module)], &mut funcs, &mut KVec::new())?;
        for f in funcs.drain_all() {
            if p.funcs.push_within_capacity(f).is_err() {
                // Cannot happen: reserved above.
                pr_err!("patch functions full after reserving room\n");
            }
        }
        p.objs[i].post_patch();
    }
    Ok(())
}

/// Called by the module notifier (`kernel_glue/module_notify.c`) when
/// module `name` (`module`) is coming: before its init runs, patches the
/// object of every enabled patch that names it. An errno fails the load;
/// nothing of ours is left patched in the module then.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_module_coming(
    module: glue::ModulePtr,
    name: *const ffi::c_char,
) -> ffi::c_int {
    let Some(name) = cstr(name) else { return 0 };
    let mut reg = REGISTRY.lock();
    {
        let mut coming = COMING.lock();
        if let Err(e) = coming.0.push(module, GFP_KERNEL) {
            let _ = e;
            pr_err!("module {}: out of memory; refusing its load\n", s(name));
            return ENOMEM.to_errno();
        }
    }
    match patch_module(&mut reg, module, name) {
        Ok(()) => 0,
        Err(e) => {
            pr_warn!(
                "cannot apply a patch to loading module '{}' ({}): refusing its load\n",
                s(name),
                e.to_errno()
            );
            unpatch_module(&mut reg, name);
            COMING.lock().0.retain(|m| *m != module);
            e.to_errno()
        }
    }
}

/// Called by the module notifier when `module` is live (left
/// MODULE_STATE_COMING).
#[no_mangle]
pub(crate) extern "C" fn tocpatch_module_live(module: glue::ModulePtr) {
    let _reg = REGISTRY.lock();
    COMING.lock().0.retain(|m| *m != module);
}

/// Called by the module notifier (`kernel_glue/module_notify.c`) when module
/// `name` is going: unpatches every function of it, while its text is still
/// there.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_module_going(module: glue::ModulePtr, name: *const ffi::c_char) {
    let Some(name) = cstr(name) else { return };
    let mut reg = REGISTRY.lock();
    unpatch_module(&mut reg, name);
    // A module that fails in MODULE_STATE_COMING never becomes live.
    COMING.lock().0.retain(|m| *m != module);
}
