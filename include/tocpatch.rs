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
//!
//! An object's callbacks (`struct tocpatch_callbacks`) are given as a type
//! implementing [`ObjectCallbacks`]: `Object::module(...)
//! .with_callbacks::<MyCallbacks>()`.
//!
//! Shadow variables ([`ShadowVar`]) attach typed data to existing kernel
//! objects (`tocpatch_shadow_*()` of the C header).

#![allow(dead_code)]

use kernel::{error::to_result, ffi, prelude::*, str::CStr, sync::rcu::Guard, ThisModule};

/// `struct tocpatch_func`: one function to replace.
#[repr(C)]
pub(crate) struct Func {
    old_name: *const ffi::c_char,
    new_func: *const ffi::c_void,
    old_sympos: ffi::c_ulong,
}

/// `struct tocpatch_callbacks`, made by [`Callbacks::of`] from an
/// [`ObjectCallbacks`] implementation.
#[repr(C)]
pub(crate) struct Callbacks {
    pre_patch: Option<unsafe extern "C" fn(*mut Object) -> ffi::c_int>,
    post_patch: Option<unsafe extern "C" fn(*mut Object)>,
    pre_unpatch: Option<unsafe extern "C" fn(*mut Object)>,
    post_unpatch: Option<unsafe extern "C" fn(*mut Object)>,
}

/// What a patch module runs around patching one object, at the moments
/// of livepatch's callbacks (see `struct tocpatch_callbacks` in the C
/// header): each method has a default that does nothing. They run in
/// process context, may sleep, and must not enable or disable patches.
pub(crate) trait ObjectCallbacks {
    /// Before the object is patched; an error fails the enable (or the
    /// load of the object's module) with its errno.
    fn pre_patch(_obj: &Object) -> Result {
        Ok(())
    }
    /// After the object is patched.
    fn post_patch(_obj: &Object) {}
    /// Before the object is unpatched.
    fn pre_unpatch(_obj: &Object) {}
    /// After the object is unpatched (only if `pre_patch` succeeded).
    fn post_unpatch(_obj: &Object) {}
}

