//! Strict validation of a JPEG's compressed data, before the (lenient) decoders run.
//!
//! zune-jpeg and jpeg-decoder both decode damaged files "successfully" (a flipped byte gives a
//! grey slab, a shifted colour band or garbage blocks; a truncated file with an end-of-image
//! marker gives a half-grey photo). [`validate_jpeg`] walks every marker segment and
//! Huffman-decodes every block of every scan, baseline and progressive, without the inverse
//! DCT, and refuses the file when:
//!
//! * a bit pattern is no code of its Huffman table, a coefficient size is out of range for the
//!   sample precision, or a dequantised coefficient is larger than any 8x8 block can produce,
//! * a run of coefficients goes past the end of the block (or of a progressive band),
//! * a segment ends before its last block, or has whole bytes left over after it,
//! * restart markers are missing, out of sequence or where none is due,
//! * the end-of-image marker (or the end of the file) comes before every component's every
//!   coefficient was sent: missing scans, a progressive file cut between scans.
//!
//! Frames this library's decoders do not read anyway (arithmetic coding, lossless,
//! hierarchical, a height set by DNL) are left to the decoders.

use super::coefficients::{ac_first, ac_refine, dc_first, sequential_block, Bounds};
use super::entropy::{BitReader, Damage, Huffman};
use super::markers::be16;

/// One frame component.
struct Comp {
    id: u8,
    h: usize,
    v: usize,
    tq: usize,
    /// Blocks per line, padded to whole MCUs.
    bw: usize,
    /// Blocks that hold image data (without the MCU padding).
    real_w: usize,
    real_h: usize,
    /// Progressive: bit k set once coefficient k (zigzag order) of the block is non-zero.
    nonzero: Vec<u64>,
    /// Per coefficient, the successive-approximation bit position still to be sent
    /// (`None` before its first scan).
    next_al: [Option<u8>; 64],
}

/// What the marker walk knows when a scan starts.
#[derive(Default)]
struct State {
    comps: Vec<Comp>,
    progressive: bool,
    precision: u32,
    mcux: usize,
    mcuy: usize,
    qt: [Option<[u16; 64]>; 4],
    dc: [Option<Huffman>; 4],
    ac: [Option<Huffman>; 4],
    restart: usize,
    frame_seen: bool,
}

/// A scan header: the components (index into `State::comps`, DC table, AC table) and the
/// spectral selection and successive approximation.
struct Scan {
    comps: Vec<(usize, usize, usize)>,
    ss: usize,
    se: usize,
    ah: u8,
    al: u8,
}

/// Checks every scan of a JPEG (see the module documentation). `Ok` also for frames that
/// are not validated.
pub(super) fn validate_jpeg(b: &[u8]) -> Result<(), Damage> {
    let mut st = State::default();
    let mut i = 2usize;
    loop {
        let (marker, at) = next_marker(b, i)?;
        i = at;
        match marker {
            0xD9 => return st.complete(),
            0x01 | 0xD0..=0xD7 => {
                return Err(format!("restart marker RST{} outside a scan", marker & 7))
            }
            _ => {}
        }
        let len = be16(b, i).ok_or("the file ends inside a marker segment")? as usize;
        if len < 2 || i + len > b.len() {
            return Err("the file ends inside a marker segment".into());
        }
        let seg = &b[i + 2..i + len];
        i += len;
        match marker {
            0xC0..=0xC2 => {
                if st.frame_seen {
                    return Err("a second frame header".into());
                }
                if !st.frame(seg, marker == 0xC2)? {
                    return Ok(());
                }
            }
            0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return Ok(()),
            0xC4 => st.huffman_tables(seg)?,
            0xDB => st.quant_tables(seg)?,
            0xDD => st.restart = be16(seg, 0).ok_or("short DRI segment")? as usize,
            0xDA => {
                if !st.frame_seen {
                    return Err("a scan before the frame header".into());
                }
                let scan = st.scan_header(seg)?;
                i = st.scan(b, i, &scan)?;
            }
            _ => {}
        }
    }
}

