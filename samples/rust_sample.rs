// SPDX-License-Identifier: GPL-2.0

//! tocpatch sample in Rust: a patch module for `tocpatch_test_target.ko`.
//!
//! ```text
//! insmod tocpatch.ko; insmod tocpatch_test_target.ko
//! insmod tocpatch_sample_rust.ko
//! echo 0 > /sys/kernel/tocpatch/tocpatch_sample_rust/enabled
//! rmmod tocpatch_sample_rust
//! ```
//!
//! It replaces
//! * `tp_target_rust(x)` (returns `x * 5`) by an ordinary Rust function
//!   returning `x * 5 + 2000`;
//! * `tp_target_tail_rust(x)` (returns `x * 3`) by a Rust naked function
//!   that tail-calls `tp_target_plain(x, 2000)` in the target module: the
//!   case where the call stub overwrites the caller's TOC save slot, which
//!   tocpatch detects when the patch is enabled. (rustc itself emits
//!   `bl` + `nop` for a call to an external function in tail position, so
//!   the tail call is written out.)

use kernel::{ffi::c_int, prelude::*};

#[path = "../include/tocpatch.rs"]
mod tocpatch;

module! {
    type: RustSample,
    name: "tocpatch_sample_rust",
    authors: ["The tocpatch developers"],
    description: "tocpatch sample: a Rust patch module",
    license: "GPL",
}

extern "C" {
    fn tp_target_plain(a: c_int, b: c_int) -> c_int;
}

/// Replacement of `tp_target_rust`.
extern "C" fn rust_target_rust(x: c_int) -> c_int {
    x * 5 + 2000
}

/// Replacement of `tp_target_tail_rust`: `tp_target_plain(x, 2000)` as a
/// tail call. Entered at its global entry with r12 = its address, as
/// tocpatch enters every replacement.
#[unsafe(naked)]
extern "C" fn rust_tail_rust(_x: c_int) -> c_int {
    core::arch::naked_asm!(
        "0: addis 2, 12, (.TOC. - 0b)@ha",
        "addi 2, 2, (.TOC. - 0b)@l",
        "li 4, 2000",
        "b {plain}",
        plain = sym tp_target_plain,
    )
}

static FUNCS: [tocpatch::Func; 3] = [
    tocpatch::Func::new(c"tp_target_rust", rust_target_rust as *const _),
    tocpatch::Func::new(c"tp_target_tail_rust", rust_tail_rust as *const _),
    tocpatch::Func::END,
];

/// The object's callbacks: each logs its name and the object's.
struct Callbacks;

fn log_callback(what: &str, obj: &tocpatch::Object) {
    let name = obj
        .name()
        .and_then(|n| n.to_str().ok())
        .unwrap_or("vmlinux");
    pr_info!("{}: {}\n", what, name);
}

impl tocpatch::ObjectCallbacks for Callbacks {
    fn pre_patch(obj: &tocpatch::Object) -> Result {
        log_callback("pre_patch", obj);
        Ok(())
    }
    fn post_patch(obj: &tocpatch::Object) {
        log_callback("post_patch", obj);
        // SAFETY: a callback of an enable; the reference is not kept.
        let prev = unsafe { tocpatch::prev_state(STATES[0].id()) };
        pr_info!(
            "state {}: version {}, previous {}\n",
            STATES[0].id(),
            STATES[0].version(),
            prev.map_or(0, |x| x.version())
        );
    }
    fn pre_unpatch(obj: &tocpatch::Object) {
        log_callback("pre_unpatch", obj);
    }
    fn post_unpatch(obj: &tocpatch::Object) {
        log_callback("post_unpatch", obj);
    }
}

static OBJS: [tocpatch::Object; 2] = [
    tocpatch::Object::module(c"tocpatch_test_target", &FUNCS).with_callbacks::<Callbacks>(),
    tocpatch::Object::END,
];

/// A patch state (struct tocpatch_state), for the binding's sake: id 7,
/// version 1.
static STATES: [tocpatch::State; 2] = [tocpatch::State::new(7, 1), tocpatch::State::END];

struct RustSample {
    _patch: tocpatch::Patch,
}

impl kernel::Module for RustSample {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let patch = tocpatch::Patch::enable_full(module, &OBJS, false, &STATES)?;
        pr_info!("enabled\n");
        Ok(RustSample { _patch: patch })
    }
}
