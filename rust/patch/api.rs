// SPDX-License-Identifier: GPL-2.0

//! API parsing: walks a patch module's `tocpatch_patch` (its objects and
//! their `tocpatch_func` arrays), checks each entry and resolves the
//! function it names into a [`Func`] (with its [`Target`]).
//!
//! Locking: none of its own. The walk reads the patch module's static
//! description, which stays in place while the patch module is loaded;
//! resolution may sleep (kallsyms, kprobes). Callers hold `REGISTRY`.

use kernel::{
    ffi,
    prelude::*,
    str::{CStr, CStrExt, CString},
    sync::Arc,
};

use super::Func;
use crate::abi::{TocpatchFunc, TocpatchObject, TocpatchPatch};
use crate::symbols;
use crate::target::{Target, TargetInfo};

pub(super) fn cstr<'a>(p: *const ffi::c_char) -> Option<&'a CStr> {
    if p.is_null() {
        None
    } else {
        // SAFETY: non-NULL strings of the API are NUL-terminated and live
        // in the patch module, which outlives the patch.
        Some(unsafe { CStr::from_char_ptr(p) })
    }
}

pub(crate) fn s(c: &CStr) -> &str {
    c.to_str().unwrap_or("?")
}

/// Builds the function for one `tocpatch_func`.
fn new_func(obj: Option<&CStr>, f: &TocpatchFunc, text: (u64, u64)) -> Result<Func> {
    let name = cstr(f.old_name).ok_or(EINVAL)?;
    let new_func = f.new_func as u64;
    match symbols::symbol_at(new_func) {
        Some((start, _, true)) if start == new_func && (text.0..text.1).contains(&new_func) => {}
        _ => {
            pr_err!(
                "{}: new_func {:#x} is not a function of the patch module\n",
                s(name),
                new_func
            );
            return Err(EINVAL);
        }
    }
    let func = symbols::resolve(obj, name, f.old_sympos as u64)?;
    let tail_out = symbols::tail_calls_out(new_func, text)?;
    if tail_out {
        pr_info!(
            "{}: the replacement tail-calls out of its module through a TOC-saving stub: all its calls return through the trampoline\n",
            s(name)
        );
    }
    let marker = if crate::markers_enabled() {
        crate::logic::insn::Marker::for_prologue(func.entry, func.second, func.toc_word)
    } else {
        None
    };
    let marker = marker.filter(|_| crate::nmi::may_mark(s(name), func.global_entry));
    let t = Target::new(TargetInfo {
        name: CString::try_from_fmt(fmt!("{}", s(name)))?,
        object: match obj {
            Some(o) => Some(CString::try_from_fmt(fmt!("{}", s(o)))?),
            None => None,
        },
        tail_out,
        new_func,
        global_entry: func.global_entry,
        marker,
    });
    Ok(Func {
        t: Arc::new(t, GFP_KERNEL)?,
        hook: None,
        marker_placed: false,
        marker_stuck: false,
        gone: false,
    })
}

/// Collects the functions of an API patch.
pub(super) fn collect(api: &TocpatchPatch, text: (u64, u64)) -> Result<KVec<Func>> {
    let mut funcs = KVec::new();
    if api.objs.is_null() {
        return Err(EINVAL);
    }
    let mut o = api.objs;
    // SAFETY: `objs` is an array terminated by an entry with NULL `funcs`.
    while let Some(obj) = unsafe { o.as_ref() }.filter(|ob: &&TocpatchObject| !ob.funcs.is_null()) {
        let objname = cstr(obj.name);
        let mut f = obj.funcs;
        while let Some(func) =
            // SAFETY: `funcs` is an array terminated by a NULL `old_name`.
            unsafe { f.as_ref() }.filter(|fu: &&TocpatchFunc| !fu.old_name.is_null())
        {
            let n = new_func(objname, func, text)?;
            if funcs
                .iter()
                .any(|x: &Func| x.t.global_entry == n.t.global_entry)
            {
                pr_err!("{}: listed twice\n", n.t.name());
                return Err(EINVAL);
            }
            funcs.push(n, GFP_KERNEL)?;
            // SAFETY: still inside the terminated array.
            f = unsafe { f.add(1) };
        }
        // SAFETY: still inside the terminated array.
        o = unsafe { o.add(1) };
    }
    if funcs.is_empty() {
        pr_err!("patch has no functions\n");
        return Err(EINVAL);
    }
    Ok(funcs)
}