/// The marker at `b[i..]` (after any 0xFF fill bytes) and the offset after its code.
fn next_marker(b: &[u8], mut i: usize) -> Result<(u8, usize), Damage> {
    if b.get(i) != Some(&0xFF) {
        return Err(match b.get(i) {
            None => "the file ends without an end-of-image marker".into(),
            Some(_) => format!("data where a marker was expected at byte {i}"),
        });
    }
    while b.get(i) == Some(&0xFF) {
        i += 1;
    }
    match b.get(i) {
        None => Err("the file ends without an end-of-image marker".into()),
        Some(0) => Err(format!("a stuffed byte where a marker was expected at {i}")),
        Some(&m) => Ok((m, i + 1)),
    }
}

impl State {
    /// Reads SOF0/1/2; `false` for frames left to the decoders.
    fn frame(&mut self, seg: &[u8], progressive: bool) -> Result<bool, Damage> {
        let short = || "short frame header".to_string();
        let p = u32::from(*seg.first().ok_or_else(short)?);
        let height = usize::from(be16(seg, 1).ok_or_else(short)?);
        let width = usize::from(be16(seg, 3).ok_or_else(short)?);
        let n = usize::from(*seg.get(5).ok_or_else(short)?);
        if height == 0 || !(p == 8 || p == 12) {
            return Ok(false);
        }
        if width == 0 || n == 0 || seg.len() < 6 + 3 * n {
            return Err("invalid frame header".into());
        }
        let mut comps = Vec::with_capacity(n);
        for c in seg[6..6 + 3 * n].chunks_exact(3) {
            let (h, v, tq) = (
                usize::from(c[1] >> 4),
                usize::from(c[1] & 15),
                usize::from(c[2]),
            );
            if !(1..=4).contains(&h) || !(1..=4).contains(&v) || tq > 3 {
                return Err("invalid component in the frame header".into());
            }
            comps.push((c[0], h, v, tq));
        }
        let hmax = comps.iter().map(|c| c.1).max().unwrap_or(1);
        let vmax = comps.iter().map(|c| c.2).max().unwrap_or(1);
        self.mcux = width.div_ceil(8 * hmax);
        self.mcuy = height.div_ceil(8 * vmax);
        self.comps = comps
            .into_iter()
            .map(|(id, h, v, tq)| {
                let bw = self.mcux * h;
                Comp {
                    id,
                    h,
                    v,
                    tq,
                    bw,
                    real_w: (width * h).div_ceil(hmax).div_ceil(8),
                    real_h: (height * v).div_ceil(vmax).div_ceil(8),
                    nonzero: if progressive {
                        vec![0; bw * self.mcuy * v]
                    } else {
                        Vec::new()
                    },
                    next_al: [None; 64],
                }
            })
            .collect();
        self.progressive = progressive;
        self.precision = p;
        self.frame_seen = true;
        Ok(true)
    }

    fn huffman_tables(&mut self, mut seg: &[u8]) -> Result<(), Damage> {
        while !seg.is_empty() {
            let bad = || "invalid Huffman table segment".to_string();
            let tc = seg[0] >> 4;
            let th = usize::from(seg[0] & 15);
            let counts: [u8; 16] = seg
                .get(1..17)
                .ok_or_else(bad)?
                .try_into()
                .map_err(|_| bad())?;
            let n: usize = counts.iter().map(|&c| usize::from(c)).sum();
            let vals = seg.get(17..17 + n).ok_or_else(bad)?;
            if tc > 1 || th > 3 {
                return Err(bad());
            }
            let t = Huffman::new(&counts, vals).ok_or_else(bad)?;
            if tc == 0 {
                self.dc[th] = Some(t);
            } else {
                self.ac[th] = Some(t);
            }
            seg = &seg[17 + n..];
        }
        Ok(())
    }

    fn quant_tables(&mut self, mut seg: &[u8]) -> Result<(), Damage> {
        while !seg.is_empty() {
            let bad = || "invalid quantisation table segment".to_string();
            let (pq, tq) = (seg[0] >> 4, usize::from(seg[0] & 15));
            let size = if pq == 0 { 64 } else { 128 };
            let v = seg.get(1..1 + size).ok_or_else(bad)?;
            if pq > 1 || tq > 3 {
                return Err(bad());
            }
            let mut t = [0u16; 64];
            for (k, q) in t.iter_mut().enumerate() {
                *q = if pq == 0 {
                    u16::from(v[k])
                } else {
                    u16::from_be_bytes([v[2 * k], v[2 * k + 1]])
                };
            }
            self.qt[tq] = Some(t);
            seg = &seg[1 + size..];
        }
        Ok(())
    }

