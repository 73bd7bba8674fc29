// SPDX-License-Identifier: GPL-2.0

//! Patch objects, their registry and their state machine; the exported API
//! of `include/tocpatch.h`.
//!
//! Locking: `REGISTRY` (a mutex) protects the list of patches and every
//! patch's state; enable, disable and the status file take it, and all of
//! them may sleep. The ftrace callback and the return trampoline never take
//! it: they only read a [`Target`]'s immutable fields and update its
//! atomic counters. A target is freed only after its hook is unregistered
//! and no live task holds a shadow frame of it (`disable_at`).

use kernel::{
    bindings, ffi,
    prelude::*,
    str::{CStr, CStrExt, CString},
    sync::atomic::{Atomic, Relaxed},
};

use crate::abi::{TocpatchFunc, TocpatchObject, TocpatchPatch};
use crate::ftrace_hook::Hook;
use crate::glue;
use crate::logic::insn::Marker;
use crate::logic::state::{transition, Event, Next, PatchState};
use crate::markers;
use crate::shadow::PushError;
use crate::symbols;

/// Per-function counters (the status file shows them).
pub(crate) struct Counters {
    /// Calls that reached the hook.
    pub(crate) calls: Atomic<u64>,
    /// Of those, through the local entry (even TOC).
    pub(crate) local: Atomic<u64>,
    /// Through the marked global entry (odd TOC).
    pub(crate) global: Atomic<u64>,
    /// Calls not redirected (the original function ran): no room for a
    /// shadow frame, or the callback recursed.
    pub(crate) fallback: Atomic<u64>,
    /// Frames of this function on shadow stacks now (for the status only:
    /// frames of tasks that exited inside a replacement stay counted).
    pub(crate) depth: Atomic<i64>,
    /// Deepest shadow stack seen at a push for this function.
    pub(crate) peak: Atomic<u64>,
    /// The shadow-stack fallback and the recursion have been reported.
    fallback_reported: Atomic<bool>,
    recursion_reported: Atomic<bool>,
    /// When the markers were taken out for a disable (ns, monotonic fast
    /// clock), 0 while they are in: for the late-call check of `unhook`
    /// (Documentation/testbed.rst, "The stale prologue").
    pub(crate) markers_out_ns: Atomic<u64>,
    /// Global (odd) calls that reached the hook after that, and the latest
    /// of them (ns after the markers were out).
    pub(crate) late_global: Atomic<u64>,
    pub(crate) late_max_ns: Atomic<u64>,
}

/// One patched function.
pub(crate) struct Target {
    hook: Hook,
    name: CString,
    /// The module the function is in, `None` for vmlinux.
    object: Option<CString>,
    /// The object went away (module unloaded): hook and marker are gone.
    gone: bool,
    /// The replacement tail-calls out of its module through a TOC-saving
    /// stub (symbols::tail_calls_out): global calls need a shadow frame too.
    pub(crate) tail_out: bool,
    /// Replacement's global entry.
    pub(crate) new_func: u64,
    global_entry: u64,
    marker: Option<Marker>,
    marker_placed: bool,
    hooked: bool,
    /// Marker delta, 0 without a marker.
    pub(crate) delta: i64,
    pub(crate) counters: Counters,
}

impl Target {
    /// Reports, once per function, that local calls are falling back.
    pub(crate) fn report_fallback(&self, e: PushError) {
        if !self.counters.fallback_reported.xchg(true, Relaxed) {
            pr_warn!(
                "{}: {}: running the original function\n",
                self.name.to_str().unwrap_or("?"),
                match e {
                    PushError::NoRoom => "no room for a shadow frame (task stack nearly exhausted)",
                    PushError::NoStack => "task has no stack for a shadow frame",
                }
            );
        }
    }

    /// Reports, once per function, that the callback recursed into it.
    pub(crate) fn report_recursion(&self) {
        if !self.counters.recursion_reported.xchg(true, Relaxed) {
            pr_warn!(
                "{}: called from within tocpatch's own ftrace callback: running the original function\n",
                self.name.to_str().unwrap_or("?")
            );
        }
    }
}

