//! JPEG encoding for ID photos: baseline, 24-bit YCbCr, JFIF density in dpi, and an optional
//! file-size window (many application portals demand e.g. 14-20 KB).
//!
//! The output never carries EXIF or ICC segments: JFIF implies sRGB, which is what
//! [`crate::decode::decode`] produces. Files are never padded to reach a minimum size.

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, PixelDensity, SamplingFactor};

use crate::error::{Error, Result};

/// Chroma subsampling of an encoded JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subsampling {
    /// No chroma subsampling (largest files, best colour edges).
    S444,
    /// Chroma halved horizontally and vertically (smallest files; the usual choice).
    S420,
    /// Chroma halved horizontally only.
    S422,
}

/// The result of [`encode_jpeg`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    /// The JPEG file.
    pub bytes: Vec<u8>,
    /// Quality (1..=100) of the returned file.
    pub quality: u8,
    /// Chroma subsampling of the returned file.
    pub subsampling: Subsampling,
    /// Whether the Huffman tables were optimised for this image.
    pub optimized_huffman: bool,
    /// How many encodes were run in total to find it (at most [`MAX_ENCODES`]).
    pub encodes: u32,
}

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

/// One encoder configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    subsampling: Subsampling,
    optimized_huffman: bool,
}

/// The primary configuration: 4:2:0 with the standard Huffman tables. jpeg-encoder writes this
/// as one interleaved baseline scan, the most widely readable layout; with optimised tables it
/// writes one scan per component, which some decoders get wrong (zune-jpeg 0.5.15 decodes such
/// files into green stripes), so optimisation is only a lever for a too-small upper bound.
const PRIMARY: Config = Config {
    subsampling: Subsampling::S420,
    optimized_huffman: false,
};

/// The smallest files at a given quality (4:2:0, optimised tables, one scan per component).
const SMALLEST: Config = Config {
    subsampling: Subsampling::S420,
    optimized_huffman: true,
};

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
fn predicted_quality(w: u32, h: u32, target: usize) -> u8 {
    let typical = (TYPICAL_BYTES_PER_PIXEL_Q75 * f64::from(w) * f64::from(h)) as usize;
    quality_toward(75, typical, target)
        .round()
        .clamp(f64::from(QUALITY_FLOOR), 100.0) as u8
}

#[derive(Debug, Clone)]
struct Candidate {
    bytes: Vec<u8>,
    quality: u8,
    config: Config,
}

struct Search<'a> {
    img: &'a image::RgbImage,
    dpi: u16,
    min: Option<usize>,
    max: Option<usize>,
    encodes: u32,
    /// Every size produced, for the error's "nearest" value.
    sizes: Vec<usize>,
    /// In-window results.
    hits: Vec<Candidate>,
}

