//! The end-to-end pipeline, orchestration only: [`process`] turns a photo into a compliant ID
//! photo (decode, face, matte, crop, render, encode, re-check), [`check`] measures any photo
//! against a spec.

mod make;
mod reduction;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
use std::time::Instant;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use web_time::Instant;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::decode::{self, Limits};
use crate::error::{Error, Result};
use crate::nn::Networks;
use crate::options::{output_size, Options};
use crate::report::Report;
use crate::spec::Spec;
pub use reduction::REDUCED_DECODE_FACE_FRACTION;
use reduction::{check_finer, check_reductions, finer_reduction, initial_reduction, scale_options};

/// Time spent in each stage, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding, orientation and colour conversion.
    pub decode_ms: f64,
    /// Face detection and landmarks.
    pub detect_ms: f64,
    /// Person segmentation.
    pub segment_ms: f64,
    /// Matte refinement and compositing.
    pub refine_ms: f64,
    /// Crop solve and the resize to the output size.
    pub crop_resize_ms: f64,
    /// JPEG encoding to the size window.
    pub encode_ms: f64,
    /// Re-checking the output.
    pub check_ms: f64,
    /// How many times the output was rendered, encoded and checked (more than one when the
    /// re-check moved the crown).
    pub passes: u32,
}

/// Result of [`Engine::process`](crate::Engine::process).
#[derive(Debug, Clone)]
pub struct Output {
    /// The encoded JPEG.
    pub jpeg: Vec<u8>,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// JPEG quality used.
    pub quality: u8,
    /// Compliance report measured again on the encoded output.
    pub report: Report,
    /// Per-stage times.
    pub timings: Timings,
    /// The photo was decoded at 1/`source_reduction` of its size (1, 2, 4 or 8; see
    /// [`Engine::process`](crate::Engine::process)).
    pub source_reduction: u32,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Largest scale (output px per input px) accepted from a reduced decode: below 1 so that the
/// crown corrections of the later passes never turn it into an upscale.
const REDUCED_MAX_SCALE: f64 = 0.95;

/// Makes an ID photo from encoded image bytes (JPEG, PNG, WebP).
///
/// Large JPEGs (phone photos) are decoded at 1/2, 1/4 or 1/8 of their size when the face
/// still has at least the pixels the output needs (see [`REDUCED_DECODE_FACE_FRACTION`]);
/// the output never depends on more than that: a face that would need upscaling at the
/// reduced size is taken from a finer decode.
pub(crate) fn process(
    nets: &Networks,
    bytes: &[u8],
    spec: &Spec,
    opts: &Options,
) -> Result<Output> {
    spec.validate()?;
    let (out_w, out_h) = output_size(spec, opts)?;
    let mut reduction = initial_reduction(bytes, spec, out_w, out_h, opts);
    let mut decode_ms = 0.0;
    loop {
        let t = Instant::now();
        let decoded = decode::decode_reduced(bytes, &opts.limits, reduction)?;
        decode_ms += ms(t);
        let r = decoded.reduction;
        let scaled;
        let o = if r > 1 {
            scaled = scale_options(opts, r);
            &scaled
        } else {
            opts
        };
        match make::make(nets, &decoded.image, spec, o, r) {
            Ok(Made::Done(mut out)) => {
                out.timings.decode_ms = decode_ms;
                out.source_reduction = r;
                return Ok(*out);
            }
            // the face needs more pixels than the reduced decode has
            Ok(Made::NeedsScale(scale)) => reduction = finer_reduction(r, scale),
            // small faces may only be found, or measured, at full size
            Err(Error::NoFace | Error::FaceTooSmall { .. }) if r > 1 => reduction = 1,
            Err(e) => return Err(e),
        }
    }
}

/// What [`make`] did.
enum Made {
    /// The photo.
    Done(Box<Output>),
    /// Not made: the face needs this upscale (output px per input px, above 1) and the input
    /// was a reduced decode.
    NeedsScale(f64),
}

/// Makes an ID photo from decoded pixels (sRGB, orientation already applied).
pub fn process_image(
    nets: &Networks,
    img: &RgbImage,
    spec: &Spec,
    opts: &Options,
) -> Result<Output> {
    match make::make(nets, img, spec, opts, 1)? {
        Made::Done(out) => Ok(*out),
        Made::NeedsScale(_) => Err(Error::Internal("upscale refused on a full decode".into())),
    }
}

/// Checks encoded image bytes against a spec: file rules, then every geometric rule measured
/// on the image.
///
/// A large JPEG is decoded at 1/2 or 1/4 of its size (see [`reduction::CHECK_MAX_DECODED_PIXELS`]), at
/// most as far as `make` would reduce it: the face then keeps at least the pixels the spec's
/// output gives it, unless the photo is so large that even the finest allowed decode leaves it
/// fewer. The file rules read the file's header; the geometry rules are in the file's pixels.
pub(crate) fn check(nets: &Networks, bytes: &[u8], spec: &Spec) -> Result<Report> {
    spec.validate()?;
    let info = decode::inspect(bytes)?;
    let (mut reduction, finest) = check_reductions(bytes, spec);
    loop {
        let decoded = decode::decode_reduced(bytes, &Limits::default(), reduction)?;
        let r = decoded.reduction;
        let file = Some((&info, bytes.len()));
        let checked = crate::check::check_reduced(nets, &decoded.image, spec, file, r)?;
        // a face not found, or with fewer pixels than the output's, is measured finer
        let next = checked
            .face_px
            .map_or(finest, |f| check_finer(spec, r, f, finest));
        if next >= r {
            return Ok(checked.report);
        }
        reduction = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Status;
    use crate::spec::presets;
    use image::imageops::rotate180;

    #[test]
    fn source_resolution_warns_when_the_face_was_upscaled() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let full = image::open(dir.join("obama.jpg")).unwrap().to_rgb8();
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options {
            max_upscale: 3.0,
            ..Options::default()
        };
        let rule = |img: &RgbImage| {
            let out = process_image(crate::nn::tests::nets(), img, &spec, &o).unwrap();
            out.report.rule("face.source_resolution").unwrap().clone()
        };
        let r = rule(&full);
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert!(r.value.unwrap() < 1.0);
        let small = image::imageops::resize(
            &full,
            full.width() * 2 / 5,
            full.height() * 2 / 5,
            image::imageops::FilterType::Triangle,
        );
        let r = rule(&small);
        assert_eq!(r.status, Status::Warn, "{r:?}");
        assert!(r.value.unwrap() > 1.0, "{r:?}");
    }

    #[test]
    fn small_face_in_a_large_photo_is_decoded_finer() {
        // the fixture portrait at the bottom of a 3600x4800 canvas: a fifth of the short side
        // at half size would be enough, but this face is not, so the photo is decoded again
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let small = image::open(dir.join("obama.jpg")).unwrap().to_rgb8();
        let fill = *small.get_pixel(0, 0);
        let mut canvas = RgbImage::from_pixel(3600, 4800, fill);
        image::imageops::replace(&mut canvas, &small, 1345, i64::from(4800 - small.height()));
        let bytes = crate::encode::encode_jpeg(&canvas, 72, (None, None))
            .unwrap()
            .bytes;
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options::default();
        assert_eq!(initial_reduction(&bytes, &spec, 358, 441, &o), 2);
        let out = process(crate::nn::tests::nets(), &bytes, &spec, &o).unwrap();
        assert_eq!(out.source_reduction, 1);
        let full = process_image(crate::nn::tests::nets(), &canvas, &spec, &o).unwrap();
        for r in &out.report.rules {
            if r.code.starts_with("geometry.") {
                let f = full.report.rule(&r.code).unwrap();
                assert_eq!(r.status, f.status, "{r:?} / {f:?}");
                assert!(
                    (r.value.unwrap() - f.value.unwrap()).abs() < 1.0,
                    "{r:?} / {f:?}"
                );
            }
        }
    }

    #[test]
    fn check_of_a_large_photo_is_measured_reduced_in_the_file_pixels() {
        // the fixture portrait enlarged 4x to about 3.3k x 4.4k px (15 MP): checked at 1/2
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let small = image::open(dir.join("obama.jpg")).unwrap().to_rgb8();
        let big = image::imageops::resize(
            &small,
            small.width() * 4,
            small.height() * 4,
            image::imageops::FilterType::Triangle,
        );
        let bytes = crate::encode::encode_jpeg(&big, 300, (None, None))
            .unwrap()
            .bytes;
        let spec = presets::get("cn-exam-postgraduate").unwrap();
        assert_eq!(check_reductions(&bytes, &spec), (2, 2));
        let nets = crate::nn::tests::nets();
        let reduced = check(nets, &bytes, &spec).unwrap();
        assert!(reduced.notices.iter().any(|n| n.code == "check.reduced"));
        let info = decode::inspect(&bytes).unwrap();
        let full = crate::check::check_decoded(nets, &big, &spec, Some((&info, bytes.len())));
        let full = full.unwrap();
        assert!(!full.notices.iter().any(|n| n.code == "check.reduced"));
        for f in &full.rules {
            // the signs of damage are looked for on 8x8 blocks, at full size only
            let Some(r) = reduced.rule(&f.code) else {
                assert_eq!(f.code, "image.damage");
                continue;
            };
            if f.code.starts_with("file.") || f.code.starts_with("face.") {
                assert_eq!(r, f);
            }
            if f.code.starts_with("geometry.") || f.code.starts_with("pose.") {
                assert_eq!(r.status, f.status, "{r:?} / {f:?}");
                let (a, b) = (r.value.unwrap(), f.value.unwrap());
                // geometry in the file's pixels (faces 950 px wide), within a reduced pixel
                assert!((a - b).abs() <= 2.0, "{r:?} / {f:?}");
            }
        }
        // a photo within the decode budget is checked at full size
        let photo = std::fs::read(dir.join("obama.jpg")).unwrap();
        assert_eq!(check_reductions(&photo, &spec), (1, 1));
        // 100 MP at most 1/4, 48 MP at 1/4 (as far as make would reduce it for cn-id-card)
        let header = |w: u16, h: u16| {
            let mut b = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
            b.extend_from_slice(&h.to_be_bytes());
            b.extend_from_slice(&w.to_be_bytes());
            b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
            b
        };
        let id = presets::get("cn-id-card").unwrap();
        assert_eq!(check_reductions(&header(8600, 11500), &id), (4, 4));
        assert_eq!(check_reductions(&header(6000, 8000), &id), (4, 4));
        assert_eq!(check_reductions(&header(3000, 4000), &id), (2, 2));
        assert_eq!(check_reductions(&header(2000, 2000), &id), (1, 1));
    }

    /// Mean absolute difference of two images' samples.
    fn mean_diff(a: &RgbImage, b: &RgbImage) -> f64 {
        a.as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| f64::from(x.abs_diff(*y)))
            .sum::<f64>()
            / a.as_raw().len() as f64
    }

