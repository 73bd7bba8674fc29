// SPDX-License-Identifier: GPL-2.0

//! A shadow LR stack: the frames of one task's local calls into
//! replacements, each holding what the return trampoline must put back.
//!
//! # Concurrency
//!
//! One stack belongs to one task. Besides the task itself, only interrupt
//! handlers running on the task's CPU while it is interrupted use it (a
//! patched function called from hardirq or softirq context runs with
//! `current` = the interrupted task). Those nest strictly: a handler that
//! pushes a frame pops it before the interrupted code resumes. So push and
//! pop need no lock, only an order that a nested push/pop pair cannot
//! disturb:
//!
//! * push reserves its slot (depth + 1) before writing the frame, so a
//!   nested push lands above it;
//! * pop reads the frame before releasing the slot (depth - 1), so a nested
//!   push cannot overwrite it first.
//!
//! Each stored frame carries a check word; a pop that finds it wrong
//! reports corruption instead of returning a wrong address.

use core::cell::UnsafeCell;
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

/// Mixed into every check word.
const SHADOW_MAGIC: u64 = 0x746f_6370_6174_6368;

/// What a local call into a replacement must get back on return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Return address in the caller.
    pub ret: u64,
    /// The caller's TOC (r2).
    pub toc: u64,
    /// The caller's TOC save slot (24(r1)) as it was at the call.
    pub slot: u64,
    /// Identifies the patched function (for per-function counts).
    pub owner: usize,
}

impl Frame {
    fn check(&self) -> u64 {
        self.ret
            ^ self.toc.rotate_left(17)
            ^ self.slot.rotate_left(31)
            ^ (self.owner as u64).rotate_left(47)
            ^ SHADOW_MAGIC
    }
}

#[derive(Clone, Copy)]
struct Stored {
    frame: Frame,
    check: u64,
}

const EMPTY: Stored = Stored {
    frame: Frame {
        ret: 0,
        toc: 0,
        slot: 0,
        owner: 0,
    },
    check: 0,
};

/// Why a push failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// Why a pop failed. Either means the stack was used wrongly or
/// overwritten: the caller cannot return anywhere safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopError {
    /// Nothing to pop.
    Empty,
    /// The frame at this depth (1-based) fails its check.
    Corrupt(usize),
}

/// A bounded shadow stack of `N` frames.
pub struct ShadowStack<const N: usize> {
    depth: AtomicUsize,
    frames: UnsafeCell<[Stored; N]>,
}

// SAFETY: the frames are only touched under the ownership rule in the
// module documentation (one task and the interrupts nesting on it), which
// the unsafe `push`/`pop` contracts make the caller uphold.
unsafe impl<const N: usize> Sync for ShadowStack<N> {}

impl<const N: usize> Default for ShadowStack<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ShadowStack<N> {
    /// The bound on the number of frames.
    pub const CAPACITY: usize = N;

    /// An empty stack.
    pub const fn new() -> Self {
        Self {
            depth: AtomicUsize::new(0),
            frames: UnsafeCell::new([EMPTY; N]),
        }
    }

    /// Number of frames on the stack.
    pub fn depth(&self) -> usize {
        self.depth.load(Ordering::Relaxed)
    }