    fn scan_header(&self, seg: &[u8]) -> Result<Scan, Damage> {
        let bad = |what: &str| format!("invalid scan header: {what}");
        let n = usize::from(*seg.first().ok_or_else(|| bad("empty"))?);
        if n == 0 || n > 4 || seg.len() < 4 + 2 * n {
            return Err(bad("component count"));
        }
        let mut comps = Vec::with_capacity(n);
        for c in seg[1..1 + 2 * n].chunks_exact(2) {
            let ci = self
                .comps
                .iter()
                .position(|f| f.id == c[0])
                .ok_or_else(|| bad("unknown component"))?;
            if comps.iter().any(|&(x, _, _)| x == ci) {
                return Err(bad("a component twice"));
            }
            comps.push((ci, usize::from(c[1] >> 4), usize::from(c[1] & 15)));
        }
        let t = &seg[1 + 2 * n..];
        let (ss, se, ah, al) = (usize::from(t[0]), usize::from(t[1]), t[2] >> 4, t[2] & 15);
        let blocks: usize = comps
            .iter()
            .map(|&(c, _, _)| self.comps[c].h * self.comps[c].v)
            .sum();
        if n > 1 && blocks > 10 {
            return Err(bad("more than 10 blocks per MCU"));
        }
        if self.progressive {
            let ok = ss <= se && se <= 63 && (ss > 0 || se == 0) && (ss == 0 || n == 1);
            if !ok || al > 13 {
                return Err(bad("spectral selection"));
            }
        } else if ss != 0 || se != 63 || ah != 0 || al != 0 {
            return Err(bad("spectral selection of a sequential scan"));
        }
        let scan = Scan {
            comps,
            ss,
            se,
            ah,
            al,
        };
        for &(c, td, ta) in &scan.comps {
            let need_dc = ss == 0 && ah == 0;
            let need_ac = se > 0;
            if (need_dc && self.dc.get(td).is_none_or(|t| t.is_none()))
                || (need_ac && self.ac.get(ta).is_none_or(|t| t.is_none()))
            {
                return Err(bad("missing Huffman table"));
            }
            if self.qt[self.comps[c].tq].is_none() {
                return Err(bad("missing quantisation table"));
            }
        }
        Ok(scan)
    }

    /// Records which coefficients `scan` sends and checks the order of the progression.
    fn progression(&mut self, scan: &Scan) -> Result<(), Damage> {
        for &(c, _, _) in &scan.comps {
            let comp = &mut self.comps[c];
            if scan.ss > 0 && comp.next_al[0].is_none() {
                return Err("an AC scan before the component's DC scan".into());
            }
            for k in scan.ss..=scan.se {
                let want = if scan.ah == 0 {
                    comp.next_al[k].is_none()
                } else {
                    comp.next_al[k] == Some(scan.ah) && scan.al + 1 == scan.ah
                };
                if !want {
                    return Err(format!(
                        "scan sends coefficient {k} of component {} out of order",
                        comp.id
                    ));
                }
                comp.next_al[k] = Some(scan.al);
            }
        }
        Ok(())
    }

    /// Every coefficient of every component sent in full.
    fn complete(&self) -> Result<(), Damage> {
        if !self.frame_seen {
            return Err("no frame header before the end of the image".into());
        }
        for c in &self.comps {
            if c.next_al.iter().any(|a| *a != Some(0)) {
                return Err(format!(
                    "the image ends before all scans of component {} (premature end of image)",
                    c.id
                ));
            }
        }
        Ok(())
    }

