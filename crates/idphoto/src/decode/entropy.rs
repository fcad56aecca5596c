//! The pieces of a JPEG entropy decoder that the scan validator ([`super::scans`]) needs: a bit
//! reader over entropy-coded data that stops at the next marker and knows how many bits of
//! real data are left, and Huffman tables with a 9-bit lookup.

/// Why a scan is invalid; becomes the text of an [`Error::Decode`](crate::Error::Decode).
pub(super) type Damage = String;

/// Bits of one entropy-coded segment (from a scan header or restart marker up to the next
/// marker). Past the marker it reads zero bits and counts them in `pad`, so the caller can
/// tell a segment that ended early (`remaining() < 0`) from one with bits left over.
pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` not yet in `acc`.
    pos: usize,
    /// Bits not yet consumed, left-aligned.
    acc: u64,
    nbits: u32,
    /// Zero bits appended after the marker (or the end of the file).
    pad: u32,
    /// Offset of the marker's first 0xFF byte, once reached (`data.len()` at the end of data).
    end: Option<usize>,
}

impl<'a> BitReader<'a> {
    /// A reader of the entropy-coded data starting at `data[pos]`.
    pub(super) fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            acc: 0,
            nbits: 0,
            pad: 0,
            end: None,
        }
    }

    #[inline]
    fn fill(&mut self) {
        while self.nbits <= 56 {
            let byte = if self.end.is_some() {
                self.pad += 8;
                0
            } else {
                match self.data.get(self.pos) {
                    None => {
                        self.end = Some(self.data.len());
                        continue;
                    }
                    Some(&0xFF) => {
                        if self.data.get(self.pos + 1) == Some(&0) {
                            self.pos += 2;
                            0xFF
                        } else {
                            self.end = Some(self.pos);
                            continue;
                        }
                    }
                    Some(&b) => {
                        self.pos += 1;
                        b
                    }
                }
            };
            self.acc |= u64::from(byte) << (56 - self.nbits);
            self.nbits += 8;
        }
    }

    /// The next 16 bits without consuming them.
    #[inline]
    fn peek16(&mut self) -> u32 {
        if self.nbits < 16 {
            self.fill();
        }
        (self.acc >> 48) as u32
    }

    #[inline]
    fn consume(&mut self, n: u32) {
        self.acc <<= n;
        self.nbits -= n;
    }

    /// `n` (0..=16) bits as an unsigned number.
    #[inline]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        if self.nbits < n {
            self.fill();
        }
        let v = (self.acc >> (64 - n)) as u32;
        self.consume(n);
        v
    }

    /// A coefficient value of `s` bits (JPEG's RECEIVE and EXTEND).
    #[inline]
    pub(super) fn value(&mut self, s: u32) -> i32 {
        let v = self.bits(s) as i32;
        if s > 0 && v < 1 << (s - 1) {
            v - (1 << s) + 1
        } else {
            v
        }
    }

    /// Bits of real data not yet consumed; negative once the decoder read past the end of the
    /// segment (into the padding this reader invents there).
    pub(super) fn remaining(&self) -> i64 {
        i64::from(self.nbits) - i64::from(self.pad)
    }

    /// Checks that the segment was used up exactly (only the last byte's padding left) and
    /// returns the offset of the marker (or of the end of the data) that ends it.
    pub(super) fn finish(mut self) -> Result<usize, Damage> {
        self.fill();
        let left = self.remaining();
        if left < 0 {
            return Err("the compressed data ends before the last blocks".into());
        }
        if left >= 8 {
            return Err(format!(
                "{} bytes of compressed data left over after the last block of a segment",
                left / 8
            ));
        }
        Ok(self.end.unwrap_or(self.pos))
    }

    /// True once the decoder has read past the end of the segment.
    #[inline]
    pub(super) fn overrun(&self) -> bool {
        self.end.is_some() && self.nbits < self.pad
    }
}

/// A Huffman table: a 9-bit lookup of (code length, symbol) and, for longer codes, the
/// canonical `maxcode` / `valptr` arrays of JPEG's F.2.2.3.
pub(super) struct Huffman {
    /// `len << 8 | symbol`, 0 where the code is longer than 9 bits.
    fast: Vec<u16>,
    /// Largest code of each length (-1 if none), lengths 1..=16.
    maxcode: [i32; 18],
    /// Index into `vals` of the first code of each length minus that code.
    delta: [i32; 17],
    vals: Vec<u8>,
}

const FAST_BITS: u32 = 9;

impl Huffman {
    /// Builds a table from a DHT segment's 16 counts and its symbols; `None` if the counts
    /// over-subscribe the code space.
    pub(super) fn new(counts: &[u8; 16], vals: &[u8]) -> Option<Huffman> {
        let mut fast = vec![0u16; 1 << FAST_BITS];
        let mut maxcode = [-1i32; 18];
        let mut delta = [0i32; 17];
        let (mut code, mut k) = (0i32, 0usize);
        for len in 1..=16u32 {
            let n = i32::from(counts[len as usize - 1]);
            delta[len as usize] = k as i32 - code;
            for _ in 0..n {
                if code >= 1 << len {
                    return None;
                }
                if len <= FAST_BITS {
                    let shift = FAST_BITS - len;
                    let first = (code as usize) << shift;
                    for e in &mut fast[first..first + (1 << shift)] {
                        *e = (len as u16) << 8 | u16::from(*vals.get(k)?);
                    }
                }
                code += 1;
                k += 1;
            }
            maxcode[len as usize] = code - 1;
            if n == 0 {
                maxcode[len as usize] = -1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        Some(Huffman {
            fast,
            maxcode,
            delta,
            vals: vals.get(..k)?.to_vec(),
        })
    }

    /// Decodes one symbol and skips the (symbol & 15) value bits that follow it (an AC
    /// coefficient's value, which the validator does not need), in one step when the code
    /// is in the 9-bit lookup.
    #[inline]
    pub(super) fn decode_skip(&self, r: &mut BitReader<'_>) -> Result<u8, Damage> {
        if r.nbits < 32 {
            r.fill();
        }
        let e = self.fast[(r.acc >> (64 - FAST_BITS)) as usize];
        if e != 0 {
            let sym = e as u8;
            r.consume(u32::from(e >> 8) + u32::from(sym & 15));
            return Ok(sym);
        }
        let sym = self.decode(r)?;
        r.bits(u32::from(sym & 15));
        Ok(sym)
    }

    /// Decodes one symbol; `Err` for a bit pattern that is no code of this table.
    #[inline]
    pub(super) fn decode(&self, r: &mut BitReader<'_>) -> Result<u8, Damage> {
        let peek = r.peek16();
        let e = self.fast[(peek >> (16 - FAST_BITS)) as usize];
        if e != 0 {
            r.consume(u32::from(e >> 8));
            return Ok(e as u8);
        }
        for len in FAST_BITS + 1..=16 {
            let code = (peek >> (16 - len)) as i32;
            if code <= self.maxcode[len as usize] {
                r.consume(len);
                let i = (code + self.delta[len as usize]) as usize;
                return self
                    .vals
                    .get(i)
                    .copied()
                    .ok_or_else(|| "invalid Huffman code".to_string());
            }
        }
        Err("invalid Huffman code in the compressed data".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_reader_unstuffs_and_stops_at_markers() {
        let data = [0b1010_0000, 0xFF, 0x00, 0x12, 0xFF, 0xD0, 0x55];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(r.bits(3), 0b101);
        assert_eq!(r.value(5), -31); // 00000: the most negative 5-bit value
        assert_eq!(r.bits(8), 0xFF);
        assert_eq!(r.bits(4), 1);
        assert_eq!(r.remaining(), 4);
        assert!(!r.overrun());
        assert_eq!(r.finish(), Ok(4));
        // reading past the marker is an overrun
        let mut r = BitReader::new(&data, 0);
        r.bits(16);
        r.bits(16);
        assert!(r.overrun());
        assert!(r.finish().is_err());
        // a whole byte left before the marker is an error too
        let mut r = BitReader::new(&data, 0);
        r.bits(8);
        assert!(r.finish().unwrap_err().contains("left over"));
    }

    #[test]
    fn huffman_codes_decode_and_invalid_ones_fail() {
        // two 2-bit codes (00 -> 5, 01 -> 6) and one 3-bit code (100 -> 7): 101, 11x invalid
        let mut counts = [0u8; 16];
        counts[1] = 2;
        counts[2] = 1;
        let h = Huffman::new(&counts, &[5, 6, 7]).unwrap();
        let data = [0b0001_1001, 0b0100_0000];
        let mut r = BitReader::new(&data, 0);
        assert_eq!(h.decode(&mut r), Ok(5));
        assert_eq!(h.decode(&mut r), Ok(6));
        assert_eq!(h.decode(&mut r), Ok(7));
        assert!(h.decode(&mut r).is_err()); // 101
                                            // over-subscribed counts are refused
        let mut bad = [0u8; 16];
        bad[0] = 3;
        assert!(Huffman::new(&bad, &[1, 2, 3]).is_none());
    }
}