struct Patch {
    api: *mut TocpatchPatch,
    module: glue::ModulePtr,
    name: CString,
    text: (u64, u64),
    state: PatchState,
    targets: KVec<KBox<Target>>,
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

/// Builds the target for one `tocpatch_func`.
fn new_target(obj: Option<&CStr>, f: &TocpatchFunc, text: (u64, u64)) -> Result<KBox<Target>> {
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
        Marker::for_prologue(func.entry, func.second, func.toc_word)
    } else {
        None
    };
    let marker = marker.filter(|_| crate::nmi::may_mark(s(name), func.global_entry));
    Ok(KBox::new(
        Target {
            hook: Hook::new(),
            name: CString::try_from_fmt(fmt!("{}", s(name)))?,
            object: match obj {
                Some(o) => Some(CString::try_from_fmt(fmt!("{}", s(o)))?),
                None => None,
            },
            gone: false,
            tail_out,
            new_func,
            global_entry: func.global_entry,
            marker,
            marker_placed: false,
            hooked: false,
            delta: marker.map_or(0, |m| m.delta),
            counters: Counters {
                calls: Atomic::new(0),
                local: Atomic::new(0),
                global: Atomic::new(0),
                fallback: Atomic::new(0),
                depth: Atomic::new(0),
                peak: Atomic::new(0),
                fallback_reported: Atomic::new(false),
                recursion_reported: Atomic::new(false),
                markers_out_ns: Atomic::new(0),
                late_global: Atomic::new(0),
                late_max_ns: Atomic::new(0),
            },
        },
        GFP_KERNEL,
    )?)
}

/// Collects the targets of an API patch.
fn collect(api: &TocpatchPatch, text: (u64, u64)) -> Result<KVec<KBox<Target>>> {
    let mut targets = KVec::new();
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
            let t = new_target(objname, func, text)?;
            if targets
                .iter()
                .any(|x: &KBox<Target>| x.global_entry == t.global_entry)
            {
                pr_err!("{}: listed twice\n", s(&t.name));
                return Err(EINVAL);
            }
            targets.push(t, GFP_KERNEL)?;
            // SAFETY: still inside the terminated array.
            f = unsafe { f.add(1) };
        }
        // SAFETY: still inside the terminated array.
        o = unsafe { o.add(1) };
    }
    if targets.is_empty() {
        pr_err!("patch has no functions\n");
        return Err(EINVAL);
    }
    Ok(targets)
}

/// Grace periods to wait, at most, after the first one, for calls through
/// marked prologues to stop after the markers were taken out.
const QUIESCE_TRIES: usize = 10;

