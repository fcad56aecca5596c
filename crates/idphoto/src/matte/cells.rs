//! The grid of cells, about a mask pixel wide, on which refinement keeps its per-region data:
//! per-cell colour means, the guided filter's coefficients sampled at the cell centres, and
//! the guided filter's alpha of each cell.

use image::RgbImage;

use super::guided::guided_coefficients;
use super::options::RefineOptions;
use crate::raster::Plane;

/// Sizes of the image and of its grid of cells.
pub(super) struct Grid {
    /// Image width in pixels.
    pub w: usize,
    /// Image height in pixels.
    pub h: usize,
    /// Side of a cell in image pixels.
    pub f: usize,
    /// Grid width in cells.
    pub lw: usize,
    /// Grid height in cells.
    pub lh: usize,
    /// Number of cells.
    pub ln: usize,
    /// Cells per mask pixel.
    pub cu: f32,
}

impl Grid {
    /// The grid of an image of `(wu, hu)` pixels whose mask is `(sw, sh)` pixels: cells of
    /// about 0.85 mask pixels (4x4 image pixels at 1200 px).
    pub(super) fn new((wu, hu): (u32, u32), (sw, sh): (u32, u32)) -> Grid {
        let (w, h) = (wu as usize, hu as usize);
        let unit = wu.max(hu) as f32 / sw.max(sh) as f32;
        let f = ((unit * 0.85).round() as usize).max(1);
        let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
        Grid {
            w,
            h,
            f,
            lw,
            lh,
            ln: lw * lh,
            cu: unit / f as f32, // cells per mask pixel
        }
    }

    /// `on` as a plane of the grid's size (1 on, 0 off).
    pub(super) fn plane(&self, on: &[bool]) -> Plane {
        Plane {
            width: self.lw as u32,
            height: self.lh as u32,
            data: on.iter().map(|&k| k as u8 as f32).collect(),
        }
    }
}

/// Per-cell means of colour and squared norm (integer sums), 4 values per cell, of the sRGB
/// image `raw` (0..1).
pub(super) fn cell_means(raw: &[u8], grid: &Grid) -> Vec<f32> {
    let (w, h, f, lw, lh) = (grid.w, grid.h, grid.f, grid.lw, grid.lh);
    let mut cells = vec![0f32; grid.ln * 4];
    let mut acc = vec![0u32; lw * 4];
    for cy in 0..lh {
        acc.iter_mut().for_each(|v| *v = 0);
        let (y0, y1) = (cy * f, ((cy + 1) * f).min(h));
        for y in y0..y1 {
            let row = &raw[y * w * 3..(y + 1) * w * 3];
            for (cx, chunk) in row.chunks(f * 3).enumerate() {
                let a = &mut acc[cx * 4..cx * 4 + 4];
                for px in chunk.chunks_exact(3) {
                    let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
                    a[0] += r;
                    a[1] += g;
                    a[2] += b;
                    a[3] += r * r + g * g + b * b;
                }
            }
        }
        for cx in 0..lw {
            let n = ((y1 - y0) * (((cx + 1) * f).min(w) - cx * f)) as f32;
            let j = (cy * lw + cx) * 4;
            let s = 1.0 / (255.0 * n);
            cells[j] = acc[cx * 4] as f32 * s;
            cells[j + 1] = acc[cx * 4 + 1] as f32 * s;
            cells[j + 2] = acc[cx * 4 + 2] as f32 * s;
            cells[j + 3] = acc[cx * 4 + 3] as f32 * (s / 255.0);
        }
    }
    cells
}

/// Fast guided filter: coefficients at the mask's resolution (`mask256` on `small`), sampled
/// bilinearly at the cell centres; 4 values (a_r, a_g, a_b, b) per cell.
pub(super) fn cell_coefficients(
    small: &RgbImage,
    mask256: &Plane,
    opts: &RefineOptions,
    g: &Grid,
) -> Vec<f32> {
    let (w, h, f, lw, lh) = (g.w, g.h, g.f, g.lw, g.lh);
    let (sw, sh) = small.dimensions();
    let coef = guided_coefficients(small, mask256, opts.radius, opts.eps);
    let (sx, sy) = (sw as f32 / w as f32, sh as f32 / h as f32);
    let mut coef_c = vec![0f32; g.ln * 4];
    // bilinear taps of the cell centres on the mask's grid
    let taps = |n: usize, len: usize, full: usize, scale: f32| -> Vec<(usize, usize, f32)> {
        (0..n)
            .map(|c| {
                let m = (((c as f32 + 0.5) * f as f32).min(full as f32 - 0.5) * scale - 0.5)
                    .clamp(0.0, (len - 1) as f32);
                let i0 = m as usize;
                (i0, (i0 + 1).min(len - 1), m - i0 as f32)
            })
            .collect()
    };
    let (tx_, ty_) = (taps(lw, sw as usize, w, sx), taps(lh, sh as usize, h, sy));
    let swu = sw as usize;
    for (cy, &(ya, yb, ty)) in ty_.iter().enumerate() {
        for (cx, &(xa, xb, tx)) in tx_.iter().enumerate() {
            for k in 0..4 {
                let d = &coef[k].data;
                let top = d[ya * swu + xa] * (1.0 - tx) + d[ya * swu + xb] * tx;
                let bot = d[yb * swu + xa] * (1.0 - tx) + d[yb * swu + xb] * tx;
                coef_c[(cy * lw + cx) * 4 + k] = top * (1.0 - ty) + bot * ty;
            }
        }
    }
    coef_c
}

/// The guided filter's alpha of each cell: its coefficients `coef_c` applied to its mean
/// colour (`cells`), clamped to 0..1.
pub(super) fn cell_alpha(coef_c: &[f32], cells: &[f32], g: &Grid) -> Plane {
    Plane {
        width: g.lw as u32,
        height: g.lh as u32,
        data: (0..g.ln)
            .map(|j| {
                let (c, m) = (&coef_c[j * 4..j * 4 + 4], &cells[j * 4..j * 4 + 3]);
                (c[0] * m[0] + c[1] * m[1] + c[2] * m[2] + c[3]).clamp(0.0, 1.0)
            })
            .collect(),
    }
}
