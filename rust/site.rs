// SPDX-License-Identifier: GPL-2.0

//! Patch stacking: one [`Site`] per patched function address, whatever
//! the number of patches on it (livepatch's `klp_ops` with its
//! `func_stack`).
//!
//! A site owns what belongs to the function rather than to a patch: the
//! ftrace hook (the only one on the function; [`crate::ftrace_hook`]
//! decides how hooks are registered), the odd-TOC marker (its prologue
//! facts and its delta) and the late-call diagnostics of a disable. On it
//! sits a stack of the targets of the enabled patches that patch the
//! function, in the order they were activated; the callback redirects to
//! the top one, the newest. Taking a target off the stack (in any order)
//! hands the function to the one below it, or to the original when none
//! is left.
//!
//! The table of sites, [`SITES`], is a mutex taken inside `REGISTRY`
//! (every caller holds it) and outside `MARKERS`; it may be held across
//! ftrace calls and grace periods (nothing that ftrace or the hotplug
//! path runs takes it).
//!
//! Lifetime rule. The callback reads a site's top target with
//! [`Site::top`] and uses it only until it returns (and in the shadow
//! frames it pushes, whose owner is that target's counters). The callback
//! may be preempted (ftrace calls it with preemption on where the ftrace
//! mode allows). A target taken off the stack of a site that stays hooked
//! may therefore be dropped only after `synchronize_rcu_tasks_rude()` and
//! `synchronize_rcu_tasks()`, the grace periods ftrace itself waits for
//! before it frees what the callbacks of dynamic ops use, and then the
//! release wait (no live task holds a frame whose owner is the target, or
//! an address in the patch module's text); `patch/disable.rs` does all of
//! it before it drops a patch. A target whose site is unhooked needs only
//! the unhook, which waits the same way (`ftrace_hook::unhook_all`). A
//! site itself lives as long as it is hooked: the hook holds it, and no
//! callback uses it once the unhook has returned.

use kernel::{
    bindings,
    prelude::*,
    str::CString,
    sync::atomic::{Atomic, Relaxed, Release},
    sync::Arc,
};

use crate::ftrace_hook::{self, Hook};
use crate::glue;
use crate::logic::insn::Marker;
use crate::markers;
use crate::target::Target;

/// A patched function, as the callback sees it: the facts of the
/// function, the top of its stack and its diagnostics counters.
#[repr(C)]
pub(crate) struct Site {
    /// The key of the hook's table: its ftrace location (the callback's
    /// `ip`) on the callback path; on the direct path the address after
    /// the call in the function's out-of-line stub, set when it is hooked
    /// (`ftrace_hook.rs`).
    pub(crate) key: Atomic<u64>,
    /// The top target of the stack, null while the stack is empty (the
    /// original runs). Published with release semantics by the table
    /// under [`SITES`]; read by the callback (see the lifetime rule).
    top: Atomic<*const Target>,
    /// `top`, if a global call may take the direct trampoline's fast path
    /// to it: a replacement (not a nop) that does not tail-call out of
    /// its module, while the marker is not being taken out; null
    /// otherwise (the slow path, the callback's code, then decides).
    /// Written with `top`, under [`SITES`].
    fast: Atomic<*const Target>,
    /// `top`, if a local call may take the direct trampoline's fast path
    /// to it: a replacement, not a nop; null otherwise. Written with
    /// `top`, under [`SITES`].
    lfast: Atomic<*const Target>,
    /// Marker delta, 0 without a marker: the callback repairs r2 with it
    /// before anything else, whatever the stack holds.
    pub(crate) delta: i64,
    /// When the marker was taken out (ns, monotonic fast clock), 0 while
    /// it is in: for the late-call check (Documentation/testbed.rst, "The
    /// stale prologue").
    pub(crate) markers_out_ns: Atomic<u64>,
    /// Its ftrace location.
    pub(crate) loc: u64,
    /// The function's global entry.
    pub(crate) ip: u64,
    /// The function's name, for messages.
    name: CString,
    /// Its odd-TOC marker, `None` if it gets none.
    pub(crate) marker: Option<Marker>,
    /// The marker is in the text (or recorded to go back after a hotplug
    /// operation); written under [`SITES`].
    placed: Atomic<bool>,
    /// Global (odd) calls that reached the hook after that, and the latest
    /// of them (ns after the marker was out).
    pub(crate) late_global: Atomic<u64>,
    pub(crate) late_max_ns: Atomic<u64>,
}

