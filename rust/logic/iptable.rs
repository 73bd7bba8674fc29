// SPDX-License-Identifier: GPL-2.0

//! The lookup table of the shared ftrace hook: ftrace location address
//! to site, open addressing with linear probing, in a power-of-two array of
//! words.
//!
//! A slot holds [`EMPTY`], [`TOMB`] (a removed entry: probes go on past
//! it) or a value, a pointer to the entry itself; an entry's key is read
//! through it (`key_of`), so a reader that finds a value reads the key,
//! and what it needs, through one address dependency and needs no
//! barrier (as `rcu_dereference()`). The writer (one at a time, under a
//! lock) initialises the entry before it stores its pointer with release
//! semantics. Keys are text addresses: never 0, never 1.
//!
//! The table never fills: [`capacity_for`] keeps at least half of the slots
//! empty, counting tombstones as used, and the writer rebuilds into a new
//! array (tombstones dropped) before an insert would cross that line. So a
//! probe always ends at an empty slot.
//!
//! The functions take the slots as closures (`load`, `store`) so that the
//! kernel reads them with plain volatile loads and the host tests with a
//! vector.

/// A slot never used since the array was made: a probe ends here.
pub const EMPTY: usize = 0;
/// A slot whose entry was removed: a probe goes on past it.
pub const TOMB: usize = 1;

/// The smallest array the table uses.
pub const MIN_CAPACITY: usize = 16;

/// The number of slots for `n` entries: a power of two, at least twice `n`.
pub fn capacity_for(n: usize) -> usize {
    n.saturating_mul(2)
        .max(MIN_CAPACITY)
        .checked_next_power_of_two()
        .unwrap_or(usize::MAX / 2 + 1)
}

/// Whether an array of `cap` slots with `used` of them taken (entries and
/// tombstones) can take `more` entries in place.
pub fn fits(cap: usize, used: usize, more: usize) -> bool {
    used.saturating_add(more).saturating_mul(2) <= cap
}

/// The geometry of an array of slots, computed once when it is made so
/// that a probe loads it rather than computes it.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub struct Shape {
    /// The number of slots less one (a power of two less one).
    pub mask: usize,
    /// 64 less the number of index bits.
    shift: u32,
    /// Non-zero: keys are out-of-line stub addresses (see [`home`]).
    stubs: u32,
    /// The hash multiplier.
    mult: u64,
}

// The direct trampoline reads a shape in place (direct.S DT_TBL_*).
const _: () = assert!(core::mem::offset_of!(Shape, mask) == 0);
const _: () = assert!(core::mem::offset_of!(Shape, shift) == 8);
const _: () = assert!(core::mem::offset_of!(Shape, stubs) == 12);
const _: () = assert!(core::mem::offset_of!(Shape, mult) == 16);

impl Shape {
    /// The shape of a one-slot array that stays empty (`home` is 0 for
    /// every key, of either kind).
    pub const EMPTY: Shape = Shape {
        mask: 0,
        shift: 63,
        stubs: 0,
        mult: 0,
    };

