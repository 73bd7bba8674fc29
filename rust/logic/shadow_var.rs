// SPDX-License-Identifier: GPL-2.0

//! Shadow variables: the pure part (which hash bucket a parent object's
//! shadow variables live in, and where the data sits in a variable).
//!
//! The table of `rust/shadow_var.rs` has [`BUCKETS`] singly linked lists;
//! the variables of one object (whatever their id) share one bucket, chosen
//! by a multiplicative hash of the object's address (the kernel's
//! `hash_64()`: multiply by the 64-bit golden ratio, keep the top bits), so
//! that objects at neighbouring addresses spread over the table.

/// log2 of the number of buckets (4096, as upstream's `klp_shadow_hash`).
pub const HASH_BITS: u32 = 12;
/// Number of buckets.
pub const BUCKETS: usize = 1 << HASH_BITS;
/// `GOLDEN_RATIO_64` of `include/linux/hash.h`.
const GOLDEN_RATIO_64: u64 = 0x61c8_8646_80b5_83eb;

/// The bucket of the shadow variables of the object at `obj`.
pub const fn bucket(obj: u64) -> usize {
    (obj.wrapping_mul(GOLDEN_RATIO_64) >> (64 - HASH_BITS)) as usize
}

/// Alignment guaranteed to shadow data (kmalloc's minimum on ppc64, and
/// what upstream gives: its data follows an `unsigned long`).
pub const DATA_ALIGN: usize = 8;

/// Offset of the data in a variable whose header is `header` bytes: the
/// next multiple of [`DATA_ALIGN`].
pub const fn data_offset(header: usize) -> usize {
    (header + DATA_ALIGN - 1) & !(DATA_ALIGN - 1)
}

/// Bytes to allocate for a variable with a `header`-byte header and `size`
/// bytes of data, or `None` if that overflows.
pub const fn alloc_size(header: usize, size: usize) -> Option<usize> {
    data_offset(header).checked_add(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_in_range() {
        for obj in [0u64, 1, 8, 0xc000_0000_0000_0000, u64::MAX, 0xdead_beef] {
            assert!(bucket(obj) < BUCKETS);
        }
    }

    #[test]
    fn bucket_matches_kernel_hash_64() {
        // hash_64(v, 12) of include/linux/hash.h, worked out by hand
        // (Python: ((v * 0x61c8864680b583eb) % 2**64) >> 52).
        assert_eq!(bucket(0xc000_0000_0123_4560), 0x998);
        assert_eq!(bucket(0xc000_0000_0316_14a8), 0x73a);
        assert_eq!(bucket(0), 0);
    }

    #[test]
    fn neighbouring_objects_spread() {
        // 64 objects 16 bytes apart (a kmalloc-16 slab) land in many
        // different buckets, not one.
        let base = 0xc000_0000_0400_0000u64;
        let mut seen = std::vec::Vec::new();
        for i in 0..64u64 {
            let b = bucket(base + 16 * i);
            if !seen.contains(&b) {
                seen.push(b);
            }
        }
        assert!(seen.len() >= 60, "{} buckets", seen.len());
    }

    #[test]
    fn data_layout() {
        assert_eq!(data_offset(40), 40);
        assert_eq!(data_offset(41), 48);
        assert_eq!(alloc_size(40, 8), Some(48));
        assert_eq!(alloc_size(40, usize::MAX), None);
    }
}
