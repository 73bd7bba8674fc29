// SPDX-License-Identifier: GPL-2.0

//! Patch objects, their registry and their state machine; the exported API
//! of `include/tocpatch.h`.
//!
//! Locking: `REGISTRY` (a mutex) protects the list of patches and every
//! patch's state, and each function's registry-side state ([`Func`]: its
//! hook, marker state, module gone); enable, disable, the status file,
//! the sysfs files (`query`) and the module notifier take it, and all of
//! them may sleep. Nothing waits for a sysfs directory's removal while
//! holding it (rust/sysfs.rs: the removal waits for reads). A disable
//! waiting for the patch code to fall out of use does so without it (the
//! patch is `releasing` meanwhile, which nothing else changes). The ftrace
//! callback and the return trampoline never take it: they only read a
//! [`Target`] (immutable after creation, plus atomics; shared through an
//! `Arc`). A target is freed only after its hook is dropped (unregistered)
//! and no live task holds a shadow frame of it (the release wait).
//!
//! Enable never lets a call into the patch module before it can no longer
//! fail: hooks are registered and markers placed with the targets
//! inactive (the callback only repairs r2), every allocation is made
//! before that, and only then are the targets activated. So a failure
//! undoes markers and hooks and nothing else: no task ran a replacement.

use kernel::{
    bindings, ffi,
    prelude::*,
    str::{CStr, CStrExt, CString},
    sync::atomic::Relaxed,
    sync::Arc,
};

use crate::abi::{TocpatchFunc, TocpatchObject, TocpatchPatch};
use crate::ftrace_hook::Hook;
use crate::glue;
use crate::logic::state::{transition, Event, Next, PatchState};
use crate::markers;
use crate::symbols;
use crate::target::{Target, TargetInfo};

/// One function of a patch, as the registry keeps it.
struct Func {
    /// What the callback sees.
    t: Arc<Target>,
    /// The registered ftrace ops, `None` once unhooked.
    hook: Option<Hook>,
    /// The marker is in the text.
    marker_placed: bool,
    /// The marker could not be taken out: its word was changed by someone
    /// else. The hook stays (it repairs r2 behind the marker).
    marker_stuck: bool,
    /// The object went away (module unloaded): hook and marker are gone.
    gone: bool,
}

/// Why a patch is pinned.
#[derive(Clone, Copy)]
enum Why {
    /// Its code was still in use when the release wait ended.
    InUse,
    /// The marker of this function (index) cannot be restored.
    Marker(usize),
}

struct Patch {
    api: *mut TocpatchPatch,
    module: glue::ModulePtr,
    name: CString,
    text: (u64, u64),
    state: PatchState,
    why: Why,
    funcs: KVec<Func>,
    /// Its sysfs directory, removed (deferred) when the patch is dropped.
    _sysfs: crate::sysfs::Entry,
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

fn cstr<'a>(p: *const ffi::c_char) -> Option<&'a CStr> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL strings of the API are NUL-terminated and live
        // in the patch module, which outlives the patch.
        Some(unsafe { CStr::from_char_ptr(p) })
    }
}

fn s(c: &CStr) -> &str {
    c.to_str().unwrap_or("?")
}

/// Builds the function for one `tocpatch_func`.
fn new_func(obj: Option<&CStr>, f: &TocpatchFunc, text: (u64, u64)) -> Result<Func> {
    let name = cstr(f.old_name).ok_or(EINVAL)?;
    let new_func = f.new_func as u64;
    match symbols::symbol_at(new_func) {
        Some((start, _, true)) if start == new_func && (text.0..text.1).contains(&new_func) => {}
        _ => {
            pr_err!(
                "{}: new_func {:#x} is not a function of the patch module\n",
                s(name),
                new_func
            );
            return Err(EINVAL);
        }
    }
    let func = symbols::resolve(obj, name, f.old_sympos as u64)?;
    let tail_out = symbols::tail_calls_out(new_func, text)?;
    if tail_out {
        pr_info!(
            "{}: the replacement tail-calls out of its module through a TOC-saving stub: all its calls return through the trampoline\n",
            s(name)
        );
    }
    let marker = if crate::markers_enabled() {
        crate::logic::insn::Marker::for_prologue(func.entry, func.second, func.toc_word)
    } else {
        None
    };
    let marker = marker.filter(|_| crate::nmi::may_mark(s(name), func.global_entry));
    let t = Target::new(TargetInfo {
        name: CString::try_from_fmt(fmt!("{}", s(name)))?,
        object: match obj {
            Some(o) => Some(CString::try_from_fmt(fmt!("{}", s(o)))?),
            None => None,
        },
        tail_out,
        new_func,
        global_entry: func.global_entry,
        marker,
    });
    Ok(Func {
        t: Arc::new(t, GFP_KERNEL)?,
        hook: None,
        marker_placed: false,
        marker_stuck: false,
        gone: false,
    })
}

