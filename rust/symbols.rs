// SPDX-License-Identifier: GPL-2.0

//! Symbol resolution for patch targets and replacements.
//!
//! `kallsyms_lookup_name()` is not exported in 7.3; `kernel_glue/symbols.c`
//! resolves names through a disabled kprobe and finds a symbol's start with
//! `sprint_symbol()` (see there). Here we turn that into what the engine
//! needs: the function's global entry, its prologue and, for the large code
//! model, the TOC offset word before it.

use kernel::{ffi, prelude::*, str::CStr};

use crate::glue;
use crate::logic::insn::GlobalEntry;

/// A resolved patch target.
pub(crate) struct Function {
    /// Global entry point (the symbol's address).
    pub(crate) global_entry: u64,
    /// Decoded global entry prologue.
    pub(crate) entry: GlobalEntry,
    /// The second prologue word (the `addi` of a TOC-relative prologue).
    pub(crate) second: u32,
    /// The TOC offset word of a TOC-load prologue, else 0.
    pub(crate) toc_word: u64,
}

/// Start address and object kind (`true`: module) of the symbol at `addr`.
pub(crate) fn symbol_start(addr: u64) -> Option<(u64, bool)> {
    let mut start: ffi::c_ulong = 0;
    let mut size: ffi::c_ulong = 0;
    // SAFETY: plain out-pointers to locals.
    let r = unsafe { glue::tocpatch_symbol_start(addr as ffi::c_ulong, &mut start, &mut size) };
    match r {
        0 => Some((start as u64, false)),
        1 => Some((start as u64, true)),
        _ => None,
    }
}

fn as_str(s: &CStr) -> &str {
    s.to_str().unwrap_or("?")
}

/// Resolves function `name` of `object` (a module name, or `None` for
/// vmlinux) and reads its prologue.
pub(crate) fn resolve(object: Option<&CStr>, name: &CStr) -> Result<Function> {
    let mut addr: ffi::c_ulong = 0;
    let obj_ptr = object.map_or(core::ptr::null(), |o| o.as_ptr().cast());
    // SAFETY: both strings are NUL-terminated and outlive the call.
    let r = unsafe { glue::tocpatch_resolve(obj_ptr, name.as_ptr().cast(), &mut addr) };
    if r < 0 {
        pr_err!(
            "cannot resolve {}:{} (errno {})\n",
            object.map_or("vmlinux", as_str),
            as_str(name),
            r
        );
        return Err(Error::from_errno(r));
    }
    let Some((start, in_module)) = symbol_start(addr as u64) else {
        pr_err!("no symbol at the address of {}\n", as_str(name));
        return Err(ENOENT);
    };
    if in_module != object.is_some() {
        pr_err!(
            "{} is not a function of {}\n",
            as_str(name),
            object.map_or("vmlinux", as_str)
        );
        return Err(ENOENT);
    }
    // SAFETY: `start` is the start of a text symbol kallsyms knows, so the
    // first two instruction words are mapped kernel or module text.
    let (first, second) = unsafe {
        (
            core::ptr::read_volatile(start as *const u32),
            core::ptr::read_volatile((start + 4) as *const u32),
        )
    };
    let mut entry = GlobalEntry::decode(first, second);
    let mut toc_word = 0;
    if let GlobalEntry::TocLoad { disp } = entry {
        // GCC stores the offset word right before the function; any other
        // displacement would point where we cannot vouch for the memory.
        if disp == -8 {
            // SAFETY: the 8 bytes before a large-model GCC function are its
            // TOC offset word, in the same text section.
            toc_word = unsafe { core::ptr::read_volatile((start - 8) as *const u64) };
        } else {
            entry = GlobalEntry::Unknown;
        }
    }
    Ok(Function {
        global_entry: start,
        entry,
        second,
        toc_word,
    })
}
