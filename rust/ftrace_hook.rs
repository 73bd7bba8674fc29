// SPDX-License-Identifier: GPL-2.0

//! The ftrace hookup: one `ftrace_ops`, shared by every patched function
//! (every [`Site`]) and by the `__smp_send_nmi_ipi()` hook of `nmi.rs`, and
//! its callback, which finds the site of the call by its ftrace location
//! in an O(1) table, classifies the call and redirects it to the
//! replacement of the site's top target.
//!
//! One ops, not one per function, for three reasons measured with
//! `make bench` (Documentation/performance.rst): without CALL_OPS
//! (`-mprofile-kernel`) ftrace calls a module's ops through
//! `ftrace_ops_list_func`, which tests every registered ops at every traced
//! call, so each further ops made every patched call dearer; one ops makes
//! the cost of a call the same with 1 or 1000 functions patched; and a
//! patch's functions are hooked and unhooked with one ftrace update
//! (`ftrace_set_filter_ips()`) instead of one each. The filter also holds
//! an anchor, a function of ours that nothing calls, so the ops stays
//! registered from module load to unload (an ops with an empty filter
//! traces every function) and every change is a filter update.
//!
//! The ops use `FTRACE_OPS_FL_IPMODIFY` alone, as livepatch does on
//! architectures with `DYNAMIC_FTRACE_WITH_ARGS`: ftrace then calls them from
//! `ftrace_caller`, whose `pt_regs` hold r0 (`link`), r1, r3..r10 and the
//! nip, and whose exit path loads r0 from `link`, r2 from the frame's
//! `STK_GOT` slot and branches to nip. That is all the redirection needs
//! (see `arch_powerpc_asm/trampolines.S`). `ftrace_regs_caller`, used when
//! another ops on the same function asks for all registers, does the same
//! and more. Not asking for them matters: `ftrace_regs_caller` also reloads
//! r13 (the paca) from its `pt_regs`, which is stale if the task migrated
//! to another CPU while in there.
//!
//! The ops do not ask ftrace for recursion protection: ftrace would skip the
//! callback on recursion and leave a marked (odd) TOC in r2. The callback's
//! hot path cannot recurse (it calls no kernel code, only our own
//! assembly); its cold paths take ftrace's recursion guard themselves.
//!
//! The table. Its key is a function's ftrace location (`rec->ip`, the
//! callback's `ip`), which ftrace does not tell modules (`ftrace_location()`
//! is not exported): [`Prober`] finds it with the exported filter
//! interface; on the direct path it is the address in the function's
//! out-of-line stub that the trampoline finds in LR ([`Batch`]). Entries
//! are the sites themselves (`logic/iptable.rs`): a site goes in before
//! its location goes into the filter (on the direct path: after, its
//! marker not yet placed), so every call with an odd r2 finds it; it goes
//! out when it is unhooked, its marker out and a grace period passed
//! since (no odd r2 is in flight), just before its location leaves the
//! filter, and is freed after the grace periods ftrace waits for before
//! it frees a dynamic ops (`synchronize_rcu_tasks_rude()`, then
//! `synchronize_rcu_tasks()`: the callback may be preempted), when no
//! callback or trampoline can still be using it, or reading its key while
//! probing for another. A table that must grow is copied; the old array
//! is freed after the next such grace periods (an unhook) or at unload.

use kernel::{
    bindings, ffi,
    prelude::*,
    str::CStr,
    sync::atomic::{Atomic, AtomicType, Relaxed, Release},
    sync::Arc,
    types::Opaque,
};

use crate::asm_shim::{self, Env};
use crate::direct_ops::DirectOps;
use crate::glue;
use crate::logic::insn::{ool_stub_key, reloads_toc, CallKind};
use crate::logic::iptable::{self, Shape, EMPTY, TOMB};
use crate::logic::shadow::Frame;
use crate::shadow;
use crate::site::Site;
use crate::target::{Target, TOC_SAVE_SLOT};
use crate::trampoline;

/// The callback's table: `shape.mask + 1` slots, each [`EMPTY`], [`TOMB`]
/// or a `*const Site` (`logic/iptable.rs`).
#[repr(C)]
struct Table {
    shape: Shape,
    /// `slots`' array, what probes read (`EMPTY_SLOT` for `EMPTY_TABLE`).
    base: *const usize,
    /// Where the direct trampoline sends a replacement's return after a
    /// local call (`trampoline::return_tramp()`).
    rtramp: u64,
    /// `shape.mask` shifted left by 3: the direct trampoline's probe
    /// masks a byte offset with it.
    mask8: usize,
    /// The direct trampoline's hop into a replacement after a global
    /// call (`trampoline::direct_hop()`).
    hop: u64,
    /// Atomics: the registry stores into slots (through `&Table`) while
    /// callbacks and the direct trampoline read them.
    slots: KVec<Atomic<usize>>,
}

// What the direct trampoline's fast path reads (direct.S DT_TBL_*).
const _: () = assert!(core::mem::offset_of!(Table, shape) == 0);
const _: () = assert!(core::mem::offset_of!(Table, base) == 24);
const _: () = assert!(core::mem::offset_of!(Table, rtramp) == 32);
const _: () = assert!(core::mem::offset_of!(Table, mask8) == 40);
const _: () = assert!(core::mem::offset_of!(Table, hop) == 48);

/// [`EMPTY_TABLE`]'s one slot.
static EMPTY_SLOT: usize = EMPTY;

/// What [`TOCPATCH_TABLE`] points to when there is no table (before
/// `init`, after `fini`): one slot, empty, so that neither the callback
/// nor the direct trampoline tests for null.
struct EmptyTable(Table);

// SAFETY: never written; its one pointer is to an immutable static.
unsafe impl Sync for EmptyTable {}

static EMPTY_TABLE: EmptyTable = EmptyTable(Table {
    shape: Shape::EMPTY,
    base: &EMPTY_SLOT,
    rtramp: 0,
    mask8: 0,
    hop: 0,
    slots: KVec::new(),
});

impl Table {
    fn new(shape: Shape) -> Result<KBox<Self>> {
        let cap = shape.mask + 1;
        let mut slots = KVec::with_capacity(cap, GFP_KERNEL)?;
        for _ in 0..cap {
            slots.push(Atomic::new(EMPTY), GFP_KERNEL)?;
        }
        Ok(KBox::new(
            Table {
                shape,
                base: slots.as_ptr().cast::<usize>(),
                rtramp: trampoline::return_tramp(),
                mask8: shape.mask << 3,
                hop: trampoline::direct_hop(),
                slots,
            },
            GFP_KERNEL,
        )?)
    }