/// Collects the functions of an API patch.
fn collect(api: &TocpatchPatch, text: (u64, u64)) -> Result<KVec<Func>> {
    let mut funcs = KVec::new();
    if api.objs.is_null() {
        return Err(EINVAL);
    }
    let mut o = api.objs;
    // SAFETY: `objs` is an array terminated by an entry with NULL `funcs`.
    while let Some(obj) = unsafe { o.as_ref() }.filter(|ob: &&TocpatchObject| !ob.funcs.is_null()) {
        let objname = cstr(obj.name);
        let mut f = obj.funcs;
        while let Some(func) =
            // SAFETY: `funcs` is an array terminated by a NULL `old_name`.
            unsafe { f.as_ref() }.filter(|fu: &&TocpatchFunc| !fu.old_name.is_null())
        {
            let n = new_func(objname, func, text)?;
            if funcs
                .iter()
                .any(|x: &Func| x.t.global_entry == n.t.global_entry)
            {
                pr_err!("{}: listed twice\n", n.t.name());
                return Err(EINVAL);
            }
            funcs.push(n, GFP_KERNEL)?;
            // SAFETY: still inside the terminated array.
            f = unsafe { f.add(1) };
        }
        // SAFETY: still inside the terminated array.
        o = unsafe { o.add(1) };
    }
    if funcs.is_empty() {
        pr_err!("patch has no functions\n");
        return Err(EINVAL);
    }
    Ok(funcs)
}

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

/// Grace periods to wait, at most, after the first one, for calls through
/// marked prologues to stop after the markers were taken out.
const QUIESCE_TRIES: usize = 10;

/// What [`unhook`] did.
struct Unhooked {
    /// Hooks dropped.
    hooks: usize,
    /// Markers that could not be restored (their hooks are kept).
    stuck: usize,
}

/// Removes the markers of the functions `which` selects, then their hooks (in that order, with an RCU-tasks grace period
/// between, see text_patch.rs; markers.rs does the text writes). A
/// function whose marker cannot be restored (its word was changed by
/// someone else) keeps its hook, which repairs what the marker does, and
/// is marked stuck, unless `going` (its module is going away, text and
/// all: the marker is forgotten and the hook dropped).
fn unhook(funcs: &mut KVec<Func>, which: impl Fn(&Func) -> bool, going: bool) -> Unhooked {
    let mut done = Unhooked { hooks: 0, stuck: 0 };
    let late = |fs: &KVec<Func>| -> u64 {
        fs.iter()
            .filter(|f| which(f))
            .map(|f| f.t.counters.late_global.load(Relaxed))
            .sum()
    };
    let before = late(funcs);
    let mut removed = 0;
    for f in funcs.iter_mut().filter(|f| which(f)) {
        if f.marker_placed {
            match markers::remove(f.t.global_entry) {
                Ok(()) => {}
                Err(_) if going => markers::forget(f.t.global_entry),
                Err(e) => {
                    if !f.marker_stuck {
                        pr_err!(
                            "{}: the marker cannot be restored ({:?}): its word was changed by someone else (a kprobe on it?); keeping its hook\n",
                            f.t.name(),
                            e
                        );
                    }
                    f.marker_stuck = true;
                    // Its hook stays, but the original runs from now on.
                    f.t.active.store(false, Relaxed);
                    done.stuck += 1;
                    continue;
                }
            }
            f.marker_placed = false;
            f.marker_stuck = false;
            removed += 1;
            // SAFETY: plain clock read.
            let now = unsafe { bindings::ktime_get_mono_fast_ns() };
            f.t.counters.markers_out_ns.store(now.max(1), Relaxed);
        }
    }
    if removed != 0 {
        quiesce(funcs, &late, before);
    }
    for f in funcs.iter_mut().filter(|f| which(f) && !f.marker_stuck) {
        // Calls are redirected until the hook goes, as without markers.
        f.t.active.store(false, Relaxed);
        if f.hook.take().is_some() {
            done.hooks += 1;
        }
    }
    done
}

