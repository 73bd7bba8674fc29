// SPDX-License-Identifier: GPL-2.0

//! The module notifier's side (`kernel_glue/module_notify.c` calls in):
//! unpatches the functions of a module that goes, while its text is still
//! mapped, as livepatch unpatches the objects of a going module.
//!
//! Locking: takes `REGISTRY` (may sleep: grace periods, text writes); the
//! module loader's notifier chain calls it in process context.

use kernel::{ffi, prelude::*};

use super::api::{cstr, s};
use super::disable::unhook;
use super::{Func, REGISTRY};

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
