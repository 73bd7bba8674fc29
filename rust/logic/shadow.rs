// SPDX-License-Identifier: GPL-2.0

//! Shadow frames: what a local call into a replacement must get back on
//! return, kept per task at the base (lowest addresses) of the task's own
//! kernel stack.
//!
//! # Layout
//!
//! From the stack base `task->stack` (the kernel stack grows down towards
//! it), in 64-bit words:
//!
//! ```text
//! word 0                    STACK_END_MAGIC (the kernel's; never touched)
//! word 1                    header: magic + depth
//! words 2 + 5k .. 6 + 5k    frame k (k = 0 .. depth - 1): ret, toc, slot,
//!                           owner, check
//! ```
//!
//! The magic is the region's base address rotated left by 16 bits
//! ([`magic`]): one instruction for the assembly push and pop, where a
//! constant took four, and no stack takes another's header for its own
//! (the magics of two stacks in one kernel address region differ in the
//! high 48 bits). A header whose high bits are not the
//! magic's means "no frames": a fresh stack (new stacks are zeroed) or a
//! task that existed before tocpatch was loaded. It becomes a real header
//! at the first push.
//!
//! # Concurrency
//!
//! A region belongs to one task. Besides the task itself, only interrupt
//! handlers running on the task's CPU while it is interrupted use it (a
//! patched function called from hardirq or softirq context runs with
//! `current` = the interrupted task). Those nest strictly: a handler that
//! pushes a frame pops it before the interrupted code resumes. So push and
//! pop need no lock and no interrupt masking, only an order that a nested
//! push/pop pair cannot disturb:
//!
//! * push reserves its frame (header depth + 1) before writing it, so a
//!   nested push lands above it;
//! * pop reads the frame (and lets its caller use it) before releasing it
//!   (header depth - 1), so a nested push cannot overwrite it first.
//!
//! Header and frame words are single aligned 8-byte loads and stores, all
//! volatile: the compiler keeps volatile accesses in program order among
//! themselves, which is all that interrupts nesting on the same CPU need
//! (no fence: on powerpc `compiler_fence` became a `hwsync`).
//! Each stored frame carries a check word, which mixes in the header
//! word of its own depth (so the magic and the frame's position); a pop
//! that finds it wrong reports corruption instead of returning a wrong
//! address.

/// Bits of the header that hold the depth.
pub const DEPTH_BITS: u32 = 16;
const DEPTH_MASK: u64 = (1 << DEPTH_BITS) - 1;
/// Largest depth a header can hold.
pub const MAX_DEPTH: usize = DEPTH_MASK as usize;

/// Index of the header word from the stack base (word 0 is the kernel's).
pub const HEADER_WORD: usize = 1;
/// Index of the first frame's first word.
pub const FIRST_FRAME_WORD: usize = 2;
/// Words per stored frame.
pub const FRAME_WORDS: usize = 5;
/// Bytes per stored frame.
pub const FRAME_BYTES: usize = FRAME_WORDS * 8;

/// What a local call into a replacement must get back on return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Return address in the caller.
    pub ret: u64,
    /// The caller's TOC (r2).
    pub toc: u64,
    /// The caller's TOC save slot (24(r1)) as it was at the call.
    pub slot: u64,
    /// Identifies the patched function (for per-function counts and the
    /// release check).
    pub owner: usize,
}

impl Frame {
    /// The check word of this frame stored at the depth whose header word
    /// is `header` (the frame's own: `encode(magic, k + 1)` for frame k).
    fn check(&self, header: u64) -> u64 {
        self.ret
            ^ self.toc.rotate_left(17)
            ^ self.slot.rotate_left(31)
            ^ (self.owner as u64).rotate_left(47)
            ^ header
    }
}

/// Why a push failed: the frame would come closer to the live stack than
/// allowed (or the header is at [`MAX_DEPTH`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

/// Why a pop failed. Either means the region was used wrongly or
/// overwritten: the caller cannot return anywhere safe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PopError {
    /// Nothing to pop.
    Empty,
    /// The frame at this depth (1-based) fails its check, or the depth
    /// does not fit the region.
    Corrupt(usize),
}

