//! Consistency checks for [`Spec`](super::Spec).
//!
//! Every error is an [`Error::InvalidSpec`] whose `field` is the JSON path of the offending
//! value (`pixels.width`, `geometry.face_width.min`, `background.allowed[1].hex`...).

use std::collections::HashSet;

use super::{parse_hex, GeometryRule, Limit, Spec, Unit};
use crate::error::{Error, Result};

/// Largest accepted pixel dimension.
pub(super) const MAX_PIXELS: u32 = 10_000;
/// Largest output (width x height) that may be asked for, by a spec's default size or an
/// option: making a photo needs about 12 bytes per output pixel besides the source photo's
/// decode, so a 25 MP output from a 100 MP photo stays under 1 GB (see benches/README.md).
/// A spec's range may go beyond it: `check` accepts photos of any size in the range.
pub(crate) const MAX_OUTPUT_PIXELS: u64 = 25_000_000;
/// Accepted DPI values.
pub(super) const DPI_RANGE: std::ops::RangeInclusive<u32> = 50..=2400;
/// Relative tolerance between `physical_mm` and `pixels / dpi`.
const PHYSICAL_TOLERANCE: f64 = 0.03;

fn err(field: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::InvalidSpec {
        field: field.into(),
        reason: reason.into(),
    }
}

/// Validates a spec; errors name the offending field.
pub(super) fn validate(spec: &Spec) -> Result<()> {
    check_id(&spec.id)?;
    if spec.name.zh.trim().is_empty() && spec.name.en.trim().is_empty() {
        return Err(err(
            "name",
            "at least one of name.zh and name.en must be set",
        ));
    }
    check_pixels(spec)?;
    check_dpi(spec)?;
    check_physical(spec)?;
    check_file_size(spec)?;
    check_background(spec)?;
    check_geometry(spec)?;
    check_priority(spec)?;
    check_pose(spec)?;
    check_source(spec)?;
    Ok(())
}

