//! Alpha inside the uncertain band from a local colour model: the person's and the
//! background's colours near each pixel (pull-push fill from the sure cells), alpha the
//! projection of the pixel onto the line between them, trusted where the two colours are
//! well apart, blended with the guided filter's alpha elsewhere.

use super::cells::Grid;
use super::options::RefineOptions;
use super::push_pull::push_pull;
use super::regions::Background;
use crate::raster::Plane;

/// Local colour model (mean colour, mean squared norm; 4 values per cell) by pull-push from
/// the `sure` cells: their own colours, or with `smooth` the background's smooth colour.
#[allow(clippy::needless_range_loop)] // several parallel per-cell arrays
fn colour_model(sure: &[bool], smooth: bool, cells: &[f32], bg: &Background, g: &Grid) -> Vec<f32> {
    let ln = g.ln;
    let mut data = vec![0f32; ln * 4];
    let mut wt = vec![0f32; ln];
    for j in 0..ln {
        if !sure[j] {
            continue;
        }
        if smooth && bg.coverage(j) > 1e-3 {
            let m = bg.smooth(j);
            data[j * 4..j * 4 + 3].copy_from_slice(&m);
            data[j * 4 + 3] = m[0] * m[0] + m[1] * m[1] + m[2] * m[2];
        } else {
            data[j * 4..j * 4 + 4].copy_from_slice(&cells[j * 4..j * 4 + 4]);
        }
        wt[j] = 1.0;
    }
    push_pull::<4>(&data, &wt, g.lw, g.lh)
}

/// The local colour models interleaved per cell with the guided filter's coefficients
/// (`coef_c`): [fg 4, bg 4, coef 4]. On a `plain` wall the background model is the wall's
/// smooth colour.
pub(super) fn band_params(
    cells: &[f32],
    coef_c: &[f32],
    (sure_fg, sure_bg): (&[bool], &[bool]),
    bg: &Background,
    plain: bool,
    g: &Grid,
) -> Vec<f32> {
    let fm = colour_model(sure_fg, false, cells, bg, g);
    let bm = colour_model(sure_bg, plain, cells, bg, g);
    let mut params = vec![0f32; g.ln * 12];
    for j in 0..g.ln {
        params[j * 12..j * 12 + 4].copy_from_slice(&fm[j * 4..j * 4 + 4]);
        params[j * 12 + 4..j * 12 + 8].copy_from_slice(&bm[j * 4..j * 4 + 4]);
        params[j * 12 + 8..j * 12 + 12].copy_from_slice(&coef_c[j * 4..j * 4 + 4]);
    }
    params
}

/// What the band solve needs besides the image.
pub(super) struct BandSolve<'a> {
    /// Per-cell parameters of [`band_params`].
    pub params: &'a [f32],
    /// The solid person, per cell.
    pub keep: &'a [bool],
    /// Sure person cells (alpha 1).
    pub sure_fg: &'a [bool],
    /// Band cells (neither sure person nor sure background): solved per pixel.
    pub band_cell: &'a [bool],
    /// The background is a plain wall.
    pub plain: bool,
    /// The refinement's parameters.
    pub opts: &'a RefineOptions,
}

/// Contrast of the band pixels in the lower part of the photo (the clothing).
pub(super) struct LowContrast {
    /// Band pixels in the lower 40 % of the grid's rows.
    pub low_n: usize,
    /// Those whose person and background colours are less than 0.1 apart.
    pub low_c: usize,
}

