//! The background behind the person: its mask from the matte, its statistics (mean colour,
//! OFIQ BackgroundUniformity, spread of L* across cells), its fine structure (noise left by
//! compression, texture), and the background rules against the spec.

use image::RgbImage;

use super::colour::{ciede2000, lin_to_lab, srgb_to_lab};
use super::limits::{MAX_BACKGROUND_DE2000, MAX_BACKGROUND_GRADIENT, MAX_BACKGROUND_SPREAD};
use super::results::unmeasured;
use crate::raster::Plane;
use crate::report::RuleResult;
use crate::spec::Spec;

/// Background statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundStats {
    /// Mean colour (sRGB, 0..255).
    pub mean_rgb: [f64; 3],
    /// OFIQ BackgroundUniformity raw: mean Scharr gradient magnitude of luminance.
    pub gradient: f64,
    /// L* of the brightest minus the darkest background cell.
    pub spread: f64,
    /// Number of background pixels.
    pub pixels: usize,
}

/// Background mask: pixels with matte below 0.02 whose 7x7 neighbourhood is all background.
pub fn background_mask(alpha: &Plane) -> Vec<u8> {
    let person = Plane {
        width: alpha.width,
        height: alpha.height,
        data: alpha
            .data
            .iter()
            .map(|&a| if a >= 0.02 { 1.0 } else { 0.0 })
            .collect(),
    };
    let near = crate::matte::box_mean(&person, 3);
    near.data.iter().map(|&v| u8::from(v < 1e-4)).collect()
}

/// Measures the background given by `mask`.
pub fn background_stats(img: &RgbImage, y: &Plane, mask: &[u8]) -> Option<BackgroundStats> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let lut = crate::raster::colour::srgb_to_linear_lut();
    let mut sum = [0f64; 3];
    let (mut g, mut n) = (0f64, 0usize);
    let cells = 8usize;
    let (cw, ch) = (w.div_ceil(cells), h.div_ceil(cells));
    let mut cell_sum = vec![[0f64; 3]; cells * cells];
    let mut cell_n = vec![0usize; cells * cells];
    let d = &y.data;
    let raw = img.as_raw();
    // the cell column of each x (no division per pixel)
    let col_cell: Vec<usize> = (0..w).map(|x| x / cw).collect();
    for r in 0..h {
        let row_cell = (r / ch) * cells;
        for x in 0..w {
            let i = r * w + x;
            if mask[i] == 0 {
                continue;
            }
            let p = &raw[3 * i..3 * i + 3];
            let c = row_cell + col_cell[x];
            for k in 0..3 {
                sum[k] += p[k] as f64;
                cell_sum[c][k] += lut[p[k] as usize] as f64;
            }
            cell_n[c] += 1;
            n += 1;
            if r > 0 && r + 1 < h && x > 0 && x + 1 < w {
                // Scharr 3x3 (OpenCV ksize -1)
                let at = |dr: isize, dx: isize| {
                    d[((r as isize + dr) as usize) * w + (x as isize + dx) as usize]
                };
                let gx = 3.0 * (at(-1, 1) - at(-1, -1))
                    + 10.0 * (at(0, 1) - at(0, -1))
                    + 3.0 * (at(1, 1) - at(1, -1));
                let gy = 3.0 * (at(1, -1) - at(-1, -1))
                    + 10.0 * (at(1, 0) - at(-1, 0))
                    + 3.0 * (at(1, 1) - at(-1, 1));
                g += ((gx * gx + gy * gy) as f64).sqrt();
            }
        }
    }
    if n < 200 {
        return None;
    }
    let min_cell = (cw * ch / 2).max(20);
    let ls: Vec<f64> = cell_sum
        .iter()
        .zip(&cell_n)
        .filter(|(_, &c)| c >= min_cell)
        .map(|(s, &c)| lin_to_lab(s.map(|v| v / c as f64))[0])
        .collect();
    let spread = if ls.is_empty() {
        0.0
    } else {
        ls.iter().cloned().fold(f64::MIN, f64::max) - ls.iter().cloned().fold(f64::MAX, f64::min)
    };
    Some(BackgroundStats {
        mean_rgb: sum.map(|s| s / n as f64),
        gradient: g / n as f64,
        spread,
        pixels: n,
    })
}

