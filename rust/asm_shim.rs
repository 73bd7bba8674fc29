// SPDX-License-Identifier: GPL-2.0

//! Rust side of the assembly shims in `arch_powerpc_asm/`.
//!
//! The shims are leaf routines of `tocpatch.ko` itself; this file declares
//! them, wraps them in safe functions where their contract allows, and
//! checks at load time that the assembly and Rust agree on the layouts they
//! share.

use kernel::{bindings, prelude::*};

use crate::counters::Counters;
use crate::logic::insn::{classify, CallKind, LD_TOC};
use crate::logic::shadow::{Frame, Region, FIRST_FRAME_WORD, FRAME_WORDS};
use crate::shadow;

extern "C" {
    fn tocpatch_classify_call(regs: *mut bindings::pt_regs, delta: i64, env: *mut Env) -> u64;
    fn tocpatch_current_toc() -> u64;
    fn tocpatch_regs_toc(regs: *const bindings::pt_regs) -> u64;
    fn tocpatch_kernel_ld_toc() -> u32;
    fn tocpatch_pop_selftest(base: *mut u64, sp: *mut u64) -> Popped;
    fn tocpatch_push_selftest(
        base: *mut u64,
        sp: *mut u64,
        ret: u64,
        toc: u64,
        owner: usize,
    ) -> i64;
}

/// What `tocpatch_pop_selftest` returns (r3, r4).
#[repr(C)]
struct Popped {
    ret: u64,
    toc: u64,
}

/// What only registers tell the callback, read by the classification shim
/// (r13's paca, r1), so that the hot path needs no other call for them.
#[repr(C)]
pub(crate) struct Env {
    /// The current task's kernel stack base (`current->stack`).
    pub(crate) stack: usize,
    /// The callback's stack pointer.
    pub(crate) sp: usize,
    /// The ftrace frame's TOC slot (`STK_GOT`), which its exit path loads
    /// r2 from: see [`Env::set_exit_r2`].
    got: *mut u64,
}

impl Env {
    /// Makes the ftrace caller leave with r2 = `value`.
    ///
    /// # Safety
    ///
    /// Only while the ftrace frame `self` was read from is live (in the
    /// callback); r2 is then `value` instead of the function's TOC, which
    /// only the entry trampoline may receive.
    #[inline(always)]
    pub(crate) unsafe fn set_exit_r2(&self, value: u64) {
        // SAFETY: `got` is the live ftrace frame's TOC slot (our contract).
        unsafe { core::ptr::write_volatile(self.got, value) }
    }
}

/// Classifies the call that reached the ftrace hook owning `regs` and
/// repairs a marked (odd) TOC; returns the kind, the real TOC and the
/// [`Env`].
///
/// # Safety
///
/// `regs` must be the `pt_regs` of a live `ftrace_caller` or
/// `ftrace_regs_caller` frame (what an ftrace callback receives as its
/// `ftrace_regs` on powerpc), and `delta` the marker delta of the function
/// being called (0 without a marker).
#[inline(always)]
pub(crate) unsafe fn classify_call(
    regs: *mut bindings::pt_regs,
    delta: i64,
) -> (CallKind, u64, Env) {
    let mut env = core::mem::MaybeUninit::<Env>::uninit();
    // SAFETY: per this function's contract; `env` is ours to write.
    let v = unsafe { tocpatch_classify_call(regs, delta, env.as_mut_ptr()) };
    // SAFETY: the shim wrote every word of `env`.
    (classify(v), v & !1, unsafe { env.assume_init() })
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
    pop_self_test()?;
    push_self_test()
}