// The fields the direct trampoline's fast path reads (direct.S DT_SITE_*).
const _: () = assert!(core::mem::offset_of!(Site, key) == 0);
const _: () = assert!(core::mem::offset_of!(Site, top) == 8);
const _: () = assert!(core::mem::offset_of!(Site, fast) == 16);
const _: () = assert!(core::mem::offset_of!(Site, lfast) == 24);

// SAFETY: every field is immutable after construction or an atomic; `top`
// points to a target kept alive by the table's stack (see the lifetime
// rule), and targets are `Sync`.
unsafe impl Sync for Site {}
// SAFETY: as above; nothing in it is tied to a CPU or task.
unsafe impl Send for Site {}

impl Site {
    /// The function's name, for messages.
    pub(crate) fn name(&self) -> &str {
        self.name.to_str().unwrap_or("?")
    }

    /// The top target, if any.
    ///
    /// # Safety
    ///
    /// Only the callback calls this, and uses the target only until it
    /// returns: that is what the lifetime rule above keeps alive.
    #[inline(always)]
    pub(crate) unsafe fn top<'a>(&self) -> Option<&'a Target> {
        // As `rcu_dereference()`: a plain (`READ_ONCE`) load, whose address
        // dependency orders the reads of the target after it on every CPU
        // the kernel supports, paired with the release store of
        // `Entry::publish` (the crate's acquire load is a C helper call,
        // too much for the hot path).
        // SAFETY: `as_ptr` is valid and aligned; a volatile load of an
        // aligned word is a relaxed atomic load.
        let t = unsafe { core::ptr::read_volatile(self.top.as_ptr()) };
        // SAFETY: a non-null top is a target on the stack, or one taken
        // off it by a disable still waiting for the grace periods of the
        // lifetime rule (our contract).
        unsafe { t.as_ref() }
    }

    /// Sets `fast` and `lfast` from `top` and the marker's state (under
    /// [`SITES`]).
    fn publish_fast(&self) {
        let top = self.top.load(Relaxed);
        // SAFETY: `top` is null or a target on the stack, which the
        // caller (holding SITES) keeps alive.
        let lfast = unsafe { top.as_ref() }.filter(|t| !t.is_nop());
        let fast = lfast.filter(|t| !t.tail_out && self.markers_out_ns.load(Relaxed) == 0);
        let ptr = |t: Option<&Target>| t.map_or(core::ptr::null(), core::ptr::from_ref);
        self.fast.store(ptr(fast), Release);
        self.lfast.store(ptr(lfast), Release);
    }

    /// Whether the marker is in (or recorded to go back).
    pub(crate) fn placed(&self) -> bool {
        self.placed.load(Relaxed)
    }

    /// Counts a global call that arrived after the marker was taken out
    /// (a diagnostic: only tasks that were between the marked prologue and
    /// the hook at that moment should).
    #[inline(always)]
    pub(crate) fn note_late_global(&self) {
        let out = self.markers_out_ns.load(Relaxed);
        if out == 0 {
            return;
        }
        // SAFETY: plain clock read, safe in any context.
        let now = unsafe { bindings::ktime_get_mono_fast_ns() };
        self.late_global.add(1, Relaxed);
        let after = now.saturating_sub(out);
        if after > self.late_max_ns.load(Relaxed) {
            self.late_max_ns.store(after, Relaxed);
        }
    }
}

