//! Pull-push fill (coarse-to-fine interpolation) of values known at some pixels only.

/// Pull-push fill: `data` holds `C` weighted values per pixel (premultiplied by `wt`). Returns
/// per-pixel values where known pixels keep theirs and unknown ones take a smooth blend of the
/// nearest known ones (coarse-to-fine).
pub(super) fn push_pull<const C: usize>(data: &[f32], wt: &[f32], w: usize, h: usize) -> Vec<f32> {
    let n = w * h;
    let mut val = vec![0f32; n * C];
    let mut a = vec![0f32; n];
    for i in 0..n {
        if wt[i] > 1e-8 {
            let inv = 1.0 / wt[i];
            for c in 0..C {
                val[i * C + c] = data[i * C + c] * inv;
            }
            a[i] = wt[i].min(1.0);
        }
    }
    if w <= 1 && h <= 1 {
        return val;
    }
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    let mut d2 = vec![0f32; w2 * h2 * C];
    let mut wt2 = vec![0f32; w2 * h2];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if a[i] == 0.0 {
                continue;
            }
            let j = (y / 2) * w2 + x / 2;
            wt2[j] += a[i];
            for c in 0..C {
                d2[j * C + c] += a[i] * val[i * C + c];
            }
        }
    }
    let coarse = push_pull::<C>(&d2, &wt2, w2, h2);
    // bilinear taps of each column (non-negative after the clamp: truncation is floor)
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (w2 - 1) as f32);
            let x0 = fx as usize;
            (x0, (x0 + 1).min(w2 - 1), fx - x0 as f32)
        })
        .collect();
    for y in 0..h {
        let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (h2 - 1) as f32);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(h2 - 1);
        let ty = fy - y0 as f32;
        let r0 = &coarse[y0 * w2 * C..(y0 + 1) * w2 * C];
        let r1 = &coarse[y1 * w2 * C..(y1 + 1) * w2 * C];
        for (x, &(x0, x1, tx)) in cols.iter().enumerate() {
            let i = y * w + x;
            let ai = a[i];
            if ai >= 1.0 {
                continue;
            }
            let (p00, p01) = (&r0[x0 * C..x0 * C + C], &r0[x1 * C..x1 * C + C]);
            let (p10, p11) = (&r1[x0 * C..x0 * C + C], &r1[x1 * C..x1 * C + C]);
            let v = &mut val[i * C..i * C + C];
            for c in 0..C {
                let up = (p00[c] * (1.0 - tx) + p01[c] * tx) * (1.0 - ty)
                    + (p10[c] * (1.0 - tx) + p11[c] * tx) * ty;
                v[c] = ai * v[c] + (1.0 - ai) * up;
            }
        }
    }
    val
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pull-push fill as it was written before the channel count became a constant: the
    /// reference for [`push_pull`].
    fn push_pull_dyn(data: &[f32], wt: &[f32], w: usize, h: usize, ch: usize) -> Vec<f32> {
        let n = w * h;
        let mut val = vec![0f32; n * ch];
        let mut a = vec![0f32; n];
        for i in 0..n {
            if wt[i] > 1e-8 {
                let inv = 1.0 / wt[i];
                for c in 0..ch {
                    val[i * ch + c] = data[i * ch + c] * inv;
                }
                a[i] = wt[i].min(1.0);
            }
        }
        if w <= 1 && h <= 1 {
            return val;
        }
        let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
        let mut d2 = vec![0f32; w2 * h2 * ch];
        let mut wt2 = vec![0f32; w2 * h2];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if a[i] == 0.0 {
                    continue;
                }
                let j = (y / 2) * w2 + x / 2;
                wt2[j] += a[i];
                for c in 0..ch {
                    d2[j * ch + c] += a[i] * val[i * ch + c];
                }
            }
        }
        let coarse = push_pull_dyn(&d2, &wt2, w2, h2, ch);
        for y in 0..h {
            let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (h2 - 1) as f32);
            let y0 = fy.floor() as usize;
            let y1 = (y0 + 1).min(h2 - 1);
            let ty = fy - y0 as f32;
            for x in 0..w {
                let i = y * w + x;
                if a[i] >= 1.0 {
                    continue;
                }
                let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (w2 - 1) as f32);
                let x0 = fx.floor() as usize;
                let x1 = (x0 + 1).min(w2 - 1);
                let tx = fx - x0 as f32;
                for c in 0..ch {
                    let at = |xx: usize, yy: usize| coarse[(yy * w2 + xx) * ch + c];
                    let up = (at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx) * (1.0 - ty)
                        + (at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx) * ty;
                    val[i * ch + c] = a[i] * val[i * ch + c] + (1.0 - a[i]) * up;
                }
            }
        }
        val
    }

    #[test]
    fn push_pull_fixed_channel_counts_match_the_general_one() {
        for (w, h) in [(1, 1), (7, 5), (64, 33)] {
            let n: usize = w * h;
            for ch in [1usize, 3, 4] {
                let wt: Vec<f32> = (0..n)
                    .map(|i| {
                        if i % 5 == 0 || i % 7 == 3 {
                            0.0
                        } else {
                            (i % 9) as f32 / 6.0
                        }
                    })
                    .collect();
                let data: Vec<f32> = (0..n * ch)
                    .map(|k| wt[k / ch] * ((k * 31) % 17) as f32 / 16.0)
                    .collect();
                let got = match ch {
                    1 => push_pull::<1>(&data, &wt, w, h),
                    3 => push_pull::<3>(&data, &wt, w, h),
                    _ => push_pull::<4>(&data, &wt, w, h),
                };
                assert_eq!(got, push_pull_dyn(&data, &wt, w, h, ch), "{w}x{h}x{ch}");
            }
        }
    }
}
