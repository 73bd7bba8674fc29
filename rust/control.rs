// SPDX-License-Identifier: GPL-2.0

//! The control and counter files, in debugfs:
//!
//! * `/sys/kernel/debug/tocpatch/status` (read): one line per patch,
//!   `patch NAME STATE`, then one per function:
//!   `  func NAME prologue FORM marker STATE calls N local N global N
//!   fallback N depth N peak N` (see Documentation/index.rst).
//! * `/sys/kernel/debug/tocpatch/control` (write): `disable NAME`.
//!
//! (The sysfs ABI of upstream livepatch, /sys/kernel/livepatch/..., is a
//! later step; these files are what the selftests use now.)

use kernel::{debugfs::Dir, prelude::*, uaccess::UserSliceReader};

use crate::patch;

fn status_show(_: &(), f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
    patch::show(f)
}

fn control_write(_: &(), reader: &mut UserSliceReader) -> Result {
    let mut buf = [0u8; 128];
    let n = reader.len();
    if n >= buf.len() {
        return Err(EINVAL);
    }
    reader.read_slice(&mut buf[..n])?;
    let line = core::str::from_utf8(&buf[..n]).map_err(|_| EINVAL)?.trim();
    let mut words = line.split_whitespace();
    match (words.next(), words.next(), words.next()) {
        (Some("disable"), Some(name), None) => patch::disable_by_name(name.as_bytes()),
        _ => {
            pr_err!(
                "control: unknown command '{}' (expected: disable NAME)\n",
                line
            );
            Err(EINVAL)
        }
    }
}

/// The debugfs directory and its files; removed when dropped.
pub(crate) struct Control {
    _status: Pin<KBox<kernel::debugfs::File<()>>>,
    _control: Pin<KBox<kernel::debugfs::File<()>>>,
    _dir: Dir,
}

impl Control {
    pub(crate) fn new() -> Result<Self> {
        let dir = Dir::new(c"tocpatch");
        let status = KBox::pin_init(
            dir.read_callback_file(c"status", (), &status_show),
            GFP_KERNEL,
        )?;
        let control = KBox::pin_init(
            dir.write_callback_file(c"control", (), &control_write),
            GFP_KERNEL,
        )?;
        Ok(Self {
            _status: status,
            _control: control,
            _dir: dir,
        })
    }
}
