// SPDX-License-Identifier: GPL-2.0

//! Patch objects and their registry: the data model ([`Patch`], [`Func`])
//! and the list of registered patches. The work on them is split by
//! concern, one file each under `patch/`:
//!
//! * `api.rs`: walking and checking a `tocpatch_patch` description;
//! * `enable.rs`: enable (hook, mark, activate; undo on failure);
//! * `disable.rs`: disable, the quiesce policy and the release wait;
//! * `notify.rs`: the module notifier (modules going away);
//! * `exports.rs`: the C exports of `include/tocpatch.h`;
//! * `states.rs`: patch states (`klp_state`) and their exports.
//!
//! The status text is the control interface's (`control.rs`), which
//! reads the registry through [`with_registry`]; queries for other
//! interfaces (such as [`query`], for the sysfs files) belong here too. Dependencies
//! go one way: this file (data model and registry) uses none of the files
//! under `patch/` (it only re-exports `disable_by_name`); `api` uses it;
//! `disable` uses it; `enable` uses `api` and `disable`; `notify` and
//! `exports` use `enable` and `disable`. All of them use
//! [`crate::target`] and [`crate::site`], which never use this module.
//!
//! Locking: `REGISTRY` (a mutex) protects the list of patches and every
//! patch's state, and each function's registry-side state ([`Func`]: its
//! place on its site, marker state, module gone); `SITES` (site.rs) is
//! taken inside it; enable, disable, the status file,
//! the sysfs files (`query`) and the module notifier take it, and all of
//! them may sleep. Nothing waits for a sysfs directory's removal while
//! holding it (rust/sysfs.rs: the removal waits for reads). A disable
//! waiting for the patch code to fall out of use does so without it (the
//! patch is `releasing` meanwhile, which nothing else changes). The ftrace
//! callback and the return trampoline never take it: they only read a
//! [`Site`] and its top [`Target`] (immutable after creation, plus
//! atomics; shared through an `Arc`). A target is freed only after it is
//! off its site's stack, RCU and RCU-tasks grace periods have passed, and
//! no live task holds a shadow frame of it (the release wait): the
//! lifetime rule of site.rs.

use kernel::{
    bindings,
    prelude::*,
    str::{CStr, CString},
    sync::Arc,
};

use crate::abi::{TocpatchCallbacks, TocpatchObject, TocpatchPatch};
use crate::glue;
use crate::logic::state::PatchState;
use crate::site::Site;
use crate::target::Target;

mod api;
mod disable;
mod enable;
mod exports;
mod notify;
mod states;

pub(crate) use disable::disable_by_name;

/// A name for log lines.
pub(crate) fn s(c: &CStr) -> &str {
    c.to_str().unwrap_or("?")
}

/// One object (vmlinux or a module) of a patch, as the registry keeps it.
pub(crate) struct Obj {
    /// Its `tocpatch_object` in the patch module.
    pub(crate) api: *mut TocpatchObject,
    /// Module name, `None` for vmlinux.
    pub(crate) name: Option<CString>,
    /// Its functions are patched (hooked and active), for its module's
    /// current load; false while the module is not loaded.
    pub(crate) patched: bool,
    /// Its `pre_patch` callback succeeded (or it has none): `post_unpatch`
    /// is due (livepatch's `post_unpatch_enabled`).
    pub(crate) post_unpatch_due: bool,
    /// Indexes of its functions in the patch's description (all objects'
    /// functions counted in order), as the sysfs files name them.
    pub(crate) desc: core::ops::Range<usize>,
    /// The sizes of its replacements (kallsyms', found by `parse`), in
    /// the order of its functions.
    pub(crate) new_sizes: KVec<u64>,
}

impl Obj {
    /// The name the callbacks' log lines give it.
    pub(crate) fn label(&self) -> &str {
        self.name.as_deref().map_or("vmlinux", s)
    }

    fn callbacks(&self) -> &TocpatchCallbacks {
        // SAFETY: `api` points into the patch module's static description,
        // live while the patch is registered (we hold its module); only
        // its `module` field is written, by us, under REGISTRY.
        unsafe { &(*self.api).callbacks }
    }