impl BandSolve<'_> {
    /// Alpha of the image `raw` (sRGB, grid `g`): 1 on sure person cells, 0 on sure
    /// background, the colour model in the band.
    pub(super) fn solve(&self, raw: &[u8], g: &Grid) -> (Plane, LowContrast) {
        let (w, h, f, lw, lh) = (g.w, g.h, g.f, g.lw, g.lh);
        let mut alpha = Plane::filled(w as u32, h as u32, 0.0);
        let mut low = LowContrast { low_n: 0, low_c: 0 };
        let lower = (lh as f32 * 0.6) as usize;
        let clip = if self.plain {
            self.opts.clip
        } else {
            self.opts.clip_busy
        };
        let clip_scale = 1.0 / (1.0 - 2.0 * clip).max(1e-3);
        for cy in 0..lh {
            let (ya, yb) = (cy * f, ((cy + 1) * f).min(h));
            for cx in 0..lw {
                let j = cy * lw + cx;
                let (xa, xb) = (cx * f, ((cx + 1) * f).min(w));
                if self.sure_fg[j] {
                    for y in ya..yb {
                        alpha.data[y * w + xa..y * w + xb].fill(1.0);
                    }
                    continue;
                }
                if !self.band_cell[j] {
                    continue;
                }
                let counts = (cy >= lower).then_some(&mut low);
                let cell = (j, (xa, xb), (ya, yb));
                self.solve_cell(raw, g, cell, (clip, clip_scale), &mut alpha, counts);
            }
        }
        (alpha, low)
    }

    /// The colour model's alpha of the pixels of band cell `j` (columns `xa..xb`, rows
    /// `ya..yb`); `low` counts them when the cell is in the lower part of the photo.
    fn solve_cell(
        &self,
        raw: &[u8],
        g: &Grid,
        (j, (xa, xb), (ya, yb)): (usize, (usize, usize), (usize, usize)),
        (clip, clip_scale): (f32, f32),
        alpha: &mut Plane,
        mut low: Option<&mut LowContrast>,
    ) {
        let (w, f, lw, lh) = (g.w, g.f, g.lw, g.lh);
        let inv_f = 1.0 / f as f32;
        for y in ya..yb {
            let fy = ((y as f32 + 0.5) * inv_f - 0.5).clamp(0.0, (lh - 1) as f32);
            let y0 = fy as usize;
            let y1 = (y0 + 1).min(lh - 1);
            let ty = fy - y0 as f32;
            for x in xa..xb {
                let i = y * w + x;
                let fx = ((x as f32 + 0.5) * inv_f - 0.5).clamp(0.0, (lw - 1) as f32);
                let x0 = fx as usize;
                let x1 = (x0 + 1).min(lw - 1);
                let tx = fx - x0 as f32;
                let wts = [
                    (1.0 - tx) * (1.0 - ty),
                    tx * (1.0 - ty),
                    (1.0 - tx) * ty,
                    tx * ty,
                ];
                let idx = [y0 * lw + x0, y0 * lw + x1, y1 * lw + x0, y1 * lw + x1];
                let mut m = [0f32; 12];
                for (&k, &wk) in idx.iter().zip(&wts) {
                    let src = &self.params[k * 12..k * 12 + 12];
                    for c in 0..12 {
                        m[c] += src[c] * wk;
                    }
                }
                let p = [
                    raw[i * 3] as f32 * (1.0 / 255.0),
                    raw[i * 3 + 1] as f32 * (1.0 / 255.0),
                    raw[i * 3 + 2] as f32 * (1.0 / 255.0),
                ];
                let (a, d) = self.pixel_alpha(&m, p, self.keep[j]);
                alpha.data[i] = ((a - clip) * clip_scale).clamp(0.0, 1.0);
                if let Some(low) = low.as_deref_mut() {
                    low.low_n += 1;
                    if d < 0.1 {
                        low.low_c += 1;
                    }
                }
            }
        }
    }

    /// Alpha (before clipping) of a pixel of colour `p` with the interpolated parameters `m`
    /// ([`band_params`]), in a cell of the solid person or not (`kept`); and the distance
    /// between the person's and the background's colours.
    fn pixel_alpha(&self, m: &[f32; 12], p: [f32; 3], kept: bool) -> (f32, f32) {
        let (plain, opts) = (self.plain, self.opts);
        let fc = [m[0], m[1], m[2]];
        let bc = [m[4], m[5], m[6]];
        let var_f = (m[3] - (fc[0] * fc[0] + fc[1] * fc[1] + fc[2] * fc[2])).max(0.0);
        let var_b = if plain {
            0.0
        } else {
            (m[7] - (bc[0] * bc[0] + bc[1] * bc[1] + bc[2] * bc[2])).max(0.0)
        };
        let fb = [fc[0] - bc[0], fc[1] - bc[1], fc[2] - bc[2]];
        let d2 = fb[0] * fb[0] + fb[1] * fb[1] + fb[2] * fb[2];
        let d = d2.sqrt();
        let ib = [p[0] - bc[0], p[1] - bc[1], p[2] - bc[2]];
        let proj = if d2 > 1e-6 {
            ((ib[0] * fb[0] + ib[1] * fb[1] + ib[2] * fb[2]) / d2).clamp(0.0, 1.0)
        } else {
            0.5
        };
        // residual off the F-B line
        let res = (0..3)
            .map(|c| (ib[c] - proj * fb[c]).powi(2))
            .sum::<f32>()
            .sqrt();
        // on a plain wall the background colour is known: the person's colour
        // variety (hair, skin) does not make the projection ambiguous
        let spread = if plain {
            0.0
        } else {
            opts.spread * (var_f.sqrt() + var_b.sqrt())
        };
        let conf = ((d - spread - opts.min_contrast) / 0.12).clamp(0.0, 1.0)
            * (1.0 - res / (0.5 * d).max(1e-3)).clamp(0.0, 1.0);
        // the guided filter's alpha
        let c0 = (m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]).clamp(0.0, 1.0);
        let fallback = ((c0 - 0.5) * opts.sharpen + 0.5).clamp(0.0, 1.0);
        let fallback = if kept || c0 < 0.5 { fallback } else { 0.0 };
        (conf * proj + (1.0 - conf) * fallback, d)
    }
}