/// A site that `join_all` makes, until it commits it.
struct Fresh {
    site: Arc<Site>,
    /// Its (empty) stack, with room for its places.
    stack: KVec<Arc<Target>>,
    /// Those places.
    users: usize,
    /// The index of the target that made it.
    from: usize,
}

/// One site and what only the table changes.
struct Entry {
    site: Arc<Site>,
    /// Its hook; unhooked with the entry.
    hook: Option<Hook>,
    /// The targets on it, bottom first; `site.top` is the last.
    stack: KVec<Arc<Target>>,
    /// Functions of patches that joined it and have not left: a target
    /// is on the stack only while its function has a place, and a place
    /// always has room reserved on the stack.
    users: usize,
}

impl Entry {
    fn publish(&self) {
        let top = self.stack.last().map_or(core::ptr::null(), Arc::as_ptr);
        self.site.top.store(top, Release);
        self.site.publish_fast();
    }
}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static SITES: Mutex<KVec<Entry>> = KVec::new();
}

/// Initialises the table (module init, before any patch).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of SITES.
    unsafe { SITES.init() };
}

/// Frees the table's buffer (module unload: a static is never dropped).
pub(crate) fn fini() {
    drop(core::mem::take(&mut *SITES.lock()));
}

fn find(sites: &KVec<Entry>, ip: u64) -> Option<usize> {
    sites.iter().position(|e| e.site.ip == ip)
}

