//! Reduced decoding: a large JPEG is decoded at 1/2, 1/4 or 1/8 of its size (in the DCT
//! domain: faster, and a fraction of the memory) when the face keeps the pixels the spec
//! needs; a face found smaller is decoded again finer.

use super::REDUCED_MAX_SCALE;
use crate::decode;
use crate::geometry::{self, needed_face_px};
use crate::options::Options;
use crate::raster::Point;
use crate::spec::Spec;

/// A JPEG is decoded at a reduced size (in the DCT domain: faster, and a fraction of the
/// memory) when its short side, so reduced, is still this many times the face width the spec
/// needs, i.e. when a face filling a fifth of the photo's short side would not need
/// upscaling. If the face found is smaller than that, the photo is decoded again at the
/// size the face needs.
pub const REDUCED_DECODE_FACE_FRACTION: f64 = 0.2;

/// The reduction (1, 2, 4 or 8) to decode `bytes` at first: the largest that keeps a face
/// of [`REDUCED_DECODE_FACE_FRACTION`] of the short side at least as wide as the spec needs.
pub(super) fn initial_reduction(
    bytes: &[u8],
    spec: &Spec,
    out_w: u32,
    out_h: u32,
    opts: &Options,
) -> u32 {
    let Some((w, h)) = decode::jpeg_frame_size(bytes) else {
        return 1;
    };
    let rules = geometry::px_rules(spec, out_w, out_h);
    let needed = match &opts.face {
        // a host's face box: its width is known, so reduce as far as it allows
        Some(hint) => {
            let k = f64::from(hint.bbox[2]) / f64::from(needed_face_px(&rules)).max(1.0);
            return [8u32, 4, 2]
                .into_iter()
                .find(|&r| k >= f64::from(r))
                .unwrap_or(1);
        }
        None => f64::from(needed_face_px(&rules)),
    };
    let face = f64::from(w.min(h)) * REDUCED_DECODE_FACE_FRACTION;
    [8u32, 4, 2]
        .into_iter()
        .find(|&r| face / f64::from(r) >= needed)
        .unwrap_or(1)
}

/// The reduction to decode at when the face needed `scale` (output px per px) at reduction
/// `r`: the largest one at which no upscaling is needed.
pub(super) fn finer_reduction(r: u32, scale: f64) -> u32 {
    [4u32, 2]
        .into_iter()
        .find(|&f| f < r && scale * f64::from(f) / f64::from(r) <= REDUCED_MAX_SCALE)
        .unwrap_or(1)
}

/// `check` decodes a large JPEG reduced (1/2 or 1/4) so that it has at most this many pixels:
/// its memory grows with the decoded pixels (about 25 bytes each), and the check of any photo
/// up to the default pixel limit (100 MP, 1/4 gives 6.25 MP) stays under 300 MB.
pub(crate) const CHECK_MAX_DECODED_PIXELS: u64 = 7_000_000;

/// Largest reduction `check` uses: at 1/4 a JPEG's 8x8 blocks are still 2 px, so the
/// compression rule can see their borders.
const CHECK_MAX_REDUCTION: u32 = 4;

/// The reductions at which `check` decodes `bytes`: the finest allowed (the smallest that
/// keeps the decode within [`CHECK_MAX_DECODED_PIXELS`]) and the first (1 within that budget;
/// beyond it, as for `make`, the largest at which a face of [`REDUCED_DECODE_FACE_FRACTION`]
/// of the short side keeps the face pixels of the spec's output, at most
/// [`CHECK_MAX_REDUCTION`], and not finer than the finest allowed; a PNG at the finest).
/// Both 1 for WebP.
pub(super) fn check_reductions(bytes: &[u8], spec: &Spec) -> (u32, u32) {
    let png = decode::png_frame_size(bytes);
    let Some((w, h)) = decode::jpeg_frame_size(bytes).or(png) else {
        return (1, 1);
    };
    let pixels = |r: u32| u64::from(w.div_ceil(r)) * u64::from(h.div_ceil(r));
    let finest = [1u32, 2]
        .into_iter()
        .find(|&r| pixels(r) <= CHECK_MAX_DECODED_PIXELS)
        .unwrap_or(CHECK_MAX_REDUCTION);
    if finest == 1 {
        // within the budget: measured at full size, as always
        return (1, 1);
    }
    let o = Options::default();
    let (out_w, out_h) = (spec.pixels.width, spec.pixels.height);
    let first = match png {
        // a PNG is reduced by block means: as far as the budget needs
        Some(_) => finest,
        None => initial_reduction(bytes, spec, out_w, out_h, &o).min(CHECK_MAX_REDUCTION),
    };
    (first.max(finest), finest)
}

