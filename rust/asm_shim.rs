// SPDX-License-Identifier: GPL-2.0

//! Rust side of the assembly shims in `arch_powerpc_asm/`.
//!
//! The shims are leaf routines of `tocpatch.ko` itself; this file declares
//! them, wraps them in safe functions where their contract allows, and
//! checks at load time that the assembly and Rust agree on the layouts they
//! share.

use kernel::{bindings, prelude::*};

use crate::logic::insn::{classify, CallKind, LD_TOC};

extern "C" {
    fn tocpatch_classify_call(regs: *mut bindings::pt_regs, delta: i64) -> u64;
    fn tocpatch_set_exit_r2(regs: *mut bindings::pt_regs, value: u64);
    fn tocpatch_current_toc() -> u64;
    fn tocpatch_regs_toc(regs: *const bindings::pt_regs) -> u64;
    fn tocpatch_kernel_ld_toc() -> u32;
}

/// Classifies the call that reached the ftrace hook owning `regs` and
/// repairs a marked (odd) TOC; returns the kind and the real TOC.
///
/// # Safety
///
/// `regs` must be the `pt_regs` of a live `ftrace_caller` or
/// `ftrace_regs_caller` frame (what an ftrace callback receives as its
/// `ftrace_regs` on powerpc), and `delta` the marker delta of the function
/// being called (0 without a marker).
#[inline]
pub(crate) unsafe fn classify_call(regs: *mut bindings::pt_regs, delta: i64) -> (CallKind, u64) {
    // SAFETY: per this function's contract.
    let v = unsafe { tocpatch_classify_call(regs, delta) };
    (classify(v), v & !1)
}

/// Makes the ftrace caller owning `regs` leave with r2 = `value`.
///
/// # Safety
///
/// `regs` as for [`classify_call`]; the frame's r2 is then `value` instead
/// of the function's TOC, which only the entry trampoline may receive.
#[inline]
pub(crate) unsafe fn set_exit_r2(regs: *mut bindings::pt_regs, value: u64) {
    // SAFETY: per this function's contract.
    unsafe { tocpatch_set_exit_r2(regs, value) }
}

/// The TOC pointer (r2) of this module, as the assembly sees it.
pub(crate) fn current_toc() -> u64 {
    // SAFETY: `tocpatch_current_toc` only copies r2 into r3; it reads and
    // writes no memory and clobbers nothing the ABI says is preserved.
    unsafe { tocpatch_current_toc() }
}

/// The r2 saved in `regs`, read by the assembly through asm-offsets.
pub(crate) fn regs_toc(regs: &bindings::pt_regs) -> u64 {
    // SAFETY: `regs` is a valid reference for the whole call and the shim
    // only loads `regs->gpr[2]` from it.
    unsafe { tocpatch_regs_toc(regs) }
}

/// Checks the shims against facts known on the Rust side: our TOC is a real
/// one (even, non-zero) and the kernel's asm-offsets agree with bindgen's
/// `pt_regs` layout, and the kernel encodes the TOC reload after a call as
/// [`LD_TOC`] does. A failure means the module was built wrongly.
pub(crate) fn self_test() -> Result {
    let toc = current_toc();
    if toc == 0 || classify(toc) != CallKind::Local {
        pr_err!("self-test: module TOC {:#x} is not a real TOC\n", toc);
        return Err(EINVAL);
    }
    // SAFETY: `pt_regs` is plain old data; all-zero is a valid value.
    let mut regs: bindings::pt_regs = unsafe { core::mem::zeroed() };
    let probe = (toc ^ 0x5a5a_0000) as usize;
    // SAFETY: writing the `gpr` array of the anonymous user_pt_regs view of
    // a local, zeroed `pt_regs`; every bit pattern is valid for it.
    unsafe { regs.__bindgen_anon_1.__bindgen_anon_1.gpr[2] = probe };
    let seen = regs_toc(&regs);
    if seen != probe as u64 {
        pr_err!(
            "self-test: asm-offsets GPR2 disagrees with bindgen pt_regs ({:#x} != {:#x})\n",
            seen,
            probe
        );
        return Err(EINVAL);
    }
    // SAFETY: `tocpatch_kernel_ld_toc` only loads a constant into r3.
    let kernel_ld_toc = unsafe { tocpatch_kernel_ld_toc() };
    if kernel_ld_toc != LD_TOC {
        pr_err!(
            "self-test: the kernel's TOC reload {:#010x} is not ours {:#010x}\n",
            kernel_ld_toc,
            LD_TOC
        );
        return Err(EINVAL);
    }
    Ok(())
}
