// SPDX-License-Identifier: GPL-2.0

//! Disable: the quiesce policy (markers out, a grace period, then hooks
//! out: [`unhook`]) and the release wait (no task may still run or return
//! into the patch module's code before its reference is dropped).
//!
//! Locking: [`unhook`] runs under `REGISTRY` (it sleeps: RCU-tasks grace
//! periods). [`disable`] takes `REGISTRY`, unhooks, marks the patch
//! `releasing` and drops the lock for the release wait; nothing else
//! changes a releasing patch, so it finds it again by address afterwards.

use kernel::{bindings, ffi, prelude::*, sync::atomic::Relaxed};

use super::states::InTransition;
use super::{find, s, Func, Patch, Why, REGISTRY};
use crate::glue;
use crate::logic::state::{transition, Event, Next, PatchState};
use crate::site::{self, Unmark};
use crate::target::Target;

/// Grace periods to wait, at most, after the first one, for calls through
/// marked prologues to stop after the markers were taken out.
const QUIESCE_TRIES: usize = 10;

/// What [`unhook`] did.
pub(super) struct Unhooked {
    /// Functions that left their sites (no longer patched by the patch).
    pub(super) hooks: usize,
    /// Of those, functions whose sites stay hooked for other patches: their
    /// targets came off a live hook's stack.
    pub(super) shared: usize,
    /// Markers that could not be restored (their hooks are kept).
    pub(super) stuck: usize,
}

/// Takes the functions `which` selects off their sites: first the markers
/// of the sites where they are the last (in that order, with an
/// RCU-tasks grace period between, see text_patch.rs; markers.rs does the
/// text writes), then their places, which takes their targets off the
/// stacks and unhooks the sites left empty. A function whose site's marker
/// cannot be restored (its word was changed by someone else) keeps its
/// place, and with it the hook, which repairs what the marker does, but
/// its target goes off the stack; it is marked stuck. Unless `going` (its
/// module is going away, text and all: the marker is forgotten and the
/// hook dropped).
pub(super) fn unhook(
    funcs: &mut KVec<Func>,
    which: impl Fn(&Func) -> bool,
    going: bool,
) -> Unhooked {
    let mut done = Unhooked {
        hooks: 0,
        shared: 0,
        stuck: 0,
    };
    let late = |fs: &KVec<Func>| -> u64 {
        fs.iter()
            .filter(|f| which(f))
            .filter_map(|f| f.site.as_ref())
            .map(|x| x.late_global.load(Relaxed))
            .sum()
    };
    let before = late(funcs);
    let mut removed = 0;
    let sel: KVec<usize> =
        retry(|| select(funcs, 0..funcs.len(), |f| which(f) && f.site.is_some()));
    let unmarked = retry(|| site::unmark_all(&targets(funcs, &sel)?, going));
    for (&k, u) in sel.iter().zip(unmarked) {
        let f = &mut funcs[k];
        match u {
            Unmark::Shared | Unmark::Out => {}
            Unmark::Removed => {
                f.marker_stuck = false;
                removed += 1;
            }
            Unmark::Stuck(e) => {
                if !f.marker_stuck {
                    pr_err!(
                        "{}: the marker cannot be restored ({:?}): its word was changed by someone else (a kprobe on it?); keeping its hook\n",
                        f.t.name(),
                        e
                    );
                }
                f.marker_stuck = true;
                // Its hook stays, but the original runs from now on.
                site::deactivate(&f.t);
                done.stuck += 1;
            }
        }
    }
    if removed != 0 {
        quiesce(funcs, &late, before);
        if !going {
            for x in funcs
                .iter()
                .filter(|f| which(f) && !f.marker_stuck)
                .filter_map(|f| f.site.as_ref())
            {
                let n = x.late_global.load(Relaxed);
                if n != 0 {
                    pr_info!(
                        "{}: {} global call(s) reached the hook after the markers were out, the last {} us after\n",
                        x.name(),
                        n,
                        x.late_max_ns.load(Relaxed) / 1000
                    );
                }
            }
        }
    }
    // Calls are redirected until the places go, as without markers.
    let going_sel = retry(|| select(funcs, sel.iter().copied(), |f| !f.marker_stuck));
    let left = retry(|| site::leave_all(&targets(funcs, &going_sel)?));
    for (&k, hook_went) in going_sel.iter().zip(left.iter()) {
        if funcs[k].site.take().is_some() {
            done.hooks += 1;
            if !hook_went {
                done.shared += 1;
            }
        }
    }
    done
}

/// The indexes among `from` of the functions of `funcs` that `pick` takes.
fn select(
    funcs: &KVec<Func>,
    from: impl Iterator<Item = usize> + Clone,
    pick: impl Fn(&Func) -> bool,
) -> Result<KVec<usize>> {
    let mut v = KVec::with_capacity(from.clone().count(), GFP_KERNEL)?;
    for k in from.filter(|&k| pick(&funcs[k])) {
        let _ = v.push_within_capacity(k);
    }
    Ok(v)
}

/// The targets of the functions of `funcs` at the indexes `sel`.
fn targets<'a>(funcs: &'a KVec<Func>, sel: &[usize]) -> Result<KVec<&'a Target>> {
    let mut ts = KVec::with_capacity(sel.len(), GFP_KERNEL)?;
    for &k in sel.iter() {
        let _ = ts.push_within_capacity(&*funcs[k].t);
    }
    Ok(ts)
}