    /// Slot `i`, as the callback reads it: `READ_ONCE`, a volatile load
    /// inline (`Atomic::load` is a call to a C helper, which the hot path
    /// must not make: testbed/object-checks.sh), paired with
    /// [`Table::store`]'s release as the kernel's memory model pairs them.
    #[inline(always)]
    fn load(&self, i: usize) -> usize {
        // SAFETY: `i <= shape.mask`, within the array (`slots`', whose
        // words are atomics, or EMPTY_SLOT for EMPTY_TABLE, never
        // written); an aligned volatile load.
        unsafe { core::ptr::read_volatile(self.base.add(i)) }
    }

    /// Stores slot `i` with release semantics (after the site it points to
    /// is initialised). Through `&self`: readers hold `&Table` meanwhile.
    fn store(&self, i: usize, v: usize) {
        self.slots[i].store(v, Release);
    }

    /// The values of the slots that are not [`EMPTY`].
    fn used(&self) -> impl Iterator<Item = usize> + '_ {
        self.slots
            .iter()
            .map(|a| a.load(Relaxed))
            .filter(|&v| v != EMPTY)
    }

    /// The slot and the site keyed `key`, if any.
    #[inline(always)]
    fn probe(&self, key: u64) -> Option<(usize, &Site)> {
        let key_of = |v: usize| {
            // SAFETY: a value in the table points to a live site (the
            // module comment).
            unsafe { read_once(&(*(v as *const Site)).key) }
        };
        let (i, v) = iptable::probe(self.shape, key, |i| self.load(i), key_of)?;
        // SAFETY: as above.
        Some((i, unsafe { &*(v as *const Site) }))
    }
}

extern "C" {
    /// The direct trampoline's lookup (`DT_HOME`, then `DT_PROBE`) as a
    /// function (`arch_powerpc_asm/direct.S`): the value found, or 0.
    fn tocpatch_lookup_selftest(table: *const ffi::c_void, key: u64) -> usize;
}

/// Checks that the direct trampoline's lookup (assembly) finds what
/// `logic/iptable.rs` finds: on a table of [`iptable::MIN_CAPACITY`] slots
/// holding a run of stub keys with the last slot as their home (so the
/// run wraps past the end of the array), another key whose home the run
/// took, a tombstone inside the run, and keys that are absent; and on the
/// empty table. At load, so that a disagreement (layout, hash, probe)
/// fails the load rather than a patched call.
pub(crate) fn lookup_self_test() -> Result {
    let shape = Shape::for_stubs(iptable::MIN_CAPACITY);
    let t = Table::new(shape)?;
    // Stub keys (stub + 8, stubs 24 bytes apart), sorted by home: four
    // homed at the last slot, one at slot 1, two absent ones (homed at
    // the last slot and at slot 5).
    let key = |i: u64| 0xc008_0000_0010_0008u64 + 24 * i;
    let homed = |h: usize, n: usize| {
        (0..4096u64)
            .map(key)
            .filter(move |&k| iptable::home(k, shape) == h)
            .take(n)
    };
    let mut keys = KVec::<u64>::with_capacity(8, GFP_KERNEL)?;
    for (h, n) in [(shape.mask, 5), (1, 1), (5, 1)] {
        for k in homed(h, n) {
            keys.push(k, GFP_KERNEL)?;
        }
    }
    if keys.len() != 7 {
        pr_err!("self-test: no stub keys for the lookup test\n");
        return Err(EINVAL);
    }
    // Entries are the key words themselves (the site's key is its first
    // word); `keys` does not move from here on.
    let entry = |j: usize| core::ptr::from_ref(&keys[j]) as usize;
    // In: keys 0..4 (homed last) and 5 (homed at 1); key 4 and 6 absent.
    for j in [0, 1, 2, 3, 5] {
        let (i, _) = iptable::free_slot(shape, keys[j], |i| t.load(i));
        t.store(i, entry(j));
    }
    // Key 1 (the run's second, in slot 0) removed.
    let (gone, _) = iptable::probe(
        shape,
        keys[1],
        |i| t.load(i),
        |v| {
            // SAFETY: `v` is one of the entries, a word of `keys`.
            unsafe { *(v as *const u64) }
        },
    )
    .ok_or(EINVAL)?;
    t.store(gone, TOMB);
    let mut good = true;
    for (j, &k) in keys.iter().enumerate() {
        let want = iptable::probe(
            shape,
            k,
            |i| t.load(i),
            |v| {
                // SAFETY: as above.
                unsafe { *(v as *const u64) }
            },
        )
        .map_or(0, |(_, v)| v);
        good &= want
            == if matches!(j, 0 | 2 | 3 | 5) {
                entry(j)
            } else {
                0
            };
        // SAFETY: `t` is a live table whose values point to readable
        // words; the function only reads them.
        good &= unsafe { tocpatch_lookup_selftest(core::ptr::from_ref(&*t).cast(), k) } == want;
        // SAFETY: the empty table, as above.
        good &=
            unsafe { tocpatch_lookup_selftest(core::ptr::from_ref(&EMPTY_TABLE.0).cast(), k) } == 0;
    }
    if !good {
        pr_err!("self-test: the direct trampoline's lookup disagrees with logic/iptable.rs\n");
        return Err(EINVAL);
    }
    Ok(())
}

/// The shared ops and the table, changed under [`HOOKS`] only.
struct Hooks {
    /// Registered from `init` to `fini`; leaked if ftrace refuses to let
    /// it go.
    ops: Option<Pin<KBox<Opaque<bindings::ftrace_ops>>>>,
    /// The table [`TOCPATCH_TABLE`] publishes.
    table: Option<KBox<Table>>,
    /// Its slots that are not empty (sites and tombstones).
    used: usize,
    /// Tables replaced by a bigger one, freed after the next grace periods.
    retired: KVec<KBox<Table>>,
    /// The direct ops (direct path only), each with a live location.
    batches: KVec<KBox<Batch>>,
}

/// A direct ops of the direct path: the functions of one object hooked by
/// one enable (one ftrace update), whose calls go straight to
/// `tocpatch_direct_tramp` (`arch_powerpc_asm/direct.S`), which finds
/// their sites in the same table as the callback.
///
/// ftrace cannot take a location out of a registered direct ops: the
/// kernel's `update_ftrace_direct_del()` is not exported, and a filter edit
/// would leave ftrace's own table of direct calls behind (later direct
/// users of the function would get -EBUSY for good). So a location whose
/// hook goes stays in its ops, dormant: its site leaves the table, and the
/// trampoline runs the function as it is. The ops is unregistered with its
/// last live location, and a dormant location that is hooked again comes
/// back to life in place, with no ftrace update. One object per ops keeps
/// a module's locations out of every ops that outlives the module: when
/// it goes, all of its sites are unhooked.
struct Batch {
    /// Registered while the batch exists; dropping the batch unregisters it.
    ops: DirectOps,
    /// The locations, sorted, and whether each has a hook.
    locs: KVec<(u64, bool)>,
    /// How many have one.
    live: usize,
}

