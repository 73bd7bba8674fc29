// SPDX-License-Identifier: GPL-2.0

//! Symbol resolution for patch targets and replacements.
//!
//! `kallsyms_lookup_name()` is not exported in 7.3; `kernel_glue/symbols.c`
//! resolves names through a disabled kprobe and finds a symbol's start with
//! `sprint_symbol()` (see there). Here we turn that into what the engine
//! needs: the function's global entry, its prologue and, for the large code
//! model, the TOC offset word before it.

use kernel::{
    bindings, ffi,
    prelude::*,
    str::{CStr, CStrExt},
};

use crate::glue;
use crate::logic::insn::{outgoing_sibling_branches, saves_toc, GlobalEntry};
use crate::logic::symmatch::{self, Want};

/// A resolved patch target.
pub(crate) struct Function {
    /// Global entry point (the symbol's address).
    pub(crate) global_entry: u64,
    /// Its size, as kallsyms has it.
    pub(crate) size: u64,
    /// Decoded global entry prologue.
    pub(crate) entry: GlobalEntry,
    /// The second prologue word (the `addi` of a TOC-relative prologue).
    pub(crate) second: u32,
    /// The TOC offset word of a TOC-load prologue, else 0.
    pub(crate) toc_word: u64,
}

/// Start address, size and object kind (`true`: module) of the symbol at
/// `addr`.
pub(crate) fn symbol_at(addr: u64) -> Option<(u64, u64, bool)> {
    let mut start: ffi::c_ulong = 0;
    let mut size: ffi::c_ulong = 0;
    // SAFETY: plain out-pointers to locals.
    let r = unsafe { glue::tocpatch_symbol_start(addr as ffi::c_ulong, &mut start, &mut size) };
    match r {
        0 => Some((start as u64, size as u64, false)),
        1 => Some((start as u64, size as u64, true)),
        _ => None,
    }
}

/// The global entry of the vmlinux function `name`, if kallsyms has it.
pub(crate) fn vmlinux_function(name: &CStr) -> Option<u64> {
    let mut addr: ffi::c_ulong = 0;
    // SAFETY: a NUL-terminated name and a plain out-pointer.
    let r = unsafe { glue::tocpatch_resolve(core::ptr::null(), name.as_char_ptr(), &mut addr) };
    if r != 0 {
        return None;
    }
    // The kprobe gives the local entry; the symbol's start is the global.
    match symbol_at(addr as u64) {
        Some((start, _, false)) => Some(start),
        _ => None,
    }
}

fn as_str(s: &CStr) -> &str {
    s.to_str().unwrap_or("?")
}

/// Whether the replacement at `func`, `size` bytes long (kallsyms'; its
/// start is in the module text `text`, as `patch/api.rs` checked) ends in a
/// sibling call out of itself through a TOC-saving call stub: such a stub
/// stores the replacement's TOC in the TOC save slot of whatever frame is
/// at r1, which after a tail call is the original caller's. The caller
/// would then reload a wrong r2 after the call returns. Branch targets
/// outside the patch module's text cannot be inspected and count as such
/// calls too (the safe side).
pub(crate) fn tail_calls_out(func: u64, size: u64, text: (u64, u64)) -> bool {
    let start = func;
    // Never read past the module text, whatever kallsyms says.
    let end = (start + size).min(text.1);
    let n = ((end - start) / 4) as usize;
    // SAFETY: [start, end) is the replacement's code, inside the mapped
    // text of the patch module.
    let code = unsafe { core::slice::from_raw_parts(start as *const u32, n) };
    for (_, target) in outgoing_sibling_branches(code, start) {
        if target < text.0 || target + 16 > text.1 {
            return true;
        }
        // SAFETY: the 4 words at `target` are inside the module's text.
        let words = unsafe { core::slice::from_raw_parts(target as *const u32, 4) };
        if saves_toc(words) {
            return true;
        }
    }
    false
}

/// The state of one walk over an object's symbols ([`on_symbol`]).
struct Walk<'a, 'b> {
    wants: &'a mut [Want],
    order: &'a [u32],
    names: &'a [(&'b CStr, u64)],
}

