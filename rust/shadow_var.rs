// SPDX-License-Identifier: GPL-2.0

//! Shadow variables: data attached to existing kernel objects, keyed by
//! `<object address, id>` (`tocpatch_shadow_*()` of `include/tocpatch.h`,
//! the semantics of livepatch's `klp_shadow_*()`).
//!
//! One table of [`BUCKETS`] singly linked lists, the bucket chosen from
//! the object's address (`logic::shadow_var::bucket`):
//! * readers (`tocpatch_shadow_get`) walk a list under `rcu_read_lock()`
//!   only, so they work in any context, NMI included;
//! * writers (alloc, free, free_all, unload) hold one irq-safe spinlock;
//!   in NMI context, where that lock and the allocator could deadlock,
//!   alloc and free are refused before touching either. A new variable is
//!   fully built (constructor included) before a release store publishes
//!   it at the head of its list; an unlinked variable keeps its `next`, so
//!   a reader standing on it walks on, and its memory is freed only after
//!   an RCU grace period (`kvfree_call_rcu()`, which needs no code of ours
//!   later, so unloading never waits for it).
//!
//! The kernel primitives (lock, RCU, kzalloc with the caller's gfp flags,
//! the deferred free, the `%p` log lines) are in `kernel_glue/shadow_var.c`.

use core::ptr::null_mut;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::ffi;

use crate::logic::shadow_var::{self as logic, BUCKETS};

/// `tocpatch_shadow_ctor_t`.
type Ctor = Option<
    unsafe extern "C" fn(
        obj: *mut ffi::c_void,
        shadow_data: *mut ffi::c_void,
        ctor_data: *mut ffi::c_void,
    ) -> ffi::c_int,
>;
/// `tocpatch_shadow_dtor_t`.
type Dtor = Option<unsafe extern "C" fn(obj: *mut ffi::c_void, shadow_data: *mut ffi::c_void)>;

// What `tocpatch_shvar_report` reports (as in `kernel_glue/glue.h`).
const DUPLICATE: ffi::c_int = 0;
const CTOR_FAILED: ffi::c_int = 1;
const IN_NMI: ffi::c_int = 2;

extern "C" {
    fn tocpatch_shvar_lock(flags: *mut ffi::c_ulong) -> bool;
    fn tocpatch_shvar_unlock(flags: ffi::c_ulong);
    fn tocpatch_shvar_in_nmi() -> bool;
    fn tocpatch_shvar_rcu_read_lock();
    fn tocpatch_shvar_rcu_read_unlock();
    fn tocpatch_shvar_zalloc(size: usize, gfp: u32) -> *mut ffi::c_void;
    fn tocpatch_shvar_kfree(p: *mut ffi::c_void);
    fn tocpatch_shvar_kfree_rcu(node: *mut ffi::c_void, head: *mut ffi::c_void);
    fn tocpatch_shvar_report(
        what: ffi::c_int,
        obj: *mut ffi::c_void,
        id: ffi::c_ulong,
        err: ffi::c_int,
    );
}

/// The header of a shadow variable; its data follows at [`DATA`].
#[repr(C)]
struct Node {
    /// The next variable of the bucket. Kept when this one is unlinked.
    next: AtomicPtr<Node>,
    /// Room for the `struct kvfree_rcu_head` of the deferred free (the C
    /// glue checks that it fits).
    rcu: [usize; 2],
    obj: usize,
    id: ffi::c_ulong,
}

/// Offset of the data in a variable.
const DATA: usize = logic::data_offset(core::mem::size_of::<Node>());

/// The buckets' list heads.
static TABLE: [AtomicPtr<Node>; BUCKETS] = [const { AtomicPtr::new(null_mut()) }; BUCKETS];

fn head(obj: usize) -> &'static AtomicPtr<Node> {
    &TABLE[logic::bucket(obj as u64)]
}

fn data(n: *mut Node) -> *mut ffi::c_void {
    n.cast::<u8>().wrapping_add(DATA).cast()
}

/// The writer lock, held while this lives.
struct Lock(ffi::c_ulong);

