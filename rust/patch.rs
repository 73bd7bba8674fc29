// SPDX-License-Identifier: GPL-2.0

//! Patch objects and their registry: the data model ([`Patch`], [`Func`])
//! and the list of registered patches. The work on them is split by
//! concern, one file each under `patch/`:
//!
//! * `api.rs`: walking and checking a `tocpatch_patch` description;
//! * `enable.rs`: enable (hook, mark, activate; undo on failure);
//! * `disable.rs`: disable, the quiesce policy and the release wait;
//! * `notify.rs`: the module notifier (modules going away);
//! * `exports.rs`: the C exports of `include/tocpatch.h`.
//!
//! The status text is the control interface's (`control.rs`), which
//! reads the registry through [`with_registry`]; queries for other
//! interfaces belong here too. Dependencies go one way: `exports` and
//! `notify` use `enable` and `disable`, `enable` uses `disable` and `api`;
//! all of them use [`crate::target`] and [`crate::ftrace_hook`], which
//! never use this module.
//!
//! Locking: `REGISTRY` (a mutex) protects the list of patches and every
//! patch's state, and each function's registry-side state ([`Func`]: its
//! hook, marker state, module gone); enable, disable, the status file and
//! the module notifier take it, and all of them may sleep. A disable
//! waiting for the patch code to fall out of use does so without it (the
//! patch is `releasing` meanwhile, which nothing else changes). The ftrace
//! callback and the return trampoline never take it: they only read a
//! [`Target`] (immutable after creation, plus atomics; shared through an
//! `Arc`). A target is freed only after its hook is dropped (unregistered)
//! and no live task holds a shadow frame of it (the release wait).

use kernel::{prelude::*, str::CString, sync::Arc};

use crate::abi::TocpatchPatch;
use crate::ftrace_hook::Hook;
use crate::glue;
use crate::logic::state::PatchState;
use crate::target::Target;

mod api;
mod disable;
mod enable;
mod exports;
mod notify;

pub(crate) use api::s;
pub(crate) use disable::disable_by_name;

/// One function of a patch, as the registry keeps it.
pub(crate) struct Func {
    /// What the callback sees.
    pub(crate) t: Arc<Target>,
    /// The registered ftrace ops, `None` once unhooked.
    pub(crate) hook: Option<Hook>,
    /// The marker is in the text.
    pub(crate) marker_placed: bool,
    /// The marker could not be taken out: its word was changed by someone
    /// else. The hook stays (it repairs r2 behind the marker).
    pub(crate) marker_stuck: bool,
    /// The object went away (module unloaded): hook and marker are gone.
    pub(crate) gone: bool,
}

/// Why a patch is pinned.
#[derive(Clone, Copy)]
pub(crate) enum Why {
    /// Its code was still in use when the release wait ended.
    InUse,
    /// The marker of this function (index) cannot be restored.
    Marker(usize),
}

pub(crate) struct Patch {
    pub(crate) api: *mut TocpatchPatch,
    pub(crate) module: glue::ModulePtr,
    pub(crate) name: CString,
    pub(crate) text: (u64, u64),
    pub(crate) state: PatchState,
    pub(crate) why: Why,
    pub(crate) funcs: KVec<Func>,
}

// SAFETY: the raw pointers name the patch module and its static API
// structures, which stay valid while we hold the module reference; all
// access is under REGISTRY.
unsafe impl Send for Patch {}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static REGISTRY: Mutex<KVec<KBox<Patch>>> = KVec::new();
}

/// Initialises the registry (module init).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of REGISTRY.
    unsafe { REGISTRY.init() };
}

/// The index of the patch whose box is at `id`.
fn find(reg: &KVec<KBox<Patch>>, id: *const Patch) -> Option<usize> {
    reg.iter().position(|p| core::ptr::eq(&**p, id))
}

/// Number of patches (module unload sanity check).
pub(crate) fn count() -> usize {
    REGISTRY.lock().len()
}

/// Frees the registry's buffer (module unload: a static is never dropped).
pub(crate) fn fini() {
    drop(core::mem::replace(&mut *REGISTRY.lock(), KVec::new()));
}

/// Calls `f` with the registered patches, under `REGISTRY` (for the
/// status file: `f` may not call back into the registry).
pub(crate) fn with_registry<R>(f: impl FnOnce(&[KBox<Patch>]) -> R) -> R {
    f(&REGISTRY.lock())
}