impl Batch {
    fn find(&self, loc: u64) -> Option<usize> {
        self.locs.binary_search_by_key(&loc, |l| l.0).ok()
    }
}

/// Whether hooks use ftrace direct calls (`direct=1` on a kernel that
/// has them), set at load.
static DIRECT: Atomic<bool> = Atomic::new(false);

/// Whether hooks use ftrace direct calls.
pub(crate) fn direct() -> bool {
    DIRECT.load(Relaxed)
}

// SAFETY: the ops is only touched by ftrace (which serialises its own use
// of it) and under the lock; the tables are plain words; nothing in it is
// tied to a CPU or task.
unsafe impl Send for Hooks {}

kernel::sync::global_lock! {
    // SAFETY: initialised in the module initialiser before any use.
    unsafe(uninit) static HOOKS: Mutex<Hooks> = Hooks {
        ops: None,
        table: None,
        used: 0,
        retired: KVec::new(),
        batches: KVec::new(),
    };
}

/// The table the callback and the direct trampoline read ([`EMPTY_TABLE`]
/// before `init` and after `fini`).
#[no_mangle]
static TOCPATCH_TABLE: Atomic<*const Table> = Atomic::new(&EMPTY_TABLE.0);

/// The ftrace location of `__smp_send_nmi_ipi()` while `nmi.rs` hooks it, 0
/// otherwise.
static NMI_LOC: Atomic<u64> = Atomic::new(0);

/// The global entry of vmlinux's `ftrace_stub`, found at load (0 if not):
/// the callback an ops that ftrace will not let go is left with at unload
/// ([`fini`]).
static STUB: Atomic<u64> = Atomic::new(0);

/// Registers the shared ops, its filter holding the anchor alone (module
/// init, after `site::init`).
pub(crate) fn init() -> Result {
    // SAFETY: called once, before any other use of HOOKS.
    unsafe { HOOKS.init() };
    // SAFETY: plain call.
    let can = unsafe { glue::tocpatch_direct_available() };
    DIRECT.store(crate::direct_requested() && can, Relaxed);
    // Found now, while all is well, rather than after ftrace_kill().
    match crate::symbols::vmlinux_function(c"ftrace_stub") {
        Some(f) => STUB.store(f, Relaxed),
        None => pr_warn!("ftrace_stub not found: an unload after ftrace_kill() would leave ftrace calling freed code\n"),
    }
    let table = Table::new(match direct() {
        true => Shape::for_stubs(iptable::MIN_CAPACITY),
        false => Shape::new(iptable::MIN_CAPACITY),
    })?;
    let ops_box: Pin<KBox<Opaque<bindings::ftrace_ops>>> = KBox::pin(Opaque::zeroed(), GFP_KERNEL)?;
    let ops = ops_box.get();
    // SAFETY: `ops` is ours and not registered.
    unsafe {
        (*ops).func = Some(tocpatch_ftrace_handler);
        (*ops).flags = bindings::FTRACE_OPS_FL_IPMODIFY as ffi::c_ulong;
    }
    // The anchor (kernel_glue/ftrace_anchor.c), which nothing calls, keeps
    // the filter from being empty.
    let anchor = glue::tocpatch_ftrace_anchor as *const () as ffi::c_ulong;
    // SAFETY: `ops` is a valid, unregistered ftrace_ops.
    let mut r = unsafe { bindings::ftrace_set_filter_ip(ops, anchor, 0, 0) };
    if r == 0 {
        TOCPATCH_TABLE.store(&*table, Release);
        // SAFETY: `ops` is valid and filtered; the box stays allocated until
        // it is unregistered (`fini`) or for good.
        r = unsafe { bindings::register_ftrace_function(ops) };
    }
    if r != 0 {
        TOCPATCH_TABLE.store(&EMPTY_TABLE.0, Release);
        pr_err!("cannot register the ftrace ops: {}\n", r);
        // SAFETY: not registered.
        unsafe { bindings::ftrace_free_filter(ops) };
        return Err(Error::from_errno(r));
    }
    let mut h = HOOKS.lock();
    h.ops = Some(ops_box);
    h.table = Some(table);
    Ok(())
}

/// Unregisters the shared ops (module unload: no site is hooked, and the
/// NMI hook is gone). ftrace waits for callbacks in flight.
pub(crate) fn fini() {
    let mut h = HOOKS.lock();
    // The direct ops go with their last hooks, so none is left now
    // (one ftrace would not let go was leaked then). Any other would be
    // unregistered here, by its drop (HOOKS is a static, never dropped).
    drop(core::mem::take(&mut h.batches));
    let Some(ops_box) = h.ops.take() else {
        return;
    };
    let ops = ops_box.get();
    // SAFETY: registered by `init`, and only here unregistered.
    let r = unsafe { bindings::unregister_ftrace_function(ops) };
    if r != 0 {
        // After ftrace_kill(): ftrace keeps the ops registered and calls
        // it (design.rst, "ftrace_kill()"), but our code goes with the
        // module, which nothing can prevent at this point. The ops is
        // leaked, its callback turned into ftrace's own stub (vmlinux
        // code, `blr`), and we wait until no callback is still in ours.
        match STUB.load(Relaxed) {
            0 => {
                pr_err!(
                    "unregister_ftrace_function failed: {}, and ftrace_stub was not found: the ftrace ops is leaked, calling freed code\n",
                    r
                );
                core::mem::forget(h.table.take());
            }
            f => {
                // SAFETY: `f` is the global entry of `ftrace_stub`, a
                // function of type `ftrace_func_t` that returns at once;
                // callers read `func` once per call (a volatile store of
                // an aligned pointer).
                unsafe {
                    let f: bindings::ftrace_func_t = Some(core::mem::transmute::<
                        usize,
                        unsafe extern "C" fn(
                            ffi::c_ulong,
                            ffi::c_ulong,
                            *mut bindings::ftrace_ops,
                            *mut bindings::ftrace_regs,
                        ),
                    >(f as usize));
                    core::ptr::write_volatile(&raw mut (*ops).func, f);
                }
                // What ftrace waits for before it frees a dynamic ops,
                // and RCU for callbacks in NMI context.
                // SAFETY: plain kernel calls in process context.
                unsafe {
                    bindings::synchronize_rcu_tasks_rude();
                    bindings::synchronize_rcu_tasks();
                    bindings::synchronize_rcu();
                }
                pr_err!(
                    "unregister_ftrace_function failed: {}: the ftrace ops is leaked, its callback now ftrace_stub\n",
                    r
                );
                TOCPATCH_TABLE.store(&EMPTY_TABLE.0, Release);
                h.table = None;
                h.retired = KVec::new();
            }
        }
        core::mem::forget(ops_box);
        return;
    }
    // SAFETY: no longer registered.
    unsafe { bindings::ftrace_free_filter(ops) };
    drop(ops_box);
    TOCPATCH_TABLE.store(&EMPTY_TABLE.0, Release);
    h.table = None;
    h.retired = KVec::new();
}

