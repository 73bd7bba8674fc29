// SPDX-License-Identifier: GPL-2.0

//! The patch-module API structures of `include/tocpatch.h`, as Rust sees
//! them. The C header is the reference: [`check_layout`] compares these
//! definitions with the sizes and offsets the C compiler computed
//! (`tocpatch_abi_layout()` in `kernel_glue/exports.c`) when the module
//! loads, so a mismatch stops the load instead of misreading a patch. The
//! same check covers the one stack-frame offset the Rust side uses, the
//! TOC save slot ([`crate::target::TOC_SAVE_SLOT`]).

use core::mem::{offset_of, size_of};
use kernel::{ffi, prelude::*};

use crate::glue;

/// `struct tocpatch_func`.
#[repr(C)]
pub(crate) struct TocpatchFunc {
    pub(crate) old_name: *const ffi::c_char,
    pub(crate) new_func: *mut ffi::c_void,
    pub(crate) old_sympos: ffi::c_ulong,
}

/// `struct tocpatch_callbacks`: each optional (NULL).
#[repr(C)]
pub(crate) struct TocpatchCallbacks {
    pub(crate) pre_patch: Option<unsafe extern "C" fn(*mut TocpatchObject) -> ffi::c_int>,
    pub(crate) post_patch: Option<unsafe extern "C" fn(*mut TocpatchObject)>,
    pub(crate) pre_unpatch: Option<unsafe extern "C" fn(*mut TocpatchObject)>,
    pub(crate) post_unpatch: Option<unsafe extern "C" fn(*mut TocpatchObject)>,
}

/// `struct tocpatch_object`.
#[repr(C)]
pub(crate) struct TocpatchObject {
    pub(crate) name: *const ffi::c_char,
    pub(crate) funcs: *mut TocpatchFunc,
    pub(crate) callbacks: TocpatchCallbacks,
    /// Written by tocpatch (under its registry lock) for the callbacks.
    pub(crate) module: glue::ModulePtr,
}

/// `struct tocpatch_patch`.
#[repr(C)]
pub(crate) struct TocpatchPatch {
    pub(crate) module: glue::ModulePtr,
    pub(crate) objs: *mut TocpatchObject,
    /// A cumulative patch: replaces every enabled patch (atomic replace).
    pub(crate) replace: bool,
    /// Its states, terminated by an entry with `id` 0; may be NULL.
    pub(crate) states: *mut TocpatchState,
}

/// `struct tocpatch_state`.
#[repr(C)]
pub(crate) struct TocpatchState {
    pub(crate) id: ffi::c_ulong,
    pub(crate) version: ffi::c_uint,
    pub(crate) data: *mut ffi::c_void,
}

/// Checks the structures above against the C header's layout.
pub(crate) fn check_layout() -> Result {
    let ours: [usize; 24] = [
        size_of::<TocpatchFunc>(),
        offset_of!(TocpatchFunc, old_name),
        offset_of!(TocpatchFunc, new_func),
        offset_of!(TocpatchFunc, old_sympos),
        size_of::<TocpatchObject>(),
        offset_of!(TocpatchObject, name),
        offset_of!(TocpatchObject, funcs),
        offset_of!(TocpatchObject, callbacks),
        offset_of!(TocpatchObject, module),
        size_of::<TocpatchCallbacks>(),
        offset_of!(TocpatchCallbacks, pre_patch),
        offset_of!(TocpatchCallbacks, post_patch),
        offset_of!(TocpatchCallbacks, pre_unpatch),
        offset_of!(TocpatchCallbacks, post_unpatch),
        size_of::<TocpatchPatch>(),
        offset_of!(TocpatchPatch, module),
        offset_of!(TocpatchPatch, objs),
        crate::target::TOC_SAVE_SLOT,
        offset_of!(TocpatchPatch, replace),
        offset_of!(TocpatchPatch, states),
        size_of::<TocpatchState>(),
        offset_of!(TocpatchState, id),
        offset_of!(TocpatchState, version),
        offset_of!(TocpatchState, data),
    ];
    let mut c = [0 as ffi::c_ulong; 24];
    // SAFETY: `c` has room for the 24 values asked for.
    unsafe { glue::tocpatch_abi_layout(c.as_mut_ptr(), c.len() as ffi::c_uint) };
    for (i, (a, b)) in ours.iter().zip(c.iter()).enumerate() {
        if *a as ffi::c_ulong != *b {
            pr_err!(
                "API layout mismatch with include/tocpatch.h (item {}: {} != {})\n",
                i,
                a,
                b
            );
            return Err(EINVAL);
        }
    }
    Ok(())
}
