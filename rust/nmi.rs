// SPDX-License-Identifier: GPL-2.0

//! Markers and code that runs with ftrace off on its CPU (besides CPU
//! hotplug, `markers.rs`): powerpc runs system reset, machine check and HMI
//! handlers with ftrace off, and KVM HV guest entry and kexec turn it off,
//! so tocpatch's hook does not run behind a marked global entry there.
//! `kernel_glue/nmi.c` and `kernel_glue/ftrace_off.c` do the work (see
//! them and Documentation/design.rst); this is the engine's side:
//!
//! * [`Guard`]: while it exists, the hook on `__smp_send_nmi_ipi()` gives NMI
//!   IPI functions a wrapper running them with ftrace on while markers are
//!   in text, the crash and dump paths (a die notifier and a kmsg dumper,
//!   `kernel_glue/crash.c`) turn ftrace back on for their CPU while markers
//!   are in text, and markers are out while the `kvm_hv` module is loaded
//!   and from the first reboot notification on;
//! * [`markers_in_text`]: tells the wrappers how many markers are in text
//!   (`markers.rs` calls it around its text writes);
//! * [`may_mark`]: the functions NMI handlers call through platform
//!   pointers before anything can turn ftrace on get no marker.

use kernel::{ffi, prelude::*, str::CStr};

use crate::ftrace_hook;
use crate::glue;

/// The `__smp_send_nmi_ipi()` hook, the crash-path hooks and the `kvm_hv`
/// and reboot notifiers, registered while this exists.
pub(crate) struct Guard(());

impl Guard {
    /// Registers the notifiers and hooks `__smp_send_nmi_ipi()` (not on
    /// kernels without `CONFIG_NMI_IPI`).
    pub(crate) fn register() -> Result<Self> {
        // SAFETY: plain registration, undone in `drop`.
        let r = unsafe { glue::tocpatch_ftrace_off_register() };
        if r != 0 {
            pr_err!("cannot register the module and reboot notifiers: {}\n", r);
            return Err(Error::from_errno(r));
        }
        // SAFETY: plain registration, undone in `drop` (it logs failures).
        let r = unsafe { glue::tocpatch_crash_register() };
        if r != 0 {
            // SAFETY: registered just above.
            unsafe { glue::tocpatch_ftrace_off_unregister() };
            return Err(Error::from_errno(r));
        }
        let mut addr: ffi::c_ulong = 0;
        // SAFETY: plain call; `addr` is ours. Undone in `drop`.
        let mut r = unsafe { glue::tocpatch_nmi_register(&mut addr) };
        if r == 0 && addr != 0 {
            if let Err(e) = ftrace_hook::hook_nmi(addr as u64) {
                // SAFETY: registered just above.
                unsafe { glue::tocpatch_nmi_unregister() };
                r = e.to_errno();
            }
        }
        if r != 0 {
            // SAFETY: registered just above.
            unsafe {
                glue::tocpatch_crash_unregister();
                glue::tocpatch_ftrace_off_unregister();
            }
            return Err(Error::from_errno(r));
        }
        Ok(Guard(()))
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        ftrace_hook::unhook_nmi();
        // SAFETY: registered in `register`; waits until no wrapper runs.
        unsafe { glue::tocpatch_nmi_unregister() };
        // SAFETY: registered in `register`; waits for callers to end.
        unsafe { glue::tocpatch_crash_unregister() };
        // SAFETY: registered in `register`.
        unsafe { glue::tocpatch_ftrace_off_unregister() };
    }
}

/// `n` markers are in text now; call before writes that add markers and
/// after writes that take them out.
pub(crate) fn markers_in_text(n: usize) {
    let n = ffi::c_uint::try_from(n).unwrap_or(ffi::c_uint::MAX);
    // SAFETY: plain call (it may wait for one round of IPIs).
    unsafe { glue::tocpatch_nmi_markers(n) };
}

/// Whether the function `name` at `global_entry` may carry a marker: not
/// if NMI handlers call it through a platform pointer (logged).
pub(crate) fn may_mark(name: &str, global_entry: u64) -> bool {
    // SAFETY: plain comparison of addresses.
    let p = unsafe { glue::tocpatch_nmi_entry_point(global_entry as ffi::c_ulong) };
    if p.is_null() {
        return true;
    }
    // SAFETY: the C side returns a static NUL-terminated string.
    let via = unsafe { CStr::from_char_ptr(p) };
    pr_info!(
        "{}: no marker: NMI handlers call it through {} with ftrace off\n",
        name,
        via.to_str().unwrap_or("?")
    );
    false
}
