// SPDX-License-Identifier: GPL-2.0

//! Patch states (livepatch's `klp_state`): the states a patch's
//! description lists, the patch in transition whose callbacks may ask for
//! the states of the patches enabled before it, and the compatibility
//! check of an enable (`klp_is_patch_compatible()`).
//!
//! Locking: `TRANSITION` (a mutex) is taken inside `REGISTRY` (enable and
//! disable set it while they run callbacks) and alone by
//! [`tocpatch_get_prev_state`], which the callbacks call.

use kernel::{ffi, prelude::*};

use super::{s, Patch};
use crate::abi::{TocpatchPatch, TocpatchState};
use crate::logic::state::PatchState;

/// The states of `api`, up to the terminator (`id` 0).
fn states_of(api: *const TocpatchPatch) -> impl Iterator<Item = *mut TocpatchState> {
    // SAFETY: `api` is a patch description, live while its module is.
    let mut st = unsafe { (*api).states };
    core::iter::from_fn(move || {
        // SAFETY: `states` is NULL or an array terminated by an entry
        // with `id` 0, in the patch module; we stop at the terminator.
        let cur = unsafe { st.as_ref() }.filter(|x: &&TocpatchState| x.id != 0)?;
        let p = core::ptr::from_ref(cur).cast_mut();
        // SAFETY: still inside the terminated array.
        st = unsafe { st.add(1) };
        Some(p)
    })
}

/// `api`'s state `id`, or NULL.
fn get(api: *const TocpatchPatch, id: ffi::c_ulong) -> *mut TocpatchState {
    states_of(api)
        // SAFETY: an entry of the array (see `states_of`).
        .find(|&x| unsafe { (*x).id } == id)
        .unwrap_or(core::ptr::null_mut())
}

/// Whether `new` can be enabled on top of the enabled patches of `reg`:
/// each of their states must be one `new` has, at the same or a newer
/// version; a state `new` does not have is fine unless `new` is
/// cumulative (it would drop the state). Logs one line if not.
pub(super) fn check_compatible(
    reg: &KVec<KBox<Patch>>,
    new: &TocpatchPatch,
    name: &CStr,
) -> Result {
    for q in reg.iter().filter(|q| q.state == PatchState::Enabled) {
        for old in states_of(q.api) {
            // SAFETY: an entry of the array (see `states_of`).
            let (id, version) = unsafe { ((*old).id, (*old).version) };
            let mine = get(new, id);
            // SAFETY: non-NULL: an entry of `new`'s array.
            let ok = match unsafe { mine.as_ref() } {
                None => !new.replace,
                Some(m) => m.version >= version,
            };
            if !ok {
                pr_err!(
                    "patch {} is not compatible with the enabled patches: state {} of patch {} is at version {}\n",
                    s(name),
                    id,
                    s(&q.name),
                    version
                );
                return Err(EINVAL);
            }
        }
    }
    Ok(())
}

/// The patches enabled before the patch in transition, oldest first.
struct Transition(KVec<*const TocpatchPatch>);

// SAFETY: the pointers name patch descriptions of registered patches,
// only read (their states) while the transition is set, under REGISTRY.
unsafe impl Send for Transition {}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static TRANSITION: Mutex<Transition> = Transition(KVec::new());
}

/// Initialises the transition (module init).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of TRANSITION.
    unsafe { TRANSITION.init() };
}

/// Frees its buffer (module unload).
pub(crate) fn fini() {
    drop(core::mem::take(&mut TRANSITION.lock().0));
}

/// A patch is in transition (its enable or disable runs callbacks) while
/// this lives; made under `REGISTRY`, which it must not outlive.
pub(super) struct InTransition(());

impl InTransition {
    /// The patches `prev` were enabled before the one in transition.
    pub(super) fn begin<'a>(prev: impl Iterator<Item = &'a KBox<Patch>>) -> Result<Self> {
        let mut list = KVec::new();
        for q in prev.filter(|q| q.state == PatchState::Enabled) {
            list.push(q.api.cast_const(), GFP_KERNEL)?;
        }
        TRANSITION.lock().0 = list;
        Ok(Self(()))
    }
}

impl Drop for InTransition {
    fn drop(&mut self) {
        drop(core::mem::take(&mut TRANSITION.lock().0));
    }
}

/// `struct tocpatch_state *tocpatch_get_state(struct tocpatch_patch
/// *patch, unsigned long id)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_get_state(
    patch: *mut TocpatchPatch,
    id: ffi::c_ulong,
) -> *mut TocpatchState {
    if patch.is_null() {
        return core::ptr::null_mut();
    }
    get(patch, id)
}

/// `struct tocpatch_state *tocpatch_get_prev_state(unsigned long id)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_get_prev_state(id: ffi::c_ulong) -> *mut TocpatchState {
    let t = TRANSITION.lock();
    // The most recently enabled patch that has it.
    t.0.iter()
        .rev()
        .map(|&api| get(api, id))
        .find(|x| !x.is_null())
        .unwrap_or(core::ptr::null_mut())
}