    /// The shape of an array of `cap` slots, a power of two of at least 2.
    pub fn new(cap: usize) -> Self {
        Shape {
            mask: cap - 1,
            shift: 64 - cap.trailing_zeros(),
            stubs: 0,
            mult: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// The same, for keys that are addresses in out-of-line ftrace stubs.
    pub fn for_stubs(cap: usize) -> Self {
        Shape {
            stubs: 1,
            ..Shape::new(cap)
        }
    }

    /// The same kind of shape for `cap` slots.
    pub fn resized(self, cap: usize) -> Self {
        Shape {
            stubs: self.stubs,
            ..Shape::new(cap)
        }
    }
}

/// The first slot a probe for `key` looks at. Text addresses are word
/// aligned, and the ftrace locations of a patch's functions may be evenly
/// spaced (functions of one size, as in the benchmark's generated module),
/// which a plain multiplicative hash clusters for some spacings: the word
/// index is folded with itself shifted by 7 first, then multiplied by
/// 2^64/phi, and the top bits are kept (the tests measure probe lengths
/// over such spacings).
///
/// Keys in out-of-line ftrace stubs (the direct path's: the address after
/// a stub's call, `stub + 8`) need no multiply: a kernel's or a module's
/// stubs are an array of 24-byte entries, three words apart, and three is
/// odd, so the word index alone spreads a run of them over every slot; it
/// is folded with itself shifted by 4 for every k-th stub of a run (k a
/// power of two would otherwise fill one slot in k). The direct
/// trampoline computes it in five instructions.
#[inline(always)]
pub fn home(key: u64, s: Shape) -> usize {
    if s.stubs != 0 {
        return ((key >> 3) ^ (key >> 7)) as usize & s.mask;
    }
    let w = key >> 2;
    ((w ^ (w >> 7)).wrapping_mul(s.mult) >> s.shift) as usize & s.mask
}

/// The slot holding `key`'s value and the value, if any. `load(i)` reads
/// slot `i`; `key_of(v)` the key of value `v`.
#[inline(always)]
pub fn probe(
    s: Shape,
    key: u64,
    load: impl Fn(usize) -> usize,
    key_of: impl Fn(usize) -> u64,
) -> Option<(usize, usize)> {
    let mut i = home(key, s);
    loop {
        let v = load(i);
        if v == EMPTY {
            return None;
        }
        if v != TOMB && key_of(v) == key {
            return Some((i, v));
        }
        i = (i + 1) & s.mask;
    }
}

/// Where an insert of `key` (not in the table) goes: the first tombstone
/// or empty slot on its probe. Returns the slot and whether it was empty
/// (the caller counts used slots: a reused tombstone was counted already).
pub fn free_slot(s: Shape, key: u64, load: impl Fn(usize) -> usize) -> (usize, bool) {
    let mut i = home(key, s);
    loop {
        let v = load(i);
        if v == EMPTY || v == TOMB {
            return (i, v == EMPTY);
        }
        i = (i + 1) & s.mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;
    use std::vec::Vec;

    /// Values are indexes + 2 into a key vector, as pointers would be.
    struct T {
        slots: Vec<usize>,
        keys: Vec<u64>,
        used: usize,
    }

    impl T {
        fn new(cap: usize) -> Self {
            T {
                slots: vec![EMPTY; cap],
                keys: Vec::new(),
                used: 0,
            }
        }
        fn shape(&self) -> Shape {
            Shape::new(self.slots.len())
        }
        fn get(&self, key: u64) -> Option<u64> {
            let keys = &self.keys;
            probe(self.shape(), key, |i| self.slots[i], |v| keys[v - 2]).map(|(_, v)| keys[v - 2])
        }
        fn insert(&mut self, key: u64) {
            assert!(fits(self.slots.len(), self.used, 1));
            self.keys.push(key);
            let v = self.keys.len() + 1;
            let (i, was_empty) = free_slot(self.shape(), key, |i| self.slots[i]);
            self.slots[i] = v;
            if was_empty {
                self.used += 1;
            }
        }
        fn remove(&mut self, key: u64) -> bool {
            let keys = &self.keys;
            match probe(self.shape(), key, |i| self.slots[i], |v| keys[v - 2]) {
                Some((i, _)) => {
                    self.slots[i] = TOMB;
                    true
                }
                None => false,
            }
        }
    }

    #[test]
    fn capacity() {
        assert_eq!(capacity_for(0), MIN_CAPACITY);
        assert_eq!(capacity_for(8), 16);
        assert_eq!(capacity_for(9), 32);
        assert_eq!(capacity_for(1000), 2048);
        assert!(fits(16, 7, 1));
        assert!(!fits(16, 8, 1));
    }

    #[test]
    fn insert_lookup_remove() {
        let mut t = T::new(capacity_for(600));
        // Functions 16 bytes apart, the worst case for a poor hash.
        let keys: Vec<u64> = (0..600).map(|k| 0xc000_0000_0010_0000 + 16 * k).collect();
        for &k in &keys {
            t.insert(k);
        }
        for &k in &keys {
            assert_eq!(t.get(k), Some(k));
            assert_eq!(t.get(k + 4), None);
        }
        // Remove every other one: the others stay reachable past the
        // tombstones.
        for &k in keys.iter().step_by(2) {
            assert!(t.remove(k));
            assert!(!t.remove(k));
        }
        for (n, &k) in keys.iter().enumerate() {
            assert_eq!(t.get(k), (n % 2 == 1).then_some(k));
        }
        // Tombstones are reused.
        let used = t.used;
        t.insert(keys[0]);
        assert_eq!(t.used, used);
        assert_eq!(t.get(keys[0]), Some(keys[0]));
    }

    /// The direct trampoline's form of the stub hash, a byte offset in
    /// the slots (direct.S DT_LOOKUP): `(key ^ (key >> 4)) & (mask << 3)`.
    fn home_bytes(key: u64, s: Shape) -> usize {
        (key ^ (key >> 4)) as usize & (s.mask << 3)
    }

    #[test]
    fn home_bytes_is_home_times_eight() {
        let mut key = 0xc008_0000_0012_3458u64;
        for cap in [16, 64, 1024, 1 << 16] {
            let s = Shape::for_stubs(cap);
            for _ in 0..10_000 {
                assert_eq!(home_bytes(key, s), home(key, s) * 8);
                // A step of an odd number of words, and some bits above.
                key = key.wrapping_add(24).wrapping_add((key >> 5) & 0x7f8);
            }
        }
    }

    #[test]
    fn the_empty_shape_finds_nothing() {
        let slots = [EMPTY];
        for key in [0xc000_0000_0001_0008u64, 0xc008_0000_0abc_d018, u64::MAX] {
            assert_eq!(home(key, Shape::EMPTY), 0);
            assert_eq!(probe(Shape::EMPTY, key, |i| slots[i], |v| v as u64), None);
        }
    }

    /// Probe lengths (worst, mean) of `n` keys `stride` bytes apart.
    fn probes(n: u64, stride: u64) -> (usize, f64) {
        probes_in(n, stride, Shape::new)
    }

    fn probes_in(n: u64, stride: u64, make: fn(usize) -> Shape) -> (usize, f64) {
        let cap = capacity_for(n as usize);
        let shape = make(cap);
        let mask = cap - 1;
        let mut slots = vec![0u32; cap];
        let (mut worst, mut sum) = (0, 0);
        for k in 0..n {
            let key = 0xc008_0000_0001_0008 + stride * k;
            let mut i = home(key, shape);
            let mut p = 0;
            while slots[i] != 0 {
                i = (i + 1) & mask;
                p += 1;
            }
            slots[i] = 1;
            worst = worst.max(p);
            sum += p;
        }
        (worst, sum as f64 / n as f64)
    }

    #[test]
    fn probes_are_short() {
        for n in [1, 10, 100, 1000, 4000] {
            for stride in [
                4, 16, 24, 32, 48, 64, 80, 96, 128, 160, 512, 0x1234, 0x10_0000,
            ] {
                let (worst, mean) = probes(n, stride);
                assert!(worst < 24, "n {n} stride {stride}: worst probe {worst}");
                assert!(
                    n < 100 || mean < 1.0,
                    "n {n} stride {stride}: mean probe {mean}"
                );
            }
        }
        // Irregular gaps, as in real text.
        let cap = capacity_for(1000);
        let mut slots = vec![0u32; cap];
        let mut key = 0xc000_0000_0000_1000u64;
        let mut worst = 0;
        for k in 0..1000u64 {
            key += 16 + (k * 7919 % 61) * 4 * (1 + k % 5);
            let mut i = home(key, Shape::new(cap));
            let mut p = 0;
            while slots[i] != 0 {
                i = (i + 1) & (cap - 1);
                p += 1;
            }
            slots[i] = 1;
            worst = worst.max(p);
        }
        assert!(worst < 16, "irregular: worst probe {worst}");
    }

    #[test]
    fn stub_keys() {
        // Stubs are 24 bytes apart; a patch's functions are every one, or
        // every k-th, of a run of them. (Every 128th: a mean of 1.08.)
        for n in [1, 10, 100, 1000, 4000] {
            for k in [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 32, 64, 100, 128, 1000] {
                let (worst, mean) = probes_in(n, 24 * k, Shape::for_stubs);
                assert!(worst < 24, "n {n} every {k}th stub: worst probe {worst}");
                assert!(
                    n < 100 || mean < 1.5,
                    "n {n} every {k}th stub: mean probe {mean}"
                );
            }
        }
        // The shape's kind survives a resize; lookups work as with the
        // other kind.
        let s = Shape::for_stubs(16).resized(64);
        assert_eq!(s.stubs, 1);
        assert!(home(0xc000_0000_0000_1008, s) < 64);
        assert_eq!(Shape::new(16).resized(32).stubs, 0);
    }
}