/// The header magic of the region at `base`: its address rotated left by
/// [`DEPTH_BITS`], so that the bits two stacks' addresses differ in (all
/// below the top 16, which the kernel's stacks share) are the magic's
/// high 48 bits, above the depth. A zeroed word is not a header (a base
/// is not 0).
pub const fn magic(base: usize) -> u64 {
    (base as u64).rotate_left(DEPTH_BITS)
}

/// The header word for `depth` frames in a region whose magic is `magic`.
pub const fn encode(magic: u64, depth: usize) -> u64 {
    magic.wrapping_add(depth as u64 & DEPTH_MASK)
}

/// The depth a header word says; 0 for a word that is not our header.
pub const fn decode(magic: u64, header: u64) -> usize {
    // Taking the magic off leaves the depth; a word whose high bits are
    // not the magic's comes out larger than DEPTH_MASK (as the assembly
    // push and pop test it). A sum, not an XOR: the pop releases a frame
    // by taking one off the header word.
    let x = header.wrapping_sub(magic);
    if x <= DEPTH_MASK {
        x as usize
    } else {
        0
    }
}

/// Bytes from the stack base to the end of `depth` frames.
pub const fn frames_end(depth: usize) -> usize {
    (FIRST_FRAME_WORD + depth * FRAME_WORDS) * 8
}

/// How far (bytes from the stack base) the frames may reach for a push.
///
/// `sp_offset` is the offset from the base of the lowest stack address in
/// use on the task's stack (the stack pointer, when running on it; the
/// interrupted frame, when running on another stack); `None` when it is
/// not known. Frames stay `margin` bytes below it. Without it, they stay
/// below `cap`. Never more than `size`, the stack's size.
pub fn limit(size: usize, sp_offset: Option<usize>, margin: usize, cap: usize) -> usize {
    match sp_offset {
        Some(off) => off.min(size).saturating_sub(margin),
        None => cap.min(size),
    }
}

/// Follows the ELFv2 back chain from `sp` to the first frame inside the
/// stack `[base, base + size)`; returns that frame's offset from `base`.
/// `read(a)` reads the word at address `a`. Gives up (returns `None`) after
/// `hops` links, or at a link that is 0, not 16-byte aligned, or not a
/// kernel address (`kernel(a)` false): it is then not known where the
/// task's stack is in use.
pub fn find_in_stack(
    sp: usize,
    base: usize,
    size: usize,
    hops: usize,
    kernel: impl Fn(usize) -> bool,
    read: impl Fn(usize) -> usize,
) -> Option<usize> {
    let inside = |a: usize| a >= base && a - base < size;
    let mut a = sp;
    for _ in 0..=hops {
        if inside(a) {
            return Some(a - base);
        }
        if a == 0 || a & 15 != 0 || !kernel(a) {
            return None;
        }
        a = read(a);
    }
    None
}

/// One task's shadow frames: the region at the base of its kernel stack.
pub struct Region {
    base: *mut u64,
    size: usize,
}

impl Region {
    /// The region of the stack at `base`, `size` bytes long.
    ///
    /// # Safety
    ///
    /// `base` must be the 8-byte aligned base of a stack of `size` bytes
    /// that stays allocated while the region is used, and only used under
    /// the rule in the module documentation (its task, and interrupts
    /// nesting on it; or anyone while the task cannot run).
    pub const unsafe fn new(base: *mut u64, size: usize) -> Self {
        Self { base, size }
    }

    /// The magic of this region's header.
    fn magic(&self) -> u64 {
        magic(self.base as usize)
    }

    fn word(&self, i: usize) -> *mut u64 {
        self.base.wrapping_add(i)
    }

    fn read(&self, i: usize) -> u64 {
        // SAFETY: callers only pass indexes inside the region (checked
        // against `size`), which `new`'s contract makes valid.
        unsafe { core::ptr::read_volatile(self.word(i)) }
    }

