//! Measuring a photo against a spec (`check`): file rules, face count, head geometry, and
//! the quality measures (pose, expression, lighting, background, image), each as a
//! [`RuleResult`].

mod border;
mod file;
mod geometry;
pub mod quality;

use image::RgbImage;

use crate::decode::FileInfo;
use crate::error::Result;
use crate::face::{
    detect_faces, is_face, landmarks, DetectOptions, Face, Landmarks, COMPARABLE_FACE_FRACTION,
    MIN_PRESENCE,
};
use crate::matte;
use crate::nn::Networks;
use crate::report::{Notice, Report, RuleResult};
use crate::spec::Spec;
pub use border::border_matte;
use file::file_rules;
use geometry::geometry_rules;

/// Checks decoded pixels (plus the file's header facts, when known) against `spec`.
pub fn check_decoded(
    nets: &Networks,
    img: &RgbImage,
    spec: &Spec,
    file: Option<(&FileInfo, usize)>,
) -> Result<Report> {
    Ok(check_reduced(nets, img, spec, file, 1)?.report)
}

/// A report of [`check_reduced`] and what it found.
pub(crate) struct Checked {
    /// The report.
    pub report: Report,
    /// Width of the face measured (px of the decoded image), if one was found.
    pub face_px: Option<f32>,
}

/// [`check_decoded`] of a JPEG decoded at 1/`reduction` of its size (1, 2 or 4; pixel (x, y)
/// of `img` covers the file's pixels (x, y) * `reduction`): the geometry rules are measured in
/// the file's pixels (the `file`'s size, or `img`'s times `reduction`), the quality rules on
/// `img` with the JPEG blocks at 8/`reduction` px.
pub(crate) fn check_reduced(
    nets: &Networks,
    img: &RgbImage,
    spec: &Spec,
    file: Option<(&FileInfo, usize)>,
    reduction: u32,
) -> Result<Checked> {
    let (w, h) = img.dimensions();
    let file_size = match file {
        Some((info, _)) if reduction > 1 => (info.display_width, info.display_height),
        _ => (w * reduction, h * reduction),
    };
    let mut rules = Vec::new();
    let mut notices = Vec::new();
    if let Some((info, len)) = file {
        file_rules(spec, info, len, &mut rules);
    }
    if reduction > 1 {
        notices.push(Notice::new(
            "check.reduced",
            format!("照片较大, 已按 1/{reduction} 尺寸测量"),
            format!("the photo is large and was measured at 1/{reduction} of its size"),
        ));
    }
    // the visible signs of a damaged file, on its 8x8 blocks: measured on a photo decoded at
    // full size (a large photo measured reduced was checked strictly when decoded)
    if reduction == 1 {
        rules.push(quality::damage::damage_rule(img));
    }
    let Some(lm) = main_face(nets, img, &mut rules)? else {
        return Ok(Checked {
            report: Report::new(&spec.id, rules, notices),
            face_px: None,
        });
    };
    let k = reduction as f32;
    let (mut alpha, from_border) = match border_matte(img, &lm) {
        Some(a) => (a, true),
        None => (matte::person_matte(nets, img)?, false),
    };
    let (mut geo, mut geo_notices) = geometry_rules(spec, file_size, k, &lm, &alpha);
    let borderline = geo.iter().any(|r| {
        r.value.is_some_and(|v| {
            [r.min, r.max]
                .into_iter()
                .flatten()
                .any(|lim| (v - lim).abs() <= GEOMETRY_RECHECK_PX * f64::from(k))
        })
    });
    if borderline && from_border {
        // measure the crown again as the pipeline measures it: with the network's matte
        alpha = matte::person_matte(nets, img)?;
        (geo, geo_notices) = geometry_rules(spec, file_size, k, &lm, &alpha);
    }
    notices.extend(geo_notices);
    rules.extend(geo);
    rules.extend(quality::quality_rules_reduced(
        img, &lm, &alpha, spec, reduction,
    ));
    Ok(Checked {
        report: Report::new(&spec.id, rules, notices),
        face_px: Some(lm.face_width()),
    })
}

