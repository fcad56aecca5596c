//! Advisory checks (status `warn` at most): glare on glasses, hair over the eyebrows, and
//! ears hidden by hair where the spec asks for visible ears.

use image::RgbImage;

use super::colour::{ciede2000, srgb_to_lab};
use super::limits::{MAX_GLARE_PCT, MIN_BROW_VISIBILITY, MIN_EAR_SKIN_PCT};
use super::region::{fill_polygon, mean_lab_skin, scaled, Face, BROWS_UPPER, EYE_RINGS};
use super::results::advisory;
use crate::raster::Plane;
use crate::report::RuleResult;
use crate::spec::Spec;

/// The advisory rules: glasses glare and eyebrows visible (each when measurable), and ears
/// visible where the spec asks for it. `y` is the luma of `img`, `skin_values` the luma of the
/// skin pixels.
pub(super) fn advisory_rules(
    img: &RgbImage,
    y: &Plane,
    face: &Face,
    alpha: &Plane,
    spec: &Spec,
    skin_values: &[f32],
) -> Vec<RuleResult> {
    let skin_mean = if skin_values.is_empty() {
        128.0
    } else {
        skin_values.iter().map(|&v| v as f64).sum::<f64>() / skin_values.len() as f64
    };
    let mut out = Vec::new();
    out.extend(glare_rule(y, face));
    out.extend(eyebrows_rule(y, face, skin_mean));
    if spec.policy.ears_visible {
        out.push(ears_rule(img, face, alpha));
    }
    out
}

/// Glare on glasses: the percentage of saturated pixels around the eyes (none when the eye
/// regions lie outside the image).
fn glare_rule(y: &Plane, face: &Face) -> Option<RuleResult> {
    let (w, h) = (y.width, y.height);
    let mut eyes = vec![0u8; (w * h) as usize];
    for ring in &EYE_RINGS {
        fill_polygon(&scaled(&face.pts(ring), 2.2), w, h, &mut eyes, 1);
    }
    let (mut n, mut sat) = (0usize, 0usize);
    for (i, &m) in eyes.iter().enumerate() {
        if m == 1 {
            n += 1;
            if y.data[i] >= 250.0 {
                sat += 1;
            }
        }
    }
    (n > 0).then(|| {
        advisory(
            "glasses.glare",
            100.0 * sat as f64 / n as f64,
            None,
            Some(MAX_GLARE_PCT),
            "%",
        )
    })
}

/// Hair over the eyebrows: the luminance of a band just above the brows against the skin's
/// mean luma `skin_mean` (none when the band lies outside the image).
fn eyebrows_rule(y: &Plane, face: &Face, skin_mean: f64) -> Option<RuleResult> {
    let (w, h) = (y.width, y.height);
    let mut band = Vec::new();
    for brow in &BROWS_UPPER {
        for &i in brow {
            let p = face.lm.pt(i);
            let off = 0.06 * face.t;
            let (bx, by) = (p.x - face.uy.0 * off, p.y - face.uy.1 * off);
            let r = (0.03 * face.t).max(1.0) as i64;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (x, yy) = (bx as i64 + dx, by as i64 + dy);
                    if x >= 0 && yy >= 0 && (x as u32) < w && (yy as u32) < h {
                        band.push(y.data[(yy as u32 * w + x as u32) as usize] as f64);
                    }
                }
            }
        }
    }
    if band.is_empty() {
        return None;
    }
    let ratio = band.iter().sum::<f64>() / band.len() as f64 / skin_mean.max(1.0);
    Some(advisory(
        "hair.eyebrows_visible",
        ratio,
        Some(MIN_BROW_VISIBILITY),
        None,
        "ratio",
    ))
}

/// Ears visible: the smaller percentage, over both sides, of skin-coloured person pixels just
/// outside the cheek, between the eye line and the mouth.
fn ears_rule(img: &RgbImage, face: &Face, alpha: &Plane) -> RuleResult {
    let (w, h) = img.dimensions();
    let lab_skin = mean_lab_skin(img, face, alpha);
    let mut pcts = Vec::new();
    for (idx, sign) in [(234usize, -1.0f32), (454, 1.0)] {
        let c = face.lm.pt(idx);
        let (mut n, mut skin) = (0usize, 0usize);
        let step = (0.01 * face.t).max(1.0);
        let mut a = 0.02 * face.t;
        while a < 0.15 * face.t {
            let mut b = 0.0;
            while b < 0.4 * face.t {
                let x = c.x + sign * a * face.ux.0 + b * face.uy.0;
                let yy = c.y + sign * a * face.ux.1 + b * face.uy.1;
                if x >= 0.0 && yy >= 0.0 && (x as u32) < w && (yy as u32) < h {
                    n += 1;
                    let i = (yy as u32 * w + x as u32) as usize;
                    let p = img.as_raw();
                    let lab =
                        srgb_to_lab([p[3 * i] as f64, p[3 * i + 1] as f64, p[3 * i + 2] as f64]);
                    if alpha.data[i] >= 0.5 && ciede2000(lab, lab_skin) < 15.0 {
                        skin += 1;
                    }
                }
                b += step;
            }
            a += step;
        }
        pcts.push(if n == 0 {
            0.0
        } else {
            100.0 * skin as f64 / n as f64
        });
    }
    let v = pcts.iter().cloned().fold(f64::MAX, f64::min);
    advisory("ears.visible", v, Some(MIN_EAR_SKIN_PCT), None, "%")
}