/// Takes a place for each of `ts` on the site of its function, creating
/// the sites there are none of (hooked, with one ftrace update, then
/// marked, with one round of interrupts). The targets are not on the
/// stacks yet ([`activate`] puts them there): until then the functions
/// keep what they had (the original, or the targets of other patches).
/// All or nothing: on failure no place is taken and no new site stays
/// (except sites whose marker could not be taken out again, kept for good
/// with their hooks, and tocpatch pinned).
pub(crate) fn join_all(ts: &[Arc<Target>]) -> Result<KVec<Arc<Site>>> {
    let mut sites = SITES.lock();
    let mut out = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    let mut fresh: KVec<Fresh> = KVec::new();
    sites.reserve(ts.len(), GFP_KERNEL)?;
    fresh.reserve(ts.len(), GFP_KERNEL)?;
    // The entries of existing sites that `ts` takes places on (one each:
    // entries are only appended, at the commit, so the indexes hold).
    let mut joined = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    // The functions that get new sites, and their ftrace locations, found
    // at once by one throw-away ops; the loop below meets them in the same
    // order.
    let mut todo = KVec::<(u64, u64, &str)>::new();
    for t in ts.iter() {
        let ip = t.global_entry;
        if find(&sites, ip).is_none() && !todo.iter().any(|x| x.0 == ip) {
            todo.push((ip, t.size, t.name()), GFP_KERNEL)?;
        }
    }
    let locs = match todo.len() {
        0 => KVec::new(),
        _ => ftrace_hook::Prober::new()?.locations(&todo)?,
    };
    let mut locs = locs.into_iter();
    for (k, t) in ts.iter().enumerate() {
        if let Some(i) = find(&sites, t.global_entry) {
            sites[i].stack.reserve(1, GFP_KERNEL)?;
            out.push(sites[i].site.clone(), GFP_KERNEL)?;
            joined.push(i, GFP_KERNEL)?;
            continue;
        }
        if let Some(f) = fresh.iter_mut().find(|f| f.site.ip == t.global_entry) {
            f.stack.reserve(f.users + 1, GFP_KERNEL)?;
            f.users += 1;
            out.push(f.site.clone(), GFP_KERNEL)?;
            continue;
        }
        let Some(loc) = locs.next() else {
            // Cannot happen: one location per new site.
            return Err(EINVAL);
        };
        let mut stack = KVec::new();
        stack.reserve(1, GFP_KERNEL)?;
        let site = Arc::new(
            Site {
                ip: t.global_entry,
                loc,
                name: CString::try_from_fmt(fmt!("{}", t.name()))?,
                marker: t.marker,
                delta: t.marker.map_or(0, |m| m.delta),
                key: Atomic::new(loc),
                top: Atomic::new(core::ptr::null()),
                fast: Atomic::new(core::ptr::null()),
                lfast: Atomic::new(core::ptr::null()),
                placed: Atomic::new(false),
                markers_out_ns: Atomic::new(0),
                late_global: Atomic::new(0),
                late_max_ns: Atomic::new(0),
            },
            GFP_KERNEL,
        )?;
        out.push(site.clone(), GFP_KERNEL)?;
        fresh.push(
            Fresh {
                site,
                stack,
                users: 1,
                from: k,
            },
            GFP_KERNEL,
        )?;
    }
    let mut new_sites = KVec::with_capacity(fresh.len(), GFP_KERNEL)?;
    let mut marks = KVec::with_capacity(fresh.len(), GFP_KERNEL)?;
    // The object of each new site, for the direct path's grouping.
    let mut objects = KVec::with_capacity(fresh.len(), GFP_KERNEL)?;
    for Fresh { site, from, .. } in fresh.iter() {
        new_sites.push(site.clone(), GFP_KERNEL)?;
        objects.push(ts[*from].object.as_deref(), GFP_KERNEL)?;
        if let Some(m) = site.marker {
            marks.push((site.ip, m), GFP_KERNEL)?;
        }
    }
    let hooks = ftrace_hook::hook_all(&new_sites, &objects)?;
    if let Err((e, stuck)) = markers::place_all(&marks) {
        pr_err!(
            "cannot place the markers of {} function(s): {:?}\n",
            marks.len(),
            e
        );
        if stuck != 0 {
            pr_err!(
                "{} marker(s) could not be taken out again: their functions keep their hooks until tocpatch is rebooted away\n",
                stuck
            );
            core::mem::forget(hooks);
            // SAFETY: plain call; our own module is live.
            unsafe { glue::tocpatch_pin_self() };
        } else {
            // Markers placed and taken out again may have sent calls into
            // their prologues: wait until those are past the hooks, which
            // repair them (the unhook takes the sites out of the table
            // first).
            // SAFETY: plain kernel call in process context.
            unsafe { bindings::synchronize_rcu_tasks() };
            ftrace_hook::unhook_all(hooks);
        }
        return Err(e);
    }
    for Fresh { site, .. } in fresh.iter() {
        site.placed.store(site.marker.is_some(), Relaxed);
    }
    // Commit: nothing fails from here on.
    let mut hooks = hooks.into_iter();
    for Fresh {
        site, stack, users, ..
    } in fresh.into_iter()
    {
        let _ = sites.push_within_capacity(Entry {
            site,
            hook: hooks.next(),
            stack,
            users,
        });
    }
    for &i in joined.iter() {
        sites[i].users += 1;
    }
    Ok(out)
}

/// Puts `t` on top of its site's stack: from now on its function's calls
/// go to its replacement. `t`'s function must have a place ([`join_all`]).
pub(crate) fn activate(t: &Arc<Target>) {
    let mut sites = SITES.lock();
    let Some(i) = find(&sites, t.global_entry) else {
        pr_err!("{}: activated without a site\n", t.name());
        return;
    };
    let e = &mut sites[i];
    if e.stack.push_within_capacity(t.clone()).is_err() {
        // Cannot happen: each place reserves its room.
        pr_err!("{}: site stack full\n", t.name());
        return;
    }
    e.publish();
}

/// Takes `t` off its site's stack, wherever it is on it: the function
/// goes to the target below, or to the original. The caller waits for
/// the grace periods of the lifetime rule before dropping `t`.
pub(crate) fn deactivate(t: &Target) {
    let mut sites = SITES.lock();
    let Some(i) = find(&sites, t.global_entry) else {
        return;
    };
    let e = &mut sites[i];
    if let Some(k) = e.stack.iter().position(|x| core::ptr::eq(&**x, t)) {
        // Publish the new top before the entry (and its reference) goes.
        let _ = e.stack.remove(k);
        e.publish();
    }
}

