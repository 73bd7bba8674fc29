// SPDX-License-Identifier: GPL-2.0

//! Resolving every function name of a patch object in one walk over the
//! object's symbols.
//!
//! A name's position (`old_sympos`, livepatch's counting) and the check that
//! a name without one is unique need every symbol of that name, and the
//! kernel exports no lookup that gives them (see kernel_glue/symbols.c).
//! Walking the object's symbols once per name made an enable cost one full
//! walk per function; here the walk is done once per object, and each
//! symbol it visits is matched against all the wanted names at once: their
//! hashes, sorted, are searched by bisection, and only names of equal hash
//! are compared.
//!
//! The caller owns the storage: a [`Want`] per name and an index array of
//! the same length ([`sort_index`]); names are read through a closure.

/// One wanted name and, after the walk, what it found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Want {
    /// [`name_hash`] of the name.
    pub hash: u64,
    /// The position wanted: 1-based, 0 for "the only one" (the first is
    /// recorded, and `count` tells whether there were others).
    pub pos: u64,
    /// How many symbols of that name the walk saw.
    pub count: u64,
    /// The address of the `pos`-th (or, for 0, the first), 0 if none.
    pub addr: u64,
}

impl Want {
    /// A name not seen yet, wanted at position `pos`.
    pub fn new(name: &[u8], pos: u64) -> Self {
        Want {
            hash: name_hash(name),
            pos,
            count: 0,
            addr: 0,
        }
    }

    /// Counts one more symbol of the name, at `addr`.
    fn seen(&mut self, addr: u64) {
        self.count += 1;
        if self.count == self.pos.max(1) {
            self.addr = addr;
        }
    }
}

/// FNV-1a, 64 bits: cheap, and good enough to keep equal hashes of
/// different names rare (they are compared anyway).
pub fn name_hash(name: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in name {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Fills `order` (as long as `wants`, at most `u32::MAX` entries) with
/// the indexes of `wants` sorted by hash.
pub fn sort_index(wants: &[Want], order: &mut [u32]) {
    for (k, o) in order.iter_mut().enumerate() {
        *o = k as u32;
    }
    order.sort_unstable_by_key(|&k| wants[k as usize].hash);
}

/// One symbol of the walk, `name` at `addr`: counts it for every wanted
/// name equal to it (`name_of(k)` is the name of `wants[k]`). Returns
/// whether it was wanted.
pub fn visit<'a>(
    wants: &mut [Want],
    order: &[u32],
    name: &[u8],
    addr: u64,
    name_of: impl Fn(usize) -> &'a [u8],
) -> bool {
    let h = name_hash(name);
    let first = order.partition_point(|&k| wants[k as usize].hash < h);
    let mut hit = false;
    for &k in order[first..].iter() {
        let k = k as usize;
        if wants[k].hash != h {
            break;
        }
        if name_of(k) == name {
            wants[k].seen(addr);
            hit = true;
        }
    }
    hit
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    /// Runs a walk over `symbols` for `names` (name, pos).
    fn walk(names: &[(&str, u64)], symbols: &[(&str, u64)]) -> Vec<Want> {
        let mut wants: Vec<Want> = names
            .iter()
            .map(|(n, p)| Want::new(n.as_bytes(), *p))
            .collect();
        let mut order = std::vec![0u32; wants.len()];
        sort_index(&wants, &mut order);
        for (s, a) in symbols {
            visit(&mut wants, &order, s.as_bytes(), *a, |k| {
                names[k].0.as_bytes()
            });
        }
        wants
    }

    #[test]
    fn unique_and_missing() {
        let w = walk(
            &[("foo", 0), ("bar", 0), ("nope", 0)],
            &[("bar", 0x20), ("foo", 0x10), ("baz", 0x30)],
        );
        assert_eq!((w[0].count, w[0].addr), (1, 0x10));
        assert_eq!((w[1].count, w[1].addr), (1, 0x20));
        assert_eq!((w[2].count, w[2].addr), (0, 0));
    }

    #[test]
    fn positions_count_in_walk_order() {
        let syms = [("dup", 0x100), ("x", 0x180), ("dup", 0x200), ("dup", 0x300)];
        let w = walk(
            &[("dup", 0), ("dup", 1), ("dup", 2), ("dup", 3), ("dup", 4)],
            &syms,
        );
        assert!(w.iter().all(|w| w.count == 3));
        // Position 0: the first, and the count says it is not unique.
        assert_eq!(w[0].addr, 0x100);
        assert_eq!(w[1].addr, 0x100);
        assert_eq!(w[2].addr, 0x200);
        assert_eq!(w[3].addr, 0x300);
        // Past the last: nothing.
        assert_eq!(w[4].addr, 0);
    }

    #[test]
    fn equal_hashes_are_compared() {
        // Names are compared whatever the hash says: force one hash for
        // all by matching against a table whose hashes we overwrite.
        let names = ["a", "b", "c"];
        let mut wants: Vec<Want> = names.iter().map(|n| Want::new(n.as_bytes(), 0)).collect();
        for w in wants.iter_mut() {
            w.hash = name_hash(b"b");
        }
        let mut order = std::vec![0u32; 3];
        sort_index(&wants, &mut order);
        assert!(visit(&mut wants, &order, b"b", 0x42, |k| names[k].as_bytes()));
        assert_eq!(wants.iter().map(|w| w.count).collect::<Vec<_>>(), [0, 1, 0]);
        assert!(!visit(&mut wants, &order, b"zz", 0x43, |k| names[k].as_bytes()));
    }

    #[test]
    fn many_names_one_walk() {
        let names: Vec<std::string::String> = (0..1000).map(|k| std::format!("f{k}")).collect();
        let mut syms: Vec<(std::string::String, u64)> = names
            .iter()
            .enumerate()
            .map(|(k, n)| (n.clone(), 0x1000 + 16 * k as u64))
            .collect();
        syms.reverse();
        syms.push(("f7".into(), 0x9999));
        let mut wants: Vec<Want> = names.iter().map(|n| Want::new(n.as_bytes(), 0)).collect();
        let mut order = std::vec![0u32; wants.len()];
        sort_index(&wants, &mut order);
        for (s, a) in syms.iter() {
            visit(&mut wants, &order, s.as_bytes(), *a, |k| {
                names[k].as_bytes()
            });
        }
        for (k, w) in wants.iter().enumerate() {
            assert_eq!(w.addr, 0x1000 + 16 * k as u64);
            assert_eq!(w.count, if k == 7 { 2 } else { 1 });
        }
    }

    #[test]
    fn fnv_reference_values() {
        // FNV-1a 64 test vectors.
        assert_eq!(name_hash(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(name_hash(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(name_hash(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