/// Finds functions' ftrace locations: the address of a function's call
/// to ftrace, the callback's `ip`. ftrace accepts in a filter a function's
/// start (mapped to its location) or the exact location, nothing else in
/// between; a throw-away ops that is never registered tells which word it
/// is.
pub(crate) struct Prober(Pin<KBox<Opaque<bindings::ftrace_ops>>>);

impl Prober {
    pub(crate) fn new() -> Result<Self> {
        Ok(Prober(KBox::pin(Opaque::zeroed(), GFP_KERNEL)?))
    }

    /// Whether ftrace takes `ip` into a filter (`Err` if it fails for
    /// another reason than refusing the address).
    fn accepts(&self, ip: u64) -> Result<bool> {
        // SAFETY: a valid ftrace_ops that is never registered.
        let r = unsafe { bindings::ftrace_set_filter_ip(self.0.get(), ip as ffi::c_ulong, 0, 1) };
        match r {
            0 => Ok(true),
            r if r == EINVAL.to_errno() => Ok(false),
            r => Err(Error::from_errno(r)),
        }
    }

    /// The ftrace locations of the functions `fs` (global entry, kallsyms
    /// size, name; their text stays mapped during the call), in order, as
    /// [`Prober::location`] finds them. One filter update asks about every
    /// function's first call-site-like word after its entry at once (such
    /// a word is accepted only if it is the location itself); only if
    /// ftrace refuses one (it is elsewhere, or not traceable), one function
    /// has no such word, or the update fails is each function asked about
    /// alone, which names the one in error.
    pub(crate) fn locations(&self, fs: &[(u64, u64, &str)]) -> Result<KVec<u64>> {
        let mut ips = KVec::with_capacity(fs.len(), GFP_KERNEL)?;
        for &(entry, size, _) in fs {
            let first =
                Self::candidates(entry, size).find(|&ip| ip != entry && Self::call_site(ip));
            let Some(ip) = first else {
                break;
            };
            ips.push(ip, GFP_KERNEL)?;
        }
        if ips.len() == fs.len() && fs.len() > 1 {
            // SAFETY: a valid ftrace_ops that is never registered; `ips`
            // holds `len` addresses (`c_ulong` is `u64` on ppc64).
            let r = unsafe {
                bindings::ftrace_set_filter_ips(
                    self.0.get(),
                    ips.as_mut_ptr().cast(),
                    ips.len() as u32,
                    0,
                    1,
                )
            };
            if r == 0 {
                return Ok(ips);
            }
        }
        let mut locs = KVec::with_capacity(fs.len(), GFP_KERNEL)?;
        for &(entry, size, name) in fs {
            locs.push(self.location(entry, size, name)?, GFP_KERNEL)?;
        }
        Ok(locs)
    }

    /// The words that may be the location of a function at `entry` of
    /// `size` bytes, in the order they are tried.
    fn candidates(entry: u64, size: u64) -> impl Iterator<Item = u64> {
        let offs = (4..=16u64).step_by(4).filter(move |&o| o < size);
        Iterator::chain(offs, Some(0)).map(move |o| entry + o)
    }

    /// Whether the word at `ip`, one of [`Prober::candidates`], looks like
    /// a call site: a nop or a branch.
    fn call_site(ip: u64) -> bool {
        // SAFETY: `ip` is within a function's first 16 bytes and its
        // kallsyms size (or is its entry), in mapped text.
        let w = unsafe { core::ptr::read_volatile(ip as *const u32) };
        w == 0x6000_0000 || w >> 26 == 18
    }

    /// The ftrace location of the function `name` at `entry` of `size`
    /// bytes (kallsyms'; its text stays mapped during the call). The
    /// location word is a nop or a branch (the call site, patched or not):
    /// the first such word after the entry that ftrace accepts, within the
    /// function (a word past its end may be the next function's location)
    /// and within its first 16 bytes (the kernel's own ppc64 livepatch code
    /// looks no further), or else the entry itself. Mostly one probe: only
    /// call-site-like words are asked about.
    fn location(&self, entry: u64, size: u64, name: &str) -> Result<u64> {
        let found = (|| {
            for ip in Self::candidates(entry, size) {
                if Self::call_site(ip) && self.accepts(ip)? {
                    return Ok(Some(ip));
                }
            }
            Ok(None)
        })();
        match found {
            Ok(Some(loc)) => Ok(loc),
            Err(e) => {
                pr_err!("{}: ftrace_set_filter_ip: {:?}\n", name, e);
                Err(e)
            }
            Ok(None) if self.accepts(entry).unwrap_or(false) => {
                pr_err!(
                    "{}: its ftrace location is not in its first 16 bytes: cannot hook it\n",
                    name
                );
                Err(EINVAL)
            }
            Ok(None) => {
                pr_err!(
                    "{}: ftrace cannot hook it (not an ftrace location: notrace?)\n",
                    name
                );
                Err(EINVAL)
            }
        }
    }
}

impl Drop for Prober {
    fn drop(&mut self) {
        // SAFETY: never registered: frees what the filter calls allocated.
        unsafe { bindings::ftrace_free_filter(self.0.get()) };
    }
}

/// A hooked site: while it exists, ftrace calls [`tocpatch_ftrace_handler`]
/// for the site's function. [`unhook_all`] (or dropping it) takes the
/// location out of the filter and waits until ftrace has finished every
/// callback that may have found the site.
pub(crate) struct Hook {
    site: Option<Arc<Site>>,
}

// SAFETY: a hook is a reference on a site, which is `Send`.
unsafe impl Send for Hook {}

impl Drop for Hook {
    fn drop(&mut self) {
        if self.site.is_some() {
            unhook_hooks(core::slice::from_mut(self));
        }
    }
}

/// The shared ops, while registered.
fn ops_of(h: &Hooks) -> Result<*mut bindings::ftrace_ops> {
    h.ops.as_ref().map(|o| o.get()).ok_or(ENODEV)
}

