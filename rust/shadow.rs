// SPDX-License-Identifier: GPL-2.0

//! Where the per-task shadow stacks live.
//!
//! A fixed pool of [`SLOTS`] shadow stacks of [`DEPTH`] frames each,
//! allocated once when tocpatch loads (about 0.7 MiB, vmalloc), so that
//! the ftrace callback never allocates: it runs in any context, hardirq
//! included. A task owns a slot while it has at least one frame: it claims
//! a free slot (compare-and-exchange of the owner from NULL to itself) at
//! its first push and gives it back when its stack becomes empty. Lookups
//! only search a window of [`WINDOW`] slots starting at a hash of the task
//! pointer, so a push or pop costs a handful of loads.
//!
//! Nothing has to happen at task exit: a task's stack is empty whenever it
//! is outside every replacement, and a task cannot exit from inside one
//! and then return into it. (A task killed inside a replacement, say by an
//! oops, leaves its slot owned; the frames stay counted in the target's
//! `depth`, which keeps that patch module pinned. That is the safe side.)
//!
//! Push and pop run with local interrupts disabled (a soft mask on ppc64,
//! cheap): the slot's owner is `current`, which interrupt handlers share
//! with the task they interrupt, and the claim/release steps must not
//! interleave with theirs. The stack itself is also safe under strict
//! nesting (see `logic/shadow.rs`).
//!
//! When no slot is free in the window, or the task's stack is full, the
//! push fails and the caller runs the original function instead
//! (counted as a fallback).

use kernel::{
    bindings, ffi,
    prelude::*,
    sync::atomic::{Atomic, Relaxed},
    task::Task,
};

use crate::glue;
use crate::logic::shadow::{Frame, PopError, ShadowStack};

/// Local interrupts masked while it lives.
struct IrqsOff(ffi::c_ulong);

impl IrqsOff {
    fn new() -> Self {
        // SAFETY: plain local_irq_save(); restored in `drop`.
        Self(unsafe { glue::tocpatch_irq_save() })
    }
}

impl Drop for IrqsOff {
    fn drop(&mut self) {
        // SAFETY: restores what `new` saved, on the same CPU (interrupts
        // are off in between, so no migration).
        unsafe { glue::tocpatch_irq_restore(self.0) };
    }
}

/// Frames per task.
pub(crate) const DEPTH: usize = 32;
/// Tasks that can be inside replacements (through local calls) at once.
pub(crate) const SLOTS: usize = 512;
/// Slots searched per task.
const WINDOW: usize = 8;

struct Slot {
    owner: Atomic<*mut bindings::task_struct>,
    stack: ShadowStack<DEPTH>,
}

/// The pool.
pub(crate) struct Pool {
    slots: KVVec<Slot>,
}

// SAFETY: slots are shared by design; see the module documentation for
// who touches what.
unsafe impl Sync for Pool {}
// SAFETY: as above.
unsafe impl Send for Pool {}

/// The pool the callback and the return trampoline use. Set while tocpatch
/// is loaded (before any patch can exist, cleared after the last is gone).
static POOL: Atomic<*mut Pool> = Atomic::new(core::ptr::null_mut());

/// Why a push failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PushError {
    /// The task's stack holds [`DEPTH`] frames.
    Full,
    /// No free slot in the task's window.
    NoSlot,
}

fn window_start(task: *mut bindings::task_struct) -> usize {
    let h = ((task as usize) >> 4).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h >> (usize::BITS - SLOTS.trailing_zeros())
}

impl Pool {
    /// Allocates the pool and makes it the one in use.
    pub(crate) fn install() -> Result<KBox<Pool>> {
        let mut slots = KVVec::with_capacity(SLOTS, GFP_KERNEL)?;
        for _ in 0..SLOTS {
            slots.push(
                Slot {
                    owner: Atomic::new(core::ptr::null_mut()),
                    stack: ShadowStack::new(),
                },
                GFP_KERNEL,
            )?;
        }
        let mut pool = KBox::new(Pool { slots }, GFP_KERNEL)?;
        POOL.store(
            core::ptr::from_mut(&mut *pool),
            kernel::sync::atomic::Release,
        );
        Ok(pool)
    }

    /// Stops using the pool (tocpatch unload; no frame can exist then).
    pub(crate) fn uninstall(&self) {
        POOL.store(core::ptr::null_mut(), kernel::sync::atomic::Release);
    }

    fn find(&self, task: *mut bindings::task_struct) -> Option<&Slot> {
        let start = window_start(task);
        (0..WINDOW)
            .map(|i| &self.slots[(start + i) % SLOTS])
            .find(|s| s.owner.load(Relaxed) == task)
    }

    fn claim(&self, task: *mut bindings::task_struct) -> Option<&Slot> {
        let start = window_start(task);
        (0..WINDOW)
            .map(|i| &self.slots[(start + i) % SLOTS])
            .find(|s| {
                s.owner
                    .cmpxchg(core::ptr::null_mut(), task, kernel::sync::atomic::Acquire)
                    .is_ok()
            })
    }

    /// Frames held by all tasks (for the status file).
    pub(crate) fn busy_slots(&self) -> usize {
        self.slots
            .iter()
            .filter(|s| !s.owner.load(Relaxed).is_null())
            .count()
    }
}

fn pool() -> Option<&'static Pool> {
    let p = POOL.load(kernel::sync::atomic::Acquire);
    // SAFETY: a non-NULL POOL points to the live pool (see `POOL`).
    unsafe { p.as_ref() }
}

/// Pushes a frame on the current task's shadow stack; returns the depth.
pub(crate) fn push(frame: Frame) -> core::result::Result<usize, PushError> {
    let pool = pool().ok_or(PushError::NoSlot)?;
    let task = Task::current_raw();
    let _irqs = IrqsOff::new();
    let slot = match pool.find(task) {
        Some(s) => s,
        None => pool.claim(task).ok_or(PushError::NoSlot)?,
    };
    // SAFETY: `slot` is owned by the current task and interrupts are off,
    // so nothing else uses its stack now.
    match unsafe { slot.stack.push(frame) } {
        Ok(d) => Ok(d),
        Err(_) => {
            if slot.stack.depth() == 0 {
                slot.owner
                    .store(core::ptr::null_mut(), kernel::sync::atomic::Release);
            }
            Err(PushError::Full)
        }
    }
}

/// Pops the top frame of the current task's shadow stack.
pub(crate) fn pop() -> core::result::Result<Frame, PopError> {
    let pool = pool().ok_or(PopError::Empty)?;
    let task = Task::current_raw();
    let _irqs = IrqsOff::new();
    let slot = pool.find(task).ok_or(PopError::Empty)?;
    // SAFETY: as in `push`.
    let frame = unsafe { slot.stack.pop() }?;
    if slot.stack.depth() == 0 {
        slot.owner
            .store(core::ptr::null_mut(), kernel::sync::atomic::Release);
    }
    Ok(frame)
}
