// SPDX-License-Identifier: GPL-2.0

//! The sysfs ABI, `/sys/kernel/tocpatch/<patch>/`, modelled on
//! `/sys/kernel/livepatch` (Documentation/ABI/testing/sysfs-kernel-tocpatch):
//!
//! * `<patch>/enabled` (rw), `transition` (ro), `force` (wo), `replace`
//!   (ro), `stack_order` (ro);
//! * `<patch>/<object>/patched` (ro), `<object>` being the module name or
//!   `vmlinux`;
//! * `<patch>/<object>/<function>,<sympos>/` with tocpatch's own facts of
//!   the function, read-only: `marker` (its state) and `stat` (its
//!   counters on one line: calls, local, global, fallback, depth, peak).
//!   The facts fixed at enable (prologue form, tail calls out) are in the
//!   debugfs status and the log.
//!
//! `kernel_glue/sysfs.c` builds the kobjects (the kernel crate has no
//! kobject abstraction) and calls [`tocpatch_sysfs_get`] and
//! [`tocpatch_sysfs_set`] here with the patch's name; they look it up in
//! the registry (`patch::query`) at each access.

use kernel::{
    ffi,
    prelude::*,
    str::{CStr, CStrExt, CString},
};

use crate::abi::TocpatchPatch;
use crate::glue;
use crate::logic::state::PatchState;
use crate::logic::sysfs::{enabled_write, force_write};
use crate::patch;

// The files, as `enum tocpatch_sysfs_attr` in kernel_glue/glue.h numbers
// them.
const ENABLED: u32 = 0;
const TRANSITION: u32 = 1;
const FORCE: u32 = 2;
const REPLACE: u32 = 3;
const STACK_ORDER: u32 = 4;
const PATCHED: u32 = 5;
const MARKER: u32 = 6;

/// The fields of a function's `stat` file (`TP_SYSFS_STAT_FIELDS`).
const STAT_FIELDS: usize = 6;

/// The root directory, `/sys/kernel/tocpatch`; removed when dropped, after
/// the pending removals of patch directories.
pub(crate) struct Root(());

impl Root {
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: plain creation; undone in `drop`.
        let r = unsafe { glue::tocpatch_sysfs_init() };
        if r != 0 {
            pr_err!("cannot create /sys/kernel/tocpatch: {}\n", r);
            return Err(Error::from_errno(r));
        }
        Ok(Self(()))
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        // SAFETY: created in `new`; no patch is left (patch modules use
        // our symbols), so no directory is added any more.
        unsafe { glue::tocpatch_sysfs_exit() };
    }
}

/// A patch's directory tree; dropping it schedules its removal (it cannot
/// be synchronous: the drop may come from a write to its own `enabled`).
pub(crate) struct Entry(*mut ffi::c_void);

// SAFETY: the handle is only passed back to kernel_glue/sysfs.c, which
// queues its removal from any task.
unsafe impl Send for Entry {}

impl Entry {
    /// Creates the directories of `api`, named `name`. `api` has been
    /// checked by `patch/api.rs` (`parse`), which saw the same objects and
    /// functions in the same order.
    pub(crate) fn add(name: &CString, api: *const TocpatchPatch) -> Result<Self> {
        let mut h = core::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `api` is the patch module's
        // terminated description, live during the call; `h` is a local.
        let r = unsafe { glue::tocpatch_sysfs_add(name.as_char_ptr(), api, &mut h) };
        if r != 0 {
            return Err(Error::from_errno(r));
        }
        Ok(Self(h))
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // SAFETY: the handle from `add`, passed back once.
        unsafe { glue::tocpatch_sysfs_remove(self.0) };
    }
}

/// Waits for pending directory removals. Never with REGISTRY held.
pub(crate) fn settle() {
    // SAFETY: plain wait, in process context without our locks.
    unsafe { glue::tocpatch_sysfs_flush() };
}

