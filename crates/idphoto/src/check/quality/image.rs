//! Image measures: sharpness (OFIQ Sharpness's role, on the face resampled to a canonical
//! size), JPEG blockiness (compression artefacts) and noise (on the skin and the background),
//! and their rules.

use super::background::background_residual;
use super::limits::{
    BG_NOISE_SCALE, CANONICAL_IED, MAX_BLOCKINESS, MAX_NOISE_SIGMA, MIN_SHARPNESS,
};
use super::region::Face;
use super::results::unmeasured;
use crate::face::landmarks::CHIN;
use crate::raster::Plane;
use crate::report::RuleResult;

/// Sharpness, compression and noise rules: `y` is the luma of the image, `skin` and `bg_mask`
/// the skin and background masks, `block` the size of a JPEG block in `y` (8, or 8/r in a
/// decode reduced r times).
pub(super) fn image_rules(
    y: &Plane,
    face: &Face,
    skin: &[u8],
    bg_mask: &[u8],
    block: usize,
) -> Vec<RuleResult> {
    let (w, h) = (y.width, y.height);
    vec![
        // sharpness on the face resampled to a canonical size
        RuleResult::range(
            "image.sharpness",
            sharpness(y, face, w, h),
            Some(MIN_SHARPNESS),
            None,
            "ratio",
        ),
        RuleResult::range(
            "image.compression",
            blockiness(y, block),
            None,
            Some(MAX_BLOCKINESS),
            "ratio",
        ),
        noise_rule(y, skin, bg_mask),
    ]
}

/// Noise: the larger of the skin's noise and the background's fine structure (a noisy camera
/// or processing shows on a plain background first; strong JPEG compression turns it into
/// blotches there, which the skin estimator's median ignores).
fn noise_rule(y: &Plane, skin: &[u8], bg_mask: &[u8]) -> RuleResult {
    let bg_noise = background_residual(y, bg_mask).map(|r| r * BG_NOISE_SCALE);
    match skin_noise(y, skin).map(|n| bg_noise.map_or(n, |b| n.max(b))) {
        Some(n) => RuleResult::range("image.noise", n, None, Some(MAX_NOISE_SIGMA), "levels"),
        None => unmeasured("image.noise", "无法测量噪点", "Noise could not be measured"),
    }
}