    fn write(&self, i: usize, v: u64) {
        // SAFETY: as in `read`.
        unsafe { core::ptr::write_volatile(self.word(i), v) }
    }

    /// Number of frames.
    pub fn depth(&self) -> usize {
        decode(self.magic(), self.read(HEADER_WORD))
    }

    fn frame_at(&self, k: usize) -> (Frame, u64) {
        let w = FIRST_FRAME_WORD + k * FRAME_WORDS;
        (
            Frame {
                ret: self.read(w),
                toc: self.read(w + 1),
                slot: self.read(w + 2),
                owner: self.read(w + 3) as usize,
            },
            self.read(w + 4),
        )
    }

    /// Pushes a frame if its end stays at or below `limit` bytes from the
    /// base (see [`limit`]); returns the new depth.
    pub fn push(&self, frame: Frame, limit: usize) -> Result<usize, Full> {
        let d = self.depth();
        if d >= MAX_DEPTH || frames_end(d + 1) > limit.min(self.size) {
            return Err(Full);
        }
        let header = encode(self.magic(), d + 1);
        self.write(HEADER_WORD, header);
        let w = FIRST_FRAME_WORD + d * FRAME_WORDS;
        self.write(w, frame.ret);
        self.write(w + 1, frame.toc);
        self.write(w + 2, frame.slot);
        self.write(w + 3, frame.owner as u64);
        self.write(w + 4, frame.check(header));
        Ok(d + 1)
    }

    /// Pops the top frame: checks it, gives it to `f` while it is still
    /// reserved, then releases it; returns what `f` returned.
    pub fn pop_with<R>(&self, f: impl FnOnce(&Frame) -> R) -> Result<R, PopError> {
        let d = self.depth();
        if d == 0 {
            return Err(PopError::Empty);
        }
        if frames_end(d) > self.size {
            return Err(PopError::Corrupt(d));
        }
        let (frame, check) = self.frame_at(d - 1);
        if check != frame.check(encode(self.magic(), d)) {
            return Err(PopError::Corrupt(d));
        }
        let r = f(&frame);
        self.write(HEADER_WORD, encode(self.magic(), d - 1));
        Ok(r)
    }

