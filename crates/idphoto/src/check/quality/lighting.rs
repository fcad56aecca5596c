//! Lighting on the face: OFIQ IlluminationUniformity, the balance of light between the outer
//! cheeks, the face's highlights and clipped pixels, OFIQ Luminance, UnderExposure,
//! OverExposure and DynamicRange, with their histogram and entropy helpers.

use image::RgbImage;

use super::limits::{
    FACE_LUMINANCE_RANGE, MAX_CLIPPED_PCT, MAX_LIGHT_BALANCE_EV, MAX_OVEREXPOSED_PCT,
    MAX_UNDEREXPOSED_PCT, MIN_DYNAMIC_RANGE_BITS, MIN_FACE_HIGHLIGHTS, MIN_ILLUMINATION_UNIFORMITY,
};
use super::region::{fill_polygon, FACE_OVAL};
use super::results::{advisory, unmeasured};
use super::skin::SkinSamples;
use crate::face::landmarks::Landmarks;
use crate::raster::{Plane, Point};
use crate::report::RuleResult;

/// The lighting rules of a face whose skin samples are [`SkinSamples::measurable`]: the
/// balance between the face halves, then the exposure of the face.
pub(super) fn lighting_rules(
    img: &RgbImage,
    y: &Plane,
    lm: &Landmarks,
    alpha: &Plane,
    s: &SkinSamples,
) -> Vec<RuleResult> {
    let mut out = balance_rules(s);
    out.extend(exposure_rules(img, y, lm, alpha, &s.all));
    out
}

/// The rule reported instead of [`lighting_rules`] when the skin is too small to measure.
pub(super) fn lighting_unmeasured() -> RuleResult {
    unmeasured(
        "lighting.face_luminance",
        "无法测量脸部光照",
        "Lighting on the face could not be measured",
    )
}

/// OFIQ IlluminationUniformity (advisory) and the light balance between the outer cheeks.
fn balance_rules(s: &SkinSamples) -> Vec<RuleResult> {
    let mean = |a: (f64, usize)| (a.0 / a.1.max(1) as f64).max(1e-4);
    vec![
        advisory(
            "lighting.uniformity",
            histogram_intersection(&s.left, &s.right),
            Some(MIN_ILLUMINATION_UNIFORMITY),
            None,
            "ratio",
        ),
        RuleResult::range(
            "lighting.balance",
            (mean(s.outer[0]) / mean(s.outer[1])).log2().abs(),
            None,
            Some(MAX_LIGHT_BALANCE_EV),
            "EV",
        ),
    ]
}

/// Highlights and clipping on the face outline, then OFIQ Luminance, UnderExposure,
/// OverExposure and DynamicRange on the skin luma `all`.
fn exposure_rules(
    img: &RgbImage,
    y: &Plane,
    lm: &Landmarks,
    alpha: &Plane,
    all: &[f32],
) -> Vec<RuleResult> {
    let (highlights, clipped) = face_highlights(img, y, lm, alpha);
    let mean = all.iter().map(|&v| v as f64).sum::<f64>() / all.len() as f64;
    let pct = |f: &dyn Fn(f32) -> bool| {
        100.0 * all.iter().filter(|&&v| f(v)).count() as f64 / all.len() as f64
    };
    vec![
        RuleResult::range(
            "lighting.highlights",
            highlights,
            Some(MIN_FACE_HIGHLIGHTS),
            None,
            "luma",
        ),
        RuleResult::range(
            "lighting.clipping",
            clipped,
            None,
            Some(MAX_CLIPPED_PCT),
            "%",
        ),
        RuleResult::range(
            "lighting.face_luminance",
            mean,
            Some(FACE_LUMINANCE_RANGE.0),
            Some(FACE_LUMINANCE_RANGE.1),
            "luma",
        ),
        RuleResult::range(
            "lighting.underexposure",
            pct(&|v| v <= 25.5),
            None,
            Some(MAX_UNDEREXPOSED_PCT),
            "%",
        ),
        RuleResult::range(
            "lighting.overexposure",
            pct(&|v| v >= 246.5),
            None,
            Some(MAX_OVEREXPOSED_PCT),
            "%",
        ),
        RuleResult::range(
            "lighting.dynamic_range",
            entropy(all),
            Some(MIN_DYNAMIC_RANGE_BITS),
            None,
            "bits",
        ),
    ]
}

/// Exposure measures on the whole face outline (eyes, brows, lips, teeth included): the 98th
/// percentile of luma (the level of the face's highlights: specular reflections, the whites
/// of the eyes, teeth) and the percentage of pixels with a colour channel at 250 or more.
/// Highlights depend much less on skin tone than the mean skin luminance does, so they tell an
/// underexposed face from a dark-skinned one; clipped channels mark an overexposed face.
pub fn face_highlights(img: &RgbImage, y: &Plane, lm: &Landmarks, alpha: &Plane) -> (f64, f64) {
    let (w, h) = img.dimensions();
    let mut oval = vec![0u8; (w * h) as usize];
    let pts: Vec<Point> = FACE_OVAL.iter().map(|&i| lm.pt(i)).collect();
    fill_polygon(&pts, w, h, &mut oval, 1);
    let raw = img.as_raw();
    let mut hist = [0usize; 256];
    let (mut n, mut clipped) = (0usize, 0usize);
    for (i, &m) in oval.iter().enumerate() {
        if m == 0 || alpha.data[i] < 0.5 {
            continue;
        }
        hist[y.data[i].round().clamp(0.0, 255.0) as usize] += 1;
        n += 1;
        if raw[3 * i..3 * i + 3].iter().any(|&c| c >= 250) {
            clipped += 1;
        }
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let target = (0.98 * n as f64).ceil() as usize;
    let mut acc = 0;
    let mut p98 = 255;
    for (v, &c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            p98 = v;
            break;
        }
    }
    (p98 as f64, 100.0 * clipped as f64 / n as f64)
}

/// Entropy in bits of a 256-bin histogram of `values` (0..255).
pub fn entropy(values: &[f32]) -> f64 {
    let hist = histogram(values);
    -hist
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.log2())
        .sum::<f64>()
}

/// The 256-bin histogram of `values` (0..255, rounded), normalised to sum 1.
fn histogram(values: &[f32]) -> [f64; 256] {
    let mut hist = [0f64; 256];
    for &v in values {
        hist[v.round().clamp(0.0, 255.0) as usize] += 1.0;
    }
    let n = values.len().max(1) as f64;
    hist.map(|c| c / n)
}

/// Sum of the element-wise minimum of the normalised 256-bin histograms (OFIQ
/// IlluminationUniformity raw): 1 for identical distributions, 0 for disjoint ones.
pub fn histogram_intersection(a: &[f32], b: &[f32]) -> f64 {
    let (ha, hb) = (histogram(a), histogram(b));
    ha.iter().zip(hb.iter()).map(|(x, y)| x.min(*y)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_and_histogram_intersection() {
        let mut seed = 1u32;
        let noisy: Vec<f32> = (0..64 * 64)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                128.0 + ((seed >> 16) % 41) as f32 - 20.0
            })
            .collect();
        assert!(entropy(&noisy) > MIN_DYNAMIC_RANGE_BITS);
        assert!(entropy(&[128.0; 100]) < MIN_DYNAMIC_RANGE_BITS);
        let a = vec![100.0f32; 100];
        assert!((histogram_intersection(&a, &a) - 1.0).abs() < 1e-9);
        assert!(histogram_intersection(&a, &[180.0; 100]) < MIN_ILLUMINATION_UNIFORMITY);
    }
}
