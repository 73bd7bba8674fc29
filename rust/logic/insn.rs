// SPDX-License-Identifier: GPL-2.0

//! ppc64 (ELFv2) instruction decode and encode for global entry prologues,
//! and the odd-TOC marker computed from them.
//!
//! A function's global entry computes the TOC pointer r2 from r12 (which
//! holds the global entry address). Two forms are recognised, each in the
//! first two instruction words of the function; anything else is reported
//! as [`GlobalEntry::Unknown`] and gets no marker (its calls count as local,
//! the safe side):
//!
//! * [`GlobalEntry::TocRelative`]: `addis r2,r12,hi` then `addi r2,r2,lo`,
//!   so r2 = r12 + (hi << 16) + lo. GCC and rustc emit it for the small and
//!   medium code models (vmlinux, Rust code).
//! * [`GlobalEntry::TocLoad`]: `ld r2,disp(r12)` then `add r2,r2,r12`, so
//!   r2 = r12 + *(r12 + disp), where the 8-byte word at `disp` (GCC: -8)
//!   before the function holds `.TOC. - func`. GCC emits it for the large
//!   code model, which powerpc uses for every C module.
//!
//! The marker makes the global entry compute `TOC + delta` with `delta`
//! = +1 or -1, an odd value no real TOC has (the TOC base is .got + 0x8000
//! and .got is 8-byte aligned). It is one naturally aligned store, so a CPU
//! sees either the old or the new prologue, never a mix:
//!
//! * TOC-relative: the `addi` word gets `lo + 1` (or `lo - 1` when `lo` is
//!   `i16::MAX`, so that the `addis` half never has to change).
//! * TOC-load: the 8-byte offset word gets `+ 1`; no instruction changes.
//!
//! Nothing here touches memory: the caller reads the words, asks for a
//! marker, writes it with its own text-patching path and keeps the
//! [`Marker`] to restore the original bytes.

/// Primary opcode field (bits 0..5 in ISA numbering, 26..31 here).
const fn opcode(insn: u32) -> u32 {
    insn >> 26
}

/// RT (or RS) field.
const fn rt(insn: u32) -> u32 {
    (insn >> 21) & 0x1f
}

/// RA field.
const fn ra(insn: u32) -> u32 {
    (insn >> 16) & 0x1f
}

/// RB field.
const fn rb(insn: u32) -> u32 {
    (insn >> 11) & 0x1f
}

const OP_ADDI: u32 = 14;
const OP_ADDIS: u32 = 15;
const OP_LD: u32 = 58;
const OP_X: u32 = 31;
/// Extended opcode of `add` (XO-form, OE = 0).
const XO_ADD: u32 = 266;

/// The TOC pointer register.
pub const R2: u32 = 2;
/// The register holding a global entry's own address on entry.
pub const R12: u32 = 12;
/// The stack pointer.
pub const R1: u32 = 1;

/// Offset of the TOC save slot in an ELFv2 stack frame header (the
/// kernel's `R2_STACK_OFFSET` and `STK_GOT`): a caller whose r2 may change
/// across a call saves it there, or has a stub save it, and reloads it
/// after the call.
pub const TOC_SAVE_SLOT: i16 = 24;

/// `ld r2,24(r1)`: the TOC reload that follows a call through a global
/// entry in compiled code (the linker's or the compiler's `nop` slot after
/// `bl`, the reload after `bctrl`); the kernel's `PPC_INST_LD_TOC`.
pub const LD_TOC: u32 = ld(R2, R1, TOC_SAVE_SLOT);

/// Whether `insn`, the instruction at a call's return address, reloads
/// the caller's TOC from its save slot.
///
/// A global call may go without a shadow frame only when it does: the
/// replacement returns with its own TOC in r2, and only this reload puts
/// the caller's back. Assembly callers that enter a function through its
/// global entry and carry on with the r2 it returned (for example
/// `ret_from_kernel_user_thread`: `mtctr; mr r12; bctrl`, then C code)
/// need the frame, which hands back the TOC the original would have
/// returned with.
pub const fn reloads_toc(insn: u32) -> bool {
    insn == LD_TOC
}

