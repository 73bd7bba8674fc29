// SPDX-License-Identifier: GPL-2.0

//! tocpatch: live patching for ppc64le (ELFv2) kernels.
//!
//! Redirects calls of kernel and module functions to replacements in patch
//! modules, through ftrace, keeping the TOC pointer (r2) right for every way
//! a function can be entered. See `Documentation/index.rst`.
//!
//! Load it with `insmod tocpatch.ko`; patch modules then register their
//! patches through the API in `include/tocpatch.h`.

use kernel::prelude::*;

mod asm_shim;
mod logic;

module! {
    type: Tocpatch,
    name: "tocpatch",
    authors: ["The tocpatch developers"],
    description: "Live patching engine for ppc64le with TOC-aware call classification",
    license: "GPL",
}

/// The loaded engine.
struct Tocpatch;

impl kernel::Module for Tocpatch {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        asm_shim::self_test()?;
        pr_info!(
            "loaded: asm self-test passed, module TOC {:#x}\n",
            asm_shim::current_toc()
        );
        Ok(Tocpatch)
    }
}

impl Drop for Tocpatch {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