    /// Decodes the scan whose entropy-coded data starts at `b[start]`; returns the offset of
    /// the marker after it.
    fn scan(&mut self, b: &[u8], start: usize, scan: &Scan) -> Result<usize, Damage> {
        self.progression(scan)?;
        let (units_x, units_y) = if scan.comps.len() > 1 {
            (self.mcux, self.mcuy)
        } else {
            let c = &self.comps[scan.comps[0].0];
            (c.real_w, c.real_h)
        };
        let total = units_x * units_y;
        let interval = if self.restart == 0 {
            total
        } else {
            self.restart
        };
        let mut pos = start;
        let mut unit = 0usize;
        let mut rst = 0u8;
        while unit < total {
            let n = interval.min(total - unit);
            let mut r = BitReader::new(b, pos);
            self.segment(&mut r, scan, unit, n, units_x)?;
            let end = r.finish()?;
            unit += n;
            let (m, after) = next_marker(b, end)?;
            if unit < total {
                if m != 0xD0 + rst {
                    return Err(match m {
                        0xD0..=0xD7 => format!("restart marker RST{} where RST{rst} is due", m & 7),
                        _ => format!("restart marker RST{rst} missing"),
                    });
                }
                rst = (rst + 1) & 7;
                pos = after;
            } else {
                if (0xD0..=0xD7).contains(&m) {
                    return Err("a restart marker after the last block of a scan".into());
                }
                pos = end;
            }
        }
        Ok(pos)
    }

    /// Decodes `n` MCUs from MCU `first` (a restart interval or the whole scan).
    fn segment(
        &mut self,
        r: &mut BitReader<'_>,
        scan: &Scan,
        first: usize,
        n: usize,
        units_x: usize,
    ) -> Result<(), Damage> {
        let mut pred = [0i32; 4];
        let mut eobrun = 0u32;
        let interleaved = scan.comps.len() > 1;
        for u in first..first + n {
            let (ux, uy) = (u % units_x, u / units_x);
            for (si, &(c, td, ta)) in scan.comps.iter().enumerate() {
                let (h, v) = if interleaved {
                    (self.comps[c].h, self.comps[c].v)
                } else {
                    (1, 1)
                };
                for by in 0..v {
                    for bx in 0..h {
                        let block = (uy * v + by) * self.comps[c].bw + ux * h + bx;
                        let blk = Block { c, td, ta, block };
                        self.block(r, scan, &blk, &mut pred[si], &mut eobrun)
                            .map_err(|e| format!("{e} (MCU {} of the scan)", u + 1))?;
                    }
                }
            }
            if r.overrun() {
                return Err("the compressed data ends before the last blocks".into());
            }
        }
        Ok(())
    }
}

/// Table `i` of `t`, or the error saying it is missing.
fn table(t: &[Option<Huffman>; 4], i: usize) -> Result<&Huffman, Damage> {
    t.get(i)
        .and_then(|t| t.as_ref())
        .ok_or_else(|| "missing Huffman table".to_string())
}

/// One block of a scan: component, its DC and AC table, and its index in the component.
struct Block {
    c: usize,
    td: usize,
    ta: usize,
    block: usize,
}

impl State {
    /// Decodes one block of `scan` with the procedure its kind needs.
    fn block(
        &mut self,
        r: &mut BitReader<'_>,
        scan: &Scan,
        b: &Block,
        pred: &mut i32,
        eobrun: &mut u32,
    ) -> Result<(), Damage> {
        let comp = &mut self.comps[b.c];
        let q = self.qt[comp.tq]
            .as_ref()
            .ok_or("missing quantisation table")?;
        let bounds = Bounds::new(self.precision);
        if !self.progressive {
            let (dc, ac) = (table(&self.dc, b.td)?, table(&self.ac, b.ta)?);
            return sequential_block(r, dc, ac, q[0], &bounds, pred);
        }
        if scan.ss == 0 {
            return if scan.ah == 0 {
                dc_first(r, table(&self.dc, b.td)?, q[0], scan.al, &bounds, pred)
            } else {
                r.bits(1);
                Ok(())
            };
        }
        let nz = comp
            .nonzero
            .get_mut(b.block)
            .ok_or("block outside the component")?;
        let ac = table(&self.ac, b.ta)?;
        let band = (scan.ss, scan.se);
        if scan.ah == 0 {
            ac_first(r, ac, band, &bounds, eobrun, nz)
        } else {
            ac_refine(r, ac, band, eobrun, nz)
        }
    }
}

#[cfg(test)]
mod tests;