/// Encodes a D-form instruction `op rt, ra, imm`.
pub const fn encode_d(op: u32, rt: u32, ra: u32, imm: i16) -> u32 {
    (op << 26) | (rt << 21) | (ra << 16) | (imm as u16 as u32)
}

/// Encodes `addis rt, ra, imm`.
pub const fn addis(rt: u32, ra: u32, imm: i16) -> u32 {
    encode_d(OP_ADDIS, rt, ra, imm)
}

/// Encodes `addi rt, ra, imm`.
pub const fn addi(rt: u32, ra: u32, imm: i16) -> u32 {
    encode_d(OP_ADDI, rt, ra, imm)
}

/// Encodes `ld rt, ds(ra)`; `ds` must be a multiple of 4.
pub const fn ld(rt: u32, ra: u32, ds: i16) -> u32 {
    (OP_LD << 26) | (rt << 21) | (ra << 16) | ((ds as u16 as u32) & 0xfffc)
}

/// Encodes `add rt, ra, rb`.
pub const fn add(rt: u32, ra: u32, rb: u32) -> u32 {
    (OP_X << 26) | (rt << 21) | (ra << 16) | (rb << 11) | (XO_ADD << 1)
}

/// The global entry prologue of a function, decoded from its first two
/// instruction words.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlobalEntry {
    /// `addis r2,r12,hi ; addi r2,r2,lo`.
    TocRelative {
        /// Immediate of the `addis`.
        hi: i16,
        /// Immediate of the `addi`.
        lo: i16,
    },
    /// `ld r2,disp(r12) ; add r2,r2,r12`.
    TocLoad {
        /// Byte displacement from the global entry of the TOC offset word.
        disp: i16,
    },
    /// No TOC setup that we recognise: no marker, calls count as local.
    Unknown,
}

impl GlobalEntry {
    /// Decodes the first two instruction words of a function.
    pub const fn decode(first: u32, second: u32) -> Self {
        if opcode(first) == OP_ADDIS
            && rt(first) == R2
            && ra(first) == R12
            && opcode(second) == OP_ADDI
            && rt(second) == R2
            && ra(second) == R2
        {
            return GlobalEntry::TocRelative {
                hi: first as u16 as i16,
                lo: second as u16 as i16,
            };
        }
        // DS-form: the low two bits are the extended opcode, 0 for `ld`.
        if opcode(first) == OP_LD
            && first & 3 == 0
            && rt(first) == R2
            && ra(first) == R12
            && second == add(R2, R2, R12)
        {
            // The word must be 8-byte aligned relative to the (4-byte
            // aligned) function for the one-store guarantee; GCC uses -8.
            let disp = first as u16 as i16;
            if disp % 8 == 0 {
                return GlobalEntry::TocLoad { disp };
            }
        }
        GlobalEntry::Unknown
    }

    /// Byte offset of the local entry point from the global entry point.
    /// Both recognised forms are two instructions long.
    pub const fn local_entry_offset(&self) -> Option<u32> {
        match self {
            GlobalEntry::TocRelative { .. } | GlobalEntry::TocLoad { .. } => Some(8),
            GlobalEntry::Unknown => None,
        }
    }

    /// The r2 this prologue computes for global entry address `r12`, given
    /// the 8-byte word it loads (ignored for [`GlobalEntry::TocRelative`]).
    pub const fn toc(&self, r12: u64, loaded: u64) -> Option<u64> {
        match *self {
            GlobalEntry::TocRelative { hi, lo } => Some(
                r12.wrapping_add(((hi as i64) << 16) as u64)
                    .wrapping_add(lo as i64 as u64),
            ),
            GlobalEntry::TocLoad { .. } => Some(r12.wrapping_add(loaded)),
            GlobalEntry::Unknown => None,
        }
    }
}

/// Size of the word a [`Marker`] rewrites.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// One instruction word.
    Word,
    /// One doubleword (a TOC offset stored before the function).
    Doubleword,
}

