//! Huffman decoding of one 8x8 block's coefficients, for the scan validator
//! ([`super::scans`]): a sequential block, and the four kinds of progressive scans (DC first,
//! AC first, AC refinement; a DC refinement is one raw bit). The values are checked and
//! dropped: no coefficient buffer, no inverse DCT.

use super::entropy::{BitReader, Damage, Huffman};

/// What a valid block can hold at a sample precision of `P` bits.
pub(super) struct Bounds {
    /// Largest size category of a DC difference (`P` + 3) and of an AC coefficient (`P` + 2).
    dc_size: u32,
    ac_size: u32,
    /// Largest dequantised coefficient magnitude, before the quantiser's rounding: 2^(P+2)
    /// is what an 8x8 block of full-range samples gives at most (DC, and the (0,4) and
    /// (4,4) AC terms); twice that is allowed (the AC terms of a camera file in the shared
    /// data reach 2.5 times the bound, so AC values are only checked by their size category).
    max: i64,
}

impl Bounds {
    pub(super) fn new(precision: u32) -> Bounds {
        Bounds {
            dc_size: precision + 3,
            ac_size: precision + 2,
            max: 1 << (precision + 3),
        }
    }

    /// `Err` when `v` quantised by `q` is larger than any block can produce.
    #[inline]
    fn check(&self, v: i32, q: u16) -> Result<(), Damage> {
        let q = i64::from(q);
        if (i64::from(v) * q).abs() > self.max + q / 2 {
            return Err(format!(
                "DC coefficient {v} (x{q}) out of range: corrupt compressed data"
            ));
        }
        Ok(())
    }
}

#[inline]
fn dc_diff(r: &mut BitReader<'_>, dc: &Huffman, b: &Bounds) -> Result<i32, Damage> {
    let s = u32::from(dc.decode(r)?);
    if s > b.dc_size {
        return Err(format!(
            "DC difference of {s} bits: corrupt compressed data"
        ));
    }
    Ok(r.value(s))
}

/// A block of a sequential (baseline or extended) scan.
pub(super) fn sequential_block(
    r: &mut BitReader<'_>,
    dc: &Huffman,
    ac: &Huffman,
    q0: u16,
    b: &Bounds,
    pred: &mut i32,
) -> Result<(), Damage> {
    *pred += dc_diff(r, dc, b)?;
    b.check(*pred, q0)?;
    let mut k = 1usize;
    while k < 64 {
        let rs = ac.decode_skip(r)?;
        let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
        if s == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            if k > 64 {
                return Err("a run of zero coefficients past the end of a block".into());
            }
            continue;
        }
        k += run;
        if k > 63 {
            return Err("a coefficient run past the end of a block (64 coefficients)".into());
        }
        if s > b.ac_size {
            return Err(format!(
                "AC coefficient of {s} bits: corrupt compressed data"
            ));
        }
        k += 1;
    }
    Ok(())
}

/// A block of a progressive DC first scan (point transform `al`).
pub(super) fn dc_first(
    r: &mut BitReader<'_>,
    dc: &Huffman,
    q0: u16,
    al: u8,
    b: &Bounds,
    pred: &mut i32,
) -> Result<(), Damage> {
    *pred += dc_diff(r, dc, b)?;
    b.check(pred.saturating_mul(1 << al), q0)
}

/// A block of a progressive AC first scan over the zigzag band `band`; sets the bits of the coefficients it makes non-zero in `nz`.
pub(super) fn ac_first(
    r: &mut BitReader<'_>,
    ac: &Huffman,
    band: (usize, usize),
    b: &Bounds,
    eobrun: &mut u32,
    nz: &mut u64,
) -> Result<(), Damage> {
    if *eobrun > 0 {
        *eobrun -= 1;
        return Ok(());
    }
    let (ss, se) = band;
    let mut k = ss;
    while k <= se {
        let rs = ac.decode_skip(r)?;
        let (run, s) = (usize::from(rs >> 4), u32::from(rs & 15));
        if s == 0 {
            if run < 15 {
                *eobrun = (1u32 << run) - 1 + r.bits(run as u32);
                break;
            }
            k += 16;
            if k > se + 1 {
                return Err("a run of zero coefficients past the end of a band".into());
            }
            continue;
        }
        k += run;
        if k > se {
            return Err("a coefficient run past the end of a progressive band".into());
        }
        if s > b.ac_size {
            return Err(format!(
                "AC coefficient of {s} bits: corrupt compressed data"
            ));
        }
        *nz |= 1 << k;
        k += 1;
    }
    Ok(())
}

/// A block of a progressive AC refinement scan over `band`: correction bits for the
/// coefficients already non-zero (`nz`), new coefficients of magnitude 1.
pub(super) fn ac_refine(
    r: &mut BitReader<'_>,
    ac: &Huffman,
    band: (usize, usize),
    eobrun: &mut u32,
    nz: &mut u64,
) -> Result<(), Damage> {
    let (ss, se) = band;
    let mut k = ss;
    if *eobrun == 0 {
        while k <= se {
            let rs = ac.decode(r)?;
            let (mut run, s) = (i32::from(rs >> 4), u32::from(rs & 15));
            if s == 0 && run < 15 {
                *eobrun = (1u32 << run) + r.bits(run as u32);
                break;
            }
            if s > 1 {
                return Err(format!("refinement coefficient of {s} bits"));
            }
            if s == 1 {
                r.bits(1);
            }
            // skip `run` zero coefficients, with a correction bit for each non-zero one
            loop {
                if k > se {
                    return Err("a refinement run past the end of a progressive band".into());
                }
                if *nz & (1 << k) != 0 {
                    r.bits(1);
                } else {
                    if run == 0 {
                        break;
                    }
                    run -= 1;
                }
                k += 1;
            }
            if s == 1 {
                *nz |= 1 << k;
            }
            k += 1;
        }
    }
    if *eobrun > 0 {
        for kk in k..=se {
            if *nz & (1 << kk) != 0 {
                r.bits(1);
            }
        }
        *eobrun -= 1;
    }
    Ok(())
}