    /// Runs `pre_patch` for this object's module `module` (NULL: vmlinux).
    pub(crate) fn pre_patch(&mut self, module: glue::ModulePtr) -> Result {
        // SAFETY: see `callbacks`; we hold REGISTRY, which serialises every
        // write of this field, and the callbacks only run under it.
        unsafe { (*self.api).module = module };
        let r = match self.callbacks().pre_patch {
            // SAFETY: a callback of the patch module, given its object.
            Some(cb) => unsafe { cb(self.api) },
            None => 0,
        };
        if r != 0 {
            pr_warn!("pre-patch callback failed for object '{}'\n", self.label());
            // SAFETY: as above.
            unsafe { (*self.api).module = core::ptr::null_mut() };
            return Err(Error::from_errno(if r < 0 {
                r
            } else {
                -(bindings::EINVAL as i32)
            }));
        }
        self.post_unpatch_due = true;
        Ok(())
    }

    /// Runs `post_patch` and records the object as patched.
    pub(crate) fn post_patch(&mut self) {
        self.patched = true;
        if let Some(cb) = self.callbacks().post_patch {
            // SAFETY: a callback of the patch module, given its object.
            unsafe { cb(self.api) };
        }
    }

    /// Runs `pre_unpatch`.
    pub(crate) fn pre_unpatch(&self) {
        if let Some(cb) = self.callbacks().pre_unpatch {
            // SAFETY: a callback of the patch module, given its object.
            unsafe { cb(self.api) };
        }
    }

    /// Records the object as unpatched without any callback: its patch was
    /// replaced by a cumulative one (livepatch runs none for a replaced
    /// patch either).
    pub(crate) fn discard(&mut self) {
        self.patched = false;
        self.post_unpatch_due = false;
        // SAFETY: see `pre_patch`.
        unsafe { (*self.api).module = core::ptr::null_mut() };
    }

    /// Records the object as unpatched and runs `post_unpatch` if due.
    pub(crate) fn post_unpatch(&mut self) {
        self.patched = false;
        if core::mem::take(&mut self.post_unpatch_due) {
            if let Some(cb) = self.callbacks().post_unpatch {
                // SAFETY: a callback of the patch module, given its object.
                unsafe { cb(self.api) };
            }
        }
        // SAFETY: see `pre_patch`.
        unsafe { (*self.api).module = core::ptr::null_mut() };
    }
}

/// One function of a patch, as the registry keeps it.
pub(crate) struct Func {
    /// Its object, an index in [`Patch::objs`].
    pub(crate) obj: usize,
    /// Its index in the patch's description (see [`Obj::desc`]).
    pub(crate) desc: usize,
    /// What the callback sees.
    pub(crate) t: Arc<Target>,
    /// Its place on the function's site (`site.rs`), `None` once it left
    /// (or before it joined). `t` is on the site's stack while the
    /// function is patched by this patch.
    pub(crate) site: Option<Arc<Site>>,
    /// It was the last on its site and the site's marker could not be
    /// taken out: its word was changed by someone else. Its place (and so
    /// the site's hook, which repairs r2 behind the marker) stays, `t` is
    /// off the stack.
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
    /// A cumulative patch (`replace`): its enable replaced every patch
    /// enabled before it.
    pub(crate) replace: bool,
    /// Its objects, in the order of its description.
    pub(crate) objs: KVec<Obj>,
    /// The functions of its loaded objects; those of a module that went
    /// stay (`gone`) until the patch is released, for the release wait.
    pub(crate) funcs: KVec<Func>,
    /// Its sysfs directory, removed (deferred) when the patch is dropped.
    pub(crate) _sysfs: crate::sysfs::Entry,
}

// SAFETY: the raw pointers name the patch module and its static API
// structures, which stay valid while we hold the module reference; all
// access is under REGISTRY.
unsafe impl Send for Patch {}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static REGISTRY: Mutex<KVec<KBox<Patch>>> = KVec::new();
}

/// Modules in MODULE_STATE_COMING whose COMING notification the registry
/// has seen (so they are patched, or being patched); taken only under
/// `REGISTRY`. A module still COMING that is not listed is patched by its
/// notification, not by an enable.
struct Coming(KVec<glue::ModulePtr>);

// SAFETY: the pointers are only compared, never dereferenced.
unsafe impl Send for Coming {}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static COMING: Mutex<Coming> = Coming(KVec::new());
}