    /// Pushes a frame; returns the new depth.
    ///
    /// # Safety
    ///
    /// Only the owning task, or an interrupt handler nested on it, may call
    /// this (see the module documentation).
    pub unsafe fn push(&self, frame: Frame) -> Result<usize, Full> {
        let d = self.depth.load(Ordering::Relaxed);
        if d >= N {
            return Err(Full);
        }
        self.depth.store(d + 1, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        let stored = Stored {
            frame,
            check: frame.check(),
        };
        // SAFETY: slot `d` was reserved above and nothing nested can touch
        // it (per the caller's contract, nested users work above `d + 1`).
        unsafe { (*self.frames.get())[d] = stored };
        compiler_fence(Ordering::SeqCst);
        Ok(d + 1)
    }

    /// Pops the top frame.
    ///
    /// # Safety
    ///
    /// As for [`ShadowStack::push`].
    pub unsafe fn pop(&self) -> Result<Frame, PopError> {
        let d = self.depth.load(Ordering::Relaxed);
        if d == 0 {
            return Err(PopError::Empty);
        }
        if d > N {
            return Err(PopError::Corrupt(d));
        }
        compiler_fence(Ordering::SeqCst);
        // SAFETY: slot `d - 1` is ours until depth drops below `d`.
        let stored = unsafe { (*self.frames.get())[d - 1] };
        compiler_fence(Ordering::SeqCst);
        if stored.check != stored.frame.check() {
            return Err(PopError::Corrupt(d));
        }
        self.depth.store(d - 1, Ordering::Relaxed);
        Ok(stored.frame)
    }

    /// Overwrites the check word of the frame at `depth` (1-based), for
    /// tests of corruption detection.
    #[cfg(test)]
    fn corrupt(&self, depth: usize) {
        // SAFETY: test-only, single-threaded.
        unsafe { (*self.frames.get())[depth - 1].check ^= 1 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: u64) -> Frame {
        Frame {
            ret: 0xc000_0000_0010_0000 + n * 4,
            toc: 0xc000_0000_0200_0000 + n * 0x100,
            slot: n,
            owner: n as usize,
        }
    }

    #[test]
    fn push_pop_is_lifo() {
        let s = ShadowStack::<4>::new();
        // SAFETY: single-threaded test.
        unsafe {
            assert_eq!(s.push(frame(1)), Ok(1));
            assert_eq!(s.push(frame(2)), Ok(2));
            assert_eq!(s.depth(), 2);
            assert_eq!(s.pop(), Ok(frame(2)));
            assert_eq!(s.pop(), Ok(frame(1)));
            assert_eq!(s.pop(), Err(PopError::Empty));
        }
        assert_eq!(s.depth(), 0);
    }

    #[test]
    fn bound_is_enforced_and_harmless() {
        let s = ShadowStack::<3>::new();
        // SAFETY: single-threaded test.
        unsafe {
            for i in 0..3 {
                assert_eq!(s.push(frame(i)), Ok(i as usize + 1));
            }
            assert_eq!(s.push(frame(9)), Err(Full));
            assert_eq!(s.depth(), 3);
            for i in (0..3).rev() {
                assert_eq!(s.pop(), Ok(frame(i)));
            }
        }
    }

    #[test]
    fn corruption_is_detected_and_nothing_popped() {
        let s = ShadowStack::<4>::new();
        // SAFETY: single-threaded test.
        unsafe {
            s.push(frame(1)).unwrap();
            s.push(frame(2)).unwrap();
            s.corrupt(2);
            assert_eq!(s.pop(), Err(PopError::Corrupt(2)));
            assert_eq!(s.depth(), 2);
        }
    }

    /// A nested user (an interrupt) that pushes and pops between the steps
    /// of an outer push or pop leaves the outer frames intact.
    #[test]
    fn nested_use_between_steps() {
        let s = ShadowStack::<8>::new();
        // SAFETY: single-threaded test standing in for strict nesting.
        unsafe {
            s.push(frame(1)).unwrap();
            // Outer push, interrupted after reserving: emulate by a full
            // nested push/pop at the reserved depth + 1.
            let d = s.depth.load(Ordering::Relaxed);
            s.depth.store(d + 1, Ordering::Relaxed);
            s.push(frame(7)).unwrap();
            assert_eq!(s.pop(), Ok(frame(7)));
            (*s.frames.get())[d] = Stored {
                frame: frame(2),
                check: frame(2).check(),
            };
            assert_eq!(s.pop(), Ok(frame(2)));
            assert_eq!(s.pop(), Ok(frame(1)));
        }
    }

    #[test]
    fn check_word_covers_every_field() {
        let base = frame(3);
        for f in [
            Frame { ret: 1, ..base },
            Frame { toc: 1, ..base },
            Frame { slot: 99, ..base },
            Frame { owner: 99, ..base },
        ] {
            assert_ne!(f.check(), base.check());
        }
    }
}