/// Hooks `sites` (not hooked, their `loc` set) with one ftrace update
/// (on the direct path one per object: `objects[i]` is the module of
/// `sites[i]`, `None` for vmlinux). Either all are hooked or none, with one
/// line naming the function ftrace refused.
pub(crate) fn hook_all(sites: &[Arc<Site>], objects: &[Option<&CStr>]) -> Result<KVec<Hook>> {
    let mut hooks = KVec::with_capacity(sites.len(), GFP_KERNEL)?;
    if sites.is_empty() {
        return Ok(hooks);
    }
    let mut ips = KVec::with_capacity(sites.len(), GFP_KERNEL)?;
    for s in sites {
        if s.loc == NMI_LOC.load(Relaxed) {
            pr_err!(
                "{}: tocpatch hooks it for its own use (NMI IPIs): cannot patch it\n",
                s.name()
            );
            return Err(EBUSY);
        }
        ips.push(s.loc as ffi::c_ulong, GFP_KERNEL)?;
    }
    let mut h = HOOKS.lock();
    let ops = ops_of(&h)?;
    let n = sites.len();
    let used = h.used;
    let grow = {
        let t = h.table.as_ref().ok_or(ENODEV)?;
        !iptable::fits(t.shape.mask + 1, used, n)
    };
    if grow {
        // Copy the live entries into a bigger array, tombstones dropped.
        h.retired.reserve(1, GFP_KERNEL)?;
        let t = {
            let old = h.table.as_ref().ok_or(ENODEV)?;
            let live = || old.used().filter(|&v| v != TOMB);
            let t = Table::new(old.shape.resized(iptable::capacity_for(live().count() + n)))?;
            for v in live() {
                // SAFETY: a table value points to a live site.
                let key = unsafe { read_once(&(*(v as *const Site)).key) };
                let (i, _) = iptable::free_slot(t.shape, key, |i| t.load(i));
                t.store(i, v);
            }
            t
        };
        h.used = t.used().count();
        TOCPATCH_TABLE.store(&*t, Release);
        if let Some(old) = h.table.replace(t) {
            // Room reserved above.
            let _ = h.retired.push_within_capacity(old);
        }
    }
    if direct() {
        // The direct ops first: the keys are in the stubs they patch in.
        // Until the sites are in the table, their calls find none and run
        // the functions as they are (no marker is placed yet).
        let r = direct_hook(&mut h, sites, objects);
        if r != 0 {
            drop(h);
            blame(ops, sites, r);
            return Err(Error::from_errno(r));
        }
        for s in sites {
            let Some(key) = stub_key(s.loc) else {
                pr_err!(
                    "{}: no out-of-line ftrace stub found at its location after hooking it\n",
                    s.name()
                );
                direct_undo(&mut h, sites);
                return Err(EINVAL);
            };
            s.key.store(key, Relaxed);
        }
        if let Err(e) = insert(&mut h, sites) {
            direct_undo(&mut h, sites);
            return Err(e);
        }
    } else {
        insert(&mut h, sites)?;
        // SAFETY: `ops` is registered; `ips` holds `n` addresses.
        let r = unsafe { bindings::ftrace_set_filter_ips(ops, ips.as_mut_ptr(), n as u32, 0, 0) };
        if r != 0 {
            // Nothing changed in ftrace (the update is all or nothing):
            // take the entries out again, and find the function ftrace
            // refuses.
            let t = h.table.as_deref().ok_or(ENODEV)?;
            for s in sites {
                if let Some((i, _)) = t.probe(read_once(&s.key)) {
                    t.store(i, TOMB);
                }
            }
            drop(h);
            blame(ops, sites, r);
            return Err(Error::from_errno(r));
        }
    }
    for s in sites {
        // Room reserved above.
        let _ = hooks.push_within_capacity(Hook {
            site: Some(s.clone()),
        });
    }
    Ok(hooks)
}

/// Takes `sites`, just hooked on the direct path and not in the table,
/// out of their batches again (they were never in the table, so nothing
/// can have found them). If ftrace refuses, the ops stays and tocpatch is
/// pinned.
fn direct_undo(h: &mut Hooks, sites: &[Arc<Site>]) {
    let (r, _) = direct_unhook(h, || sites.iter().map(|s| s.loc as ffi::c_ulong));
    if r != 0 {
        // SAFETY: plain call; our own module is live.
        unsafe { glue::tocpatch_pin_self() };
    }
}

/// Puts `sites` (their keys set) into the table, which has room for them.
fn insert(h: &mut Hooks, sites: &[Arc<Site>]) -> Result {
    let t = h.table.as_deref().ok_or(ENODEV)?;
    let mut fresh = 0;
    for s in sites {
        let (i, was_empty) = iptable::free_slot(t.shape, read_once(&s.key), |i| t.load(i));
        t.store(i, Arc::as_ptr(s) as usize);
        fresh += usize::from(was_empty);
    }
    h.used += fresh;
    Ok(())
}

/// The direct path's table key of the hooked function whose ftrace
/// location is `loc` (`logic/insn.rs` `ool_stub_key`).
fn stub_key(loc: u64) -> Option<u64> {
    ool_stub_key(loc, |a| {
        // SAFETY: `a` is the ftrace location of a function a direct ops
        // hooks, or a word of the out-of-line stub it branches to: kernel
        // or module text, mapped while the function is hooked.
        unsafe { core::ptr::read_volatile(a as *const u32) }
    })
}

