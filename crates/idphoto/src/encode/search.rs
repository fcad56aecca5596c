//! The search over qualities for a file-size window: the public limits on qualities and
//! encodes, the typical size-quality curve that predicts each quality to try, and [`Search`]
//! (every encode made, the sizes produced, the in-window results, the bracketing search).

use super::jpeg::{encode_once, Config};
use crate::error::{Error, Result};

/// Quality used when no size window is given.
pub const DEFAULT_QUALITY: u8 = 90;
/// Lowest quality the search uses unless the window's upper bound forces it lower.
pub const QUALITY_FLOOR: u8 = 30;
/// Encodes spent on the main quality search (4:2:0, optimised Huffman tables).
pub const MAX_SEARCH_ENCODES: u32 = 8;
/// Encodes spent on the other levers (subsampling, Huffman optimisation) after the search.
pub const MAX_LEVER_ENCODES: u32 = 4;
/// Hard cap on encodes per call.
pub const MAX_ENCODES: u32 = MAX_SEARCH_ENCODES + MAX_LEVER_ENCODES;

/// How a photo's JPEG size grows with quality q: about as (102 - q)^-[`SIZE_EXPONENT`]. On the
/// shared portraits' outputs the exponent is 0.53-0.70 between qualities 64 and 100.
const SIZE_EXPONENT: f64 = 0.6;

/// `ln(102 - q)`, in which the logarithm of the size is about linear (see [`SIZE_EXPONENT`]).
fn quality_axis(q: f64) -> f64 {
    (102.0 - q).ln()
}

/// The quality expected to turn a file of `size` bytes at quality `q` into one of `target`
/// bytes ([`SIZE_EXPONENT`]).
fn quality_toward(q: u8, size: usize, target: usize) -> f64 {
    let ratio = size.max(1) as f64 / target.max(1) as f64;
    102.0 - (102.0 - f64::from(q)) * ratio.powf(1.0 / SIZE_EXPONENT)
}

/// Typical size of an ID photo at quality 75 (4:2:0, standard tables), in bytes per pixel:
/// 0.09-0.15 on the shared portraits' outputs for five specs, most near 0.105.
const TYPICAL_BYTES_PER_PIXEL_Q75: f64 = 0.105;

/// The first quality to try for `target` bytes on a `w` x `h` image: the typical size at
/// quality 75 carried along the size-quality curve ([`SIZE_EXPONENT`]).
pub(super) fn predicted_quality(w: u32, h: u32, target: usize) -> u8 {
    let typical = (TYPICAL_BYTES_PER_PIXEL_Q75 * f64::from(w) * f64::from(h)) as usize;
    quality_toward(75, typical, target)
        .round()
        .clamp(f64::from(QUALITY_FLOOR), 100.0) as u8
}

/// An encode that landed in the window.
#[derive(Debug, Clone)]
pub(super) struct Candidate {
    pub(super) bytes: Vec<u8>,
    pub(super) quality: u8,
    pub(super) config: Config,
}

/// The state of one size-window search: its inputs and every encode made so far.
pub(super) struct Search<'a> {
    pub(super) img: &'a image::RgbImage,
    pub(super) dpi: u16,
    pub(super) min: Option<usize>,
    pub(super) max: Option<usize>,
    pub(super) encodes: u32,
    /// Every size produced, for the error's "nearest" value.
    pub(super) sizes: Vec<usize>,
    /// In-window results.
    pub(super) hits: Vec<Candidate>,
}