    #[test]
    fn a_photo_turned_upside_down_is_made_upright() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let nets = crate::nn::tests::nets();
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options::default();
        let turned_notice = |r: &Report| r.notices.iter().any(|n| n.code == "face.upside_down");
        for name in ["obama.jpg", "obama2.jpg"] {
            let img = decode::decode(&std::fs::read(dir.join(name)).unwrap(), &Limits::default())
                .unwrap()
                .image;
            let upright = process_image(nets, &img, &spec, &o).unwrap();
            assert!(!turned_notice(&upright.report));
            let b = image::load_from_memory(&upright.jpeg).unwrap().to_rgb8();
            let turned = image::imageops::rotate180(&img);
            let bytes = crate::encode::encode_jpeg(&turned, 72, (None, None))
                .unwrap()
                .bytes;
            // the turned pixels (obama2.jpg's upside-down face is found, and found upside
            // down) and the turned file (no face is found until it is turned back)
            for out in [
                process_image(nets, &turned, &spec, &o).unwrap(),
                process(nets, &bytes, &spec, &o).unwrap(),
            ] {
                assert!(
                    turned_notice(&out.report),
                    "{name}: {:?}",
                    out.report.notices
                );
                let a = image::load_from_memory(&out.jpeg).unwrap().to_rgb8();
                // the same photo, not a turned one
                let (same, turned_back) = (mean_diff(&a, &b), mean_diff(&rotate180(&a), &b));
                assert!(same < 8.0, "{name}: mean abs difference {same:.1}");
                assert!(
                    turned_back > 3.0 * same,
                    "{name}: {turned_back:.1} / {same:.1}"
                );
            }
        }
    }

    #[test]
    fn reduced_decode_gives_the_same_photo() {
        let Some(shared) = crate::nn::tests::shared_dir() else {
            return;
        };
        let bytes = std::fs::read(shared.join("data/bench/phone12mp_exif6.jpg")).unwrap();
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options::default();
        let reduced = process(crate::nn::tests::nets(), &bytes, &spec, &o).unwrap();
        assert_eq!(reduced.source_reduction, 2);
        let full_img = decode::decode(&bytes, &Limits::default()).unwrap().image;
        let full = process_image(crate::nn::tests::nets(), &full_img, &spec, &o).unwrap();
        // the subject looks up and aside (pose fails in both): the rules the pipeline
        // controls must pass
        for r in &reduced.report.rules {
            if ["geometry.", "file.", "background."]
                .iter()
                .any(|p| r.code.starts_with(p))
            {
                assert!(
                    matches!(r.status, Status::Pass | Status::Waived | Status::Warn),
                    "{r:?}"
                );
            }
        }
        for code in [
            "geometry.crown_margin",
            "geometry.face_width",
            "geometry.eye_line_from_bottom",
        ] {
            let v = |r: &Report| r.rule(code).and_then(|r| r.value);
            let (a, b) = (v(&reduced.report), v(&full.report));
            assert!(
                matches!((a, b), (Some(a), Some(b)) if (a - b).abs() <= 3.0),
                "{code}: reduced {a:?}, full {b:?}"
            );
        }
        let (a, b) = (
            image::load_from_memory(&reduced.jpeg).unwrap().to_rgb8(),
            image::load_from_memory(&full.jpeg).unwrap().to_rgb8(),
        );
        let diff: f64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
            .sum::<f64>()
            / a.as_raw().len() as f64;
        assert!(diff < 6.0, "mean abs difference {diff:.2}");
    }
}