/// True for non-empty kebab-case: lowercase ASCII letters and digits in segments joined by
/// single hyphens.
pub(super) fn is_kebab(s: &str) -> bool {
    !s.is_empty()
        && s.split('-').all(|seg| {
            !seg.is_empty()
                && seg
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn check_id(id: &str) -> Result<()> {
    if id.is_empty() {
        return Err(err("id", "must not be empty"));
    }
    if !is_kebab(id) {
        return Err(err(
            "id",
            format!(
                "`{id}` is not kebab-case (lowercase letters and digits joined by single hyphens)"
            ),
        ));
    }
    Ok(())
}

fn check_pixels(spec: &Spec) -> Result<()> {
    let p = &spec.pixels;
    for (name, v) in [("width", p.width), ("height", p.height)] {
        if v == 0 || v > MAX_PIXELS {
            return Err(err(
                format!("pixels.{name}"),
                format!("{v} is outside 1..={MAX_PIXELS}"),
            ));
        }
    }
    if u64::from(p.width) * u64::from(p.height) > MAX_OUTPUT_PIXELS {
        return Err(err(
            "pixels",
            format!(
                "the default size {}x{} is more than the {MAX_OUTPUT_PIXELS} pixels an output may have",
                p.width, p.height
            ),
        ));
    }
    let Some(r) = &p.range else { return Ok(()) };
    for (name, v) in [
        ("min_width", r.min_width),
        ("max_width", r.max_width),
        ("min_height", r.min_height),
        ("max_height", r.max_height),
    ] {
        if v == 0 || v > MAX_PIXELS {
            return Err(err(
                format!("pixels.range.{name}"),
                format!("{v} is outside 1..={MAX_PIXELS}"),
            ));
        }
    }
    if r.min_width > r.max_width {
        return Err(err(
            "pixels.range.min_width",
            format!("min_width {} > max_width {}", r.min_width, r.max_width),
        ));
    }
    if r.min_height > r.max_height {
        return Err(err(
            "pixels.range.min_height",
            format!("min_height {} > max_height {}", r.min_height, r.max_height),
        ));
    }
    if !(r.min_width..=r.max_width).contains(&p.width)
        || !(r.min_height..=r.max_height).contains(&p.height)
    {
        return Err(err(
            "pixels.range",
            format!(
                "the default size {}x{} is outside the range {}-{} x {}-{}",
                p.width, p.height, r.min_width, r.max_width, r.min_height, r.max_height
            ),
        ));
    }
    if let Some(a) = r.aspect {
        if !a.is_finite() || a <= 0.0 || a > 100.0 {
            return Err(err(
                "pixels.range.aspect",
                format!("{a} is not a positive ratio"),
            ));
        }
        // Allow one pixel of rounding.
        if (p.width as f64 - a * p.height as f64).abs() > 1.0 {
            return Err(err(
                "pixels.range.aspect",
                format!(
                    "the default size {}x{} does not have the aspect {a} (width / height)",
                    p.width, p.height
                ),
            ));
        }
    }
    Ok(())
}

fn check_dpi(spec: &Spec) -> Result<()> {
    if !DPI_RANGE.contains(&spec.dpi) {
        return Err(err(
            "dpi",
            format!(
                "{} is outside {}..={}",
                spec.dpi,
                DPI_RANGE.start(),
                DPI_RANGE.end()
            ),
        ));
    }
    if let Some([lo, hi]) = spec.dpi_range {
        if lo > hi || !DPI_RANGE.contains(&lo) || !DPI_RANGE.contains(&hi) {
            return Err(err(
                "dpi_range",
                format!(
                    "[{lo}, {hi}] must be ordered and within {}..={}",
                    DPI_RANGE.start(),
                    DPI_RANGE.end()
                ),
            ));
        }
        if !(lo..=hi).contains(&spec.dpi) {
            return Err(err(
                "dpi_range",
                format!("[{lo}, {hi}] does not contain dpi {}", spec.dpi),
            ));
        }
    }
    Ok(())
}

fn check_physical(spec: &Spec) -> Result<()> {
    let Some(mm) = spec.physical_mm else {
        return Ok(());
    };
    for (name, v, px) in [
        ("width", mm.width, spec.pixels.width),
        ("height", mm.height, spec.pixels.height),
    ] {
        if !v.is_finite() || v <= 0.0 || v > 1000.0 {
            return Err(err(
                format!("physical_mm.{name}"),
                format!("{v} mm is not a size in (0, 1000]"),
            ));
        }
        let at_dpi = px as f64 / spec.dpi as f64 * 25.4;
        if (at_dpi - v).abs() > v * PHYSICAL_TOLERANCE {
            return Err(err(
                format!("physical_mm.{name}"),
                format!(
                    "{v} mm does not match pixels.{name} {px} at {} dpi ({at_dpi:.1} mm)",
                    spec.dpi
                ),
            ));
        }
    }
    Ok(())
}

fn check_file_size(spec: &Spec) -> Result<()> {
    let Some(w) = spec.file_size_kb else {
        return Ok(());
    };
    for (name, v) in [("min", w.min), ("max", w.max)] {
        if let Some(v) = v {
            if !v.is_finite() || v <= 0.0 {
                return Err(err(
                    format!("file_size_kb.{name}"),
                    format!("{v} KB must be a positive number"),
                ));
            }
        }
    }
    if let (Some(lo), Some(hi)) = (w.min, w.max) {
        if lo > hi {
            return Err(err("file_size_kb", format!("min {lo} KB > max {hi} KB")));
        }
    }
    Ok(())
}

fn check_background(spec: &Spec) -> Result<()> {
    let bg = &spec.background;
    if bg.allowed.is_empty() {
        return Err(err("background.allowed", "must list at least one colour"));
    }
    let mut seen = HashSet::new();
    for (i, c) in bg.allowed.iter().enumerate() {
        if c.name.trim().is_empty() {
            return Err(err(
                format!("background.allowed[{i}].name"),
                "must not be empty",
            ));
        }
        if !seen.insert(c.name.to_ascii_lowercase()) {
            return Err(err(
                format!("background.allowed[{i}].name"),
                format!("duplicate colour name `{}`", c.name),
            ));
        }
        if !c.hex.starts_with('#') || parse_hex(&c.hex).is_none() {
            return Err(err(
                format!("background.allowed[{i}].hex"),
                format!("`{}` is not a #RRGGBB colour", c.hex),
            ));
        }
    }
    if !bg
        .allowed
        .iter()
        .any(|c| c.name.eq_ignore_ascii_case(&bg.default))
    {
        return Err(err(
            "background.default",
            format!(
                "`{}` is not the name of a colour in background.allowed",
                bg.default
            ),
        ));
    }
    Ok(())
}

fn check_limit(field: &str, l: &Limit) -> Result<()> {
    let vals = [("min", l.min), ("max", l.max), ("target", l.target)];
    if vals.iter().all(|(_, v)| v.is_none()) {
        return Err(err(field, "needs at least one of min, max or target"));
    }
    for (name, v) in vals {
        let Some(v) = v else { continue };
        let f = format!("{field}.{name}");
        if !v.is_finite() {
            return Err(err(f, format!("{v} is not a finite number")));
        }
        match l.unit {
            Unit::Fraction if !(0.0..=1.0).contains(&v) => {
                return Err(err(f, format!("{v} is a fraction and must lie in [0, 1]")))
            }
            Unit::Px | Unit::Mm if v < 0.0 => {
                return Err(err(f, format!("{v} must not be negative")))
            }
            _ => {}
        }
    }
    if let (Some(lo), Some(hi)) = (l.min, l.max) {
        if lo > hi {
            return Err(err(format!("{field}.min"), format!("min {lo} > max {hi}")));
        }
    }
    if let Some(t) = l.target {
        if l.min.is_some_and(|lo| t < lo) || l.max.is_some_and(|hi| t > hi) {
            return Err(err(
                format!("{field}.target"),
                format!("target {t} lies outside [min, max]"),
            ));
        }
    }
    Ok(())
}

const SCALE_RULES: [GeometryRule; 3] = [
    GeometryRule::HeadHeight,
    GeometryRule::FaceWidth,
    GeometryRule::InterEye,
];
const POSITION_RULES: [GeometryRule; 4] = [
    GeometryRule::CrownMargin,
    GeometryRule::ChinMargin,
    GeometryRule::EyeLineFromTop,
    GeometryRule::EyeLineFromBottom,
];

fn check_geometry(spec: &Spec) -> Result<()> {
    let g = &spec.geometry;
    let (w, h) = (spec.pixels.width, spec.pixels.height);
    for rule in GeometryRule::ALL {
        let Some(l) = g.get(rule) else { continue };
        let field = format!("geometry.{}", rule.name());
        check_limit(&field, l)?;
        // A rule whose lower bound does not fit in the image can never be met.
        let extent = if rule.is_horizontal() { w } else { h } as f64;
        let px = l.to_px(extent, spec.dpi as f64);
        if px.min > extent {
            return Err(err(
                format!("{field}.min"),
                format!(
                    "{:.0} px does not fit in the {extent:.0} px {} of the image",
                    px.min,
                    if rule.is_horizontal() {
                        "width"
                    } else {
                        "height"
                    }
                ),
            ));
        }
    }
    if !SCALE_RULES.iter().any(|r| g.get(*r).is_some()) {
        return Err(err(
            "geometry",
            "the head scale is not fixed: set at least one of head_height, face_width or inter_eye",
        ));
    }
    if !POSITION_RULES.iter().any(|r| g.get(*r).is_some()) {
        return Err(err(
            "geometry",
            "the vertical position is not fixed: set at least one of crown_margin, chin_margin, \
             eye_line_from_top or eye_line_from_bottom",
        ));
    }
    // crown margin + head height + chin margin = image height.
    let lower = |r: GeometryRule| spec.rule_px(r, w, h).map(|p| p.min.max(0.0)).unwrap_or(0.0);
    let stacked = lower(GeometryRule::CrownMargin)
        + lower(GeometryRule::HeadHeight)
        + lower(GeometryRule::ChinMargin);
    if stacked > h as f64 + 0.5 {
        return Err(err(
            "geometry",
            format!(
                "crown_margin.min + head_height.min + chin_margin.min = {stacked:.0} px exceeds the height {h} px"
            ),
        ));
    }
    Ok(())
}

fn check_priority(spec: &Spec) -> Result<()> {
    let mut seen = HashSet::new();
    for (i, r) in spec.priority.iter().enumerate() {
        if !seen.insert(*r) {
            return Err(err(
                format!("priority[{i}]"),
                format!("`{}` is listed twice", r.name()),
            ));
        }
        if spec.geometry.get(*r).is_none() {
            return Err(err(
                format!("priority[{i}]"),
                format!("`{}` is not set in geometry", r.name()),
            ));
        }
    }
    Ok(())
}

fn check_pose(spec: &Spec) -> Result<()> {
    let p = &spec.pose;
    for (name, v) in [
        ("max_yaw", p.max_yaw),
        ("max_pitch", p.max_pitch),
        ("max_roll", p.max_roll),
    ] {
        if !(v > 0.0 && v <= 90.0) {
            return Err(err(
                format!("pose.{name}"),
                format!("{v} degrees is outside (0, 90]"),
            ));
        }
    }
    Ok(())
}

/// True for a plausible `YYYY-MM-DD` date.
pub(super) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(y), Some(m), Some(d)) => y >= 1900 && (1..=12).contains(&m) && (1..=31).contains(&d),
        _ => false,
    }
}

fn check_source(spec: &Spec) -> Result<()> {
    if !is_date(&spec.source.as_of) {
        return Err(err(
            "source.as_of",
            format!("`{}` is not a YYYY-MM-DD date", spec.source.as_of),
        ));
    }
    for (i, r) in spec.source.refs.iter().enumerate() {
        if r.trim().is_empty() {
            return Err(err(format!("source.refs[{i}]"), "must not be empty"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kebab() {
        assert!(is_kebab("cn-id-card"));
        assert!(is_kebab("cn-1inch"));
        assert!(!is_kebab("cn_id_card"));
        assert!(!is_kebab("Cn-id"));
        assert!(!is_kebab("-cn"));
        assert!(!is_kebab("cn--id"));
        assert!(!is_kebab("cn-"));
        assert!(!is_kebab(""));
    }

    #[test]
    fn dates() {
        assert!(is_date("2026-11-26"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("26-11-2026"));
        assert!(!is_date("2026/11/26"));
        assert!(!is_date("2026-1-26"));
    }
}