/// The reduction `check` decodes at next after measuring a face `face_px` wide at reduction
/// `r`: `r` when the face had the pixels the spec's output gives it, else the largest finer
/// one (not finer than `finest`) at which it has them.
pub(super) fn check_finer(spec: &Spec, r: u32, face_px: f32, finest: u32) -> u32 {
    let needed = needed_face_px(&geometry::px_rules(
        spec,
        spec.pixels.width,
        spec.pixels.height,
    ));
    if face_px >= needed {
        return r;
    }
    [4u32, 2]
        .into_iter()
        .find(|&f| f < r && f >= finest && face_px * r as f32 / f as f32 >= needed)
        .unwrap_or(finest)
}

/// `opts` with the host's face given in the coordinates of a photo reduced `r` times.
pub(super) fn scale_options(opts: &Options, r: u32) -> Options {
    let k = 1.0 / r as f32;
    let mut o = opts.clone();
    if let Some(h) = &mut o.face {
        h.bbox = h.bbox.map(|v| v * k);
        h.right_eye = h.right_eye.map(|p| Point::new(p.x * k, p.y * k));
        h.left_eye = h.left_eye.map(|p| Point::new(p.x * k, p.y * k));
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::FaceHint;
    use crate::spec::presets;

    /// The start of a baseline JPEG with a `w`x`h` frame header (enough for the header parse).
    fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 3, 1, 0, 2, 0x11, 3, 0x11]);
        b
    }

    #[test]
    fn reduction_keeps_the_face_pixels_the_spec_needs() {
        let spec = presets::get("cn-id-card").unwrap();
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        let o = Options::default();
        // about 207 px of face needed: a fifth of 3000 px is 600, so half size is enough
        assert_eq!(
            initial_reduction(&jpeg_header(4000, 3000), &spec, w, h, &o),
            2
        );
        assert_eq!(
            initial_reduction(&jpeg_header(8000, 6000), &spec, w, h, &o),
            4
        );
        assert_eq!(
            initial_reduction(&jpeg_header(1200, 900), &spec, w, h, &o),
            1
        );
        // PNG and unreadable headers: full size
        assert_eq!(initial_reduction(b"\x89PNG\r\n\x1a\n", &spec, w, h, &o), 1);
        // a host face box of 900 px allows a quarter
        let hint = Options {
            face: Some(FaceHint {
                bbox: [100.0, 100.0, 900.0, 900.0],
                right_eye: None,
                left_eye: None,
            }),
            ..Options::default()
        };
        assert_eq!(
            initial_reduction(&jpeg_header(4000, 3000), &spec, w, h, &hint),
            4
        );
        // the next decode is the largest reduction where no upscaling is needed
        assert_eq!(finer_reduction(8, 1.5), 4);
        assert_eq!(finer_reduction(8, 3.0), 2);
        assert_eq!(finer_reduction(4, 1.2), 2);
        assert_eq!(finer_reduction(2, 1.2), 1);
        assert_eq!(finer_reduction(8, 20.0), 1);
        let s = scale_options(&hint, 4);
        assert_eq!(s.face.unwrap().bbox, [25.0, 25.0, 225.0, 225.0]);
    }
}