/// `tocpatch_symbol_fn` of a [`Walk`].
///
/// # Safety
///
/// `data` points to a live [`Walk`] not otherwise accessed during the
/// call; `name` points to `len` readable bytes.
unsafe extern "C" fn on_symbol(
    data: *mut ffi::c_void,
    name: *const ffi::c_char,
    len: usize,
    addr: ffi::c_ulong,
) {
    // SAFETY: as the caller promises.
    let (w, name) = unsafe {
        (
            &mut *data.cast::<Walk<'_, '_>>(),
            core::slice::from_raw_parts(name.cast::<u8>(), len),
        )
    };
    let names = w.names;
    symmatch::visit(w.wants, w.order, name, addr as u64, |k| {
        names[k].0.to_bytes()
    });
}

/// Resolves the functions `names` (name, `old_sympos`) of `object` (a
/// module name, or `None` for vmlinux): for each the `sympos`-th symbol of
/// that name (1-based; 0: the only one, as in livepatch), with its
/// prologue. The first of a name is what `kallsyms_lookup_name()` finds
/// (through a kprobe, [`glue::tocpatch_resolve`]); any other position, and
/// the check that position 0 is unique, needs all symbols of the name: one
/// walk over the object's symbols serves every name (`logic/symmatch.rs`).
/// A module's symbols are always walked (a walk of its table is cheaper
/// than a kprobe per name). Fails, with one line, on the first name that
/// does not resolve.
pub(crate) fn resolve_all(object: Option<&CStr>, names: &[(&CStr, u64)]) -> Result<KVec<Function>> {
    let obj_ptr = object.map_or(core::ptr::null(), |o| o.as_char_ptr());
    let objname = object.map_or("vmlinux", as_str);
    let walked = |pos: u64| object.is_some() || pos != 1;
    let mut wants = KVec::with_capacity(names.len(), GFP_KERNEL)?;
    for &(name, pos) in names.iter() {
        let _ = wants.push_within_capacity(Want::new(name.to_bytes(), pos));
    }
    let mut walk_err = 0;
    if names.iter().any(|&(_, pos)| walked(pos)) {
        let mut order = KVec::with_capacity(names.len(), GFP_KERNEL)?;
        order.resize(names.len(), 0u32, GFP_KERNEL)?;
        symmatch::sort_index(&wants, &mut order);
        let mut w = Walk {
            wants: &mut wants,
            order: &order,
            names,
        };
        // SAFETY: `w` outlives the call and nothing else touches it during
        // it; `obj_ptr` is NULL or a NUL-terminated name.
        walk_err = unsafe {
            glue::tocpatch_each_symbol(obj_ptr, on_symbol, (&raw mut w).cast::<ffi::c_void>())
        };
    }
    let mut out = KVec::with_capacity(names.len(), GFP_KERNEL)?;
    for (&(name, sympos), w) in names.iter().zip(wants.iter()) {
        let mut addr: ffi::c_ulong = 0;
        let r: ffi::c_int = if !walked(sympos) {
            // SAFETY: both strings are NUL-terminated and outlive the call.
            unsafe { glue::tocpatch_resolve(obj_ptr, name.as_char_ptr(), &mut addr) }
        } else if walk_err != 0 {
            walk_err
        } else if w.count == 0 {
            -(bindings::ENOENT as ffi::c_int)
        } else if w.count > 1 && sympos == 0 {
            pr_err!(
                "{}:{} is ambiguous: {} symbols of that name (set old_sympos)\n",
                objname,
                as_str(name),
                w.count
            );
            return Err(EINVAL);
        } else if w.count < sympos {
            pr_err!(
                "{}:{}: old_sympos {} but only {} symbol(s) of that name\n",
                objname,
                as_str(name),
                sympos,
                w.count
            );
            return Err(ENOENT);
        } else {
            addr = w.addr as ffi::c_ulong;
            0
        };
        if r < 0 {
            pr_err!(
                "cannot resolve {}:{} (errno {})\n",
                objname,
                as_str(name),
                r
            );
            return Err(Error::from_errno(r));
        }
        let _ = out.push_within_capacity(function_at(object, name, addr as u64)?);
    }
    Ok(out)
}

/// The function whose symbol `name` of `object` kallsyms has at `addr`:
/// its global entry and prologue.
fn function_at(object: Option<&CStr>, name: &CStr, addr: u64) -> Result<Function> {
    let Some((start, size, in_module)) = symbol_at(addr) else {
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
        size,
        entry,
        second,
        toc_word,
    })
}
