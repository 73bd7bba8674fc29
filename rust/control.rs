// SPDX-License-Identifier: GPL-2.0

//! The debug summary in debugfs, `/sys/kernel/debug/tocpatch/status`
//! (read): a line about the markers, one line per patch, `patch NAME
//! STATE`, then one per function: `  func NAME prologue FORM marker STATE
//! tail-out B calls N local N global N fallback N depth N peak N` (see
//! Documentation/control.rst). A debug aid only: the ABI is the sysfs tree
//! of rust/sysfs.rs, which shows the same facts per function.

use kernel::{debugfs::Dir, prelude::*};

use crate::patch;

fn status_show(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    patch::show(f)
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