/// One store that turns a prologue's TOC odd, and the value to undo it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    /// Byte offset from the global entry of the rewritten word.
    pub offset: i32,
    /// Size of the rewritten word.
    pub width: Width,
    /// The original contents (to check before writing and to restore).
    pub old: u64,
    /// The marked contents.
    pub new: u64,
    /// What the marked prologue adds to the real TOC: +1 or -1.
    pub delta: i64,
}

impl Marker {
    /// Computes the marker for a decoded prologue. `first`/`second` are the
    /// two instruction words, `loaded` the TOC offset word for
    /// [`GlobalEntry::TocLoad`]. Returns `None` when there is no TOC setup to
    /// mark.
    pub fn for_prologue(entry: GlobalEntry, second: u32, loaded: u64) -> Option<Self> {
        match entry {
            GlobalEntry::TocRelative { lo, .. } => {
                let (new_lo, delta) = if lo == i16::MAX {
                    (lo - 1, -1)
                } else {
                    (lo + 1, 1)
                };
                let new = (second & 0xffff_0000) | u32::from(new_lo as u16);
                Some(Marker {
                    offset: 4,
                    width: Width::Word,
                    old: u64::from(second),
                    new: u64::from(new),
                    delta,
                })
            }
            GlobalEntry::TocLoad { disp } => Some(Marker {
                offset: i32::from(disp),
                width: Width::Doubleword,
                old: loaded,
                new: loaded.wrapping_add(1),
                delta: 1,
            }),
            GlobalEntry::Unknown => None,
        }
    }
}

/// How a call reached a patched function, judged by the r2 it arrived with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Through the local entry: r2 is the caller's (and the target's) TOC,
    /// and the caller will not restore it after the call.
    Local,
    /// Through the marked global entry: r2 is odd; the caller restores its
    /// own r2 from its TOC save slot after the call.
    Global,
}

/// Classifies the r2 a call arrived with at the ftrace hook.
pub const fn classify(r2: u64) -> CallKind {
    if r2 & 1 != 0 {
        CallKind::Global
    } else {
        CallKind::Local
    }
}

/// The real TOC for an r2 computed by a prologue marked with `delta`.
pub const fn repair_toc(r2: u64, delta: i64) -> u64 {
    r2.wrapping_sub(delta as u64)
}

const OP_B: u32 = 18;
const OP_STD: u32 = 62;

/// Encodes `std rs, ds(ra)`; `ds` must be a multiple of 4.
pub const fn std(rs: u32, ra: u32, ds: i16) -> u32 {
    (OP_STD << 26) | (rs << 21) | (ra << 16) | ((ds as u16 as u32) & 0xfffc)
}

/// Encodes `b` (relative, no link) from `from` to `to`.
pub const fn b(from: u64, to: u64) -> u32 {
    (OP_B << 26) | ((to.wrapping_sub(from) as u32) & 0x03ff_fffc)
}

/// Encodes `bl` from `from` to `to`.
pub const fn bl(from: u64, to: u64) -> u32 {
    b(from, to) | 1
}

/// The target of a relative branch without link (`b`, a sibling call or a
/// jump) at address `addr`, or `None` for anything else (`bl`, `ba`,
/// conditional branches).
pub const fn sibling_branch_target(insn: u32, addr: u64) -> Option<u64> {
    if opcode(insn) != OP_B || insn & 3 != 0 {
        return None;
    }
    // LI is a 24-bit word offset: sign-extend the 26-bit byte offset.
    let off = (((insn & 0x03ff_fffc) << 6) as i32 >> 6) as i64;
    Some(addr.wrapping_add(off as u64))
}

/// The direct path's table key of a function whose ftrace location `loc`
/// is hooked on an out-of-line ftrace kernel: the location branches to
/// the function's stub (`b stub`), whose call (at `stub + 4`) returns to
/// `stub + 8`, the key (what the direct trampoline finds in LR); the
/// stub's last word (`stub + 12`) branches back to `loc + 4`, which is
/// checked. `word(a)` reads the instruction at `a`. `None` if the words
/// are not that.
pub fn ool_stub_key(loc: u64, word: impl Fn(u64) -> u32) -> Option<u64> {
    let stub = sibling_branch_target(word(loc), loc)?;
    let back = stub.wrapping_add(12);
    (sibling_branch_target(word(back), back)? == loc.wrapping_add(4)).then_some(stub + 8)
}