    /// Whether a frame (in the region's current depth) has an owner for
    /// which `pred` holds.
    pub fn holds(&self, pred: impl Fn(usize) -> bool) -> bool {
        let d = self.depth();
        (0..d)
            .take_while(|&k| frames_end(k + 1) <= self.size)
            .any(|k| pred(self.frame_at(k).0.owner))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const STACK_END_MAGIC: u64 = 0x57ac_6e9d;

    fn frame(n: u64) -> Frame {
        Frame {
            ret: 0xc000_0000_0010_0000 + n * 4,
            toc: 0xc000_0000_0200_0000 + n * 0x100,
            slot: n,
            owner: n as usize,
        }
    }

    /// A zeroed "stack" of `words` words with the kernel's end magic.
    fn stack(words: usize) -> Vec<u64> {
        let mut s = vec![0u64; words];
        s[0] = STACK_END_MAGIC;
        s
    }

    fn region(s: &mut [u64]) -> Region {
        // SAFETY: the test's buffer outlives the region; single-threaded.
        unsafe { Region::new(s.as_mut_ptr(), s.len() * 8) }
    }

    /// The magic of the region of the test stack `s`.
    fn magic_of(s: &[u64]) -> u64 {
        magic(s.as_ptr() as usize)
    }

    #[test]
    fn header_round_trip_and_foreign_words() {
        let m = magic(0xc000_0000_0abc_4000);
        for d in [0, 1, 2, 100, MAX_DEPTH] {
            assert_eq!(decode(m, encode(m, d)), d);
        }
        assert_eq!(decode(m, 0), 0);
        assert_eq!(decode(m, STACK_END_MAGIC), 0);
        assert_eq!(decode(m, 0xc000_0000_0123_4567), 0);
        assert_eq!(decode(m, m ^ (1 << 40) | 5), 0);
        assert_eq!(decode(m, m.wrapping_sub(1)), 0);
        // Another stack's header is not ours.
        let other = magic(0xc000_0000_0abc_8000);
        assert_eq!(decode(m, encode(other, 3)), 0);
    }

    #[test]
    fn push_pop_is_lifo_and_leaves_end_magic() {
        let mut s = stack(64);
        let r = region(&mut s);
        assert_eq!(r.push(frame(1), usize::MAX), Ok(1));
        assert_eq!(r.push(frame(2), usize::MAX), Ok(2));
        assert_eq!(r.depth(), 2);
        assert_eq!(r.pop_with(|f| *f), Ok(frame(2)));
        assert_eq!(r.pop_with(|f| *f), Ok(frame(1)));
        assert_eq!(r.pop_with(|f| *f), Err(PopError::Empty));
        assert_eq!(r.depth(), 0);
        drop(r);
        assert_eq!(s[0], STACK_END_MAGIC);
        assert_eq!(s[HEADER_WORD], encode(magic_of(&s), 0));
    }

    #[test]
    fn garbage_header_means_no_frames() {
        let mut s = stack(64);
        s[HEADER_WORD] = 0xdead_beef_0000_0007;
        let r = region(&mut s);
        assert_eq!(r.depth(), 0);
        assert_eq!(r.pop_with(|f| *f), Err(PopError::Empty));
        assert_eq!(r.push(frame(3), usize::MAX), Ok(1));
        assert_eq!(r.pop_with(|f| *f), Ok(frame(3)));
    }

    #[test]
    fn limit_is_enforced_and_harmless() {
        let mut s = stack(64);
        let r = region(&mut s);
        let lim = frames_end(3);
        for i in 0..3 {
            assert_eq!(r.push(frame(i), lim), Ok(i as usize + 1));
        }
        assert_eq!(r.push(frame(9), lim), Err(Full));
        assert_eq!(r.push(frame(9), lim + FRAME_BYTES - 1), Err(Full));
        assert_eq!(r.depth(), 3);
        for i in (0..3).rev() {
            assert_eq!(r.pop_with(|f| *f), Ok(frame(i)));
        }
    }

    #[test]
    fn region_size_bounds_push_and_pop() {
        // Room for exactly two frames.
        let mut s = stack(FIRST_FRAME_WORD + 2 * FRAME_WORDS);
        let r = region(&mut s);
        assert_eq!(r.push(frame(1), usize::MAX), Ok(1));
        assert_eq!(r.push(frame(2), usize::MAX), Ok(2));
        assert_eq!(r.push(frame(3), usize::MAX), Err(Full));
        drop(r);
        // A header claiming more than fits is corruption, not a read
        // outside the region.
        s[HEADER_WORD] = encode(magic_of(&s), 3);
        let r = region(&mut s);
        assert_eq!(r.pop_with(|f| *f), Err(PopError::Corrupt(3)));
        assert!(r.holds(|o| o == 2));
        assert!(!r.holds(|o| o == 3));
    }

    #[test]
    fn corruption_is_detected_and_nothing_popped() {
        let mut s = stack(64);
        let r = region(&mut s);
        r.push(frame(1), usize::MAX).unwrap();
        r.push(frame(2), usize::MAX).unwrap();
        drop(r);
        s[FIRST_FRAME_WORD + FRAME_WORDS + 4] ^= 1;
        let r = region(&mut s);
        let mut ran = false;
        assert_eq!(r.pop_with(|_| ran = true), Err(PopError::Corrupt(2)));
        assert!(!ran);
        assert_eq!(r.depth(), 2);
    }

    /// The frame is still reserved while the pop's closure runs (so that a
    /// release check looking at the region sees it until the owner is no
    /// longer used).
    #[test]
    fn pop_closure_runs_before_release() {
        let mut s = stack(64);
        let r = region(&mut s);
        r.push(frame(4), usize::MAX).unwrap();
        let seen = r.pop_with(|f| (r.depth(), r.holds(|o| o == f.owner)));
        assert_eq!(seen, Ok((1, true)));
        assert_eq!(r.depth(), 0);
        assert!(!r.holds(|o| o == 4));
    }

    /// A nested user (an interrupt) that pushes and pops between the steps
    /// of an outer push or pop leaves the outer frames intact.
    #[test]
    fn nested_use_between_steps() {
        let mut s = stack(64);
        let r = region(&mut s);
        r.push(frame(1), usize::MAX).unwrap();
        // Outer push, interrupted after reserving: emulate by reserving by
        // hand, a full nested push/pop, then the outer write.
        let d = r.depth();
        let header = encode(r.magic(), d + 1);
        r.write(HEADER_WORD, header);
        r.push(frame(7), usize::MAX).unwrap();
        assert_eq!(r.pop_with(|f| *f), Ok(frame(7)));
        let w = FIRST_FRAME_WORD + d * FRAME_WORDS;
        let f2 = frame(2);
        for (i, v) in [f2.ret, f2.toc, f2.slot, f2.owner as u64, f2.check(header)]
            .into_iter()
            .enumerate()
        {
            r.write(w + i, v);
        }
        // Outer pop, interrupted after reading: a nested push/pop in
        // between lands above the frame being popped.
        let got = r.pop_with(|f| {
            r.push(frame(8), usize::MAX).unwrap();
            assert_eq!(r.pop_with(|g| *g), Ok(frame(8)));
            *f
        });
        assert_eq!(got, Ok(frame(2)));
        assert_eq!(r.pop_with(|f| *f), Ok(frame(1)));
    }

    #[test]
    fn holds_sees_every_owner() {
        let mut s = stack(64);
        let r = region(&mut s);
        for i in 1..=4 {
            r.push(frame(i), usize::MAX).unwrap();
        }
        for i in 1..=4 {
            assert!(r.holds(|o| o == i));
        }
        assert!(!r.holds(|o| o == 5));
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
            assert_ne!(f.check(7), base.check(7));
        }
        // And the header of its depth: the same frame one deeper fails.
        let m = magic(0xc000_0000_0abc_4000);
        assert_ne!(base.check(encode(m, 1)), base.check(encode(m, 2)));
    }

