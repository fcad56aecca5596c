//! Measuring an image against a spec: file rules, face count, head geometry, pose and
//! background, each as a [`RuleResult`].

use image::RgbImage;

use crate::check::quality::{self, fill_polygon, FACE_OVAL};
use crate::decode::{FileInfo, SourceFormat};
use crate::detect::{detect_faces, DetectOptions};
use crate::error::Result;
use crate::geometry::{self, Head};
use crate::landmarks::{self, Landmarks};
use crate::matte;
use crate::pipeline::{
    find_crown, is_face, waive, COMPARABLE_FACE_FRACTION, CROWN_FALLBACK_RATIO, MIN_PRESENCE,
};
use crate::raster::Plane;
use crate::report::{Notice, Report, RuleResult, Status};
use crate::spec::Spec;

/// Off-centre distance (fraction of the width) of the eye midpoint beyond which the implied
/// centring rule fails instead of warning. The specs say "centred" without a number (GA 461,
/// the US rules); the only stated numbers are the social-security card's 162-196 px of 358
/// (+-4.7 %) and ISO/IEC 19794-5's 45-55 %, which give the warning band; beyond +-8 % the face
/// is visibly off-centre.
pub const IMPLIED_CENTRING_FAIL: f64 = 0.08;

/// Checks decoded pixels (plus the file's header facts, when known) against `spec`.
pub fn check_decoded(
    img: &RgbImage,
    spec: &Spec,
    file: Option<(&FileInfo, usize)>,
) -> Result<Report> {
    let (w, h) = img.dimensions();
    let mut rules = Vec::new();
    let mut notices = Vec::new();
    if let Some((info, len)) = file {
        file_rules(spec, info, len, &mut rules);
    }
    let short = w.min(h) as f32;
    let opts = DetectOptions {
        enough_face_px: short * 0.25,
        min_face_px: (short * 0.08).max(24.0),
        ..DetectOptions::default()
    };
    let faces = detect_faces(img, &opts)?;
    let mut verified = Vec::new();
    for f in faces {
        if let Some((main, _)) = verified.first() {
            let main: &crate::detect::Face = main;
            if f.w < main.w * COMPARABLE_FACE_FRACTION {
                continue;
            }
        }
        let lm = landmarks::landmarks_fast(img, &f, MIN_PRESENCE)?;
        if is_face(img, &f, &lm)? {
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
    let Some((_, lm)) = verified.into_iter().next() else {
        return Ok(Report::new(&spec.id, rules, notices));
    };
    let (mut alpha, from_border) = match border_matte(img, &lm) {
        Some(a) => (a, true),
        None => (matte::person_matte(img)?, false),
    };
    let (mut geo, mut geo_notices) = geometry_rules(spec, w, h, &lm, &alpha);
    let borderline = geo.iter().any(|r| {
        r.value.is_some_and(|v| {
            [r.min, r.max]
                .into_iter()
                .flatten()
                .any(|lim| (v - lim).abs() <= GEOMETRY_RECHECK_PX)
        })
    });
    if borderline && from_border {
        // measure the crown again as the pipeline measures it: with the network's matte
        alpha = matte::person_matte(img)?;
        (geo, geo_notices) = geometry_rules(spec, w, h, &lm, &alpha);
    }
    notices.extend(geo_notices);
    rules.extend(geo);
    rules.extend(quality::quality_rules(img, &lm, &alpha, spec));
    Ok(Report::new(&spec.id, rules, notices))
}

/// Geometry values within this many px of a limit are measured again as the pipeline measures
/// them, with the segmentation network's matte: the border model's crown differs from the
/// network's by up to 6 px (it keeps thin strands the network smooths away), and an output
/// placed at a limit must not fail on that. The landmarks are the pipeline's own kind
/// already ([`landmarks::landmarks_fast`], which `make` uses on detected faces too).
pub const GEOMETRY_RECHECK_PX: f64 = 3.0;

/// The spec's geometry rules measured on the head given by `lm` and the crown in `alpha`,
/// with the notices about the crown.
fn geometry_rules(
    spec: &Spec,
    w: u32,
    h: u32,
    lm: &Landmarks,
    alpha: &Plane,
) -> (Vec<RuleResult>, Vec<Notice>) {
    let mut notices = Vec::new();
    let eye_mid = lm.eye_mid();
    let chin_y = lm.chin().y;
    let crown_y = match find_crown(alpha, eye_mid, lm.face_width()) {
        Some((y, false)) => y,
        Some((y, true)) => {
            notices.push(Notice::new(
                "geometry.crown_at_edge",
                "头发顶部触及图像上边缘",
                "the hair reaches the top edge of the image",
            ));
            y
        }
        None => {
            notices.push(Notice::new(
                "geometry.crown_estimated",
                "无法准确检测头顶位置, 已按脸部比例估计",
                "the top of the hair could not be found reliably; estimated from face proportions",
            ));
            eye_mid.y - CROWN_FALLBACK_RATIO * (chin_y - eye_mid.y)
        }
    };
    let head = Head {
        eye_mid,
        inter_eye: lm.inter_eye(),
        face_width: lm.face_width(),
        chin_y,
        crown_y,
    };
    let px_rules = geometry::px_rules(spec, w, h);
    let mut geo = Vec::new();
    for r in &px_rules {
        let v = geometry::measure(r.rule, &head, w, h);
        let mut res = RuleResult::range(
            &format!("geometry.{}", r.rule.name()),
            v,
            Some(r.range.min).filter(|x| x.is_finite()),
            Some(r.range.max).filter(|x| x.is_finite()),
            "px",
        );
        if r.implied
            && res.status == Status::Fail
            && (v - r.range.target).abs() <= IMPLIED_CENTRING_FAIL * w as f64
        {
            res.status = Status::Warn;
        }
        geo.push(res);
    }
    waive(&mut geo, &px_rules, &head, w, h);
    (geo, notices)
}

/// Largest Chebyshev distance (sRGB levels) from the border colour of a background pixel that
/// the border model accepts: a soft shadow or the texture of a wall stays within it, hair and
/// skin do not.
pub const BORDER_MAX_DIST: u8 = 40;
/// Largest step (sRGB levels, Chebyshev) between neighbouring background pixels: smooth light
/// falloff and JPEG noise are below it; the edge of the hair (even when blurred by
/// resampling) has larger steps.
pub const BORDER_MAX_STEP: u8 = 12;
/// Distance (sRGB levels, Chebyshev) from the background colour at which an edge pixel of the
/// person counts as half person (alpha 0.5): about half-way from a white background to mid
/// grey hair.
pub const BORDER_HALF_ALPHA: f32 = 60.0;
/// Smallest fraction of the border strips within [`BORDER_MAX_DIST`] / 2 of their median
/// colour for the border model to be used.
pub const BORDER_MIN_UNIFORM: f64 = 0.97;

/// A person matte (1 person, 0 background) from the image border, without the segmentation
/// network, for photos whose background is one plain colour: the median colour of the top
/// strip and the side strips above the chin is the background colour, and the background is
/// what a flood fill from the border reaches through pixels within [`BORDER_MAX_DIST`] of that
/// colour and with steps of at most [`BORDER_MAX_STEP`].
///
/// Returns `None` (use the segmentation network) when the border is not uniform, when the fill
/// enters the face, when something that is not background lies away from the head and
/// shoulders (a shadow, an object, a second person), or when no crown is found above the
/// forehead.
pub fn border_matte(img: &RgbImage, lm: &Landmarks) -> Option<Plane> {
    let (w, h) = img.dimensions();
    if w < 32 || h < 32 {
        return None;
    }
    let (wu, hu) = (w as usize, h as usize);
    let raw = img.as_raw();
    let chin_y = lm.chin().y;
    let k = (h / 60).max(2) as usize;
    let side_rows = (chin_y.max(0.0) as usize).min(hu);
    // border samples: top strip, side strips above the chin
    let mut hist = [[0u32; 256]; 3];
    let mut samples: Vec<usize> = Vec::new();
    for y in 0..k {
        samples.extend((0..wu).map(|x| y * wu + x));
    }
    for y in k..side_rows {
        samples.extend((0..k).map(|x| y * wu + x));
        samples.extend((wu - k..wu).map(|x| y * wu + x));
    }
    for &i in &samples {
        for c in 0..3 {
            hist[c][raw[3 * i + c] as usize] += 1;
        }
    }
    let half = samples.len() as u32 / 2;
    let bg: [u8; 3] = std::array::from_fn(|c| {
        let mut acc = 0;
        for (v, &n) in hist[c].iter().enumerate() {
            acc += n;
            if acc > half {
                return v as u8;
            }
        }
        255
    });
    let dist = |i: usize| -> u8 {
        (0..3)
            .map(|c| raw[3 * i + c].abs_diff(bg[c]))
            .max()
            .unwrap_or(0)
    };
    let uniform = samples
        .iter()
        .filter(|&&i| dist(i) <= BORDER_MAX_DIST / 2)
        .count();
    if (uniform as f64) < BORDER_MIN_UNIFORM * samples.len() as f64 {
        return None;
    }
    // flood fill from every border pixel close to the background colour
    let step = |a: usize, b: usize| -> u8 {
        (0..3)
            .map(|c| raw[3 * a + c].abs_diff(raw[3 * b + c]))
            .max()
            .unwrap_or(0)
    };
    // 0: may be background, 2: too far from its colour to be (1 once reached by the fill)
    let mut bgm: Vec<u8> = (0..wu * hu)
        .map(|i| if dist(i) <= BORDER_MAX_DIST { 0 } else { 2 })
        .collect();
    let mut stack: Vec<usize> = Vec::new();
    let seed = |i: usize, bgm: &mut Vec<u8>, stack: &mut Vec<usize>| {
        if bgm[i] == 0 && dist(i) <= BORDER_MAX_DIST / 2 {
            bgm[i] = 1;
            stack.push(i);
        }
    };
    for x in 0..wu {
        seed(x, &mut bgm, &mut stack);
        seed((hu - 1) * wu + x, &mut bgm, &mut stack);
    }
    for y in 0..hu {
        seed(y * wu, &mut bgm, &mut stack);
        seed(y * wu + wu - 1, &mut bgm, &mut stack);
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % wu, i / wu);
        let mut visit = |j: usize| {
            if bgm[j] == 0 && step(i, j) <= BORDER_MAX_STEP {
                bgm[j] = 1;
                stack.push(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < wu {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - wu);
        }
        if y + 1 < hu {
            visit(i + wu);
        }
    }
    // the face must not be background
    let mut face = vec![0u8; wu * hu];
    let oval: Vec<_> = FACE_OVAL.iter().map(|&i| lm.pt(i)).collect();
    fill_polygon(&oval, w, h, &mut face, 1);
    let face_px = face.iter().filter(|&&v| v == 1).count();
    let face_bg = face
        .iter()
        .zip(&bgm)
        .filter(|(&f, &b)| f == 1 && b == 1)
        .count();
    if face_px == 0 || face_bg * 50 > face_px {
        return None;
    }
    let alpha = Plane {
        width: w,
        height: h,
        data: bgm
            .iter()
            .map(|&b| if b == 1 { 0.0 } else { 1.0 })
            .collect(),
    };
    // a crown above the forehead
    let eye_mid = lm.eye_mid();
    let crown = match find_crown(&alpha, eye_mid, lm.face_width()) {
        Some((y, _)) if y < lm.pt(landmarks::FOREHEAD).y => y,
        _ => return None,
    };
    // nothing but background above the crown or beside the head above the chin
    let (r, l) = (lm.right_eye(), lm.left_eye());
    let d = r.dist(l).max(1e-3);
    let (ux, uy) = ((l.x - r.x) / d, (l.y - r.y) / d);
    let reach = 1.0 * lm.face_width();
    let mut stray = 0usize;
    for y in 0..hu {
        for x in 0..wu {
            if bgm[y * wu + x] == 1 {
                continue;
            }
            let (dx, dy) = (x as f32 + 0.5 - eye_mid.x, y as f32 + 0.5 - eye_mid.y);
            let along = dx * ux + dy * uy;
            let down = -dx * uy + dy * ux;
            let above_crown = (y as f32) < crown - 2.0;
            let beside = down < chin_y - eye_mid.y && along.abs() > reach;
            if above_crown || beside {
                stray += 1;
            }
        }
    }
    if stray * 400 > wu * hu {
        return None;
    }
    Some(alpha)
}

fn file_rules(spec: &Spec, info: &FileInfo, len: usize, rules: &mut Vec<RuleResult>) {
    rules.push(RuleResult::flag(
        "file.format",
        info.format == SourceFormat::Jpeg,
        "文件格式须为 JPEG",
        "The file must be a JPEG",
    ));
    let (wmin, wmax, hmin, hmax) = match &spec.pixels.range {
        Some(r) => (r.min_width, r.max_width, r.min_height, r.max_height),
        None => (
            spec.pixels.width,
            spec.pixels.width,
            spec.pixels.height,
            spec.pixels.height,
        ),
    };
    rules.push(RuleResult::range(
        "file.width",
        info.display_width as f64,
        Some(wmin as f64),
        Some(wmax as f64),
        "px",
    ));
    rules.push(RuleResult::range(
        "file.height",
        info.display_height as f64,
        Some(hmin as f64),
        Some(hmax as f64),
        "px",
    ));
    if let Some(aspect) = spec.pixels.range.as_ref().and_then(|r| r.aspect) {
        let a = info.display_width as f64 / info.display_height.max(1) as f64;
        rules.push(RuleResult::range(
            "file.aspect",
            a,
            Some(aspect - 0.01),
            Some(aspect + 0.01),
            "ratio",
        ));
    }
    let (dmin, dmax) = spec
        .dpi_range
        .map(|[a, b]| (a as f64, b as f64))
        .unwrap_or((spec.dpi as f64, spec.dpi as f64));
    match &info.density {
        Some(d) => rules.push(RuleResult::range(
            "file.dpi",
            d.x_dpi,
            Some(dmin - 0.5),
            Some(dmax + 0.5),
            "dpi",
        )),
        None => rules.push(RuleResult::flag(
            "file.dpi",
            false,
            "文件未记录 DPI",
            "The file records no DPI",
        )),
    }
    if let Some(win) = &spec.file_size_kb {
        rules.push(RuleResult::range(
            "file.kb_window",
            len as f64 / 1024.0,
            win.min,
            win.max,
            "kb",
        ));
    }
    rules.push(RuleResult::flag(
        "file.bit_depth",
        info.bits_per_channel == 8 && info.channels == 3,
        "须为 24 位 RGB 彩色",
        "Must be 24-bit RGB colour",
    ));
    rules.push(RuleResult::flag(
        "file.color_space",
        !info.has_icc || info.icc_is_srgb == Some(true),
        "色彩空间须为 sRGB",
        "Colour space must be sRGB",
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let rep = check_decoded(&flat, &spec, None).unwrap();
        assert_eq!(status(&rep, "face.count"), Status::Fail);
        let (_, img, _) = clean("cn-id-card");
        let rep = check_decoded(&img, &spec, None).unwrap();
        assert_eq!(status(&rep, "face.count"), Status::Pass);
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
            let rep = check_decoded(&img, &spec, None).unwrap();
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
                let rep = check_decoded(&warp(&img, s, dx, dy), &spec, None).unwrap();
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
        let rep = check_decoded(&warp(&img, 1.0, 0.065 * w, 0.0), &spec, None).unwrap();
        assert_eq!(status(&rep, "geometry.eye_mid_x"), Status::Warn);
        let rep = check_decoded(&warp(&img, 1.0, -0.1 * w, 0.0), &spec, None).unwrap();
        assert_eq!(status(&rep, "geometry.eye_mid_x"), Status::Fail);
    }

    #[test]
    fn border_matte_on_plain_and_busy_backgrounds() {
        // the fixture's output has an ear at the side edge and background remnants: the
        // network decides there
        let (_, img, _) = clean("cn-id-card");
        let faces = crate::detect::detect_faces(&img, &Default::default()).unwrap();
        let lm = landmarks::landmarks_fast(&img, &faces[0], MIN_PRESENCE).unwrap();
        assert!(border_matte(&img, &lm).is_none());
        // a clean output with a plain white border: the border model is used
        let Some(shared) = crate::models::tests::shared_dir() else {
            return;
        };
        let spec = crate::spec::presets::get("cn-id-card").unwrap();
        let bytes = std::fs::read(shared.join("data/portraits/bush_official_2003.jpg")).unwrap();
        let out = crate::process(&bytes, &spec, &crate::Options::default()).unwrap();
        let img = crate::decode::decode(&out.jpeg, &Default::default())
            .unwrap()
            .image;
        let faces = crate::detect::detect_faces(&img, &Default::default()).unwrap();
        let lm = landmarks::landmarks_fast(&img, &faces[0], MIN_PRESENCE).unwrap();
        let alpha = border_matte(&img, &lm).expect("plain white background");
        // the crown agrees with the segmentation network's within 6 px (the network at 256 px
        // smooths away the tuft on top of this head, which the border model keeps)
        let net = matte::person_matte(&img).unwrap();
        let (a, _) = find_crown(&alpha, lm.eye_mid(), lm.face_width()).unwrap();
        let (b, _) = find_crown(&net, lm.eye_mid(), lm.face_width()).unwrap();
        assert!((a - b).abs() <= 6.0, "border {a} network {b}");
        // a dark block beside the head (an object, a shadow): the network decides
        let mut busy = img.clone();
        for y in 20..120 {
            for x in 0..60 {
                busy.put_pixel(x, y, image::Rgb([90, 80, 70]));
            }
        }
        assert!(border_matte(&busy, &lm).is_none());
        // a noisy border: not uniform
        let mut seed = 7u32;
        let noisy = RgbImage::from_fn(img.width(), img.height(), |x, y| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = ((seed >> 16) % 61) as i32 - 30;
            let p = img.get_pixel(x, y).0;
            image::Rgb(p.map(|v| (v as i32 + n).clamp(0, 255) as u8))
        });
        assert!(border_matte(&noisy, &lm).is_none());
    }
}