/// Hooks `sites` on the direct path (see [`Batch`]): locations dormant in
/// a batch come back to life, the others get one new direct ops per object.
/// All or nothing; returns 0 or the error ftrace (or an allocation) gave.
fn direct_hook(h: &mut Hooks, sites: &[Arc<Site>], objects: &[Option<&CStr>]) -> i32 {
    match direct_hook_inner(h, sites, objects) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn direct_hook_inner(h: &mut Hooks, sites: &[Arc<Site>], objects: &[Option<&CStr>]) -> Result {
    let tramp = crate::trampoline::direct_tramp() as ffi::c_ulong;
    let mut revive = KVec::with_capacity(sites.len(), GFP_KERNEL)?;
    let mut rest: KVec<(&Arc<Site>, Option<&CStr>)> = KVec::with_capacity(sites.len(), GFP_KERNEL)?;
    for (s, &o) in sites.iter().zip(objects) {
        let dormant = h
            .batches
            .iter()
            .enumerate()
            .find_map(|(b, batch)| batch.find(s.loc).map(|i| (b, i)));
        match dormant {
            Some(x) => revive.push(x, GFP_KERNEL)?,
            None => rest.push((s, o), GFP_KERNEL)?,
        }
    }
    // At most one batch per site, reserved before any is registered.
    h.batches.reserve(rest.len(), GFP_KERNEL)?;
    let mut made: KVec<KBox<Batch>> = KVec::new();
    let mut result = Ok(());
    while let Some(first) = rest.first().copied() {
        let mut ips = KVec::new();
        let mut others = KVec::new();
        let step = (|| -> Result {
            for &(s, o) in rest.iter() {
                if o == first.1 {
                    ips.push(s.loc as ffi::c_ulong, GFP_KERNEL)?;
                } else {
                    others.push((s, o), GFP_KERNEL)?;
                }
            }
            ips.sort_unstable();
            let mut locs = KVec::with_capacity(ips.len(), GFP_KERNEL)?;
            for &ip in ips.iter() {
                locs.push((ip as u64, true), GFP_KERNEL)?;
            }
            made.reserve(1, GFP_KERNEL)?;
            let batch = KBox::new(
                Batch {
                    ops: DirectOps::register(&mut ips, tramp)?,
                    locs,
                    live: ips.len(),
                },
                GFP_KERNEL,
            )?;
            // Room reserved above.
            let _ = made.push_within_capacity(batch);
            Ok(())
        })();
        if let Err(e) = step {
            result = Err(e);
            break;
        }
        rest = others;
    }
    if let Err(e) = result {
        // The batches registered by this call go, unregistered by their
        // drop.
        drop(made);
        return Err(e);
    }
    for b in made.into_iter() {
        // Room reserved above.
        let _ = h.batches.push_within_capacity(b);
    }
    for (b, i) in revive.into_iter() {
        let batch = &mut h.batches[b];
        batch.locs[i].1 = true;
        batch.live += 1;
    }
    Ok(())
}

/// After ftrace refused `sites` as a whole with `r`: logs one line naming
/// the first function it refuses, trying them one at a time (hooks that
/// take are unhooked again; their sites are not in the table, and their
/// markers are not placed: the callback finds no site, and runs nothing).
#[cold]
fn blame(ops: *mut bindings::ftrace_ops, sites: &[Arc<Site>], r: i32) {
    let h = HOOKS.lock();
    let mut taken = 0;
    let mut culprit = None;
    for (k, s) in sites.iter().enumerate() {
        // SAFETY: `ops` is registered (we hold HOOKS).
        let e = unsafe { bindings::ftrace_set_filter_ip(ops, s.loc as ffi::c_ulong, 0, 0) };
        if e != 0 {
            culprit = Some((s, e));
            break;
        }
        taken = k + 1;
    }
    for s in sites[..taken].iter() {
        // Added just now; if ftrace cannot take it out, the callback finds
        // no site there and does nothing.
        let _ = filter_remove(ops, &mut [s.loc as ffi::c_ulong]);
    }
    drop(h);
    match culprit {
        Some((s, e)) => {
            let why = if e == EBUSY.to_errno() {
                " (-16: another ftrace user that modifies the IP, such as a kprobe with a post_handler, is on it)"
            } else if e == EINVAL.to_errno() {
                " (not an ftrace location: notrace?)"
            } else {
                ""
            };
            pr_err!("{}: ftrace cannot hook it: {}{}\n", s.name(), e, why);
        }
        None if direct() && r == EBUSY.to_errno() => pr_err!(
            "ftrace refused to hook {} function(s): {} (another ftrace direct-call user, such as a BPF trampoline, is on one of them)\n",
            sites.len(),
            r
        ),
        None => pr_err!(
            "ftrace refused to hook {} function(s): {}\n",
            sites.len(),
            r
        ),
    }
    if taken != 0 {
        // The locations taken were in the filter for a moment.
        // SAFETY: plain kernel calls in process context.
        unsafe {
            bindings::synchronize_rcu_tasks_rude();
            bindings::synchronize_rcu_tasks();
        }
    }
}

/// Takes `locs` out of the filter of `ops` (registered; the caller holds
/// [`HOOKS`]) with one update. A filter update allocates the new filter:
/// while ftrace is out of memory it is tried again, 1 ms apart, with one
/// warning (the unhook paths cannot fail; test-faults.sh injects it). Any
/// other error is returned.
fn filter_remove(ops: *mut bindings::ftrace_ops, locs: &mut [ffi::c_ulong]) -> i32 {
    let mut warned = false;
    loop {
        // SAFETY: `ops` is registered; `locs` holds that many addresses.
        let r = unsafe {
            bindings::ftrace_set_filter_ips(ops, locs.as_mut_ptr(), locs.len() as u32, 1, 0)
        };
        if r != ENOMEM.to_errno() {
            return r;
        }
        if !warned {
            pr_warn!("unhook: ftrace is out of memory; trying again\n");
            warned = true;
        }
        // SAFETY: plain kernel call in process context.
        unsafe { bindings::msleep(1) };
    }
}

/// Locations per filter update when the array for one update cannot be
/// allocated: an unhook cannot fail, so it falls back to a buffer on the
/// stack, at the cost of more updates.
const UNHOOK_CHUNK: usize = 16;

/// Unhooks every hook of `hooks` with one ftrace update (or one per 16
/// when out of memory, see [`unhook_hooks`]), then waits until ftrace has
/// finished every callback that may have found their sites.
pub(crate) fn unhook_all(mut hooks: KVec<Hook>) {
    unhook_hooks(&mut hooks);
}

/// Unhooks the hooks of `hooks` that still have a site (see [`unhook_all`])
/// without failing: the one allocation it tries (the location array, for
/// one ftrace update) has a fallback, and ftrace's own allocations are
/// retried ([`filter_remove`]). Only a refusal of ftrace itself (after
/// `ftrace_kill()`) keeps hooks, and tocpatch with them.
fn unhook_hooks(hooks: &mut [Hook]) {
    let n = hooks.iter().filter(|h| h.site.is_some()).count();
    if n == 0 {
        return;
    }
    let locs = || {
        hooks
            .iter()
            .filter_map(|h| h.site.as_ref())
            .map(|s| s.loc as ffi::c_ulong)
    };
    let mut h = HOOKS.lock();
    // Out of the table first: calls that come from now on run the
    // functions as they are. Their markers are out and a grace period has
    // passed since (`patch/disable.rs`, `site::join_all`'s failure path),
    // so none of them has an odd r2 to repair. Callbacks and trampolines
    // that found a site, or read its key while probing for another, are
    // done after the grace periods below, and only then is it dropped: on
    // the direct path a dormant location still reaches the trampoline,
    // which probes the table, after its ftrace update.
    if let Some(t) = h.table.as_deref() {
        for s in hooks.iter().filter_map(|h| h.site.as_ref()) {
            if let Some((i, _)) = t.probe(read_once(&s.key)) {
                t.store(i, TOMB);
            }
        }
    }
    // Whether the grace periods below are still needed: not when every
    // location went with its direct ops, whose unregistration waited.
    let mut sync = true;
    let r = match ops_of(&h) {
        Err(e) => e.to_errno(),
        Ok(_) if direct() => {
            let (r, waited) = direct_unhook(&mut h, locs);
            sync = !waited;
            r
        }
        Ok(ops) => match KVec::with_capacity(n, GFP_KERNEL | __GFP_NOWARN) {
            Ok(mut ips) => {
                for l in locs() {
                    let _ = ips.push_within_capacity(l);
                }
                filter_remove(ops, &mut ips)
            }
            Err(_) => {
                let mut r = 0;
                let mut buf = [0 as ffi::c_ulong; UNHOOK_CHUNK];
                let mut all = locs().peekable();
                while r == 0 && all.peek().is_some() {
                    let mut k = 0;
                    for (slot, l) in buf.iter_mut().zip(all.by_ref()) {
                        *slot = l;
                        k += 1;
                    }
                    r = filter_remove(ops, &mut buf[..k]);
                }
                r
            }
        },
    };
    if r != 0 {
        // ftrace refuses (-ENODEV after ftrace_kill()) and keeps calling
        // the ops: the sites and the callback's code must stay for good
        // (design.rst, "ftrace_kill()"). Their stacks are empty by now (a
        // hook goes with its last target), and they are out of the table:
        // the functions run as they are.
        for s in hooks.iter_mut().filter_map(|h| h.site.take()) {
            pr_err!(
                "{}: ftrace_set_filter_ips failed: {}: the hook stays, and tocpatch with it\n",
                s.name(),
                r
            );
            core::mem::forget(s);
        }
        // SAFETY: plain call; our own module is live (we are running in it).
        unsafe { glue::tocpatch_pin_self() };
        return;
    }
    let retired = core::mem::take(&mut h.retired);
    drop(h);
    // What ftrace waits for before it frees a dynamic ops: callbacks that
    // found these sites (or read a retired table) have returned after.
    if sync {
        // SAFETY: plain kernel calls in process context.
        unsafe {
            bindings::synchronize_rcu_tasks_rude();
            bindings::synchronize_rcu_tasks();
        }
    }
    drop(retired);
    for h in hooks.iter_mut() {
        drop(h.site.take());
    }
}

/// Unhooks `locs` on the direct path (see [`Batch`]): each becomes dormant
/// in its batch, and a batch left with no live location is unregistered.
/// Returns 0 or the error of an unregistration (its ops is then leaked,
/// and the caller keeps the sites), and whether the grace periods an
/// unhook needs have passed (every location went with an unregistered
/// ops, which waits for them).
fn direct_unhook<I: Iterator<Item = ffi::c_ulong>>(
    h: &mut Hooks,
    locs: impl Fn() -> I,
) -> (i32, bool) {
    for l in locs() {
        let found = h
            .batches
            .iter_mut()
            .find_map(|b| b.find(l as u64).map(|i| (b, i)));
        if let Some((b, i)) = found {
            if b.locs[i].1 {
                b.locs[i].1 = false;
                b.live -= 1;
            }
        }
    }
    let mut r = 0;
    let mut gone = 0;
    let mut k = 0;
    while k < h.batches.len() {
        if h.batches[k].live != 0 {
            k += 1;
            continue;
        }
        let Ok(b) = h.batches.remove(k) else {
            break;
        };
        let n = b.locs.len();
        match KBox::into_inner(b).ops.unregister() {
            Ok(()) => gone += n,
            Err(e) => {
                pr_err!(
                    "unregister_ftrace_direct failed: {}: {} dormant location(s) stay directed to tocpatch\n",
                    e.to_errno(),
                    n
                );
                r = e.to_errno();
            }
        }
    }
    // Waited for all of them if each went with its ops (none is still
    // in a batch).
    let all_gone = locs().all(|l| !h.batches.iter().any(|b| b.find(l as u64).is_some()));
    (r, r == 0 && gone != 0 && all_gone)
}

/// Hooks `__smp_send_nmi_ipi()` at `addr` for `nmi.rs`: its calls go to
/// `tocpatch_nmi_send_hook()` (kernel_glue/nmi.c).
pub(crate) fn hook_nmi(addr: u64) -> Result {
    let size = crate::symbols::symbol_at(addr)
        .filter(|&(start, _, _)| start == addr)
        .map_or(4, |(_, size, _)| size);
    let loc = Prober::new()?.location(addr, size, "__smp_send_nmi_ipi")?;
    let h = HOOKS.lock();
    let ops = ops_of(&h)?;
    NMI_LOC.store(loc, Release);
    // SAFETY: `ops` is registered.
    let r = unsafe { bindings::ftrace_set_filter_ip(ops, loc as ffi::c_ulong, 0, 0) };
    if r != 0 {
        NMI_LOC.store(0, Release);
        pr_err!("nmi: cannot hook __smp_send_nmi_ipi: {}\n", r);
        return Err(Error::from_errno(r));
    }
    Ok(())
}

/// Takes the `__smp_send_nmi_ipi()` hook out (the caller waits for the
/// senders that got a wrapper).
pub(crate) fn unhook_nmi() {
    let loc = NMI_LOC.load(Relaxed);
    if loc == 0 {
        return;
    }
    let h = HOOKS.lock();
    if let Ok(ops) = ops_of(&h) {
        let r = filter_remove(ops, &mut [loc as ffi::c_ulong]);
        if r != 0 {
            // The shared ops' unregistration at unload takes it out.
            pr_err!("nmi: cannot unhook __smp_send_nmi_ipi: {}\n", r);
        }
    }
    // NMI_LOC stays: a callback in flight may still look for it.
}

/// A plain (`READ_ONCE`) load of an atomic: the kernel crate's `load` is a
/// call to a C helper, too much for the hot path.
#[inline(always)]
fn read_once<T: AtomicType + Copy>(a: &Atomic<T>) -> T {
    // SAFETY: `as_ptr` is valid and aligned; a volatile load of an aligned
    // word is what `READ_ONCE` (and a relaxed atomic load) is.
    unsafe { core::ptr::read_volatile(a.as_ptr()) }
}

/// The ftrace callback of every patched function (and of the NMI hook).
///
/// Runs for each call of the function, in whatever context the call
/// happens, with the function's arguments in `fregs` and nothing allocated.
/// Finds the site by `ip` (the function's ftrace location), classifies
/// with the site's delta first (r2 must be repaired whatever happens), then
/// reads the top target of the site's stack and redirects to it; with an
/// empty stack, or a nop on top, the original runs. Its hot path calls
/// only tocpatch's own assembly (classification, per-CPU adds), which
/// ftrace does not trace: it cannot recurse into a patched function. The
/// cold paths that call kernel code (the reports made once per function,
/// the late-call clock of a disable) take ftrace's recursion guard, and do
/// nothing when it is taken.
///
/// The callback may be preempted (ftrace calls it with preemption on where
/// the ftrace mode allows): a site it found stays valid until the grace
/// periods that follow its unhooking (the module comment), and a target it
/// read stays valid because a target taken off a site that stays hooked is
/// dropped only after the same grace periods (the lifetime rule of
/// `site.rs`).
///
/// # Safety
///
/// Only ftrace calls this, for the ops registered by [`init`], with the
/// `ftrace_regs` of its `ftrace_caller` (or `ftrace_regs_caller`) frame as
/// `fregs`; or the direct trampoline, with the frame it builds as
/// `ftrace_caller` does (`arch_powerpc_asm/direct.S`) and a null `op`.
#[no_mangle]
unsafe extern "C" fn tocpatch_ftrace_handler(
    ip: ffi::c_ulong,
    parent_ip: ffi::c_ulong,
    op: *mut bindings::ftrace_ops,
    fregs: *mut bindings::ftrace_regs,
) {
    // SAFETY: never null: EMPTY_TABLE (a static) until `init` publishes
    // the table before the ops is registered, and again only after it was
    // unregistered; a retired table is freed only after the grace periods
    // that follow an unhook.
    let table = unsafe { &*read_once(&TOCPATCH_TABLE) };
    let Some((_, site)) = table.probe(ip as u64) else {
        if ip as u64 == read_once(&NMI_LOC) {
            // SAFETY: the NMI hook's callback, with ftrace's arguments.
            unsafe { glue::tocpatch_nmi_send_hook(ip, parent_ip, op.cast(), fregs.cast()) };
        }
        // The anchor (nothing calls it), or a location that `blame` put in
        // the filter for a moment (no marker there): nothing to do.
        return;
    };
    // On powerpc, ftrace_regs is the pt_regs of the ftrace caller's frame
    // (struct __arch_ftrace_regs); with WITH_ARGS only some of it is filled
    // in: r0 as `link`, r1, r3..r10 and nip, which is all we touch.
    let regs = fregs.cast::<bindings::pt_regs>();
    // SAFETY: `regs` is that frame's pt_regs, as the shim requires. First,
    // before anything can fail: the TOC must be repaired whatever happens.
    let (kind, toc, env) = unsafe { asm_shim::classify_call(regs, site.delta) };
    if kind == CallKind::Global && read_once(&site.markers_out_ns) != 0 {
        // SAFETY: `regs` is valid for the duration of the callback.
        let link = unsafe { (*regs).__bindgen_anon_1.__bindgen_anon_1.link };
        guarded(site.ip, link, || site.note_late_global());
    }
    // A nop target on top (atomic replace, for the step's duration): the
    // original runs.
    // SAFETY: the target is used only within this callback (the lifetime
    // rule above).
    if let Some(t) = unsafe { site.top() }.filter(|t| !t.is_nop()) {
        // SAFETY: `regs` is valid for the duration of the callback.
        unsafe { redirect(t, kind, toc, &env, regs) };
    }
}

/// Runs `f` under ftrace's recursion guard (for the callback's cold paths,
/// which call kernel code); skips it if the guard is taken. `ip` (the
/// patched function) and `parent` (the call's return address) name the call
/// for ftrace's recursion record: the callback's own `ip` and `parent_ip`
/// would have to be kept live across the whole hot path for it.
#[cold]
fn guarded(ip: u64, parent: usize, f: impl FnOnce()) {
    // SAFETY: plain call of ftrace's recursion guard; it disables
    // preemption until the matching unlock.
    let bit =
        unsafe { glue::tocpatch_recursion_trylock(ip as ffi::c_ulong, parent as ffi::c_ulong) };
    if bit >= 0 {
        f();
        // SAFETY: `bit` came from the trylock above.
        unsafe { glue::tocpatch_recursion_unlock(bit) };
    }
}

/// Sends the call that reached `t`'s hook to `t`'s replacement, with a
/// shadow frame if its return must come back through the return trampoline;
/// leaves it alone (B runs) if the shadow stack cannot take the frame.
///
/// # Safety
///
/// `regs` must be the `pt_regs` of the live ftrace frame of this call, and
/// `kind`, `toc`, `env` what the classification shim said of it.
#[inline(always)]
unsafe fn redirect(t: &Target, kind: CallKind, toc: u64, env: &Env, regs: *mut bindings::pt_regs) {
    let c = &t.counters;
    // SAFETY: `regs` is valid for the duration of the callback; the
    // anonymous members are bindgen's view of the user_pt_regs union.
    let r = unsafe { &mut (*regs).__bindgen_anon_1.__bindgen_anon_1 };
    // The caller's TOC save slot, as it is now; only read for calls that
    // get a shadow frame.
    let caller_slot = || {
        let caller_sp = r.gpr[1] as u64;
        // SAFETY: the caller's stack frame header (32 bytes at r1) is always
        // present under the ELFv2 ABI, with its TOC save slot.
        unsafe { core::ptr::read_volatile((caller_sp + TOC_SAVE_SLOT as u64) as *const u64) }
    };
    let frame = match kind {
        CallKind::Global => {
            // SAFETY: `link` is this call's return address: the instruction
            // after the caller's branch-and-link, in kernel or module text
            // that stays mapped while the caller runs (or the address of
            // another tracer's return handler, also text).
            let site = unsafe { core::ptr::read_volatile(r.link as *const u32) };
            if !reloads_toc(site) {
                // The caller carries on with the r2 it gets back (an
                // assembly caller, design.rst "When a global call may skip
                // its frame"): give it back B's TOC, as B itself would.
                Some(Frame {
                    ret: r.link as u64,
                    toc,
                    slot: caller_slot(),
                    owner: c.owner(),
                })
            } else if t.tail_out {
                // The caller reloads r2 from its slot, which C's tail call
                // out overwrites: the trampoline puts the slot back.
                let slot = caller_slot();
                Some(Frame {
                    ret: r.link as u64,
                    toc: slot,
                    slot,
                    owner: c.owner(),
                })
            } else {
                // The caller reloads its own r2: straight to C and back.
                None
            }
        }
        CallKind::Local => Some(Frame {
            ret: r.link as u64,
            toc,
            slot: caller_slot(),
            owner: c.owner(),
        }),
    };
    match frame {
        None => c.call(kind),
        Some(frame) => match shadow::push(frame, env) {
            Ok(depth) => {
                c.pushed(kind, depth);
                r.link = trampoline::return_tramp() as usize;
            }
            Err(_) => {
                // Not redirected: B itself runs, with the TOC it had.
                c.fell_back(kind);
                guarded(t.global_entry, r.link, || t.report_fallback());
                return;
            }
        },
    }
    // SAFETY: `env` is this live ftrace frame's (our contract).
    unsafe { env.set_exit_r2(t.new_func) };
    r.nip = trampoline::entry_tramp() as usize;
}
