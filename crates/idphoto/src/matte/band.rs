//! Clean-up of the uncertain band around the contour after the colour model: faint islands
//! not linked to the person dropped, and the band feathered.

use crate::raster::Plane;

/// Alpha at least this high links a band pixel to the person in [`drop_detached`].
const LINK_ALPHA: f32 = 0.25;

/// Clears band pixels that are not linked to the person: a pixel is kept when a 4-connected
/// path of pixels with alpha >= [`LINK_ALPHA`] joins it to an opaque pixel of the solid
/// person (`keep` cells), or when it touches such a linked pixel (the edge's last, faint
/// pixel). Faint islands of background texture next to the person go.
pub(super) fn drop_detached(
    alpha: &mut Plane,
    keep: &[bool],
    band_cell: &[bool],
    lw: usize,
    f: usize,
) {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let xc: Vec<usize> = (0..w).map(|x| x / f).collect();
    let yc: Vec<usize> = (0..h).map(|y| (y / f) * lw).collect();
    let in_band = |x: usize, y: usize| band_cell[yc[y] + xc[x]];
    let mut linked = vec![false; w * h];
    let mut stack: Vec<u32> = Vec::new();
    // seeds: opaque band pixels of the solid person, or next to an opaque pixel outside the
    // band (sure foreground)
    let lh = band_cell.len() / lw.max(1);
    for cy in 0..lh {
        for cx in 0..lw {
            let j = cy * lw + cx;
            if !band_cell[j] {
                continue;
            }
            for y in cy * f..((cy + 1) * f).min(h) {
                for x in cx * f..((cx + 1) * f).min(w) {
                    let i = y * w + x;
                    if alpha.data[i] < LINK_ALPHA {
                        continue;
                    }
                    let opaque_out =
                        |xx: usize, yy: usize| !in_band(xx, yy) && alpha.data[yy * w + xx] >= 0.5;
                    let seed = (keep[j] && alpha.data[i] >= 0.5)
                        || (x > 0 && opaque_out(x - 1, y))
                        || (x + 1 < w && opaque_out(x + 1, y))
                        || (y > 0 && opaque_out(x, y - 1))
                        || (y + 1 < h && opaque_out(x, y + 1));
                    if seed {
                        linked[i] = true;
                        stack.push(i as u32);
                    }
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        let i = i as usize;
        let (x, y) = (i % w, i / w);
        let nb = [
            (x > 0).then(|| (x - 1, y)),
            (x + 1 < w).then(|| (x + 1, y)),
            (y > 0).then(|| (x, y - 1)),
            (y + 1 < h).then(|| (x, y + 1)),
        ];
        for (nx, ny) in nb.into_iter().flatten() {
            let j = ny * w + nx;
            if !linked[j] && alpha.data[j] >= LINK_ALPHA && in_band(nx, ny) {
                linked[j] = true;
                stack.push(j as u32);
            }
        }
    }
    // pixels outside the band are constant (0 or 1) and count as linked when opaque
    let linked_at = |xx: usize, yy: usize| {
        let j = yy * w + xx;
        linked[j] || (!in_band(xx, yy) && alpha.data[j] >= 0.5)
    };
    let mut clear: Vec<u32> = Vec::new();
    for cy in 0..lh {
        for cx in 0..lw {
            if !band_cell[cy * lw + cx] {
                continue;
            }
            for y in cy * f..((cy + 1) * f).min(h) {
                for x in cx * f..((cx + 1) * f).min(w) {
                    let i = y * w + x;
                    if linked[i] || alpha.data[i] <= 0.0 {
                        continue;
                    }
                    let touches = (x > 0 && linked_at(x - 1, y))
                        || (x + 1 < w && linked_at(x + 1, y))
                        || (y > 0 && linked_at(x, y - 1))
                        || (y + 1 < h && linked_at(x, y + 1));
                    if !touches || alpha.data[i] >= LINK_ALPHA {
                        clear.push(i as u32);
                    }
                }
            }
        }
    }
    for i in clear {
        alpha.data[i as usize] = 0.0;
    }
}

/// Two box blurs of radius `r` (a tent of radius `2r`, edges replicated) applied to the
/// pixels of `alpha` within `2r` pixels of a band cell; elsewhere alpha is constant over
/// the tent's support and stays as it is.
pub(super) fn feather_band(
    alpha: &mut Plane,
    band_cell: &[bool],
    lw: usize,
    lh: usize,
    f: usize,
    r: usize,
) {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let reach = (2 * r).div_ceil(f);
    // cells to blur: band cells dilated by `reach`
    let mut rows = vec![false; lw * lh];
    for cy in 0..lh {
        for cx in 0..lw {
            if band_cell[cy * lw + cx] {
                for ny in cy.saturating_sub(reach)..(cy + reach + 1).min(lh) {
                    let o = ny * lw;
                    rows[o + cx.saturating_sub(reach)..o + (cx + reach + 1).min(lw)].fill(true);
                }
            }
        }
    }
    let flagged = rows;
    let n = 2 * r + 1;
    let kernel: Vec<f32> = (0..2 * n - 1)
        .map(|k| (n - (k as isize - (n as isize - 1)).unsigned_abs()) as f32 / (n * n) as f32)
        .collect();
    let span = 2 * r;
    let src = alpha.data.clone();
    let mut tmp = Vec::new();
    for cy in 0..lh {
        let (ya, yb) = (cy * f, ((cy + 1) * f).min(h));
        for cx in 0..lw {
            if !flagged[cy * lw + cx] {
                continue;
            }
            let (xa, xb) = (cx * f, ((cx + 1) * f).min(w));
            // vertical pass over columns xa - span .. xb + span (clamped), rows ya..yb
            let cols = xb - xa + 2 * span;
            tmp.clear();
            tmp.resize(cols * (yb - ya), 0.0);
            for y in ya..yb {
                let t = &mut tmp[(y - ya) * cols..(y - ya + 1) * cols];
                for (k, &wk) in kernel.iter().enumerate() {
                    let sy = (y + k).saturating_sub(span).min(h - 1);
                    let row = &src[sy * w..(sy + 1) * w];
                    for (c, tv) in t.iter_mut().enumerate() {
                        let sx = (xa + c).saturating_sub(span).min(w - 1);
                        *tv += wk * row[sx];
                    }
                }
            }
            for y in ya..yb {
                let t = &tmp[(y - ya) * cols..(y - ya + 1) * cols];
                for x in xa..xb {
                    let c = x - xa;
                    alpha.data[y * w + x] = kernel
                        .iter()
                        .zip(&t[c..c + kernel.len()])
                        .map(|(a, b)| a * b)
                        .sum();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matte::box_filter::box_mean;

    #[test]
    fn feather_band_matches_two_box_means_inside() {
        // a soft step; every cell is a band cell, so the whole plane is feathered
        let (w, h, f) = (23usize, 17usize, 4usize);
        let mut a = Plane::filled(w as u32, h as u32, 0.0);
        for y in 0..h {
            for x in 0..w {
                a.data[y * w + x] = ((x as f32 - 9.0 + 0.3 * y as f32) / 5.0).clamp(0.0, 1.0);
            }
        }
        let want = box_mean(&box_mean(&a, 1), 1);
        let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
        let mut got = a.clone();
        feather_band(&mut got, &vec![true; lw * lh], lw, lh, f, 1);
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let i = y * w + x;
                assert!((got.data[i] - want.data[i]).abs() < 1e-5, "{x},{y}");
            }
        }
    }

    #[test]
    fn detached_faint_islands_are_dropped() {
        // 12x8 pixels, cells of 4: left column of cells is the person, the rest is band
        let (w, h, f) = (12usize, 8usize, 4usize);
        let mut a = Plane::filled(w as u32, h as u32, 0.0);
        for y in 0..h {
            for x in 0..4 {
                a.data[y * w + x] = 1.0;
            }
            a.data[y * w + 4] = 0.6; // soft edge linked to the person
            a.data[y * w + 5] = 0.1; // its faint last pixel
        }
        a.data[2 * w + 9] = 0.4; // island
        a.data[2 * w + 10] = 0.2;
        let (lw, lh) = (3, 2);
        let keep = vec![true, false, false, true, false, false];
        let band = vec![false, true, true, false, true, true];
        assert_eq!(keep.len(), lw * lh);
        drop_detached(&mut a, &keep, &band, lw, f);
        assert_eq!(a.data[2 * w + 4], 0.6);
        assert_eq!(a.data[2 * w + 5], 0.1);
        assert_eq!(a.data[2 * w + 9], 0.0);
        assert_eq!(a.data[2 * w + 10], 0.0);
        assert_eq!(a.data[2 * w], 1.0);
    }
}