/// # Safety
///
/// `obj` is the object tocpatch was given (a `'static` [`Object`]).
unsafe extern "C" fn pre_patch_of<T: ObjectCallbacks>(obj: *mut Object) -> ffi::c_int {
    // SAFETY: per the function's contract.
    match T::pre_patch(unsafe { &*obj }) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// # Safety
///
/// As [`pre_patch_of`].
unsafe extern "C" fn post_patch_of<T: ObjectCallbacks>(obj: *mut Object) {
    // SAFETY: per the function's contract.
    T::post_patch(unsafe { &*obj })
}

/// # Safety
///
/// As [`pre_patch_of`].
unsafe extern "C" fn pre_unpatch_of<T: ObjectCallbacks>(obj: *mut Object) {
    // SAFETY: per the function's contract.
    T::pre_unpatch(unsafe { &*obj })
}

/// # Safety
///
/// As [`pre_patch_of`].
unsafe extern "C" fn post_unpatch_of<T: ObjectCallbacks>(obj: *mut Object) {
    // SAFETY: per the function's contract.
    T::post_unpatch(unsafe { &*obj })
}

impl Callbacks {
    /// No callbacks.
    pub(crate) const NONE: Self = Self {
        pre_patch: None,
        post_patch: None,
        pre_unpatch: None,
        post_unpatch: None,
    };

    /// The callbacks of `T`.
    pub(crate) const fn of<T: ObjectCallbacks>() -> Self {
        Self {
            pre_patch: Some(pre_patch_of::<T>),
            post_patch: Some(post_patch_of::<T>),
            pre_unpatch: Some(pre_unpatch_of::<T>),
            post_unpatch: Some(post_unpatch_of::<T>),
        }
    }
}

/// `struct tocpatch_object`: the functions to replace in one object.
#[repr(C)]
pub(crate) struct Object {
    name: *const ffi::c_char,
    funcs: *const Func,
    callbacks: Callbacks,
    /// Written by tocpatch (under its lock, around the callbacks).
    module: core::cell::UnsafeCell<*mut ffi::c_void>,
}

#[repr(C)]
struct RawPatch {
    module: *mut ffi::c_void,
    objs: *const Object,
    replace: bool,
    states: *const State,
}

/// `struct tocpatch_state`: a system state the patch changes (livepatch's
/// `klp_state`), in a static array ended by [`State::END`].
#[repr(C)]
pub(crate) struct State {
    id: ffi::c_ulong,
    version: ffi::c_uint,
    /// For the patch's own use; only its callbacks touch it.
    data: core::cell::UnsafeCell<*mut ffi::c_void>,
}

// SAFETY: `data` is only read and written by the callbacks of the patches
// that share the state, which tocpatch runs one at a time (under its
// registry lock); the rest is immutable.
unsafe impl Sync for State {}

impl State {
    /// State `id` (not 0) at `version`.
    pub(crate) const fn new(id: ffi::c_ulong, version: ffi::c_uint) -> Self {
        Self {
            id,
            version,
            data: core::cell::UnsafeCell::new(core::ptr::null_mut()),
        }
    }

    /// The terminator. (A constant to copy into statics, as
    /// [`Object::END`]: each use is a fresh value.)
    #[allow(clippy::declare_interior_mutable_const)]
    pub(crate) const END: Self = Self::new(0, 0);

    /// The state's identifier.
    pub(crate) fn id(&self) -> ffi::c_ulong {
        self.id
    }

    /// The state's version.
    pub(crate) fn version(&self) -> ffi::c_uint {
        self.version
    }

    /// Its data pointer (from a callback).
    pub(crate) fn data(&self) -> *mut ffi::c_void {
        // SAFETY: callbacks, the only users, run one at a time.
        unsafe { *self.data.get() }
    }

    /// Sets its data pointer (from a callback).
    pub(crate) fn set_data(&self, data: *mut ffi::c_void) {
        // SAFETY: as in `data`.
        unsafe { *self.data.get() = data };
    }
}

extern "C" {
    fn tocpatch_get_prev_state(id: ffi::c_ulong) -> *mut State;
}

/// `tocpatch_get_prev_state()`: state `id` of the most recently enabled
/// patch enabled before the one whose enable or disable runs the calling
/// callback, if any.
///
/// # Safety
///
/// Only from a callback of an enable or disable: the state belongs to
/// another patch, which stays registered (and its state in place) for the
/// callback's duration, not longer; the reference must not be kept.
pub(crate) unsafe fn prev_state<'a>(id: ffi::c_ulong) -> Option<&'a State> {
    // SAFETY: plain call; the result is NULL or a live state (our contract).
    unsafe { tocpatch_get_prev_state(id).as_ref() }
}

// SAFETY: the descriptions are immutable statics pointing to other statics.
unsafe impl Sync for Func {}
// SAFETY: as above, but for `module`, which only tocpatch writes, under
// its registry lock, around the callbacks, which run under the same lock.
unsafe impl Sync for Object {}
// SAFETY: the patch description names the module and statics that are
// immutable but for what only tocpatch and the callbacks write, serialised;
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
            callbacks: Callbacks::NONE,
            module: core::cell::UnsafeCell::new(core::ptr::null_mut()),
        }
    }

    /// Functions of the module `name` (patched when it is loaded).
    pub(crate) const fn module(name: &'static CStr, funcs: &'static [Func]) -> Self {
        Self {
            name: kernel::str::as_char_ptr_in_const_context(name),
            funcs: funcs.as_ptr(),
            callbacks: Callbacks::NONE,
            module: core::cell::UnsafeCell::new(core::ptr::null_mut()),
        }
    }

    /// The same object, with the callbacks of `T`.
    pub(crate) const fn with_callbacks<T: ObjectCallbacks>(self) -> Self {
        Self {
            callbacks: Callbacks::of::<T>(),
            ..self
        }
    }

    /// The module name, `None` for vmlinux.
    pub(crate) fn name(&self) -> Option<&CStr> {
        if self.name.is_null() {
            None
        } else {
            // SAFETY: a non-NULL name is a `&'static CStr` given to `module`.
            Some(unsafe { CStr::from_char_ptr(self.name) })
        }
    }

    /// The terminating entry of an object list. (Each use is a fresh
    /// entry; tocpatch never writes the `module` of a terminator.)
    #[allow(clippy::declare_interior_mutable_const)]
    pub(crate) const END: Self = Self {
        name: core::ptr::null(),
        funcs: core::ptr::null(),
        callbacks: Callbacks::NONE,
        module: core::cell::UnsafeCell::new(core::ptr::null_mut()),
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
        Self::enable_with(module, objs, false)
    }

    /// As [`Patch::enable`]; `replace`: a cumulative patch, which replaces
    /// every enabled patch (`replace` of `struct tocpatch_patch`).
    pub(crate) fn enable_with(
        module: &'static ThisModule,
        objs: &'static [Object],
        replace: bool,
    ) -> Result<Self> {
        static NO_STATES: [State; 1] = [State::END];
        Self::enable_full(module, objs, replace, &NO_STATES)
    }

    /// As [`Patch::enable_with`], with the patch's `states` (terminated by
    /// [`State::END`]).
    pub(crate) fn enable_full(
        module: &'static ThisModule,
        objs: &'static [Object],
        replace: bool,
        states: &'static [State],
    ) -> Result<Self> {
        if !objs.last().is_some_and(|o| o.funcs.is_null()) {
            return Err(EINVAL);
        }
        if states.last().is_none_or(|x| x.id != 0) {
            return Err(EINVAL);
        }
        let raw = KBox::new(
            RawPatch {
                module: module.as_ptr().cast(),
                objs: objs.as_ptr(),
                replace,
                states: states.as_ptr(),
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

/// Allocation flags of a shadow variable (`gfp_t`): the ones that make
/// sense for it.
#[derive(Clone, Copy)]
pub(crate) struct Gfp(u32);

impl Gfp {
    /// `GFP_KERNEL`: may sleep.
    pub(crate) const KERNEL: Self = Self(kernel::bindings::GFP_KERNEL);
    /// `GFP_ATOMIC`: does not sleep, may use reserves.
    pub(crate) const ATOMIC: Self = Self(kernel::bindings::GFP_ATOMIC);
    /// `GFP_NOWAIT`: does not sleep.
    pub(crate) const NOWAIT: Self = Self(kernel::bindings::GFP_NOWAIT);
}

type ShadowCtor = unsafe extern "C" fn(
    obj: *mut ffi::c_void,
    shadow_data: *mut ffi::c_void,
    ctor_data: *mut ffi::c_void,
) -> ffi::c_int;
type ShadowDtor = unsafe extern "C" fn(obj: *mut ffi::c_void, shadow_data: *mut ffi::c_void);

extern "C" {
    fn tocpatch_shadow_get(obj: *mut ffi::c_void, id: ffi::c_ulong) -> *mut ffi::c_void;
    fn tocpatch_shadow_alloc(
        obj: *mut ffi::c_void,
        id: ffi::c_ulong,
        size: usize,
        gfp: u32,
        ctor: Option<ShadowCtor>,
        ctor_data: *mut ffi::c_void,
    ) -> *mut ffi::c_void;
    fn tocpatch_shadow_get_or_alloc(
        obj: *mut ffi::c_void,
        id: ffi::c_ulong,
        size: usize,
        gfp: u32,
        ctor: Option<ShadowCtor>,
        ctor_data: *mut ffi::c_void,
    ) -> *mut ffi::c_void;
    fn tocpatch_shadow_free(obj: *mut ffi::c_void, id: ffi::c_ulong, dtor: Option<ShadowDtor>);
    fn tocpatch_shadow_free_all(id: ffi::c_ulong, dtor: Option<ShadowDtor>);
}

/// A shadow variable: a `T` attached to objects of type `O` (by address)
/// under the identifier `id`, the typed form of `tocpatch_shadow_*()`.
///
/// What the types guarantee:
/// * a reference from [`get`](Self::get), [`alloc`](Self::alloc) or
///   [`get_or_alloc`](Self::get_or_alloc) borrows the caller's RCU read-side
///   [`Guard`](kernel::sync::rcu::Guard): it cannot outlive the section,
///   and tocpatch frees a variable's memory only an RCU grace period after
///   detaching it, so the reference never dangles;
/// * the data is shared (`&T`) with every other context that finds it,
///   hence `T: Send + Sync` (atomics, locks) and no `&mut T`;
/// * the safe [`free`](Self::free) and [`free_all`](Self::free_all) only
///   exist in effect for a `T` without drop glue (a `T` that needs drop
///   fails to compile there): its memory stays valid for readers until the
///   grace period, and nothing else is undone. Dropping a `T` that owns
///   something (a `KBox`, say) while another CPU may still hold a
///   reference would free what that CPU reads, so
///   [`free_drop`](Self::free_drop) and [`free_all_drop`](Self::free_all_drop)
///   are unsafe.
///
/// What remains the user's promise ([`new`](Self::new) is unsafe): every
/// variable with this `id`, whoever attaches it (C or Rust, this module or
/// another), holds a `T`. As upstream, a variable is found by the object's
/// address only: one left attached to a freed object is found again by the
/// next object at that address (free it when the object goes).
pub(crate) struct ShadowVar<O, T> {
    id: ffi::c_ulong,
    _types: ShadowTypes<O, T>,
}

/// Names `O` and `T` without owning either (a `ShadowVar` is a key, `Send`
/// and `Sync` whatever they are).
type ShadowTypes<O, T> = core::marker::PhantomData<(fn(*const O), fn() -> T)>;

impl<O, T: Send + Sync> ShadowVar<O, T> {
    /// The shadow variable `id`.
    ///
    /// # Safety
    ///
    /// Every variable with identifier `id` holds a valid `T`, whoever
    /// attaches or frees it.
    pub(crate) const unsafe fn new(id: ffi::c_ulong) -> Self {
        // tocpatch aligns shadow data to 8 bytes.
        const { assert!(core::mem::align_of::<T>() <= 8) };
        Self {
            id,
            _types: core::marker::PhantomData,
        }
    }

    fn key(obj: *const O) -> *mut ffi::c_void {
        obj.cast_mut().cast()
    }

    /// Moves the value from `ctor_data` (an `Option<T>`) into the data.
    ///
    /// # Safety
    ///
    /// `ctor_data` is an `Option<T>` not otherwise in use; `shadow_data`
    /// has room for a `T`.
    unsafe extern "C" fn ctor(
        _obj: *mut ffi::c_void,
        shadow_data: *mut ffi::c_void,
        ctor_data: *mut ffi::c_void,
    ) -> ffi::c_int {
        // SAFETY: `alloc_with` passes its `Option<T>`, which it owns and
        // does not touch during the call.
        let slot = unsafe { &mut *ctor_data.cast::<Option<T>>() };
        match slot.take() {
            Some(v) => {
                // SAFETY: tocpatch gives `size_of::<T>()` bytes, 8-byte
                // aligned (and `new` checks `T` needs no more), not yet
                // visible to anyone.
                unsafe { shadow_data.cast::<T>().write(v) };
                0
            }
            None => EINVAL.to_errno(),
        }
    }

    /// Drops the `T` in a variable being freed.
    ///
    /// # Safety
    ///
    /// `shadow_data` holds a `T` that no one uses any more.
    unsafe extern "C" fn dtor(_obj: *mut ffi::c_void, shadow_data: *mut ffi::c_void) {
        // SAFETY: the variable holds a `T` (`new`'s contract), detached,
        // and the callers of `free_drop`/`free_all_drop` promised that no
        // one uses it any more.
        unsafe { core::ptr::drop_in_place(shadow_data.cast::<T>()) };
    }

    /// The data attached to `obj`, if any.
    pub(crate) fn get<'g>(&self, obj: *const O, _rcu: &'g Guard) -> Option<&'g T> {
        // SAFETY: looks the address up; no dereference of `obj`.
        let p = unsafe { tocpatch_shadow_get(Self::key(obj), self.id) };
        // SAFETY: a non-null result is a live `T` (`new`'s contract), freed
        // no earlier than a grace period after it is detached, and the
        // caller's read-side section (`_rcu`) outlives the reference.
        unsafe { p.cast::<T>().as_ref() }
    }

    fn alloc_with(&self, obj: *const O, value: T, gfp: Gfp, or_get: bool) -> Result<*mut T> {
        let mut slot = Some(value);
        let f = if or_get {
            tocpatch_shadow_get_or_alloc
        } else {
            tocpatch_shadow_alloc
        };
        let slot_ptr: *mut Option<T> = &mut slot;
        // SAFETY: `ctor` moves the value out of `slot`, which lives across
        // the call; the size is `T`'s.
        let p = unsafe {
            f(
                Self::key(obj),
                self.id,
                core::mem::size_of::<T>(),
                gfp.0,
                Some(Self::ctor),
                slot_ptr.cast(),
            )
        };
        if !p.is_null() {
            return Ok(p.cast());
        }
        // Not attached: `slot` still has the value (dropped here).
        // SAFETY: as in `get`; only the null test is used.
        let exists = !unsafe { tocpatch_shadow_get(Self::key(obj), self.id) }.is_null();
        Err(if exists { EEXIST } else { ENOMEM })
    }

    /// Attaches `value` to `obj`: `EEXIST` if `obj` has one already (and
    /// tocpatch logs that), `ENOMEM` if the allocation failed; `value` is
    /// dropped then.
    pub(crate) fn alloc<'g>(
        &self,
        obj: *const O,
        value: T,
        gfp: Gfp,
        _rcu: &'g Guard,
    ) -> Result<&'g T> {
        let p = self.alloc_with(obj, value, gfp, false)?;
        // SAFETY: as in `get`.
        Ok(unsafe { &*p })
    }

    /// The data attached to `obj`, attaching `value` first if there is
    /// none (else `value` is dropped). `ENOMEM` if the allocation failed.
    pub(crate) fn get_or_alloc<'g>(
        &self,
        obj: *const O,
        value: T,
        gfp: Gfp,
        _rcu: &'g Guard,
    ) -> Result<&'g T> {
        let p = self.alloc_with(obj, value, gfp, true)?;
        // SAFETY: as in `get`.
        Ok(unsafe { &*p })
    }

    /// Detaches and frees `obj`'s variable (after a grace period), for a
    /// `T` without drop glue (else this does not compile: see
    /// [`free_drop`](Self::free_drop)).
    pub(crate) fn free(&self, obj: *const O) {
        const { assert!(!core::mem::needs_drop::<T>(), "T needs drop: use free_drop") };
        // SAFETY: no destructor; the memory outlives readers (grace period).
        unsafe { tocpatch_shadow_free(Self::key(obj), self.id, None) };
    }

    /// Detaches and frees every variable of this id, for a `T` without
    /// drop glue.
    pub(crate) fn free_all(&self) {
        const {
            assert!(
                !core::mem::needs_drop::<T>(),
                "T needs drop: use free_all_drop"
            )
        };
        // SAFETY: as in `free`.
        unsafe { tocpatch_shadow_free_all(self.id, None) };
    }

    /// Detaches `obj`'s variable, drops its `T` (under tocpatch's lock,
    /// interrupts off: the drop must not sleep) and frees it.
    ///
    /// # Safety
    ///
    /// No reference to this variable's data (from this or another context)
    /// is used after the call, e.g. because `obj` itself is being freed
    /// and only its owner could reach it.
    pub(crate) unsafe fn free_drop(&self, obj: *const O) {
        // SAFETY: the caller promises no later use of the `T` dropped.
        unsafe { tocpatch_shadow_free(Self::key(obj), self.id, Some(Self::dtor)) };
    }

    /// Drops and frees every variable of this id, as
    /// [`free_drop`](Self::free_drop).
    ///
    /// # Safety
    ///
    /// No reference to any of these variables is used after the call.
    pub(crate) unsafe fn free_all_drop(&self) {
        // SAFETY: as above.
        unsafe { tocpatch_shadow_free_all(self.id, Some(Self::dtor)) };
    }
}
