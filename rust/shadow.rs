// SPDX-License-Identifier: GPL-2.0

//! Where the per-task shadow frames live: at the base of each task's own
//! kernel stack (`task->stack`), as upstream powerpc livepatch keeps its
//! livepatch stack (`thread_info->livepatch_sp`). The layout, and the
//! push/pop order that makes interrupt nesting safe without masking, are in
//! `logic/shadow.rs`; this file finds the region from `current` and the
//! bound from the stack pointer.
//!
//! Nothing is allocated, per task or globally: a frame costs
//! [`FRAME_BYTES`] bytes of the task's own stack while it exists, plus one
//! header word. Nothing has to happen at task exit either: a task that
//! exits inside a replacement leaves frames that are never popped, in a
//! stack that is freed with the task (the release check in `patch.rs`
//! looks only at live tasks).
//!
//! Bound: frames never come closer than [`MARGIN`] bytes to the lowest
//! stack address the task uses. When the stack pointer is on the task's
//! stack, that is the stack pointer. On another stack (hardirq, softirq,
//! emergency stacks, whose `current` is the interrupted task) the back
//! chain leads to the interrupted frame on the task's stack; if it cannot
//! be followed there in [`HOPS`] links, frames stay below [`CAP`]. A push
//! beyond the bound fails and the caller runs the original function
//! (counted, logged once per function): that happens only when the task
//! is within about [`MARGIN`] bytes of running out of stack. See
//! Documentation/design.rst, "Per-task storage and its bounds".

use kernel::{bindings, task::Task};

use crate::asm_shim::Env;
pub(crate) use crate::logic::shadow::FRAME_BYTES;
use crate::logic::shadow::{find_in_stack, limit, Frame, PopError, Region};

/// Size of every task's kernel stack.
pub(crate) const STACK_SIZE: usize = bindings::THREAD_SIZE as usize;
/// Bytes kept free between the frames and the live stack at a push: room
/// for what runs below the stack pointer when the next push is refused
/// (the slow path's register frame, the callback, the fallback count and
/// its deferred report: about 1 KiB on the test bed's lockdep kernels,
/// measured by test-shadow.sh (3)) and for an interrupt taken meanwhile
/// on the task's stack. A task gets that close to its frames only when
/// less than this plus 40 bytes a frame is free: for up to about 100
/// frames, inside the quarter of the stack that the kernel's
/// `DEBUG_STACKOVERFLOW` check (where enabled) reports as an overflow.
pub(crate) const MARGIN: usize = 4096;
// The assembly push has the same number (shadow_frames.h SH_MARGIN).
const _: () = assert!(MARGIN == 4096);
/// Where frames stop when the live stack cannot be found (off the task's
/// stack, with a back chain that does not lead to it).
pub(crate) const CAP: usize = STACK_SIZE / 4;
/// Back-chain links followed from another stack to the task's.
const HOPS: usize = 256;

/// Why a push failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The frame would come closer than [`MARGIN`] to the task's live
    /// stack (or beyond [`CAP`]): the task is close to its stack's end.
    NoRoom,
    /// The task has no stack (cannot happen for a running task).
    NoStack,
}

/// The current task's region, and the stack base.
fn current_region() -> Option<(Region, usize)> {
    let task = Task::current_raw();
    // SAFETY: `current` is a live task; its `stack` field is only changed
    // when the task is dead or being created.
    let base = unsafe { (*task).stack } as usize;
    if base == 0 {
        return None;
    }
    // SAFETY: a running task's stack is allocated and STACK_SIZE long;
    // only the task and interrupts nesting on it use the region (the
    // release scan reads it when the task cannot run).
    Some((unsafe { Region::new(base as *mut u64, STACK_SIZE) }, base))
}

/// Whether `a` is a kernel address (linear map, vmalloc, I/O: top nibble
/// 0xc on 64-bit Book3S).
fn kernel_addr(a: usize) -> bool {
    a >> 60 == 0xc
}

/// Offset from `base` of the lowest address in use on the current task's
/// stack, if it can be found, from the stack pointer `sp`: `sp` itself
/// when it is on that stack (the common case, no memory read), or the
/// first frame on it down the back chain.
#[inline(always)]
fn live_offset(sp: usize, base: usize) -> Option<usize> {
    find_in_stack(sp, base, STACK_SIZE, HOPS, kernel_addr, |a| {
        // SAFETY: `a` is a 16-byte aligned kernel address reached through
        // the back chain from our own stack pointer: the back-chain word of
        // a stack frame, which the ELFv2 ABI (and the kernel's stack
        // switches, `call_do_irq`, `call_do_softirq`, the exception entry)
        // keep valid.
        unsafe { core::ptr::read_volatile(a as *const usize) }
    })
}

/// Pushes a frame on the current task's shadow frames; returns the depth.
/// `env` is what the classification shim read in this callback: the
/// current task's stack base and the callback's stack pointer.
#[inline(always)]
pub(crate) fn push(frame: Frame, env: &Env) -> core::result::Result<usize, PushError> {
    let base = env.stack;
    if base == 0 {
        return Err(PushError::NoStack);
    }
    // SAFETY: as in `current_region`: the shim read `current->stack`.
    let region = unsafe { Region::new(base as *mut u64, STACK_SIZE) };
    let lim = limit(STACK_SIZE, live_offset(env.sp, base), MARGIN, CAP);
    region.push(frame, lim).map_err(|_| PushError::NoRoom)
}

/// Pops the current task's top frame: gives it to `f` while it is still
/// reserved (so that the release check sees it until `f` is done with its
/// owner), then releases it.
pub(crate) fn pop_with<R>(f: impl FnOnce(&Frame) -> R) -> core::result::Result<R, PopError> {
    let (region, _) = current_region().ok_or(PopError::Empty)?;
    region.pop_with(f)
}

/// Does the stack at `stack` hold a shadow frame owned by one of the `n`
/// owners at `owners`? For the release scan (`kernel_glue/tasks.c`).
///
/// # Safety
///
/// `stack` must be the base of a live task's kernel stack that cannot run
/// meanwhile (the scan runs under `stop_machine()`), `owners` an array of
/// `n` words.
#[no_mangle]
pub(crate) unsafe extern "C" fn tocpatch_shadow_holds(
    stack: *mut kernel::ffi::c_void,
    owners: *const kernel::ffi::c_ulong,
    n: usize,
) -> bool {
    if stack.is_null() {
        return false;
    }
    // SAFETY: per this function's contract.
    let owners = unsafe { core::slice::from_raw_parts(owners, n) };
    // SAFETY: per this function's contract: the stack is allocated and
    // nothing else uses its region now.
    let region = unsafe { Region::new(stack.cast(), STACK_SIZE) };
    region.holds(|o| owners.contains(&o))
}