/// A file's value: a number, or a string.
type Value = (i64, Option<&'static CStr>);

fn num(v: i64) -> Result<Value> {
    Ok((v, None))
}

/// The value of file `attr` of patch `name`, for its functions `first` ..
/// `first + n` (an object's, or one function's).
fn get(name: &[u8], attr: u32, first: usize, n: usize) -> Result<Value> {
    let mut func = Err(ENODEV);
    let p = patch::query(name, first..first + n, |x| {
        func = match attr {
            MARKER => Ok((0, Some(x.marker))),
            _ => Err(EINVAL),
        };
    })
    .ok_or(ENODEV)?;
    match attr {
        ENABLED => num(i64::from(p.state == PatchState::Enabled)),
        // tocpatch switches at once: no transition.
        TRANSITION => num(0),
        REPLACE => num(i64::from(p.replace)),
        STACK_ORDER => num(p.stack_order as i64),
        PATCHED => num(i64::from(p.patched)),
        _ => func,
    }
}

fn name_of<'a>(patch: *const ffi::c_char) -> &'a [u8] {
    // SAFETY: kernel_glue/sysfs.c passes the patch kobject's name, which
    // lives while the file is being accessed.
    unsafe { CStr::from_char_ptr(patch) }.to_bytes()
}

fn text(name: &[u8]) -> &str {
    core::str::from_utf8(name).unwrap_or("?")
}

/// `int tocpatch_sysfs_get(const char *patch, unsigned int attr, unsigned
/// int first, unsigned int n, long long *val, const char **str)`: 0 and
/// the value in `*val` or `*str`, or a negative errno (`-ENODEV`: the patch
/// was released and its directory is about to go).
#[no_mangle]
pub(crate) extern "C" fn tocpatch_sysfs_get(
    patch: *const ffi::c_char,
    attr: ffi::c_uint,
    first: ffi::c_uint,
    n: ffi::c_uint,
    val: *mut ffi::c_longlong,
    str: *mut *const ffi::c_char,
) -> ffi::c_int {
    match get(name_of(patch), attr, first as usize, n as usize) {
        Ok((v, s)) => {
            // SAFETY: out-pointers to the caller's locals.
            unsafe {
                *val = v;
                if let Some(s) = s {
                    *str = s.as_char_ptr();
                }
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// `int tocpatch_sysfs_stat(const char *patch, unsigned int idx, long long
/// *fields)`: the counters of function `idx` of `patch` into `fields`
/// (`TP_SYSFS_STAT_FIELDS` of them, in the `stat` file's order), or a
/// negative errno (`-ENODEV`: the patch was released, or the function is
/// not resolved, as for the other files of its directory).
#[no_mangle]
pub(crate) extern "C" fn tocpatch_sysfs_stat(
    patch: *const ffi::c_char,
    idx: ffi::c_uint,
    fields: *mut ffi::c_longlong,
) -> ffi::c_int {
    let idx = idx as usize;
    let mut v: Option<[i64; STAT_FIELDS]> = None;
    if patch::query(name_of(patch), idx..idx + 1, |x| {
        v = Some([
            x.calls as i64,
            x.local as i64,
            x.global as i64,
            x.fallback as i64,
            x.depth,
            x.peak as i64,
        ]);
    })
    .is_none()
    {
        return ENODEV.to_errno();
    }
    let Some(v) = v else {
        return ENODEV.to_errno();
    };
    // SAFETY: the caller's array of `STAT_FIELDS` elements.
    unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), fields, STAT_FIELDS) };
    0
}

fn set(name: &[u8], attr: u32, want: bool) -> Result {
    let Some(p) = patch::query(name, 0..0, |_| {}) else {
        pr_err!("{}: released; its directory is going away\n", text(name));
        return Err(ENODEV);
    };
    let refused = |r: crate::logic::sysfs::Refusal| {
        pr_err!("patch {} {}\n", text(name), r.text());
        EINVAL
    };
    match attr {
        ENABLED => {
            enabled_write(p.state, want).map_err(refused)?;
            patch::disable_by_name(name)
        }
        // No transition is ever in progress: tocpatch switches at once.
        FORCE => force_write(false, want).map(|_| ()).map_err(refused),
        _ => Err(EINVAL),
    }
}

/// `int tocpatch_sysfs_set(const char *patch, unsigned int attr, bool
/// val)`: a write of `val` (already parsed by kstrtobool) to `enabled` or
/// `force`; 0 or a negative errno, with one log line.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_sysfs_set(
    patch: *const ffi::c_char,
    attr: ffi::c_uint,
    val: bool,
) -> ffi::c_int {
    match set(name_of(patch), attr, val) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
