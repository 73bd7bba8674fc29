// SPDX-License-Identifier: GPL-2.0

//! Rust binding of `include/tocpatch.h`, for patch modules written in Rust.
//!
//! A Rust patch module includes this file as a module of its own crate
//! (out-of-tree modules cannot share crates):
//!
//! ```ignore
//! #[path = "../include/tocpatch.rs"]
//! mod tocpatch;
//!
//! static FUNCS: [tocpatch::Func; 2] = [
//!     tocpatch::Func::new(c"tp_target_rust", my_replacement as *const _),
//!     tocpatch::Func::END,
//! ];
//! static OBJS: [tocpatch::Object; 2] = [
//!     tocpatch::Object::module(c"tocpatch_test_target", &FUNCS),
//!     tocpatch::Object::END,
//! ];
//! // In `init`: let patch = tocpatch::Patch::enable(module, &OBJS)?;
//! ```
//!
//! Replacements are `extern "C"` functions with the C prototype of the
//! function they replace. Keep the returned [`Patch`] in the module's state:
//! tocpatch reads the descriptions while the patch is enabled, and holds a
//! reference on the module until it is released (see the C header).

#![allow(dead_code)]

use kernel::{error::to_result, ffi, prelude::*, str::CStr, ThisModule};

/// `struct tocpatch_func`: one function to replace.
#[repr(C)]
pub(crate) struct Func {
    old_name: *const ffi::c_char,
    new_func: *const ffi::c_void,
    old_sympos: ffi::c_ulong,
}

/// `struct tocpatch_object`: the functions to replace in one object.
#[repr(C)]
pub(crate) struct Object {
    name: *const ffi::c_char,
    funcs: *const Func,
}

#[repr(C)]
struct RawPatch {
    module: *mut ffi::c_void,
    objs: *const Object,
}

// SAFETY: the descriptions are immutable statics pointing to other statics.
unsafe impl Sync for Func {}
// SAFETY: as above.
unsafe impl Sync for Object {}
// SAFETY: the patch description names the module and immutable statics;
// nothing in it is tied to a thread.
unsafe impl Send for RawPatch {}
// SAFETY: as above, and it is never written after creation.
unsafe impl Sync for RawPatch {}

impl Func {
    /// Replace `old_name` (a unique name) by `new_func`.
    pub(crate) const fn new(old_name: &'static CStr, new_func: *const ffi::c_void) -> Self {
        Self {
            old_name: kernel::str::as_char_ptr_in_const_context(old_name),
            new_func,
            old_sympos: 0,
        }
    }

    /// The terminating entry of a function list.
    pub(crate) const END: Self = Self {
        old_name: core::ptr::null(),
        new_func: core::ptr::null(),
        old_sympos: 0,
    };
}

impl Object {
    /// Functions of vmlinux.
    pub(crate) const fn vmlinux(funcs: &'static [Func]) -> Self {
        Self {
            name: core::ptr::null(),
            funcs: funcs.as_ptr(),
        }
    }

    /// Functions of the (loaded) module `name`.
    pub(crate) const fn module(name: &'static CStr, funcs: &'static [Func]) -> Self {
        Self {
            name: kernel::str::as_char_ptr_in_const_context(name),
            funcs: funcs.as_ptr(),
        }
    }

    /// The terminating entry of an object list.
    pub(crate) const END: Self = Self {
        name: core::ptr::null(),
        funcs: core::ptr::null(),
    };
}

extern "C" {
    fn tocpatch_enable_patch(patch: *mut RawPatch) -> ffi::c_int;
}

/// An enabled patch. Dropping it does not disable the patch (disable it
/// by writing 0 to `/sys/kernel/tocpatch/<module>/enabled`, then unload
/// the module).
pub(crate) struct Patch {
    _raw: KBox<RawPatch>,
}

impl Patch {
    /// Enables the patch described by `objs` (terminated by
    /// [`Object::END`], each function list by [`Func::END`]).
    pub(crate) fn enable(module: &'static ThisModule, objs: &'static [Object]) -> Result<Self> {
        if !objs.last().is_some_and(|o| o.funcs.is_null()) {
            return Err(EINVAL);
        }
        let raw = KBox::new(
            RawPatch {
                module: module.as_ptr().cast(),
                objs: objs.as_ptr(),
            },
            GFP_KERNEL,
        )?;
        let p: *const RawPatch = &*raw;
        // SAFETY: `raw` and the statics it points to stay in place as long
        // as the returned `Patch` (kept by the module) and the module live.
        to_result(unsafe { tocpatch_enable_patch(p.cast_mut()) })?;
        Ok(Self { _raw: raw })
    }
}