impl Search<'_> {
    fn in_window(&self, size: usize) -> bool {
        self.min.is_none_or(|m| size >= m) && self.max.is_none_or(|m| size <= m)
    }

    pub(super) fn encode(&mut self, quality: u8, config: Config) -> Result<usize> {
        let bytes = encode_once(self.img, self.dpi, quality, config)?;
        self.encodes += 1;
        let size = bytes.len();
        self.sizes.push(size);
        if self.in_window(size) {
            self.hits.push(Candidate {
                bytes,
                quality,
                config,
            });
        }
        Ok(size)
    }

    /// Bracketing search on quality in `[qmin, qmax]` for the size `target`, starting at `start`,
    /// with at most `budget` encodes. Until the target is bracketed it probes the end of the
    /// range in the needed direction; then it interpolates on log(size) between the bracket ends, kept at
    /// least a quarter of the bracket away from either end so that it always shrinks quickly.
    /// Returns the (quality, size) pairs probed.
    pub(super) fn bracket(
        &mut self,
        config: Config,
        target: usize,
        (qmin, qmax): (u8, u8),
        start: u8,
        budget: u32,
    ) -> Result<Vec<(u8, usize)>> {
        let mut probes = Vec::new();
        let mut under: Option<(u8, usize)> = None; // highest q with size < target
        let mut over: Option<(u8, usize)> = None; // lowest q with size >= target
        let mut q = start.clamp(qmin, qmax);
        let stop_at = self.encodes + budget;
        while self.encodes < stop_at {
            let size = self.encode(q, config)?;
            probes.push((q, size));
            if size < target {
                if under.is_none_or(|(uq, _)| q > uq) {
                    under = Some((q, size));
                }
            } else if over.is_none_or(|(oq, _)| q < oq) {
                over = Some((q, size));
            }
            // A hit in the central half of a two-sided window is good enough.
            if let (Some(min), Some(max)) = (self.min, self.max) {
                if size >= min && size <= max && size.abs_diff(target) <= (max - min) / 4 {
                    break;
                }
            }
            q = match (under, over) {
                (Some((lq, ls)), Some((hq, hs))) => {
                    if hq <= lq + 1 {
                        break;
                    }
                    let (lo, hi) = (f64::from(lq), f64::from(hq));
                    let t = ((target as f64).ln() - (ls.max(1) as f64).ln())
                        / ((hs.max(1) as f64).ln() - (ls.max(1) as f64).ln()).max(1e-9);
                    let (ul, uh) = (quality_axis(lo), quality_axis(hi));
                    let guess = 102.0 - (ul + t.clamp(0.0, 1.0) * (uh - ul)).exp();
                    let margin = ((hi - lo) / 4.0).floor().max(1.0);
                    guess.round().clamp(lo + margin, hi - margin) as u8
                }
                // Not bracketed yet: try the end of the range, which tells at once whether the
                // target is reachable in this range at all.
                // one side known: the typical size-quality curve, at least one step
                (Some((lq, ls)), None) => {
                    if lq >= qmax {
                        break;
                    }
                    let q = quality_toward(lq, ls, target).ceil();
                    q.clamp(f64::from(lq) + 1.0, f64::from(qmax)) as u8
                }
                (None, Some((hq, hs))) => {
                    if hq <= qmin {
                        break;
                    }
                    let q = quality_toward(hq, hs, target).floor();
                    q.clamp(f64::from(qmin), f64::from(hq) - 1.0) as u8
                }
                (None, None) => break,
            };
        }
        Ok(probes)
    }

    /// The in-window result closest to `target` (for a two-sided window: nearest the middle;
    /// upper bound only: the largest file that fits, i.e. the highest quality; lower bound only:
    /// the smallest file that reaches it). Ties go to the higher quality.
    pub(super) fn best(&mut self, target: usize) -> Option<Candidate> {
        let i = (0..self.hits.len()).min_by_key(|&i| {
            let c = &self.hits[i];
            (c.bytes.len().abs_diff(target), std::cmp::Reverse(c.quality))
        })?;
        Some(self.hits.swap_remove(i))
    }

    pub(super) fn unreachable(&self) -> Error {
        let min = self.min.unwrap_or(0);
        let max = self.max.unwrap_or(usize::MAX);
        let distance = |s: usize| {
            if s < min {
                min - s
            } else {
                s.saturating_sub(max)
            }
        };
        let nearest = self
            .sizes
            .iter()
            .copied()
            .min_by_key(|&s| distance(s))
            .unwrap_or(0);
        Error::SizeWindowUnreachable {
            min_kb: min as f64 / 1024.0,
            max_kb: self.max.map_or(f64::INFINITY, |m| m as f64 / 1024.0),
            nearest_kb: nearest as f64 / 1024.0,
        }
    }
}
