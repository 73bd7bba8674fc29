// SPDX-License-Identifier: GPL-2.0

//! The debug summary in debugfs, `/sys/kernel/debug/tocpatch/status`
//! (read): a line about the markers, one line per patch, `patch NAME
//! STATE`, then one per object, `  object NAME patched 0/1`, each followed
//! by one per function of it: `  func NAME prologue FORM marker STATE
//! tail-out B calls N local N global N fallback N depth N peak N` (see
//! Documentation/control.rst). A debug aid only: the ABI is the sysfs tree
//! of rust/sysfs.rs, which shows each function's marker state and
//! counters; the prologue form and tail-out are only here and in the log.

use kernel::{debugfs::Dir, prelude::*};

use crate::logic::state::PatchState;
use crate::markers;
use crate::patch::{self, s, FuncFacts, Patch, Why};

fn status_show(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    show(f)
}

/// Writes the status of every patch and function.
fn show(f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    patch::with_registry(|reg| show_patches(f, reg))
}

fn show_patches(f: &mut core::fmt::Formatter<'_>, reg: &[KBox<Patch>]) -> core::fmt::Result {
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
        for (i, o) in p.objs.iter().enumerate() {
            writeln!(f, "  object {} patched {}", o.label(), u8::from(o.patched))?;
            for x in p.funcs.iter().filter(|x| x.obj == i) {
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
    }
    Ok(())
}

/// The debugfs directory and its file; removed when dropped.
pub(crate) struct Control {
    _status: Pin<KBox<kernel::debugfs::File<()>>>,
    _dir: Dir,
}

impl Control {
    pub(crate) fn new() -> Result<Self> {
        let dir = Dir::new(c"tocpatch");
        let status = KBox::pin_init(
            dir.read_callback_file(c"status", (), &status_show),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _status: status,
            _dir: dir,
        })
    }
}
