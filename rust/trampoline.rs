// SPDX-License-Identifier: GPL-2.0

//! Rust side of the entry and return trampolines
//! (`arch_powerpc_asm/trampolines.S`): their addresses, and the shadow-frame
//! pop the return trampoline calls.

use crate::counters::Counters;
use crate::shadow;
use crate::target::TOC_SAVE_SLOT;

extern "C" {
    fn tocpatch_entry_tramp();
    fn tocpatch_return_tramp();
    fn tocpatch_direct_tramp();
    fn tocpatch_direct_hop();
}

/// Address of the direct trampoline (`arch_powerpc_asm/direct.S`), the
/// target of the direct path's ftrace direct calls.
pub(crate) fn direct_tramp() -> u64 {
    tocpatch_direct_tramp as *const () as u64
}

/// Address of the direct trampoline's hop into a replacement
/// (`arch_powerpc_asm/direct.S`), which its fast path reaches with `blr`.
pub(crate) fn direct_hop() -> u64 {
    tocpatch_direct_hop as *const () as u64
}

/// Address of the entry trampoline.
pub(crate) fn entry_tramp() -> u64 {
    tocpatch_entry_tramp as *const () as u64
}

/// The return address given to replacements: the return trampoline past
/// its leading `nop`, so that stack traces name it (they look up the
/// return address minus one).
pub(crate) fn return_tramp() -> u64 {
    tocpatch_return_tramp as *const () as u64 + 4
}

/// What the return trampoline puts back: returned in r3 and r4 (ELFv2
/// returns aggregates of up to 16 bytes in registers).
#[repr(C)]
pub(crate) struct Restore {
    ret: u64,
    toc: u64,
}

/// Pops the current task's top shadow frame for the return trampoline and
/// restores the caller's TOC save slot: the reference of the trampoline's
/// own pop (`TP_POP`), which calls this only when it finds the region
/// wrong, so that the panic names what is wrong.
///
/// # Safety
///
/// Only the return trampoline calls this, with `caller_sp` the stack
/// pointer of the caller whose local call pushed the top frame.
#[no_mangle]
pub(crate) unsafe extern "C" fn tocpatch_shadow_pop(caller_sp: *mut u64) -> Restore {
    let popped = shadow::pop_with(|f| {
        // SAFETY: `caller_sp` is the caller's r1 (trampoline contract);
        // its TOC save slot held `f.slot` at the call.
        unsafe { core::ptr::write_volatile(caller_sp.byte_add(TOC_SAVE_SLOT), f.slot) };
        // SAFETY: a frame's owner is the counters of a target that stays
        // allocated while a live task holds a frame of it (patch.rs checks
        // that before it frees one), and the frame is released only after
        // this returns.
        unsafe { Counters::popped(f.owner) };
        Restore {
            ret: f.ret,
            toc: f.toc,
        }
    });
    match popped {
        Ok(r) => r,
        // There is no address we could safely return to.
        Err(e) => panic!(
            "tocpatch: shadow frames broken on return to the trampoline: {:?} (task {:?}, sp {:#x})",
            e,
            kernel::current!().pid(),
            caller_sp as usize
        ),
    }
}