impl Search<'_> {
    fn in_window(&self, size: usize) -> bool {
        self.min.is_none_or(|m| size >= m) && self.max.is_none_or(|m| size <= m)
    }

    fn encode(&mut self, quality: u8, config: Config) -> Result<usize> {
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
    fn bracket(
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
    fn best(&mut self, target: usize) -> Option<Candidate> {
        let i = (0..self.hits.len()).min_by_key(|&i| {
            let c = &self.hits[i];
            (c.bytes.len().abs_diff(target), std::cmp::Reverse(c.quality))
        })?;
        Some(self.hits.swap_remove(i))
    }

    fn unreachable(&self) -> Error {
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

/// Encode `img` as a baseline JPEG with JFIF density `dpi`, optionally within a file-size window
/// `(min_bytes, max_bytes)` (either bound may be `None`).
///
/// * No window: quality [`DEFAULT_QUALITY`] (90), 4:2:0, standard Huffman tables; one encode.
/// * Window: a bracketing search on quality with 4:2:0 and standard Huffman tables (see
///   `PRIMARY`), at most [`MAX_SEARCH_ENCODES`] encodes, each quality predicted from the
///   typical size-quality curve (`SIZE_EXPONENT`, 0.6) through the nearest sizes on either side
///   of the aim. It aims at the middle of a two-sided window (starting from the quality at
///   which a typical ID photo of that many pixels has that size,
///   `TYPICAL_BYTES_PER_PIXEL_Q75`: on the shared portraits' outputs for eight specs, 103 of
///   110 then take one encode), at `max_bytes` for an upper bound only (so the highest quality that
///   fits wins) and at `min_bytes` for a lower bound only (starting from quality 90, which is
///   kept if it is large enough). Qualities below [`QUALITY_FLOOR`] (30) are only tried when
///   quality 30 is still larger than `max_bytes`. File size is only roughly monotone in quality,
///   so every in-window result is kept and the one closest to the aim is returned.
/// * If no quality lands in the window, up to [`MAX_LEVER_ENCODES`] more encodes try the
///   levers that make files bigger at the same quality (4:2:2, 4:4:4, standard Huffman tables),
///   which helps when the lower bound is not reached at quality 100 or when the window falls
///   between two adjacent qualities. There is nothing smaller than the primary setting, so an
///   upper bound not reached at quality 1 fails directly.
/// * Otherwise [`Error::SizeWindowUnreachable`] with the nearest size produced.
///
/// Errors: [`Error::InvalidOption`] for `dpi` outside 1..=65535, an image side outside
/// 1..=65535, or `min_bytes > max_bytes`.
pub fn encode_jpeg(
    img: &image::RgbImage,
    dpi: u32,
    window: (Option<usize>, Option<usize>),
) -> Result<Encoded> {
    let dpi = u16::try_from(dpi)
        .ok()
        .filter(|&d| d > 0)
        .ok_or_else(|| Error::InvalidOption {
            option: "dpi".into(),
            reason: format!("{dpi} is outside 1..=65535"),
        })?;
    let (w, h) = img.dimensions();
    if w == 0 || h == 0 || w > 65535 || h > 65535 {
        return Err(Error::InvalidOption {
            option: "image".into(),
            reason: format!("{w}x{h}: JPEG sides must be within 1..=65535"),
        });
    }
    let (min, max) = window;
    if let (Some(lo), Some(hi)) = window {
        if lo > hi {
            return Err(Error::InvalidOption {
                option: "size_window".into(),
                reason: format!("minimum {lo} bytes is above maximum {hi} bytes"),
            });
        }
    }
    let mut s = Search {
        img,
        dpi,
        min,
        max,
        encodes: 0,
        sizes: Vec::new(),
        hits: Vec::new(),
    };
    let finish = |c: Candidate, encodes: u32| Encoded {
        bytes: c.bytes,
        quality: c.quality,
        subsampling: c.config.subsampling,
        optimized_huffman: c.config.optimized_huffman,
        encodes,
    };

    // Aim and range of the main search.
    let (target, range, start) = match (min, max) {
        (None, None) => {
            s.encode(DEFAULT_QUALITY, PRIMARY)?;
            let c = s
                .hits
                .pop()
                .ok_or_else(|| Error::Internal("no encode".into()))?;
            return Ok(finish(c, s.encodes));
        }
        (Some(lo), Some(hi)) => {
            let target = lo + (hi - lo) / 2;
            (
                target,
                (QUALITY_FLOOR, 100),
                predicted_quality(w, h, target),
            )
        }
        // the highest quality that fits wins: try it first
        (None, Some(hi)) => (hi, (QUALITY_FLOOR, 100), 100),
        (Some(lo), None) => (lo, (DEFAULT_QUALITY, 100), DEFAULT_QUALITY),
    };
    let mut probes = s.bracket(PRIMARY, target, range, start, MAX_SEARCH_ENCODES)?;
    // Below the floor only if the floor itself is too big for the upper bound.
    let floor_too_big = probes
        .iter()
        .any(|&(q, size)| q == QUALITY_FLOOR && max.is_some_and(|m| size > m));
    if s.hits.is_empty() && floor_too_big && s.encodes < MAX_SEARCH_ENCODES {
        let budget = MAX_SEARCH_ENCODES - s.encodes;
        probes.extend(s.bracket(PRIMARY, target, (1, QUALITY_FLOOR - 1), 1, budget)?);
    }
    if let Some(c) = s.best(target) {
        return Ok(finish(c, s.encodes));
    }

    // Levers. Only useful if some probe was below the window: every lever makes files bigger.
    let below: Option<(u8, usize)> = probes
        .iter()
        .copied()
        .filter(|&(_, size)| min.is_some_and(|m| size < m))
        .max_by_key(|&(q, _)| q);
    if let Some((q, _)) = below {
        let levers = [
            Config {
                subsampling: Subsampling::S422,
                optimized_huffman: false,
            },
            Config {
                subsampling: Subsampling::S444,
                optimized_huffman: false,
            },
        ];
        let at_top = q == 100;
        for (i, config) in levers.into_iter().enumerate() {
            if s.encodes >= MAX_ENCODES {
                break;
            }
            // At quality 100 only the biggest setting matters; jump straight to it.
            if at_top && i < 1 {
                continue;
            }
            s.encode(q, config)?;
            if !s.hits.is_empty() {
                break;
            }
        }
        if at_top && s.hits.is_empty() {
            // The biggest setting at quality 100 is still too small: nothing can reach min.
            return Err(s.unreachable());
        }
    }
    // Smaller lever: every probe above the upper bound. Optimised Huffman tables shrink the
    // file by a few per cent at the same quality; try them at the lowest quality probed.
    if s.hits.is_empty()
        && !probes
            .iter()
            .any(|&(_, size)| max.is_none_or(|m| size <= m))
    {
        if let Some(&(q, _)) = probes.iter().min_by_key(|&&(q, _)| q) {
            let mut q = q;
            while s.encodes < MAX_ENCODES && s.hits.is_empty() && q <= 100 {
                let size = s.encode(q, SMALLEST)?;
                if min.is_some_and(|m| size < m) {
                    break;
                }
                q = q.saturating_add(5);
            }
        }
    }
    match s.best(target) {
        Some(c) => Ok(finish(c, s.encodes)),
        None => Err(s.unreachable()),
    }
}

/// One baseline encode.
fn encode_once(img: &image::RgbImage, dpi: u16, quality: u8, config: Config) -> Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let mut out = Vec::with_capacity(16 * 1024);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    enc.set_sampling_factor(match config.subsampling {
        Subsampling::S444 => SamplingFactor::R_4_4_4,
        Subsampling::S420 => SamplingFactor::R_4_2_0,
        Subsampling::S422 => SamplingFactor::R_4_2_2,
    });
    enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    enc.set_optimized_huffman_tables(config.optimized_huffman);
    enc.set_progressive(false);
    enc.set_density(PixelDensity::dpi(dpi));
    enc.encode(img.as_raw(), w as u16, h as u16, ColorType::Rgb)
        .map_err(|e| Error::Internal(format!("JPEG encoder: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage};
    use std::time::Instant;

    /// Deterministic pseudo-random generator (xorshift32).
    struct Rng(u32);
    impl Rng {
        fn next(&mut self) -> u32 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 17;
            self.0 ^= self.0 << 5;
            self.0
        }
        fn noise(&mut self, amp: f32) -> f32 {
            (self.next() % 1000) as f32 / 1000.0 * 2.0 * amp - amp
        }
    }

    /// A 358x441-style synthetic portrait: smooth background gradient, a skin-toned ellipse
    /// "head" with shading, dark "hair" with fine stripes, a textured "shirt", plus sensor noise.
    fn photo_like(w: u32, h: u32) -> RgbImage {
        let mut rng = Rng(0x9E37_79B9);
        RgbImage::from_fn(w, h, |x, y| {
            let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
            let (cx, cy) = ((fx - 0.5) / 0.28, (fy - 0.42) / 0.32);
            let r2 = cx * cx + cy * cy;
            let mut c = if r2 < 1.0 {
                let shade = 1.0 - 0.25 * r2;
                [225.0 * shade, 180.0 * shade, 150.0 * shade]
            } else if fy < 0.45 && ((fx - 0.5) / 0.34).powi(2) + ((fy - 0.35) / 0.32).powi(2) < 1.0
            {
                let s = 30.0 + 15.0 * ((x as f32 * 0.9 + y as f32 * 0.3).sin());
                [s, s * 0.8, s * 0.7]
            } else if fy > 0.78 {
                let t = 70.0 + 25.0 * ((x as f32 * 0.35).sin() * (y as f32 * 0.27).cos());
                [t * 0.5, t * 0.6, t * 1.2]
            } else {
                [240.0 - 30.0 * fy, 244.0 - 20.0 * fy, 250.0 - 10.0 * fx]
            };
            for v in &mut c {
                *v += rng.noise(6.0);
            }
            Rgb(c.map(|v| v.clamp(0.0, 255.0) as u8))
        })
    }

    fn noise_image(w: u32, h: u32) -> RgbImage {
        let mut rng = Rng(7);
        RgbImage::from_fn(w, h, |_, _| {
            let v = rng.next();
            Rgb([v as u8, (v >> 8) as u8, (v >> 16) as u8])
        })
    }

    fn has_marker(bytes: &[u8], marker: u8) -> bool {
        bytes.windows(2).any(|w| w == [0xFF, marker])
    }

    #[test]
    fn lands_in_14_to_20_kb_at_350_dpi() {
        let img = photo_like(358, 441);
        let t = Instant::now();
        let e = encode_jpeg(&img, 350, (Some(14 * 1024), Some(20 * 1024))).unwrap();
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        eprintln!(
            "timing: 358x441 into 14-20 KB: {} bytes, q{} {:?} in {} encodes, {ms:.1} ms",
            e.bytes.len(),
            e.quality,
            e.subsampling,
            e.encodes
        );
        assert!(
            (14 * 1024..=20 * 1024).contains(&e.bytes.len()),
            "{}",
            e.bytes.len()
        );
        assert!(e.encodes <= MAX_SEARCH_ENCODES, "{} encodes", e.encodes);
        assert!(e.quality >= QUALITY_FLOOR);
        // JFIF APP0: FF D8 FF E0 len(2) "JFIF\0" ver(2) units(1) xd(2) yd(2)
        let b = &e.bytes;
        assert_eq!(&b[0..4], &[0xFF, 0xD8, 0xFF, 0xE0]);
        assert_eq!(&b[6..11], b"JFIF\0");
        assert_eq!(b[13], 1, "units = dots per inch");
        assert_eq!(u16::from_be_bytes([b[14], b[15]]), 350);
        assert_eq!(u16::from_be_bytes([b[16], b[17]]), 350);
        let info = crate::decode::inspect(b).unwrap();
        assert_eq!(info.density.unwrap().x_dpi, 350.0);
        assert_eq!(info.progressive, Some(false));
        assert!(!info.has_icc);
        // No EXIF (APP1) or ICC (APP2) segment.
        assert!(!has_marker(b, 0xE1) && !has_marker(b, 0xE2));
        // Decodes back as 8-bit RGB of the same size.
        let back = image::load_from_memory(b).unwrap();
        assert_eq!((back.width(), back.height()), (358, 441));
        assert_eq!(back.color(), image::ColorType::Rgb8);
    }

    /// The size-quality curve puts a real photo into the presets' windows in at most three
    /// encodes (it was up to four with steps to the ends of the quality range).
    #[test]
    fn real_photo_lands_in_few_encodes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/photos/obama.jpg"
        );
        let photo = image::open(path).unwrap().to_rgb8();
        let (w, h) = photo.dimensions();
        let cw = (h * 358 / 441).min(w);
        let crop = image::imageops::crop_imm(&photo, (w - cw) / 2, 0, cw, h).to_image();
        let img = image::imageops::resize(&crop, 358, 441, image::imageops::FilterType::Triangle);
        let kb = |v: usize| v * 1024;
        for window in [
            (Some(kb(14)), Some(kb(20))),
            (Some(kb(14)), Some(kb(40))),
            (Some(kb(20)), Some(kb(80))),
            (None, Some(kb(240))),
        ] {
            let e = encode_jpeg(&img, 300, window).unwrap();
            eprintln!("{window:?}: q{} in {} encodes", e.quality, e.encodes);
            assert!(e.encodes <= 3, "{window:?}: {} encodes", e.encodes);
        }
    }

    #[test]
    fn max_only_takes_highest_quality_that_fits() {
        let img = photo_like(358, 441);
        let e = encode_jpeg(&img, 300, (None, Some(30 * 1024))).unwrap();
        assert!(e.bytes.len() <= 30 * 1024);
        assert!(e.encodes <= MAX_SEARCH_ENCODES);
        if e.quality < 100 {
            let next = encode_once(&img, 300, e.quality + 1, PRIMARY).unwrap();
            assert!(next.len() > 30 * 1024, "q{} also fits", e.quality + 1);
        }
        // A lower bound only keeps quality 90 when that is big enough.
        let e = encode_jpeg(&img, 300, (Some(1024), None)).unwrap();
        assert_eq!((e.quality, e.encodes), (DEFAULT_QUALITY, 1));
    }

    #[test]
    fn no_window_is_quality_90_baseline() {
        let img = photo_like(358, 441);
        let e = encode_jpeg(&img, 350, (None, None)).unwrap();
        assert_eq!((e.quality, e.encodes), (90, 1));
        assert_eq!(
            (e.subsampling, e.optimized_huffman),
            (Subsampling::S420, false)
        );
        assert!(has_marker(&e.bytes, 0xC0), "baseline SOF0 present");
        assert!(!has_marker(&e.bytes, 0xC2), "no progressive SOF2");
    }

    #[test]
    fn tiny_max_is_unreachable() {
        let img = noise_image(1200, 1200);
        let t = Instant::now();
        match encode_jpeg(&img, 300, (None, Some(1024))) {
            Err(Error::SizeWindowUnreachable {
                min_kb,
                max_kb,
                nearest_kb,
            }) => {
                assert_eq!((min_kb, max_kb), (0.0, 1.0));
                assert!(nearest_kb > 1.0, "{nearest_kb}");
            }
            other => panic!("{other:?}"),
        }
        eprintln!(
            "timing: 1200x1200 noise, unreachable max: {:?}",
            t.elapsed()
        );
    }

    #[test]
    fn huge_min_is_unreachable() {
        let flat = RgbImage::from_pixel(100, 100, Rgb([200, 120, 90]));
        match encode_jpeg(&flat, 300, (Some(2000 * 1024), None)) {
            Err(Error::SizeWindowUnreachable {
                min_kb, nearest_kb, ..
            }) => {
                assert_eq!(min_kb, 2000.0);
                assert!(nearest_kb < 2000.0);
            }
            other => panic!("{other:?}"),
        }
        // Same with a two-sided window.
        let r = encode_jpeg(&flat, 300, (Some(2000 * 1024), Some(3000 * 1024)));
        assert!(
            matches!(r, Err(Error::SizeWindowUnreachable { .. })),
            "{r:?}"
        );
    }

    #[test]
    fn min_beyond_q100_uses_bigger_levers() {
        let img = photo_like(120, 150);
        let small = encode_once(&img, 300, 100, PRIMARY).unwrap().len();
        let biggest = Config {
            subsampling: Subsampling::S444,
            optimized_huffman: false,
        };
        let big = encode_once(&img, 300, 100, biggest).unwrap().len();
        assert!(big > small + 100, "{small} {big}");
        let e = encode_jpeg(&img, 300, (Some(small + 1), Some(big + 10))).unwrap();
        assert_eq!(e.quality, 100);
        assert_eq!(
            (e.subsampling, e.optimized_huffman),
            (Subsampling::S444, false)
        );
        assert!(e.encodes <= MAX_ENCODES);
    }

    #[test]
    fn encode_count_is_capped() {
        // A window so narrow that it likely falls between two qualities.
        let img = photo_like(358, 441);
        for lo in [9000usize, 12_345, 17_000, 25_001] {
            match encode_jpeg(&img, 350, (Some(lo), Some(lo + 40))) {
                Ok(e) => {
                    eprintln!(
                        "[{lo}, {}]: {} bytes, q{} {:?} huffman-opt {} in {} encodes",
                        lo + 40,
                        e.bytes.len(),
                        e.quality,
                        e.subsampling,
                        e.optimized_huffman,
                        e.encodes
                    );
                    assert!((lo..=lo + 40).contains(&e.bytes.len()));
                    assert!(e.encodes <= MAX_ENCODES);
                }
                Err(Error::SizeWindowUnreachable { nearest_kb, .. }) => {
                    eprintln!(
                        "[{lo}, {}]: unreachable, nearest {nearest_kb:.2} KB",
                        lo + 40
                    );
                    assert!(nearest_kb > 0.0)
                }
                Err(e) => panic!("{e:?}"),
            }
        }
    }

    #[test]
    fn invalid_options() {
        let img = photo_like(16, 16);
        assert!(matches!(
            encode_jpeg(&img, 0, (None, None)),
            Err(Error::InvalidOption { .. })
        ));
        assert!(matches!(
            encode_jpeg(&img, 70_000, (None, None)),
            Err(Error::InvalidOption { .. })
        ));
        assert!(matches!(
            encode_jpeg(&img, 300, (Some(10), Some(5))),
            Err(Error::InvalidOption { .. })
        ));
    }
}
