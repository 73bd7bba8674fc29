// SPDX-License-Identifier: GPL-2.0

//! The placed odd-TOC markers, and their suspension while some CPU runs
//! without ftrace.
//!
//! A marker is only an optimisation: without it, a global call arrives
//! with an even r2 and is handled as a local one, which is correct (the
//! shadow frame gives the caller back B's TOC, and a global caller reloads
//! its own anyway). A marked prologue is only safe while every CPU that
//! can run it reaches the ftrace hook behind it, which repairs r2. powerpc
//! turns ftrace off per CPU (`paca->ftrace_enabled`, tested first thing in
//! `ftrace_caller`) while a CPU goes offline (from `__cpu_disable()` until
//! it is dead) and while it comes online (until `start_secondary()` turns
//! it on): a marked function called there would run on with an odd r2. So
//! every marker is taken out for the whole of each CPU hotplug operation
//! (`kernel_glue/cpu_hotplug.c` calls [`suspend`] and [`resume`]) and put
//! back afterwards; hotplug operations are serialised, the count nests
//! anyway.
//!
//! All marker text writes happen here, under [`MARKERS`], which is taken
//! inside `REGISTRY` (enable, disable, module going) and inside the CPU
//! hotplug lock (the hotplug callbacks), and never held while calling into
//! ftrace or `stop_machine()`, which take the hotplug lock themselves.
//! Taking out a marker needs no wait: the hook stays registered, and a task
//! that went through the marked prologue just before still reaches it.
//!
//! [`nmi::markers_in_text`] learns the number of markers in text before
//! writes that add some and after writes that take them out: NMI IPI
//! functions run with ftrace on while it is not zero (`rust/nmi.rs`).

use kernel::prelude::*;

use crate::logic::insn::Marker;
use crate::nmi;
use crate::text_patch;

struct Rec {
    global_entry: u64,
    marker: Marker,
}

struct Markers {
    recs: KVec<Rec>,
    /// Hotplug operations in progress; markers are out while non-zero.
    suspended: u32,
    /// How often markers were taken out for a hotplug operation.
    suspensions: u64,
}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static MARKERS: Mutex<Markers> = Markers {
        recs: KVec::new(),
        suspended: 0,
        suspensions: 0,
    };
}

/// Initialises the marker set (module init, before any patch).
pub(crate) fn init() {
    // SAFETY: called once, before any other use of MARKERS.
    unsafe { MARKERS.init() };
}

/// Places the markers `recs` names (global entry and marker; their hooks
/// are registered) with one round of interrupts, all or none (or records
/// them, during a hotplug operation). On failure, markers already written
/// are taken out again; a marker that cannot be (its word changed in the
/// meantime) stays in text, recorded, and is counted in the error: its
/// hook must stay.
pub(crate) fn place_all(recs: &[(u64, Marker)]) -> core::result::Result<(), (Error, usize)> {
    let mut m = MARKERS.lock();
    m.recs
        .reserve(recs.len(), GFP_KERNEL)
        .map_err(|e| (e.into(), 0))?;
    if m.suspended == 0 {
        let mut batch = text_patch::Batch::new(recs.len()).map_err(|e| (e, 0))?;
        let mut undo = text_patch::Batch::new(recs.len()).map_err(|e| (e, 0))?;
        nmi::markers_in_text(m.recs.len() + recs.len());
        for (k, (ge, mk)) in recs.iter().enumerate() {
            if let Err(e) = batch.apply(*ge, mk) {
                let mut stuck = 0;
                for (ge, mk) in recs[..k].iter() {
                    if undo.restore(*ge, mk).is_err() {
                        stuck += 1;
                        let _ = m.recs.push_within_capacity(Rec {
                            global_entry: *ge,
                            marker: *mk,
                        });
                    }
                }
                // The first stores are undone (or stuck): nothing of
                // `batch` needs a second store.
                drop(batch);
                undo.sync();
                nmi::markers_in_text(m.recs.len());
                return Err((e, stuck));
            }
        }
        batch.sync();
    }
    for (ge, mk) in recs.iter() {
        // Room reserved above.
        let _ = m.recs.push_within_capacity(Rec {
            global_entry: *ge,
            marker: *mk,
        });
    }
    Ok(())
}

/// [`remove`] for many functions, with one round of interrupts; one result
/// for each of `ges`, in order.
pub(crate) fn remove_all(ges: &[u64]) -> Result<KVec<Result>> {
    let mut res = KVec::with_capacity(ges.len(), GFP_KERNEL)?;
    let mut m = MARKERS.lock();
    let mut batch = text_patch::Batch::new(ges.len())?;
    for ge in ges.iter() {
        let Some(rec) = m.recs.iter().find(|r| r.global_entry == *ge) else {
            let _ = res.push_within_capacity(Ok(()));
            continue;
        };
        let mut r = Ok(());
        if m.suspended == 0 {
            r = Err(ENOMEM);
            for _ in 0..WRITE_TRIES {
                r = batch.restore(rec.global_entry, &rec.marker);
                if r != Err(ENOMEM) {
                    break;
                }
            }
        }
        let _ = res.push_within_capacity(r);
    }
    batch.sync();
    for (ge, r) in ges.iter().zip(res.iter()) {
        if r.is_ok() {
            m.recs.retain(|x| x.global_entry != *ge);
        }
    }
    if m.suspended == 0 {
        nmi::markers_in_text(m.recs.len());
    }
    Ok(res)
}

/// Attempts at a marker text write that fails for lack of memory (the
/// writable alias of the page is a `vmap()`).
const WRITE_TRIES: usize = 3;

/// Forgets the marker of the function at `global_entry` without touching
/// its text (its module is going away, text and all).
pub(crate) fn forget(global_entry: u64) {
    let mut m = MARKERS.lock();
    m.recs.retain(|r| r.global_entry != global_entry);
}

/// Frees the marker list's buffer (module unload: a static is never
/// dropped).
pub(crate) fn fini() {
    drop(core::mem::take(&mut MARKERS.lock().recs));
}

/// Whether markers are out for a hotplug operation now, and how often they
/// were taken out for one (status file).
pub(crate) fn hotplug_state() -> (bool, u64) {
    let m = MARKERS.lock();
    (m.suspended != 0, m.suspensions)
}

/// A CPU hotplug operation starts: take every marker out.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_markers_suspend() {
    let mut m = MARKERS.lock();
    m.suspended += 1;
    if m.suspended != 1 {
        return;
    }
    m.suspensions += 1;
    for r in m.recs.iter() {
        if text_patch::restore(r.global_entry, &r.marker).is_err() {
            pr_err!(
                "hotplug: could not take out the marker at {:#x}\n",
                r.global_entry
            );
        }
    }
    nmi::markers_in_text(0);
}

/// A CPU hotplug operation ended: put the markers back.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_markers_resume() {
    let mut m = MARKERS.lock();
    if m.suspended == 0 {
        pr_err!("hotplug: resume without suspend\n");
        return;
    }
    m.suspended -= 1;
    if m.suspended != 0 {
        return;
    }
    nmi::markers_in_text(m.recs.len());
    for r in m.recs.iter() {
        if text_patch::apply(r.global_entry, &r.marker).is_err() {
            pr_err!(
                "hotplug: could not put back the marker at {:#x}\n",
                r.global_entry
            );
        }
    }
}
