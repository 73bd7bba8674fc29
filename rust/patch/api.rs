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

use super::{s, Func, Obj};
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

/// Checks one `tocpatch_func` without resolving it (its object may not be
/// loaded): a name, and a replacement that is a function of the patch
/// module. Returns the replacement's size (kallsyms').
fn check_func(f: &TocpatchFunc, text: (u64, u64)) -> Result<u64> {
    let name = cstr(f.old_name).ok_or(EINVAL)?;
    let new_func = f.new_func as u64;
    match symbols::symbol_at(new_func) {
        Some((start, size, true)) if start == new_func && (text.0..text.1).contains(&new_func) => {
            Ok(size)
        }
        _ => {
            pr_err!(
                "{}: new_func {:#x} is not a function of the patch module\n",
                s(name),
                new_func
            );
            Err(EINVAL)
        }
    }
}

/// The `tocpatch_func` entries of an object, up to its terminator.
fn funcs_of(obj: &TocpatchObject) -> impl Iterator<Item = &TocpatchFunc> {
    let mut f = obj.funcs;
    core::iter::from_fn(move || {
        // SAFETY: `funcs` is an array terminated by a NULL `old_name`, in
        // the patch module; we stop at the terminator.
        let func = unsafe { f.as_ref() }.filter(|fu: &&TocpatchFunc| !fu.old_name.is_null())?;
        // SAFETY: still inside the terminated array.
        f = unsafe { f.add(1) };
        Some(func)
    })
}

/// Walks an API patch: its objects, each checked (a name given once and
/// no longer than a module name can be, a non-empty function list, each entry checked by [`check_func`]), none
/// resolved yet.
pub(super) fn parse(api: &TocpatchPatch, text: (u64, u64)) -> Result<KVec<Obj>> {
    let mut objs = KVec::<Obj>::new();
    if api.objs.is_null() {
        return Err(EINVAL);
    }
    let mut o = api.objs;
    let mut total = 0;
    // SAFETY: `objs` is an array terminated by an entry with NULL `funcs`.
    while let Some(obj) = unsafe { o.as_ref() }.filter(|ob: &&TocpatchObject| !ob.funcs.is_null()) {
        let name = cstr(obj.name);
        // SAFETY: returns a constant.
        let max = unsafe { crate::glue::tocpatch_module_name_len() };
        if let Some(n) = name.filter(|n| n.to_bytes().len() >= max) {
            pr_err!(
                "object name {} is {} bytes long: longer than a module name can be ({} at most)\n",
                s(n),
                n.to_bytes().len(),
                max - 1
            );
            return Err(EINVAL);
        }
        if objs
            .iter()
            .any(|x| x.name.as_deref().map(CStr::to_bytes) == name.map(CStr::to_bytes))
        {
            pr_err!("object {} is listed twice\n", name.map_or("vmlinux", s));
            return Err(EINVAL);
        }
        let mut sizes = KVec::new();
        for func in funcs_of(obj) {
            sizes.push(check_func(func, text)?, GFP_KERNEL)?;
        }
        let n = sizes.len();
        let cb = &obj.callbacks;
        let has_callbacks = cb.pre_patch.is_some()
            || cb.post_patch.is_some()
            || cb.pre_unpatch.is_some()
            || cb.post_unpatch.is_some();
        // An object may have only callbacks (as in livepatch).
        if n == 0 && !has_callbacks {
            pr_err!(
                "object {} has neither functions nor callbacks\n",
                name.map_or("vmlinux", s)
            );
            return Err(EINVAL);
        }
        objs.push(
            Obj {
                api: o,
                name: match name {
                    Some(n) => Some(CString::try_from_fmt(fmt!("{}", s(n)))?),
                    None => None,
                },
                patched: false,
                post_unpatch_due: false,
                desc: total..total + n,
                new_sizes: sizes,
            },
            GFP_KERNEL,
        )?;
        total += n;
        // SAFETY: still inside the terminated array.
        o = unsafe { o.add(1) };
    }
    if objs.is_empty() {
        pr_err!("patch has no objects\n");
        return Err(EINVAL);
    }
    Ok(objs)
}

/// Resolves the functions of object `idx` of `objs` (its module loaded)
/// and appends them to `funcs`, which must not have them already.
pub(super) fn resolve_obj(
    objs: &KVec<Obj>,
    idx: usize,
    text: (u64, u64),
    funcs: &mut KVec<Func>,
) -> Result {
    let obj = &objs[idx];
    // SAFETY: `api` points into the patch module's static description.
    let api = unsafe { &*obj.api };
    let mut names = KVec::new();
    for func in funcs_of(api) {
        // Checked by `parse`.
        let name = cstr(func.old_name).ok_or(EINVAL)?;
        names.push((name, func.old_sympos as u64), GFP_KERNEL)?;
    }
    // One walk over the object's symbols for all of them.
    let resolved = symbols::resolve_all(obj.name.as_deref(), &names)?;
    for (k, ((func, at), &(name, _))) in
        Iterator::zip(Iterator::zip(funcs_of(api), resolved), names.iter()).enumerate()
    {
        let size = obj.new_sizes.get(k).copied().ok_or(EINVAL)?;
        let mut n = new_func(idx, obj.name.as_deref(), (func, size), name, at, text)?;
        n.desc = obj.desc.start + k;
        if funcs
            .iter()
            .any(|x: &Func| x.t.global_entry == n.t.global_entry)
        {
            pr_err!("{}: listed twice\n", n.t.name());
            return Err(EINVAL);
        }
        funcs.push(n, GFP_KERNEL)?;
    }
    Ok(())
}

/// Builds the function for one `tocpatch_func`, checked by [`check_func`]
/// (`size`: its replacement's size; `name`: its target's name), whose
/// target resolved to `func`.
fn new_func(
    idx: usize,
    obj: Option<&CStr>,
    (f, size): (&TocpatchFunc, u64),
    name: &CStr,
    func: symbols::Function,
    text: (u64, u64),
) -> Result<Func> {
    let new_func = f.new_func as u64;
    let tail_out = symbols::tail_calls_out(new_func, size, text);
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
        size: func.size,
        marker,
    })?;
    Ok(Func {
        obj: idx,
        desc: 0,
        t: Arc::new(t, GFP_KERNEL)?,
        site: None,
        marker_stuck: false,
        gone: false,
    })
}
