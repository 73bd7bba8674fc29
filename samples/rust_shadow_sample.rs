// SPDX-License-Identifier: GPL-2.0

//! tocpatch sample in Rust: shadow variables through the safe binding
//! ([`tocpatch::ShadowVar`]), on `tocpatch_sample_shadow_mod.ko` (what
//! `tocpatch_sample_shadow_fix2.ko` does in C).
//!
//! ```text
//! insmod tocpatch.ko; insmod tocpatch_sample_shadow_mod.ko
//! insmod tocpatch_sample_rust_shadow.ko
//! rmmod tocpatch_sample_shadow_mod
//! echo 0 > /sys/kernel/tocpatch/tocpatch_sample_rust_shadow/enabled
//! rmmod tocpatch_sample_rust_shadow
//! ```
//!
//! * `dummy_check(d, now)` is replaced by a Rust function that counts the
//!   checks of each dummy in a `ShadowVar<Dummy, AtomicU32>` attached on
//!   first use (`get_or_alloc`, `GFP_NOWAIT`);
//! * `dummy_free(d)` is replaced by one that logs the count, frees the
//!   variable and the dummy.

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::{
    ffi::{c_ulong, c_void},
    prelude::*,
    sync::rcu,
};

#[path = "../include/tocpatch.rs"]
mod tocpatch;

module! {
    type: RustShadowSample,
    name: "tocpatch_sample_rust_shadow",
    authors: ["The tocpatch developers"],
    description: "tocpatch sample: shadow variables from a Rust patch module",
    license: "GPL",
}

/// `struct dummy` of the target module.
#[repr(C)]
struct Dummy {
    list: [*mut c_void; 2],
    jiffies_expire: c_ulong,
}

/// The check counter of each dummy (id 2, as fix2's `SV_COUNTER`).
// SAFETY: only this module uses id 2 while it is loaded, always with an
// `AtomicU32` (fix2 uses an `int`, the same size; load one or the other).
static COUNTER: tocpatch::ShadowVar<Dummy, AtomicU32> = unsafe { tocpatch::ShadowVar::new(2) };

/// Replacement of `dummy_check`.
extern "C" fn rust_dummy_check(d: *mut Dummy, now: c_ulong) -> bool {
    let rcu = rcu::read_lock();
    if let Ok(count) = COUNTER.get_or_alloc(d, AtomicU32::new(0), tocpatch::Gfp::NOWAIT, &rcu) {
        count.fetch_add(1, Ordering::Relaxed);
    }
    drop(rcu);
    // SAFETY: the target module passes one of its live dummies.
    let expire = unsafe { (*d).jiffies_expire };
    // time_after(now, expire)
    (expire.wrapping_sub(now) as i64) < 0
}

/// Replacement of `dummy_free`.
extern "C" fn rust_dummy_free(d: *mut Dummy) {
    let rcu = rcu::read_lock();
    if let Some(count) = COUNTER.get(d, &rcu) {
        pr_info!(
            "rust_dummy_free: check counter = {}\n",
            count.load(Ordering::Relaxed)
        );
    }
    drop(rcu);
    COUNTER.free(d);
    // SAFETY: the dummy was kzalloc'ed by the target module, which hands it
    // over to be freed here.
    unsafe { kernel::bindings::kfree(d.cast()) };
}

static FUNCS: [tocpatch::Func; 3] = [
    tocpatch::Func::new(c"dummy_check", rust_dummy_check as *const _),
    tocpatch::Func::new(c"dummy_free", rust_dummy_free as *const _),
    tocpatch::Func::END,
];

static OBJS: [tocpatch::Object; 2] = [
    tocpatch::Object::module(c"tocpatch_sample_shadow_mod", &FUNCS),
    tocpatch::Object::END,
];

struct RustShadowSample {
    _patch: tocpatch::Patch,
}

impl kernel::Module for RustShadowSample {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let patch = tocpatch::Patch::enable(module, &OBJS)?;
        pr_info!("enabled\n");
        Ok(RustShadowSample { _patch: patch })
    }
}

impl Drop for RustShadowSample {
    fn drop(&mut self) {
        // The counters of dummies still alive.
        COUNTER.free_all();
    }
}