/// JPEG blockiness: mean absolute luminance step across the borders of `block` x `block`
/// blocks (8, or 8/r in a JPEG decoded at 1/r of its size in the DCT domain) over the mean
/// step at the other positions, horizontally and vertically. About 1 without blocking
/// artefacts.
pub fn blockiness(y: &Plane, block: usize) -> f64 {
    let block = block.max(2);
    let (w, h) = (y.width as usize, y.height as usize);
    let (mut edge, mut ne, mut inner, mut ni) = (0f64, 0usize, 0f64, 0usize);
    for r in 0..h {
        let row = &y.data[r * w..(r + 1) * w];
        for x in 1..w {
            let d = (row[x] - row[x - 1]).abs() as f64;
            if x % block == 0 {
                edge += d;
                ne += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    for r in 1..h {
        for x in 0..w {
            let d = (y.data[r * w + x] - y.data[(r - 1) * w + x]).abs() as f64;
            if r % block == 0 {
                edge += d;
                ne += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    if ne == 0 || ni == 0 {
        return 1.0;
    }
    let inner = inner / ni as f64;
    (edge / ne as f64) / inner.max(0.05)
}

/// Variance of the 4-neighbour Laplacian over the variance of the values, of a plane.
pub fn laplacian_ratio(p: &Plane) -> f64 {
    let (w, h) = (p.width as usize, p.height as usize);
    let d = &p.data;
    let (mut s, mut s2, mut n) = (0f64, 0f64, 0usize);
    let (mut v, mut v2) = (0f64, 0f64);
    for r in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let i = r * w + x;
            let l = (d[i - 1] + d[i + 1] + d[i - w] + d[i + w] - 4.0 * d[i]) as f64;
            s += l;
            s2 += l * l;
            v += d[i] as f64;
            v2 += (d[i] as f64).powi(2);
            n += 1;
        }
    }
    if n < 16 {
        return 0.0;
    }
    let nf = n as f64;
    let var_l = s2 / nf - (s / nf).powi(2);
    let var_v = v2 / nf - (v / nf).powi(2);
    var_l / var_v.max(1.0)
}

/// Noise sigma (luma levels) of the pixels in `skin` (the skin, or the background): Immerkaer's
/// estimator at half resolution (2x2 means), taking the median absolute response instead of
/// the mean (sigma = 1.4826 median |v| / 6) so that the edges of nose, wrinkles and cheek
/// contour do not count as noise. Half resolution keeps what survives a strong JPEG compression (the noise
/// left after a 14-20 KB encode is mottling a few pixels wide).
pub fn skin_noise(y: &Plane, skin: &[u8]) -> Option<f64> {
    let (w, h) = (y.width as usize, y.height as usize);
    let (hw, hh) = (w / 2, h / 2);
    if hw < 3 || hh < 3 {
        return None;
    }
    let mut d = vec![0f32; hw * hh];
    let mut m = vec![0u8; hw * hh];
    for r in 0..hh {
        for x in 0..hw {
            let i = 2 * r * w + 2 * x;
            d[r * hw + x] = 0.25 * (y.data[i] + y.data[i + 1] + y.data[i + w] + y.data[i + w + 1]);
            m[r * hw + x] = skin[i] & skin[i + 1] & skin[i + w] & skin[i + w + 1];
        }
    }
    let mut v: Vec<f32> = Vec::new();
    for r in 1..hh - 1 {
        for x in 1..hw - 1 {
            let i = r * hw + x;
            if m[i] == 0 {
                continue;
            }
            let a = d[i - hw - 1] - 2.0 * d[i - hw] + d[i - hw + 1] - 2.0 * d[i - 1] + 4.0 * d[i]
                - 2.0 * d[i + 1]
                + d[i + hw - 1]
                - 2.0 * d[i + hw]
                + d[i + hw + 1];
            v.push(a.abs());
        }
    }
    if v.len() < 50 {
        return None;
    }
    let mid = v.len() / 2;
    let (_, med, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    Some(1.4826 * *med as f64 / 6.0)
}

/// Variance of the Laplacian over the variance of luma ([`laplacian_ratio`]) of the face from
/// half an inter-eye distance above the eyes to the chin, one inter-eye distance either side of
/// the eye midpoint, resampled to an inter-eye distance of [`CANONICAL_IED`] px.
fn sharpness(y: &Plane, face: &Face, w: u32, h: u32) -> f64 {
    let em = face.eye_mid;
    let half = face.ied;
    let x0 = (em.x - half).max(0.0).floor();
    let x1 = (em.x + half).min(w as f32).ceil();
    let y0 = (em.y - 0.5 * face.ied).max(0.0).floor();
    let y1 = face.lm.pt(CHIN).y.min(h as f32).ceil();
    if x1 - x0 < 8.0 || y1 - y0 < 8.0 {
        return 0.0;
    }
    let (cw, ch) = ((x1 - x0) as u32, (y1 - y0) as u32);
    let mut crop = Plane::filled(cw, ch, 0.0);
    for r in 0..ch {
        let src = ((y0 as u32 + r) * w + x0 as u32) as usize;
        crop.data[(r * cw) as usize..((r + 1) * cw) as usize]
            .copy_from_slice(&y.data[src..src + cw as usize]);
    }
    let k = CANONICAL_IED / face.ied.max(1.0);
    let (tw, th) = (
        ((cw as f32 * k).round() as u32).max(8),
        ((ch as f32 * k).round() as u32).max(8),
    );
    match crop.resize(tw, th) {
        Ok(c) => laplacian_ratio(&c),
        Err(_) => laplacian_ratio(&crop),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blockiness_of_flat_blocks_and_smooth_ramp() {
        let blocks = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .map(|i| (((i % 64) / 8 * 13 + (i / 64) / 8 * 7) % 50) as f32 + 100.0)
                .collect(),
        };
        assert!(blockiness(&blocks, 8) > MAX_BLOCKINESS);
        let ramp = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64).map(|i| (i % 64) as f32 * 2.0).collect(),
        };
        assert!(blockiness(&ramp, 8) <= MAX_BLOCKINESS);
    }

    #[test]
    fn sharpness_and_noise_of_synthetic_planes() {
        let stripes = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .map(|i| if i % 2 == 0 { 60.0 } else { 200.0 })
                .collect(),
        };
        assert!(laplacian_ratio(&stripes) > MIN_SHARPNESS);
        let smooth = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64).map(|i| (i % 64) as f32 * 3.0).collect(),
        };
        assert!(laplacian_ratio(&smooth) < MIN_SHARPNESS);
    }
}