    #[test]
    fn limit_keeps_the_margin_or_the_cap() {
        assert_eq!(limit(32768, Some(20000), 1024, 8192), 18976);
        assert_eq!(limit(32768, Some(500), 1024, 8192), 0);
        assert_eq!(limit(32768, None, 1024, 8192), 8192);
        assert_eq!(limit(32768, None, 1024, 65536), 32768);
    }

    #[test]
    fn back_chain_walk() {
        // Three "stacks": an irq stack at 0x1000, a softirq stack at 0x9000
        // and the task's at 0x4000 (size 0x1000 each).
        let chain = |a: usize| match a {
            0x1f00 => 0x1f80,
            0x1f80 => 0x9e00,
            0x9e00 => 0x4a30 & !15,
            _ => 0,
        };
        let k = |_| true;
        assert_eq!(
            find_in_stack(0x1f00, 0x4000, 0x1000, 8, k, chain),
            Some(0xa30)
        );
        // Already on the task's stack.
        assert_eq!(
            find_in_stack(0x4100, 0x4000, 0x1000, 8, k, chain),
            Some(0x100)
        );
        // Too few hops.
        assert_eq!(find_in_stack(0x1f00, 0x4000, 0x1000, 2, k, chain), None);
        // A broken link: 0, misaligned, or not a kernel address.
        assert_eq!(find_in_stack(0x1f00, 0x4000, 0x1000, 8, k, |_| 0), None);
        assert_eq!(
            find_in_stack(0x1f00, 0x4000, 0x1000, 8, k, |_| 0x1f08),
            None
        );
        assert_eq!(
            find_in_stack(0x1f00, 0x4000, 0x1000, 8, |a| a != 0x9e00, chain),
            None
        );
    }
}