/// Checks that the direct trampoline's push (`TP_PUSH`, in assembly) and
/// the Rust pop (`logic/shadow.rs`) agree: frames pushed by the assembly
/// onto a stack-sized region pop in Rust in the right order with the right
/// words and slot; a push that would come within `MARGIN` bytes of the
/// stack pointer, and one whose stack pointer is not on the stack, are
/// refused and change nothing.
fn push_self_test() -> Result {
    let words = shadow::STACK_SIZE / 8;
    let mut stack = KVec::<u64>::with_capacity(words, GFP_KERNEL)?;
    stack.resize(words, 0, GFP_KERNEL)?;
    let base = stack.as_mut_ptr();
    // SAFETY: `stack` is ours, 8-byte aligned, STACK_SIZE bytes long, and
    // only used here.
    let region = unsafe { Region::new(base, shadow::STACK_SIZE) };
    let slot_word = crate::target::TOC_SAVE_SLOT / 8;
    // A fake stack frame 4 KiB above the margin, its TOC save slot set.
    let sp_word = shadow::MARGIN / 8 + 512;
    let sp = base.wrapping_add(sp_word);
    let frame = |i: u64| Frame {
        ret: 0xc000_0000_0000_2000 + i,
        toc: 0xc000_0000_0020_0000 + 2 * i,
        slot: 0x5107_1000 + i,
        owner: 0xc000_0000_0300_0000 + 8 * i as usize,
    };
    let push = |sp: *mut u64, f: Frame| {
        // SAFETY: `base` is a region as the assembly expects; `sp` is in
        // `stack` (or is only compared, for the refused case).
        unsafe { tocpatch_push_selftest(base, sp, f.ret, f.toc, f.owner) }
    };
    let mut good = true;
    let set_slot = |sp: *mut u64, v: u64| {
        // SAFETY: the TOC save slot of a fake frame inside `stack`, which
        // `base` covers; a volatile store as the assembly reads it.
        unsafe { core::ptr::write_volatile(sp.wrapping_add(slot_word), v) }
    };
    for i in [1u64, 2] {
        set_slot(sp, frame(i).slot);
        good &= push(sp, frame(i)) == i as i64;
    }
    for i in [2u64, 1] {
        good &= region.pop_with(|f| *f == frame(i)) == Ok(true);
    }
    good &= region.depth() == 0;
    // Too close to the stack pointer: the first frame's end would be 8
    // bytes past the margin.
    let near = base.wrapping_add((shadow::MARGIN + FIRST_FRAME_WORD * 8 + FRAME_WORDS * 8 - 8) / 8);
    good &= push(near, frame(3)) == 0 && region.depth() == 0;
    // Exactly at the margin: taken.
    let edge = near.wrapping_add(1);
    set_slot(edge, frame(5).slot);
    good &= push(edge, frame(5)) == 1;
    good &= region.pop_with(|f| *f == frame(5)) == Ok(true);
    // A stack pointer that is not on this stack.
    good &= push(base.wrapping_add(words), frame(4)) == 0 && region.depth() == 0;
    if !good {
        pr_err!("self-test: the assembly shadow-frame push disagrees with logic/shadow.rs\n");
        return Err(EINVAL);
    }
    Ok(())
}

/// Checks that the return trampoline's pop (`TP_POP`, in assembly) and the
/// Rust push (`logic/shadow.rs`) agree on the shadow-frame layout: frames
/// pushed by Rust into a small region pop in assembly in the right order,
/// with the right words, slot, header and owner depth; a frame with a bad
/// check word, and an empty region, are refused.
fn pop_self_test() -> Result {
    const WORDS: usize = FIRST_FRAME_WORD + 3 * FRAME_WORDS;
    let mut stack = [0u64; WORDS];
    let mut caller = [0u64; 8];
    let counters = Counters::new()?;
    let owner = counters.owner();
    let base = stack.as_mut_ptr();
    // SAFETY: `stack` is ours, 8-byte aligned, WORDS words long, and only
    // used here.
    let region = unsafe { Region::new(base, WORDS * 8) };
    let frame = |i: u64| Frame {
        ret: 0xc000_0000_0000_1000 + i,
        toc: 0xc000_0000_0010_0000 + 2 * i,
        slot: 0x5107_0000 + i,
        owner,
    };
    let limit = WORDS * 8;
    let ok = region.push(frame(1), limit).is_ok() && region.push(frame(2), limit).is_ok();
    let sp = caller.as_mut_ptr();
    let slot = crate::target::TOC_SAVE_SLOT / 8;
    let mut good = ok;
    for i in [2u64, 1] {
        // SAFETY: `base` is a region as the assembly expects (Rust-built),
        // `sp` a fake caller frame whose TOC slot is inside `caller`.
        let p = unsafe { tocpatch_pop_selftest(base, sp) };
        // SAFETY: `slot` is inside `caller`, which only `sp` is used for.
        let got = unsafe { core::ptr::read_volatile(sp.add(slot)) };
        good &= p.ret == frame(i).ret && p.toc == frame(i).toc && got == frame(i).slot;
        good &= region.depth() == i as usize - 1;
    }
    // Each push counted nothing (only the callback counts); each pop took
    // one off this CPU's depth.
    good &= counters.sums().depth == -2;
    // An empty region, then a frame whose check word is off by one bit.
    // SAFETY: as above.
    good &= unsafe { tocpatch_pop_selftest(base, sp) }.ret == 0;
    good &= region.push(frame(3), limit).is_ok();
    let check = base.wrapping_add(FIRST_FRAME_WORD + FRAME_WORDS - 1);
    // SAFETY: the check word of frame 0, inside `stack`, which only `base`
    // is used for.
    unsafe { core::ptr::write_volatile(check, core::ptr::read_volatile(check) ^ 1) };
    // SAFETY: as above.
    good &= unsafe { tocpatch_pop_selftest(base, sp) }.ret == 0;
    good &= region.depth() == 1;
    if !good {
        pr_err!("self-test: the assembly shadow-frame pop disagrees with logic/shadow.rs\n");
        return Err(EINVAL);
    }
    Ok(())
}