/// `std r2,24(r1)`: what a call stub does to save the caller's TOC in the
/// TOC save slot of the frame at r1 (ELFv2).
pub const STD_R2_TOC_SLOT: u32 = std(R2, R1, TOC_SAVE_SLOT);

/// Whether the first words of a branch target are a TOC-saving call stub
/// (the ppc64 module loader's stubs save r2 within their first four
/// instructions).
pub fn saves_toc(words: &[u32]) -> bool {
    words.iter().take(4).any(|w| *w == STD_R2_TOC_SLOT)
}

/// The sibling branches of a function's code that leave it: `(address of
/// the branch, its target)` for every `b` whose target is outside
/// `[base, base + 4 * code.len())`.
pub fn outgoing_sibling_branches(code: &[u32], base: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
    let end = base + 4 * code.len() as u64;
    code.iter().enumerate().filter_map(move |(i, w)| {
        let at = base + 4 * i as u64;
        sibling_branch_target(*w, at)
            .filter(|t| *t < base || *t >= end)
            .map(|t| (at, t))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Words taken from `objdump -d` of the 7.3 ppc64le vmlinux and of a GCC
    // 12 module object (cmdline_proc_show and a -mcmodel=large function).
    const VMLINUX_ADDIS: u32 = 0x3c4c_0162; // addis r2,r12,354
    const VMLINUX_ADDI: u32 = 0x3842_a300; // addi r2,r2,-23808
    const MODULE_LD: u32 = 0xe84c_fff8; // ld r2,-8(r12)
    const MODULE_ADD: u32 = 0x7c42_6214; // add r2,r2,r12

    #[test]
    fn encoders_match_known_words() {
        assert_eq!(addis(R2, R12, 354), VMLINUX_ADDIS);
        assert_eq!(addi(R2, R2, -23808), VMLINUX_ADDI);
        assert_eq!(ld(R2, R12, -8), MODULE_LD);
        assert_eq!(add(R2, R2, R12), MODULE_ADD);
    }

    #[test]
    fn decodes_toc_relative() {
        let e = GlobalEntry::decode(VMLINUX_ADDIS, VMLINUX_ADDI);
        assert_eq!(
            e,
            GlobalEntry::TocRelative {
                hi: 354,
                lo: -23808
            }
        );
        assert_eq!(e.local_entry_offset(), Some(8));
        let f = 0xc000_0000_0050_0000u64;
        assert_eq!(e.toc(f, 0), Some(f + (354 << 16) - 23808));
    }

    #[test]
    fn decodes_toc_load() {
        let e = GlobalEntry::decode(MODULE_LD, MODULE_ADD);
        assert_eq!(e, GlobalEntry::TocLoad { disp: -8 });
        assert_eq!(e.toc(0x1000, 0x8000), Some(0x9000));
    }

    #[test]
    fn rejects_other_prologues() {
        let nop = 0x6000_0000;
        let mflr_r0 = 0x7c08_02a6;
        assert_eq!(GlobalEntry::decode(nop, nop), GlobalEntry::Unknown);
        assert_eq!(GlobalEntry::decode(mflr_r0, nop), GlobalEntry::Unknown);
        // lis r2 (addis r2,0) is not r12-relative.
        assert_eq!(
            GlobalEntry::decode(addis(R2, 0, 1), VMLINUX_ADDI),
            GlobalEntry::Unknown
        );
        // Wrong target registers.
        assert_eq!(
            GlobalEntry::decode(addis(3, R12, 1), addi(3, 3, 1)),
            GlobalEntry::Unknown
        );
        assert_eq!(
            GlobalEntry::decode(VMLINUX_ADDIS, addi(R2, 3, 4)),
            GlobalEntry::Unknown
        );
        // ldu (DS extended opcode 1) and a misaligned offset word.
        assert_eq!(
            GlobalEntry::decode(MODULE_LD | 1, MODULE_ADD),
            GlobalEntry::Unknown
        );
        assert_eq!(
            GlobalEntry::decode(ld(R2, R12, -12), MODULE_ADD),
            GlobalEntry::Unknown
        );
        assert_eq!(
            GlobalEntry::decode(MODULE_LD, add(R2, R2, 11)),
            GlobalEntry::Unknown
        );
        assert_eq!(GlobalEntry::Unknown.local_entry_offset(), None);
    }

    /// Every marker yields an odd r2 and repairs back to the real TOC.
    fn check_marker(entry: GlobalEntry, second: u32, loaded: u64, r12: u64) {
        let m = Marker::for_prologue(entry, second, loaded).unwrap();
        let real = entry.toc(r12, loaded).unwrap();
        assert_eq!(real & 1, 0, "test TOC must be even");
        let marked = match m.width {
            Width::Word => {
                let hi_word = match entry {
                    GlobalEntry::TocRelative { hi, .. } => addis(R2, R12, hi),
                    _ => unreachable!(),
                };
                GlobalEntry::decode(hi_word, m.new as u32)
                    .toc(r12, loaded)
                    .unwrap()
            }
            Width::Doubleword => entry.toc(r12, m.new).unwrap(),
        };
        assert_eq!(classify(marked), CallKind::Global);
        assert_eq!(classify(real), CallKind::Local);
        assert_eq!(repair_toc(marked, m.delta), real);
        assert_ne!(m.old, m.new);
    }

    #[test]
    fn toc_relative_marker() {
        let e = GlobalEntry::decode(VMLINUX_ADDIS, VMLINUX_ADDI);
        let m = Marker::for_prologue(e, VMLINUX_ADDI, 0).unwrap();
        assert_eq!(m.offset, 4);
        assert_eq!(m.width, Width::Word);
        assert_eq!(m.old, VMLINUX_ADDI as u64);
        assert_eq!(m.new, addi(R2, R2, -23807) as u64);
        assert_eq!(m.delta, 1);
        check_marker(e, VMLINUX_ADDI, 0, 0xc000_0000_0050_0000);
    }

    #[test]
    fn toc_relative_marker_at_immediate_limit() {
        let second = addi(R2, R2, i16::MAX);
        let e = GlobalEntry::decode(addis(R2, R12, 3), second);
        let m = Marker::for_prologue(e, second, 0).unwrap();
        assert_eq!(m.delta, -1);
        assert_eq!(m.new, addi(R2, R2, i16::MAX - 1) as u64);
        check_marker(e, second, 0, 0xc000_0000_0000_0001);
        // The other end of the range needs no special case.
        let second = addi(R2, R2, i16::MIN);
        let e = GlobalEntry::decode(addis(R2, R12, 3), second);
        check_marker(e, second, 0, 0xc000_0000_0000_8000);
    }

    #[test]
    fn toc_load_marker() {
        let e = GlobalEntry::decode(MODULE_LD, MODULE_ADD);
        let loaded = 0x0000_0000_0001_7f00u64;
        let m = Marker::for_prologue(e, MODULE_ADD, loaded).unwrap();
        assert_eq!(m.offset, -8);
        assert_eq!(m.width, Width::Doubleword);
        assert_eq!((m.old, m.new, m.delta), (loaded, loaded + 1, 1));
        check_marker(e, MODULE_ADD, loaded, 0xc008_0000_0012_3400);
        // A negative offset (TOC below the function) works the same way.
        check_marker(e, MODULE_ADD, (-0x4000i64) as u64, 0xc008_0000_0012_3400);
    }

    #[test]
    fn no_marker_without_toc_setup() {
        assert_eq!(Marker::for_prologue(GlobalEntry::Unknown, 0, 0), None);
    }

    #[test]
    fn branches() {
        let at = 0xc008_0000_0000_1000u64;
        // Forward, backward, and the ends of the +-32 MiB range.
        for to in [at + 0x40, at - 0x100, at + 0x01ff_fffc, at - 0x0200_0000] {
            assert_eq!(sibling_branch_target(b(at, to), at), Some(to));
        }
        assert_eq!(sibling_branch_target(bl(at, at + 8), at), None);
        assert_eq!(sibling_branch_target(0x4800_0002, at), None); // ba
        assert_eq!(sibling_branch_target(0x4182_0010, at), None); // beq
        assert_eq!(sibling_branch_target(0x6000_0000, at), None); // nop
                                                                  // From objdump of a module stub: std r2,24(r1) is f8 41 00 18.
        assert_eq!(STD_R2_TOC_SLOT, 0xf841_0018);
    }

    #[test]
    fn finds_tail_calls_leaving_the_function() {
        let base = 0x1000u64;
        let stub = 0x8000u64;
        let code = [
            addis(R2, R12, 1),
            addi(R2, R2, 8),
            b(base + 8, base + 16), // a jump inside the function
            bl(base + 12, stub),    // a call: returns here, not a sibling call
            b(base + 16, stub),     // the tail call
        ];
        let found: std::vec::Vec<_> = outgoing_sibling_branches(&code, base).collect();
        assert_eq!(found, [(base + 16, stub)]);
        let module_stub = [
            addis(11, R2, 0),
            addi(11, 11, 0x40),
            STD_R2_TOC_SLOT,
            ld(R12, 11, 32),
        ];
        assert!(saves_toc(&module_stub));
        assert!(!saves_toc(&[
            addis(R2, R12, 1),
            addi(R2, R2, 8),
            0x7c08_02a6,
            0x6000_0000
        ]));
    }

    #[test]
    fn classification() {
        assert_eq!(classify(0xc000_0000_0123_4500), CallKind::Local);
        assert_eq!(classify(0xc000_0000_0123_4501), CallKind::Global);
        assert_eq!(repair_toc(0xc000_0000_0123_4501, 1), 0xc000_0000_0123_4500);
        assert_eq!(repair_toc(0xc000_0000_0123_44ff, -1), 0xc000_0000_0123_4500);
    }
}

#[cfg(test)]
mod return_site_tests {
    use super::*;

    #[test]
    fn ld_toc_is_the_abi_reload() {
        // objdump: e8 41 00 18   ld r2,24(r1)
        assert_eq!(LD_TOC, 0xe841_0018);
        assert!(reloads_toc(0xe841_0018));
    }

    #[test]
    fn other_return_sites_do_not_reload() {
        // nop, ld r2,40(r1) (ELFv1 slot), ld r5,48(r1), ld r2,24(r3), mr r2,r4
        for insn in [
            0x6000_0000,
            0xe841_0028,
            0xe8a1_0030,
            0xe843_0018,
            0x7c82_2378,
        ] {
            assert!(!reloads_toc(insn), "{insn:#x}");
        }
    }

    #[test]
    fn ool_stub_keys() {
        let text = |loc: u64, stub: u64, back: u64| {
            move |a: u64| match a {
                a if a == loc => b(loc, stub),
                a if a == stub + 12 => b(stub + 12, back),
                _ => 0x6000_0000,
            }
        };
        let (loc, stub) = (0xc000_0000_0123_4568u64, 0xc000_0000_0000_2010u64);
        assert_eq!(ool_stub_key(loc, text(loc, stub, loc + 4)), Some(stub + 8));
        // A stub after the function (module stubs are).
        let (loc2, stub2) = (0xc008_0000_0001_0008u64, 0xc008_0000_0003_0018u64);
        assert_eq!(
            ool_stub_key(loc2, text(loc2, stub2, loc2 + 4)),
            Some(stub2 + 8)
        );
        // The stub branches elsewhere; no branch at the location.
        assert_eq!(ool_stub_key(loc, text(loc, stub, loc + 8)), None);
        assert_eq!(ool_stub_key(loc, |_| 0x6000_0000), None);
        assert_eq!(
            ool_stub_key(loc, |a| if a == loc { bl(loc, stub) } else { 0x6000_0000 }),
            None
        );
    }
}