/// Removes the markers, then the hooks, of the targets `which` selects (in
/// that order, with an RCU-tasks grace period between, see text_patch.rs;
/// markers.rs does the text writes).
/// Returns how many targets were unhooked.
fn unhook(targets: &mut KVec<KBox<Target>>, which: impl Fn(&Target) -> bool) -> usize {
    let mut n = 0;
    let late = |ts: &KVec<KBox<Target>>| -> u64 {
        ts.iter()
            .filter(|t| which(t))
            .map(|t| t.counters.late_global.load(Relaxed))
            .sum()
    };
    let before = late(targets);
    for t in targets.iter_mut().filter(|t| which(t)) {
        if t.marker_placed {
            if markers::remove(t.global_entry).is_err() {
                pr_err!("{}: could not restore the prologue\n", s(&t.name));
            }
            t.marker_placed = false;
            // SAFETY: plain clock read.
            let now = unsafe { bindings::ktime_get_mono_fast_ns() };
            t.counters.markers_out_ns.store(now.max(1), Relaxed);
        }
    }
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
    let first = late(targets);
    let mut seen = first;
    let quiet = first == before
        || (0..QUIESCE_TRIES).any(|_| {
            // SAFETY: as above.
            unsafe { bindings::synchronize_rcu_tasks() };
            let last = core::mem::replace(&mut seen, late(targets));
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
    for t in targets.iter_mut().filter(|t| which(t)) {
        if t.hooked {
            // SAFETY: registered by `hook_all`.
            unsafe { t.hook.unregister() };
            t.hooked = false;
            n += 1;
        }
    }
    n
}

/// Registers hooks, then places markers.
fn hook_all(targets: &mut KVec<KBox<Target>>) -> Result {
    for t in targets.iter_mut() {
        let tp: *const Target = &**t;
        // SAFETY: the target is boxed and stays put until `unhook`.
        unsafe { t.hook.register(t.global_entry, tp) }?;
        t.hooked = true;
    }
    for t in targets.iter_mut() {
        if let Some(m) = &t.marker {
            markers::place(t.global_entry, m)?;
            t.marker_placed = true;
        }
    }
    Ok(())
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
    let mut targets = collect(api, text)?;
    for t in targets.iter() {
        if reg
            .iter()
            .flat_map(|p| p.targets.iter())
            .any(|o| o.global_entry == t.global_entry)
        {
            pr_err!("{}: already patched by another patch\n", s(&t.name));
            return Err(EBUSY);
        }
    }
    let sysfs = crate::sysfs::Entry::add(&name, api_ptr)?;
    // SAFETY: `module` is live (it is calling us, or is loaded).
    if !unsafe { glue::tocpatch_module_get(api.module) } {
        pr_err!("patch module {} is going away\n", s(&name));
        return Err(ENODEV);
    }
    if let Err(e) = hook_all(&mut targets) {
        unhook(&mut targets, |_| true);
        // SAFETY: the reference taken above.
        unsafe { glue::tocpatch_module_put(api.module) };
        return Err(e);
    }
    let n = targets.len();
    let marked = targets.iter().filter(|t| t.marker.is_some()).count();
    reg.push(
        KBox::new(
            Patch {
                api: api_ptr,
                module: api.module,
                name,
                text,
                state: PatchState::Enabled,
                targets,
                _sysfs: sysfs,
            },
            GFP_KERNEL,
        )?,
        GFP_KERNEL,
    )?;
    let p = &reg[reg.len() - 1];
    pr_info!(
        "enabled patch {}: {} function(s), {} with odd-TOC marker\n",
        s(&p.name),
        n,
        marked
    );
    Ok(())
}

/// How long a disable waits for the patch code to fall out of use.
const RELEASE_TRIES: u32 = 500;
const RELEASE_SLEEP_MS: u32 = 20;

/// Disables the patch at `idx` and waits for its code to be unused.
fn disable_at(reg: &mut KVec<KBox<Patch>>, idx: usize) -> Result {
    let p = &mut reg[idx];
    let Some(Next::To(next)) = transition(p.state, Event::Disable) else {
        pr_err!(
            "patch {} is {}: cannot disable\n",
            s(&p.name),
            p.state.name()
        );
        return Err(EINVAL);
    };
    // For the release condition below: no live task has a shadow frame of
    // one of these targets or an address in the patch module's text on its
    // stack. Not the `depth` counters: a task that exits inside a
    // replacement never pops its frame.
    let mut owners = KVec::with_capacity(p.targets.len(), GFP_KERNEL)?;
    for t in p.targets.iter() {
        let tp: *const Target = &**t;
        owners.push(tp as ffi::c_ulong, GFP_KERNEL)?;
    }
    if p.state == PatchState::Enabled {
        unhook(&mut p.targets, |_| true);
        for t in p.targets.iter() {
            let late = t.counters.late_global.load(Relaxed);
            if late != 0 {
                pr_info!(
                    "{}: {} global call(s) reached the hook after the markers were out, the last {} us after\n",
                    s(&t.name),
                    late,
                    t.counters.late_max_ns.load(Relaxed) / 1000
                );
            }
        }
        // No callback or interrupt-context replacement runs after this.
        // SAFETY: plain kernel call in process context.
        unsafe { bindings::synchronize_rcu() };
        pr_info!("disabled patch {}\n", s(&p.name));
    }
    p.state = next;
    for _ in 0..RELEASE_TRIES {
        // SAFETY: plain range and array query; sleeps (stop_machine).
        let n = unsafe {
            glue::tocpatch_tasks_in_use(
                p.text.0 as ffi::c_ulong,
                p.text.1 as ffi::c_ulong,
                owners.as_ptr(),
                owners.len(),
            )
        };
        if n == 0 {
            // SAFETY: the reference taken at enable.
            unsafe { glue::tocpatch_module_put(p.module) };
            pr_info!("released patch {}\n", s(&p.name));
            reg.remove(idx)?;
            return Ok(());
        }
        // SAFETY: plain kernel call in process context.
        unsafe { bindings::msleep(RELEASE_SLEEP_MS) };
    }
    p.state = PatchState::Pinned;
    pr_warn!(
        "patch {} is disabled but its code is still in use; disable it again later to release it\n",
        s(&p.name)
    );
    Err(EBUSY)
}

/// Disables the patch named `name` (its sysfs `enabled` file).
pub(crate) fn disable_by_name(name: &[u8]) -> Result {
    let mut reg = REGISTRY.lock();
    let idx = reg
        .iter()
        .position(|p| p.name.to_bytes() == name)
        .ok_or_else(|| {
            pr_err!(
                "disable: no patch named {}\n",
                core::str::from_utf8(name).unwrap_or("?")
            );
            ENOENT
        })?;
    disable_at(&mut reg, idx)
}

/// What the status and sysfs files show of one function.
pub(crate) struct FuncFacts {
    /// `toc-relative`, `toc-load` or `none`.
    pub(crate) prologue: &'static CStr,
    /// `placed`, `suspended`, `removed`, `none` or `gone`.
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
    fn of(t: &Target, markers_out: bool) -> Self {
        let c = &t.counters;
        Self {
            prologue: match t.marker {
                None => c"none",
                Some(m) if m.width == crate::logic::insn::Width::Word => c"toc-relative",
                Some(_) => c"toc-load",
            },
            marker: match (t.marker.is_some(), t.marker_placed) {
                _ if t.gone => c"gone",
                (false, _) => c"none",
                (true, true) if markers_out => c"suspended",
                (true, true) => c"placed",
                (true, false) => c"removed",
            },
            gone: t.gone,
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
    for t in p.targets.iter().skip(funcs.start).take(funcs.len()) {
        each(&FuncFacts::of(t, out));
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
        writeln!(f, "patch {} {}", s(&p.name), p.state.name())?;
        for t in p.targets.iter() {
            let x = FuncFacts::of(t, out);
            writeln!(
                f,
                "  func {} prologue {} marker {} tail-out {} calls {} local {} global {} fallback {} depth {} peak {}",
                s(&t.name),
                s(x.prologue),
                s(x.marker),
                u8::from(x.tail_out),
                x.calls,
                x.local,
                x.global,
                x.fallback,
                x.depth,
                x.peak
            )?;
        }
    }
    Ok(())
}

/// Number of patches (module unload sanity check).
pub(crate) fn count() -> usize {
    REGISTRY.lock().len()
}

/// Called by the module notifier (`kernel_glue/module_notify.c`) when module
/// `name` is going: unpatches every function of it, while its text is still
/// there.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_module_going(name: *const ffi::c_char) {
    let Some(name) = cstr(name) else { return };
    let mut reg = REGISTRY.lock();
    for p in reg.iter_mut() {
        let in_module = |t: &Target| {
            !t.gone
                && t.object
                    .as_ref()
                    .is_some_and(|o| o.to_bytes() == name.to_bytes())
        };
        if !p.targets.iter().any(|t| in_module(t)) {
            continue;
        }
        let n = unhook(&mut p.targets, in_module);
        for t in p.targets.iter_mut().filter(|t| !t.hooked && !t.gone) {
            if t.object
                .as_ref()
                .is_some_and(|o| o.to_bytes() == name.to_bytes())
            {
                t.gone = true;
            }
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
        Err(e) => e.to_errno(),
    }
}

/// `int tocpatch_disable_patch(struct tocpatch_patch *patch)`
#[no_mangle]
pub(crate) extern "C" fn tocpatch_disable_patch(patch: *mut TocpatchPatch) -> ffi::c_int {
    let mut reg = REGISTRY.lock();
    let Some(idx) = reg.iter().position(|p| p.api == patch) else {
        return ENOENT.to_errno();
    };
    match disable_at(&mut reg, idx) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