/// Runs `f` until it succeeds: the unhook path cannot fail, and its
/// allocations are small (a word or two per function), so only an
/// injected failure (test-faults.sh) makes one fail, once.
fn retry<T>(mut f: impl FnMut() -> Result<T>) -> T {
    let mut warned = false;
    loop {
        if let Ok(v) = f() {
            return v;
        }
        if !warned {
            pr_warn!("unhook: out of memory; trying again\n");
            warned = true;
        }
        // SAFETY: plain kernel call in process context.
        unsafe { bindings::msleep(1) };
    }
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

/// How long a disable waits for the patch code to fall out of use (10 s
/// of time, however long each look takes: a `stop_machine()` can take
/// tens of milliseconds on a loaded machine), and the pause between looks.
const RELEASE_WAIT_NS: u64 = 10_000_000_000;
const RELEASE_SLEEP_MS: u32 = 20;

/// Disables the patch that `which` finds, and waits for its code to be
/// unused, without holding REGISTRY while it waits.
pub(super) fn disable(which: impl Fn(&Patch) -> bool) -> Result {
    let mut reg = REGISTRY.lock();
    let Some(idx) = reg.iter().position(|p| which(p)) else {
        return Err(ENOENT);
    };
    // Its callbacks may ask for the states of the patches enabled before.
    let in_transition = InTransition::begin(reg[..idx].iter())?;
    let p = &mut reg[idx];
    let Some(Next::To(next)) = transition(p.state, Event::Disable) else {
        pr_err!(
            "patch {} is {}: cannot disable it now\n",
            s(&p.name),
            p.state.name()
        );
        return Err(EBUSY);
    };
    // What the release wait needs, made before anything changes: an
    // allocation failure here refuses the disable, nothing done (after
    // the unhook nothing may fail).
    let (id, owners, text) = releasing(p)?;
    let was_enabled = p.state == PatchState::Enabled;
    p.state = next;
    if was_enabled {
        for o in p.objs.iter().filter(|o| o.patched) {
            o.pre_unpatch();
        }
    }
    let done = unhook(&mut p.funcs, |f| !f.gone, false);
    let off_live_hooks = done.shared != 0 || done.stuck != 0;
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
    for o in p.objs.iter_mut().filter(|o| o.patched) {
        o.post_unpatch();
    }
    drop(in_transition);
    if was_enabled {
        pr_info!("disabled patch {}\n", s(&p.name));
    }
    drop(reg);
    release(id, &owners, text, off_live_hooks)
}

/// What [`release`] needs of a patch that has just become `releasing`:
/// its address (nothing else changes or frees a releasing patch, so it can
/// be found again by it), the owners of its shadow frames (its targets)
/// and its text.
pub(super) type Releasing = (*const Patch, KVec<ffi::c_ulong>, (u64, u64));

/// The [`Releasing`] facts of `p`, whose functions are off their sites.
pub(super) fn releasing(p: &Patch) -> Result<Releasing> {
    // For the release condition: no live task has a shadow frame of one of
    // these targets or an address in the patch module's text on its
    // stack. Not the `depth` counters: a task that exits inside a
    // replacement never pops its frame.
    let mut owners = KVec::with_capacity(p.funcs.len(), GFP_KERNEL)?;
    for f in p.funcs.iter() {
        owners.push(f.t.counters.owner() as ffi::c_ulong, GFP_KERNEL)?;
    }
    Ok((p, owners, p.text))
}

/// Waits, without `REGISTRY`, for the code of the releasing patch `id`
/// to fall out of use, then drops it (or pins it if that takes too long).
/// `off_live_hooks`: some of its targets came off the stacks of sites
/// that stay hooked.
pub(super) fn release(
    id: *const Patch,
    owners: &KVec<ffi::c_ulong>,
    (start, end): (u64, u64),
    off_live_hooks: bool,
) -> Result {
    // No interrupt-context replacement runs after this.
    // SAFETY: plain kernel call in process context.
    unsafe { bindings::synchronize_rcu() };
    if off_live_hooks {
        // Targets that came off the stack of a site that stays hooked: the
        // callback may be preempted with one of them in hand (site.rs, the
        // lifetime rule), and a task the callback sent on its way to the
        // replacement may be preempted before it (in ftrace_caller's exit
        // or the entry trampoline, where the release scan does not see the
        // replacement's address). The unhook of a site waits for both; a
        // site that stays hooked waits here, as ftrace does for dynamic ops:
        // the rude grace period covers callbacks where RCU-tasks does not
        // look (idle, CPUs going offline).
        // SAFETY: plain kernel calls in process context.
        unsafe {
            bindings::synchronize_rcu_tasks_rude();
            bindings::synchronize_rcu_tasks();
        }
    }
    let mut unused = false;
    // SAFETY: plain clock read.
    let since = unsafe { bindings::ktime_get_mono_fast_ns() };
    loop {
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
        // SAFETY: plain clock read.
        let now = unsafe { bindings::ktime_get_mono_fast_ns() };
        if now.saturating_sub(since) >= RELEASE_WAIT_NS {
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

/// Disables the patch named `name` (the control file).
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