/// Initialises the registry (module init).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of REGISTRY and COMING.
    unsafe {
        REGISTRY.init();
        COMING.init();
    }
    states::init();
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
    drop(core::mem::replace(&mut COMING.lock().0, KVec::new()));
    states::fini();
}

/// Calls `f` with the registered patches, under `REGISTRY` (for the
/// status file: `f` may not call back into the registry).
pub(crate) fn with_registry<R>(f: impl FnOnce(&[KBox<Patch>]) -> R) -> R {
    f(&REGISTRY.lock())
}

/// The deferred fallback report (`kernel_glue/report.c`, from a work
/// item): logs, once each, the functions whose calls fell back.
#[no_mangle]
extern "C" fn tocpatch_report_fallbacks() {
    for p in REGISTRY.lock().iter() {
        for f in p.funcs.iter() {
            f.t.log_fallback();
        }
    }
}

/// What the status and sysfs files show of one function.
pub(crate) struct FuncFacts {
    /// `toc-relative`, `toc-load` or `none`.
    pub(crate) prologue: &'static CStr,
    /// `placed`, `suspended`, `removed`, `none`, `gone` or `stuck`.
    pub(crate) marker: &'static CStr,
    pub(crate) tail_out: bool,
    pub(crate) calls: u64,
    pub(crate) local: u64,
    pub(crate) global: u64,
    pub(crate) fallback: u64,
    pub(crate) depth: i64,
    pub(crate) peak: u64,
}

impl FuncFacts {
    /// `markers_out`: markers are out for hotplug, kvm_hv or reboot.
    pub(crate) fn of(f: &Func, markers_out: bool) -> Self {
        let t = &f.t;
        let c = t.counters.sums();
        Self {
            prologue: match t.marker {
                None => c"none",
                Some(m) if m.width == crate::logic::insn::Width::Word => c"toc-relative",
                Some(_) => c"toc-load",
            },
            marker: match (
                t.marker.is_some(),
                f.site.as_ref().is_some_and(|x| x.placed()),
            ) {
                _ if f.gone => c"gone",
                _ if f.marker_stuck => c"stuck",
                (false, _) => c"none",
                (true, true) if markers_out => c"suspended",
                (true, true) => c"placed",
                (true, false) => c"removed",
            },
            tail_out: t.tail_out,
            calls: c.calls,
            local: c.local,
            global: c.global,
            fallback: c.fallback,
            depth: c.depth,
            peak: c.peak,
        }
    }
}

/// What the sysfs files show of a patch.
pub(crate) struct PatchFacts {
    pub(crate) state: PatchState,
    /// A cumulative patch (`replace`).
    pub(crate) replace: bool,
    /// Its position among the enabled patches (`stack_order`).
    pub(crate) stack_order: usize,
    /// The objects whose functions `query` was asked for (or, for an
    /// empty range, the object without functions starting there) are all
    /// patched now (`<object>/patched`).
    pub(crate) patched: bool,
}

/// The registry query of the sysfs files (rust/sysfs.rs): the facts of the
/// patch named `name` and of its functions whose indexes in the patch's
/// description `funcs` selects (functions of objects not loaded now have
/// no facts), each passed to `each`; `None` if no such patch is
/// registered.
pub(crate) fn query(
    name: &[u8],
    funcs: core::ops::Range<usize>,
    mut each: impl FnMut(&FuncFacts),
) -> Option<PatchFacts> {
    let reg = REGISTRY.lock();
    let idx = reg.iter().position(|p| p.name.to_bytes() == name)?;
    let (out, _) = crate::markers::hotplug_state();
    let p = &reg[idx];
    for f in p.funcs.iter().filter(|f| funcs.contains(&f.desc)) {
        each(&FuncFacts::of(f, out));
    }
    let mut objs = p.objs.iter().filter(|o| {
        if funcs.is_empty() {
            o.desc == funcs
        } else {
            o.desc.start < funcs.end && funcs.start < o.desc.end
        }
    });
    let first = objs.next();
    let patched = first.is_some_and(|o| o.patched) && objs.all(|o| o.patched);
    Some(PatchFacts {
        state: p.state,
        replace: p.replace,
        stack_order: crate::logic::sysfs::stack_order(reg[..idx].iter().map(|q| q.state)),
        patched,
    })
}