impl Lock {
    /// Takes the lock (interrupts off); `None` in NMI context.
    fn take() -> Option<Self> {
        let mut flags = 0;
        // SAFETY: `flags` is a valid place for the saved interrupt state.
        if unsafe { tocpatch_shvar_lock(&mut flags) } {
            Some(Lock(flags))
        } else {
            // No `Lock` is made (its drop would unlock).
            None
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // SAFETY: taken in `take` on this CPU, with these flags.
        unsafe { tocpatch_shvar_unlock(self.0) };
    }
}

/// An RCU read-side section, while this lives.
struct ReadSide;

impl ReadSide {
    fn new() -> Self {
        // SAFETY: no requirement; ended in `drop`.
        unsafe { tocpatch_shvar_rcu_read_lock() };
        ReadSide
    }
}

impl Drop for ReadSide {
    fn drop(&mut self) {
        // SAFETY: begun in `new`.
        unsafe { tocpatch_shvar_rcu_read_unlock() };
    }
}

/// The variable `<obj, id>`, or null.
///
/// # Safety
///
/// The caller is in an RCU read-side section or holds the writer lock,
/// and uses the result only while it is.
unsafe fn find(obj: usize, id: ffi::c_ulong) -> *mut Node {
    let mut n = head(obj).load(Ordering::Acquire);
    while !n.is_null() {
        // SAFETY: a node reached from the table was published complete
        // (release store, acquire load) and is freed only a grace period
        // after it is unlinked, which the caller's section or lock covers.
        let r = unsafe { &*n };
        if r.obj == obj && r.id == id {
            return n;
        }
        n = r.next.load(Ordering::Acquire);
    }
    null_mut()
}

/// Unlinks `n`, whose link (head or predecessor's `next`) is `link`, calls
/// `dtor` on it and frees it after a grace period.
///
/// # Safety
///
/// The caller holds the writer lock; `link` holds `n`.
unsafe fn unlink(link: &AtomicPtr<Node>, n: *mut Node, dtor: Dtor) {
    // SAFETY: `n` is in the table and the lock keeps it there.
    let r = unsafe { &mut *n };
    link.store(r.next.load(Ordering::Relaxed), Ordering::Release);
    if let Some(dtor) = dtor {
        // SAFETY: the destructor the caller of the API gave, with the
        // object and data it was made for; it must not sleep (documented).
        unsafe { dtor(r.obj as *mut ffi::c_void, data(n)) };
    }
    let rcu: *mut [usize; 2] = &mut r.rcu;
    // SAFETY: `n` was kzalloc'ed in `get_or_alloc`, is no longer reachable
    // by new readers, and `rcu` is its room for the free's list head.
    unsafe { tocpatch_shvar_kfree_rcu(n.cast(), rcu.cast()) };
}

/// `tocpatch_shadow_get()`.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_shadow_get(
    obj: *mut ffi::c_void,
    id: ffi::c_ulong,
) -> *mut ffi::c_void {
    let _rcu = ReadSide::new();
    // SAFETY: in the read-side section; the data pointer is returned as
    // upstream does (valid until freed and a grace period passes).
    let n = unsafe { find(obj as usize, id) };
    if n.is_null() {
        null_mut()
    } else {
        data(n)
    }
}

fn get_or_alloc(
    obj: *mut ffi::c_void,
    id: ffi::c_ulong,
    size: usize,
    gfp: u32,
    ctor: Ctor,
    ctor_data: *mut ffi::c_void,
    warn_on_exist: bool,
) -> *mut ffi::c_void {
    let exists = |d: *mut ffi::c_void| {
        if warn_on_exist {
            // SAFETY: prints the pointer hashed (%p); no dereference.
            unsafe { tocpatch_shvar_report(DUPLICATE, obj, id, 0) };
            null_mut()
        } else {
            d
        }
    };
    let d = tocpatch_shadow_get(obj, id);
    if !d.is_null() {
        return exists(d);
    }
    // Neither the allocator nor the lock may be used in NMI context.
    // SAFETY: reads the preempt count.
    if unsafe { tocpatch_shvar_in_nmi() } {
        // SAFETY: prints the pointer hashed (%p); no dereference.
        unsafe { tocpatch_shvar_report(IN_NMI, obj, id, 0) };
        return null_mut();
    }
    let Some(bytes) = logic::alloc_size(core::mem::size_of::<Node>(), size) else {
        return null_mut();
    };
    // Allocated outside the lock, with the caller's flags; zeroed, so
    // `next` is null.
    // SAFETY: plain allocation.
    let new = unsafe { tocpatch_shvar_zalloc(bytes, gfp) }.cast::<Node>();
    if new.is_null() {
        return null_mut();
    }
    let Some(lock) = Lock::take() else {
        // SAFETY: allocated just above, never published.
        unsafe { tocpatch_shvar_kfree(new.cast()) };
        // SAFETY: as above (%p).
        unsafe { tocpatch_shvar_report(IN_NMI, obj, id, 0) };
        return null_mut();
    };
    // SAFETY: the lock is held.
    let old = unsafe { find(obj as usize, id) };
    if !old.is_null() {
        drop(lock);
        // SAFETY: allocated above, never published.
        unsafe { tocpatch_shvar_kfree(new.cast()) };
        return exists(data(old));
    }
    // SAFETY: `new` is ours, large enough for the header and zeroed.
    unsafe {
        (*new).obj = obj as usize;
        (*new).id = id;
    }
    if let Some(ctor) = ctor {
        // SAFETY: the caller's constructor, with its data, on `size`
        // zeroed bytes; it must not sleep (documented).
        let err = unsafe { ctor(obj, data(new), ctor_data) };
        if err != 0 {
            drop(lock);
            // SAFETY: never published.
            unsafe { tocpatch_shvar_kfree(new.cast()) };
            // SAFETY: as above (%p).
            unsafe { tocpatch_shvar_report(CTOR_FAILED, obj, id, err) };
            return null_mut();
        }
    }
    let h = head(obj as usize);
    // SAFETY: `new` is still ours alone.
    unsafe {
        (*new)
            .next
            .store(h.load(Ordering::Relaxed), Ordering::Relaxed)
    };
    // Publishes the complete variable (header, data, constructor's work).
    h.store(new, Ordering::Release);
    drop(lock);
    data(new)
}