/// Background colour (CIEDE2000 to the nearest allowed colour), OFIQ background uniformity
/// and the spread of L* across the background given by `mask` ([`background_mask`]).
pub fn background_rules(img: &RgbImage, y: &Plane, mask: &[u8], spec: &Spec) -> Vec<RuleResult> {
    let Some(bg) = background_stats(img, y, mask) else {
        return vec![unmeasured(
            "background.color",
            "无法找到背景区域",
            "No background area found",
        )];
    };
    let lab = srgb_to_lab(bg.mean_rgb);
    let de = spec
        .background
        .allowed
        .iter()
        .filter_map(|c| c.rgb().ok())
        .map(|rgb| ciede2000(lab, srgb_to_lab(rgb.map(|v| v as f64))))
        .fold(f64::INFINITY, f64::min);
    vec![
        RuleResult::range(
            "background.color",
            de,
            None,
            Some(MAX_BACKGROUND_DE2000),
            "dE00",
        ),
        RuleResult::range(
            "background.uniformity",
            bg.gradient,
            None,
            Some(MAX_BACKGROUND_GRADIENT),
            "grad",
        ),
        RuleResult::range(
            "background.shadow",
            bg.spread,
            None,
            Some(MAX_BACKGROUND_SPREAD),
            "dL",
        ),
    ]
}

/// RMS (luma levels) of the background's fine structure: luma minus its local mean over the
/// background within 6 px, where that window lies wholly on the background. A plain wall,
/// even with a soft light fall-off, measures near 0; noise that a strong JPEG compression has
/// turned into blotches, and texture, do not.
pub fn background_residual(y: &Plane, bg: &[u8]) -> Option<f64> {
    const R: usize = 6;
    let (w, h) = (y.width as usize, y.height as usize);
    if bg.len() != w * h || y.data.len() != w * h {
        return None;
    }
    let (mut sum, mut n) = (0f64, 0usize);
    // the background's share of each window and its mean luma there, in one pass
    crate::matte::box_mean_streamed::<2>(
        (w, h, R),
        |r, row| {
            let (lum, mask) = (&y.data[r * w..(r + 1) * w], &bg[r * w..(r + 1) * w]);
            for ((o, &v), &b) in row.chunks_exact_mut(2).zip(lum).zip(mask) {
                o[0] = f32::from(b);
                o[1] = v * f32::from(b);
            }
        },
        |r, means| {
            let (lum, mask) = (&y.data[r * w..(r + 1) * w], &bg[r * w..(r + 1) * w]);
            for ((m, &v), &b) in means.chunks_exact(2).zip(lum).zip(mask) {
                if b == 1 && m[0] > 0.999 {
                    let d = f64::from(v - m[1] / m[0]);
                    sum += d * d;
                    n += 1;
                }
            }
        },
    );
    (n >= 500).then(|| (sum / n as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::quality::limits::{BG_NOISE_SCALE, MAX_NOISE_SIGMA};

    #[test]
    fn background_residual_sees_blotches_not_light_falloff() {
        let (w, h) = (96usize, 96usize);
        let bg = vec![1u8; w * h];
        // a plain wall with a soft light fall-off
        let wall = Plane {
            width: w as u32,
            height: h as u32,
            data: (0..w * h)
                .map(|i| 230.0 - 0.2 * (i % w) as f32 - 0.1 * (i / w) as f32)
                .collect(),
        };
        let r = background_residual(&wall, &bg).unwrap();
        assert!(r * BG_NOISE_SCALE < MAX_NOISE_SIGMA * 0.2, "{r}");
        // noise left as 8x8 blotches of +-4 levels by a strong JPEG compression
        let mut seed = 7u32;
        let blocks: Vec<f32> = (0..(w / 8) * (h / 8))
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) % 9) as f32 - 4.0
            })
            .collect();
        let blotchy = Plane {
            width: w as u32,
            height: h as u32,
            data: (0..w * h)
                .map(|i| 230.0 + blocks[(i / w / 8) * (w / 8) + (i % w) / 8])
                .collect(),
        };
        let r = background_residual(&blotchy, &bg).unwrap();
        assert!(r * BG_NOISE_SCALE > MAX_NOISE_SIGMA, "{r}");
        // too little background: not measured
        assert!(background_residual(&wall, &vec![0u8; w * h]).is_none());
    }
}