/// What [`unmark_all`] did for a function.
pub(crate) enum Unmark {
    /// Other functions still have a place on the site: the marker stays.
    Shared,
    /// There is no marker in (none, or out already).
    Out,
    /// The marker was taken out now.
    Removed,
    /// The marker could not be restored: its word was changed by someone
    /// else. The hook stays, and repairs what the marker does.
    Stuck(Error),
}

/// Before the last places on their sites go: takes out the markers of
/// the sites of `ts` where they are the last, with one round of
/// interrupts (if `going`, the functions' module is going away, text and
/// all: a marker that cannot be restored is forgotten). One result for
/// each of `ts`, in order.
pub(crate) fn unmark_all(ts: &[&Target], going: bool) -> Result<KVec<Unmark>> {
    let sites = SITES.lock();
    let mut out = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    let mut ips = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    // For each marker to take out: its place in `out` and its site's entry.
    let mut todo = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    for (k, t) in ts.iter().enumerate() {
        let u = match find(&sites, t.global_entry) {
            None => Unmark::Out,
            Some(i) if sites[i].users > 1 => Unmark::Shared,
            Some(i) if !sites[i].site.placed() => Unmark::Out,
            Some(i) => {
                ips.push(sites[i].site.ip, GFP_KERNEL)?;
                todo.push((k, i), GFP_KERNEL)?;
                Unmark::Removed
            }
        };
        out.push(u, GFP_KERNEL)?;
    }
    let results = markers::remove_all(&ips)?;
    // SAFETY: plain clock read.
    let now = unsafe { bindings::ktime_get_mono_fast_ns() };
    for (&(k, i), res) in todo.iter().zip(results.iter()) {
        let site = &sites[i].site;
        match res {
            Ok(()) => {}
            Err(_) if going => markers::forget(site.ip),
            Err(err) => {
                out[k] = Unmark::Stuck(*err);
                continue;
            }
        }
        site.placed.store(false, Relaxed);
        site.markers_out_ns.store(now.max(1), Relaxed);
        // Late global calls now take the slow path, which counts them.
        site.publish_fast();
    }
    Ok(out)
}

/// Gives up the place of each of `ts` on its site (taking it off the stack
/// if it is on it). The last place unhooks the function and drops the
/// site (one ftrace update for all, and the grace periods after it); its
/// marker must be out ([`unmark_all`]). Returns whether each hook went.
pub(crate) fn leave_all(ts: &[&Target]) -> Result<KVec<bool>> {
    let mut out = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    let mut dead = KVec::with_capacity(ts.len(), GFP_KERNEL)?;
    let mut sites = SITES.lock();
    for t in ts.iter() {
        let Some(i) = find(&sites, t.global_entry) else {
            let _ = out.push_within_capacity(false);
            continue;
        };
        let e = &mut sites[i];
        if let Some(k) = e.stack.iter().position(|x| core::ptr::eq(&**x, *t)) {
            let _ = e.stack.remove(k);
            e.publish();
        }
        e.users -= 1;
        if e.users != 0 {
            let _ = out.push_within_capacity(false);
            continue;
        }
        if let Some(h) = e.hook.take() {
            let _ = dead.push_within_capacity(h);
        }
        let _ = sites.remove(i);
        let _ = out.push_within_capacity(true);
    }
    // Unhooks: ftrace has finished every callback of those sites after.
    ftrace_hook::unhook_all(dead);
    Ok(out)
}

/// Keeps `t`'s place on its site for good (a marker that cannot be
/// restored, after an enable failed): its hook stays, the original runs.
pub(crate) fn abandon(t: &Target) {
    deactivate(t);
}