/// `tocpatch_shadow_alloc()`.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_shadow_alloc(
    obj: *mut ffi::c_void,
    id: ffi::c_ulong,
    size: usize,
    gfp: u32,
    ctor: Ctor,
    ctor_data: *mut ffi::c_void,
) -> *mut ffi::c_void {
    get_or_alloc(obj, id, size, gfp, ctor, ctor_data, true)
}

/// `tocpatch_shadow_get_or_alloc()`.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_shadow_get_or_alloc(
    obj: *mut ffi::c_void,
    id: ffi::c_ulong,
    size: usize,
    gfp: u32,
    ctor: Ctor,
    ctor_data: *mut ffi::c_void,
) -> *mut ffi::c_void {
    get_or_alloc(obj, id, size, gfp, ctor, ctor_data, false)
}

/// Unlinks, destroys with `dtor` and frees every variable for which
/// `hit(obj, id)` holds; returns how many. `stop_at_first`: at most one.
fn free_where(
    _lock: &Lock,
    buckets: core::ops::Range<usize>,
    hit: impl Fn(usize, ffi::c_ulong) -> bool,
    dtor: Dtor,
    stop_at_first: bool,
) -> usize {
    let mut freed = 0;
    for b in buckets {
        let mut link = &TABLE[b];
        loop {
            let n = link.load(Ordering::Relaxed);
            if n.is_null() {
                break;
            }
            // SAFETY: in the table, and the lock (`_lock`) keeps it there.
            let r = unsafe { &*n };
            if hit(r.obj, r.id) {
                // SAFETY: the lock is held and `link` holds `n`.
                unsafe { unlink(link, n, dtor) };
                freed += 1;
                if stop_at_first {
                    return freed;
                }
                // `link` now holds the next one.
            } else {
                link = &r.next;
            }
        }
    }
    freed
}

/// `tocpatch_shadow_free()`.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_shadow_free(obj: *mut ffi::c_void, id: ffi::c_ulong, dtor: Dtor) {
    let Some(lock) = Lock::take() else {
        // SAFETY: prints the pointer hashed (%p).
        unsafe { tocpatch_shvar_report(IN_NMI, obj, id, 0) };
        return;
    };
    let b = logic::bucket(obj as u64);
    free_where(
        &lock,
        b..b + 1,
        |o, i| o == obj as usize && i == id,
        dtor,
        true,
    );
}

/// `tocpatch_shadow_free_all()`.
#[no_mangle]
pub(crate) extern "C" fn tocpatch_shadow_free_all(id: ffi::c_ulong, dtor: Dtor) {
    let Some(lock) = Lock::take() else {
        // SAFETY: as above.
        unsafe { tocpatch_shvar_report(IN_NMI, null_mut(), id, 0) };
        return;
    };
    free_where(&lock, 0..BUCKETS, |_, i| i == id, dtor, false);
}

/// At unload: frees every variable still attached (their destructors
/// belong to modules that are gone, so none is called); returns how many.
pub(crate) fn free_left() -> usize {
    // Unload does not run in NMI context.
    let Some(lock) = Lock::take() else { return 0 };
    free_where(&lock, 0..BUCKETS, |_, _| true, None, false)
}