/// The landmarks of the largest verified face of `img`, after pushing the `face.count` rule.
fn main_face(
    nets: &Networks,
    img: &RgbImage,
    rules: &mut Vec<RuleResult>,
) -> Result<Option<Landmarks>> {
    let short = img.width().min(img.height()) as f32;
    let opts = DetectOptions {
        enough_face_px: short * 0.25,
        min_face_px: (short * 0.08).max(24.0),
        ..DetectOptions::default()
    };
    let faces = detect_faces(nets, img, &opts)?;
    let mut verified = Vec::new();
    for f in faces {
        if let Some((main, _)) = verified.first() {
            let main: &Face = main;
            if f.w < main.w * COMPARABLE_FACE_FRACTION {
                continue;
            }
        }
        let lm = landmarks::landmarks_fast(nets, img, &f, MIN_PRESENCE)?;
        if is_face(nets, img, &f, &lm)? {
            verified.push((f, lm));
        }
    }
    rules.push(RuleResult::range(
        "face.count",
        verified.len() as f64,
        Some(1.0),
        Some(1.0),
        "faces",
    ));
    Ok(verified.into_iter().next().map(|(_, lm)| lm))
}

/// Geometry values within this many px of a limit are measured again as the pipeline measures
/// them, with the segmentation network's matte: the border model's crown differs from the
/// network's by up to 6 px (it keeps thin strands the network smooths away), and an output
/// placed at a limit must not fail on that. The landmarks are the pipeline's own kind
/// already ([`landmarks::landmarks_fast`], which `make` uses on detected faces too).
pub const GEOMETRY_RECHECK_PX: f64 = 3.0;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::SourceFormat;
    use crate::report::Status;
    use crate::test_support::compliant_output as clean;

    /// Scales by `s` about the centre and shifts by (dx, dy) px; edges replicated.
    fn warp(img: &RgbImage, s: f32, dx: f32, dy: f32) -> RgbImage {
        let (w, h) = img.dimensions();
        let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
        RgbImage::from_fn(w, h, |x, y| {
            let sx = cx + (x as f32 + 0.5 - dx - cx) / s - 0.5;
            let sy = cy + (y as f32 + 0.5 - dy - cy) / s - 0.5;
            let p = crate::raster::bilinear_rgb(
                img,
                sx.clamp(0.0, w as f32 - 1.0),
                sy.clamp(0.0, h as f32 - 1.0),
            );
            image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    }

    fn status(rep: &Report, code: &str) -> Status {
        rep.rule(code)
            .unwrap_or_else(|| panic!("{code} missing"))
            .status
    }

    #[test]
    fn file_rules_pass_and_fail() {
        let (jpeg, _, spec) = clean("cn-id-card");
        let info = crate::decode::inspect(&jpeg).unwrap();
        let mut rules = Vec::new();
        file_rules(&spec, &info, jpeg.len(), &mut rules);
        assert!(rules.iter().all(|r| r.status == Status::Pass), "{rules:?}");
        let mut bad = info.clone();
        bad.format = SourceFormat::Png;
        bad.display_width = 300;
        bad.display_height = 400;
        bad.density = None;
        bad.bits_per_channel = 16;
        bad.has_icc = true;
        bad.icc_is_srgb = Some(false);
        let mut rules = Vec::new();
        file_rules(&spec, &bad, 200 * 1024, &mut rules);
        for c in [
            "file.format",
            "file.width",
            "file.height",
            "file.dpi",
            "file.kb_window",
            "file.bit_depth",
            "file.color_space",
        ] {
            let r = rules.iter().find(|r| r.code == c).unwrap();
            assert_eq!(r.status, Status::Fail, "{c}");
        }
        // aspect: a spec with a pixel range and an aspect ratio
        let exit = crate::spec::presets::get("cn-exit-entry").unwrap();
        let mut ok = info.clone();
        (ok.display_width, ok.display_height) = (360, 480);
        let mut wrong = info.clone();
        (wrong.display_width, wrong.display_height) = (400, 480);
        for (i, want) in [(&ok, Status::Pass), (&wrong, Status::Fail)] {
            let mut rules = Vec::new();
            file_rules(&exit, i, 40 * 1024, &mut rules);
            let r = rules.iter().find(|r| r.code == "file.aspect").unwrap();
            assert_eq!(r.status, want);
        }
    }

    #[test]
    fn face_count_fails_without_a_face() {
        let spec = crate::spec::presets::get("cn-id-card").unwrap();
        let flat = RgbImage::from_pixel(358, 441, image::Rgb([255, 255, 255]));
        let rep = check_decoded(crate::nn::tests::nets(), &flat, &spec, None).unwrap();
        assert_eq!(status(&rep, "face.count"), Status::Fail);
        let (_, img, _) = clean("cn-id-card");
        let rep = check_decoded(crate::nn::tests::nets(), &img, &spec, None).unwrap();
        assert_eq!(status(&rep, "face.count"), Status::Pass);
    }

    #[test]
    fn damage_rule_fails_a_damaged_looking_photo() {
        let (_, img, spec) = clean("cn-id-card");
        let rep = check_decoded(crate::nn::tests::nets(), &img, &spec, None).unwrap();
        assert_eq!(status(&rep, "image.damage"), Status::Pass);
        // a grey slab over the lower half, from a block row on
        let mut slab = img.clone();
        let (w, h) = slab.dimensions();
        for y in (h / 16 * 8)..h {
            for x in 0..w {
                slab.put_pixel(x, y, image::Rgb([128, 128, 128]));
            }
        }
        let rep = check_decoded(crate::nn::tests::nets(), &slab, &spec, None).unwrap();
        assert_eq!(status(&rep, "image.damage"), Status::Fail);
        assert!(!rep.passed);
    }

    #[test]
    fn every_geometry_rule_passes_clean_and_fails_on_some_defect() {
        for spec_id in [
            "cn-id-card",
            "cn-passport-390",
            "cn-passport-consular",
            "us-visa",
        ] {
            let (_, img, spec) = clean(spec_id);
            let (w, h) = img.dimensions();
            let rep = check_decoded(crate::nn::tests::nets(), &img, &spec, None).unwrap();
            let codes: Vec<String> = rep
                .rules
                .iter()
                .filter(|r| r.code.starts_with("geometry."))
                .map(|r| r.code.clone())
                .collect();
            assert!(!codes.is_empty());
            for c in &codes {
                assert_eq!(status(&rep, c), Status::Pass, "{spec_id} clean {c}");
            }
            let mut failed = std::collections::BTreeSet::new();
            for (s, dx, dy) in [
                (0.75, 0.0, 0.0),
                (1.3, 0.0, 0.0),
                (1.0, 0.0, 0.16 * h as f32),
                (1.0, 0.0, -0.16 * h as f32),
                (1.0, 0.12 * w as f32, 0.0),
            ] {
                let rep = check_decoded(
                    crate::nn::tests::nets(),
                    &warp(&img, s, dx, dy),
                    &spec,
                    None,
                )
                .unwrap();
                failed.extend(rep.failures().map(|r| r.code.clone()));
            }
            for c in &codes {
                assert!(
                    failed.contains(c),
                    "{spec_id}: {c} never failed ({failed:?})"
                );
            }
        }
    }

    #[test]
    fn implied_centring_warns_then_fails() {
        let (_, img, spec) = clean("cn-id-card");
        let w = img.width() as f32;
        let rep = check_decoded(
            crate::nn::tests::nets(),
            &warp(&img, 1.0, 0.065 * w, 0.0),
            &spec,
            None,
        )
        .unwrap();
        assert_eq!(status(&rep, "geometry.eye_mid_x"), Status::Warn);
        let rep = check_decoded(
            crate::nn::tests::nets(),
            &warp(&img, 1.0, -0.1 * w, 0.0),
            &spec,
            None,
        )
        .unwrap();
        assert_eq!(status(&rep, "geometry.eye_mid_x"), Status::Fail);
    }
}