/// Waits until no task can be inside a marked prologue of `funcs` any more
/// (`late` sums their late global calls, which were `before` at the
/// start).
fn quiesce(funcs: &KVec<Func>, late: &impl Fn(&KVec<Func>) -> u64, before: u64) {
    // A task preempted inside a marked prologue gets past the hook within
    // one RCU-tasks grace period; the text write (text_patch.c) has made
    // every CPU fetch the restored words. So global calls that reach the
    // hook after the markers are out (`late_global`) can only come during
    // the first grace period. Should they go on (instruction fetch not
    // coherent with the store, as under QEMU's TCG before the second store
    // in text_patch.c, Documentation/testbed.rst), keep the hooks, which
    // still repair them, until a grace period passes without one.
    // SAFETY: plain kernel call; may sleep, and we are in process context.
    unsafe { bindings::synchronize_rcu_tasks() };
    let first = late(funcs);
    let mut seen = first;
    let quiet = first == before
        || (0..QUIESCE_TRIES).any(|_| {
            // SAFETY: as above.
            unsafe { bindings::synchronize_rcu_tasks() };
            let last = core::mem::replace(&mut seen, late(funcs));
            last == seen
        });
    if seen != first {
        pr_warn!(
            "{} global call(s) came through restored prologues after the first grace period\n",
            seen - first
        );
    }
    if !quiet {
        pr_warn!(
            "marked prologues still run {} grace periods after the markers were out; unhooking anyway\n",
            QUIESCE_TRIES + 1
        );
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

fn enable(api_ptr: *mut TocpatchPatch) -> Result {
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

/// How long a disable waits for the patch code to fall out of use.
const RELEASE_TRIES: u32 = 500;
const RELEASE_SLEEP_MS: u32 = 20;

/// The index of the patch whose box is at `id`.
fn find(reg: &KVec<KBox<Patch>>, id: *const Patch) -> Option<usize> {
    reg.iter().position(|p| core::ptr::eq(&**p, id))
}

/// Disables the patch that `which` finds, and waits for its code to be
/// unused, without holding REGISTRY while it waits.
fn disable(which: impl Fn(&Patch) -> bool) -> Result {
    let mut reg = REGISTRY.lock();
    let Some(idx) = reg.iter().position(|p| which(p)) else {
        return Err(ENOENT);
    };
    let p = &mut reg[idx];
    let Some(Next::To(next)) = transition(p.state, Event::Disable) else {
        pr_err!(
            "patch {} is {}: cannot disable it now\n",
            s(&p.name),
            p.state.name()
        );
        return Err(EBUSY);
    };
    let was_enabled = p.state == PatchState::Enabled;
    p.state = next;
    let done = unhook(&mut p.funcs, |f| !f.gone, false);
    if done.stuck != 0 {
        if let Some(Next::To(pinned)) = transition(p.state, Event::MarkerStuck) {
            p.state = pinned;
        }
        p.why = Why::Marker(p.funcs.iter().position(|f| f.marker_stuck).unwrap_or(0));
        pr_warn!(
            "patch {} is disabled but pinned: {} marker(s) cannot be restored; their hooks stay, the original functions run; disable it again once the words are back\n",
            s(&p.name),
            done.stuck
        );
        return Err(EBUSY);
    }
    if was_enabled {
        for f in p.funcs.iter() {
            let late = f.t.counters.late_global.load(Relaxed);
            if late != 0 {
                pr_info!(
                    "{}: {} global call(s) reached the hook after the markers were out, the last {} us after\n",
                    f.t.name(),
                    late,
                    f.t.counters.late_max_ns.load(Relaxed) / 1000
                );
            }
        }
        pr_info!("disabled patch {}\n", s(&p.name));
    }
    // For the release condition below: no live task has a shadow frame of
    // one of these targets or an address in the patch module's text on its
    // stack. Not the `depth` counters: a task that exits inside a
    // replacement never pops its frame.
    let mut owners = KVec::with_capacity(p.funcs.len(), GFP_KERNEL)?;
    for f in p.funcs.iter() {
        owners.push(Arc::as_ptr(&f.t) as ffi::c_ulong, GFP_KERNEL)?;
    }
    // From here on the patch is `releasing`: nothing else changes it or
    // frees it, so it can be found again by its address.
    let id: *const Patch = &**p;
    let (start, end) = p.text;
    drop(reg);

    // No callback or interrupt-context replacement runs after this.
    // SAFETY: plain kernel call in process context.
    unsafe { bindings::synchronize_rcu() };
    let mut unused = false;
    for _ in 0..RELEASE_TRIES {
        // SAFETY: plain range and array query; sleeps (stop_machine).
        let n = unsafe {
            glue::tocpatch_tasks_in_use(
                start as ffi::c_ulong,
                end as ffi::c_ulong,
                owners.as_ptr(),
                owners.len(),
            )
        };
        if n == 0 {
            unused = true;
            break;
        }
        // SAFETY: plain kernel call in process context.
        unsafe { bindings::msleep(RELEASE_SLEEP_MS) };
    }
    let mut reg = REGISTRY.lock();
    let Some(idx) = find(&reg, id) else {
        pr_err!("a releasing patch disappeared from the registry\n");
        return Err(EINVAL);
    };
    let p = &mut reg[idx];
    if !unused {
        if let Some(Next::To(pinned)) = transition(p.state, Event::TimedOut) {
            p.state = pinned;
        }
        p.why = Why::InUse;
        pr_warn!(
            "patch {} is disabled but its code is still in use; disable it again later to release it\n",
            s(&p.name)
        );
        return Err(EBUSY);
    }
    // SAFETY: the reference taken at enable.
    unsafe { glue::tocpatch_module_put(p.module) };
    pr_info!("released patch {}\n", s(&p.name));
    // Drops the targets: their hooks are gone and no frame is left.
    let _ = reg.remove(idx);
    Ok(())
}

/// Disables the patch named `name` (its sysfs `enabled` file).
pub(crate) fn disable_by_name(name: &[u8]) -> Result {
    let r = disable(|p| p.name.to_bytes() == name);
    if r == Err(ENOENT) {
        pr_err!(
            "disable: no patch named {}\n",
            core::str::from_utf8(name).unwrap_or("?")
        );
    }
    r
}

/// What the status and sysfs files show of one function.
pub(crate) struct FuncFacts {
    /// `toc-relative`, `toc-load` or `none`.
    pub(crate) prologue: &'static CStr,
    /// `placed`, `suspended`, `removed`, `none`, `gone` or `stuck`.
    pub(crate) marker: &'static CStr,
    pub(crate) gone: bool,
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
    fn of(f: &Func, markers_out: bool) -> Self {
        let t = &f.t;
        let c = &t.counters;
        Self {
            prologue: match t.marker {
                None => c"none",
                Some(m) if m.width == crate::logic::insn::Width::Word => c"toc-relative",
                Some(_) => c"toc-load",
            },
            marker: match (t.marker.is_some(), f.marker_placed) {
                _ if f.gone => c"gone",
                _ if f.marker_stuck => c"stuck",
                (false, _) => c"none",
                (true, true) if markers_out => c"suspended",
                (true, true) => c"placed",
                (true, false) => c"removed",
            },
            gone: f.gone,
            tail_out: t.tail_out,
            calls: c.calls.load(Relaxed),
            local: c.local.load(Relaxed),
            global: c.global.load(Relaxed),
            fallback: c.fallback.load(Relaxed),
            depth: c.depth.load(Relaxed),
            peak: c.peak.load(Relaxed),
        }
    }
}

/// What the sysfs files show of a patch.
pub(crate) struct PatchFacts {
    pub(crate) state: PatchState,
    /// Its position among the enabled patches (`stack_order`).
    pub(crate) stack_order: usize,
}

/// The registry query of the sysfs files (rust/sysfs.rs): the facts of the
/// patch named `name` and of its functions whose indexes (in the order of
/// the patch's description) `funcs` selects, each passed to `each`; `None`
/// if no such patch is registered.
pub(crate) fn query(
    name: &[u8],
    funcs: core::ops::Range<usize>,
    mut each: impl FnMut(&FuncFacts),
) -> Option<PatchFacts> {
    let reg = REGISTRY.lock();
    let idx = reg.iter().position(|p| p.name.to_bytes() == name)?;
    let (out, _) = markers::hotplug_state();
    let p = &reg[idx];
    for f in p.funcs.iter().skip(funcs.start).take(funcs.len()) {
        each(&FuncFacts::of(f, out));
    }
    Some(PatchFacts {
        state: p.state,
        stack_order: crate::logic::sysfs::stack_order(reg[..idx].iter().map(|q| q.state)),
    })
}

/// Writes the status of every patch and function.
pub(crate) fn show(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    let reg = REGISTRY.lock();
    let (out, suspensions) = markers::hotplug_state();
    writeln!(
        f,
        "markers {} hotplug-suspensions {}",
        if out { "suspended" } else { "active" },
        suspensions
    )?;
    for p in reg.iter() {
        write!(f, "patch {} {}", s(&p.name), p.state.name())?;
        match (p.state, p.why) {
            (PatchState::Releasing, _) => {
                writeln!(f, " (waiting for its code to fall out of use)")?
            }
            (PatchState::Pinned, Why::InUse) => writeln!(
                f,
                " (its code was still in use; disable again to retry)"
            )?,
            (PatchState::Pinned, Why::Marker(i)) => writeln!(
                f,
                " (marker of {} cannot be restored: its word was changed by someone else; disable again once it is back)",
                p.funcs.get(i).map_or("?", |x| x.t.name())
            )?,
            _ => writeln!(f)?,
        }
        for x in p.funcs.iter() {
            let y = FuncFacts::of(x, out);
            writeln!(
                f,
                "  func {} prologue {} marker {} tail-out {} calls {} local {} global {} fallback {} depth {} peak {}",
                x.t.name(),
                s(y.prologue),
                s(y.marker),
                u8::from(y.tail_out),
                y.calls,
                y.local,
                y.global,
                y.fallback,
                y.depth,
                y.peak
            )?;
        }
    }
    Ok(())
}

/// Number of patches (module unload sanity check).
pub(crate) fn count() -> usize {
    REGISTRY.lock().len()
}

/// Frees the registry's buffer (module unload: a static is never dropped).
pub(crate) fn fini() {
    drop(core::mem::replace(&mut *REGISTRY.lock(), KVec::new()));
}

/// Called by the module notifier (`kernel_glue/module_notify.c`) when module
/// `name` is going: unpatches every function of it, while its text is still
/// there.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_module_going(name: *const ffi::c_char) {
    let Some(name) = cstr(name) else { return };
    let mut reg = REGISTRY.lock();
    for p in reg.iter_mut() {
        let in_module = |f: &Func| {
            !f.gone
                && f.t
                    .object
                    .as_ref()
                    .is_some_and(|o| o.to_bytes() == name.to_bytes())
        };
        if !p.funcs.iter().any(&in_module) {
            continue;
        }
        let n = unhook(&mut p.funcs, in_module, true).hooks;
        for f in p.funcs.iter_mut().filter(|f| in_module(f)) {
            f.gone = true;
            f.marker_stuck = false;
        }
        pr_info!(
            "patch {}: module {} is going, {} function(s) unpatched\n",
            s(&p.name),
            s(name),
            n
        );
    }
}

/// `int tocpatch_enable_patch(struct tocpatch_patch *patch)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_enable_patch(patch: *mut TocpatchPatch) -> ffi::c_int {
    match enable(patch) {
        Ok(()) => 0,
        Err(e) => {
            if e == ENOMEM {
                // The other failures said what they were.
                pr_err!("enable failed: out of memory; nothing changed\n");
            }
            e.to_errno()
        }
    }
}

/// `int tocpatch_disable_patch(struct tocpatch_patch *patch)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_disable_patch(patch: *mut TocpatchPatch) -> ffi::c_int {
    match disable(|p| p.api == patch) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
