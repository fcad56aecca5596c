//! Measuring an image against a spec: file rules, face count, head geometry, pose and
//! background, each as a [`RuleResult`].

use image::RgbImage;

use crate::decode::{FileInfo, SourceFormat};
use crate::detect::{detect_faces, DetectOptions};
use crate::error::Result;
use crate::geometry::{self, Head};
use crate::landmarks;
use crate::matte;
use crate::pipeline::{
    find_crown, waive, COMPARABLE_FACE_FRACTION, CROWN_FALLBACK_RATIO, MIN_PRESENCE,
};
use crate::quality;
use crate::report::{Notice, Report, RuleResult, Status};
use crate::spec::Spec;

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
        let lm = landmarks::landmarks_refined(img, &f)?;
        if lm.presence >= MIN_PRESENCE {
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
    let alpha = matte::person_matte(img)?;
    let eye_mid = lm.eye_mid();
    let chin_y = lm.chin().y;
    let crown_y = match find_crown(&alpha, eye_mid, lm.face_width()) {
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
        if r.implied && res.status == Status::Fail {
            res.status = Status::Warn;
        }
        geo.push(res);
    }
    waive(&mut geo, &px_rules, &head, w, h);
    rules.extend(geo);
    rules.extend(quality::quality_rules(img, &lm, &alpha, spec));
    Ok(Report::new(&spec.id, rules, notices))
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
