//! Box means (the mean over a (2r+1)^2 window clipped at the borders) by running sums: of
//! one plane, and of several interleaved channels over rows made on demand.

use crate::raster::Plane;

/// Box mean with radius `r` (window (2r+1)^2, clipped at the borders) via running sums.
pub fn box_mean(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.width as usize, p.height as usize);
    let mut tmp = vec![0f32; w * h];
    // horizontal pass, four rows at a time: the running sum of one row is a chain of
    // dependent additions, four independent chains keep the FPU busy
    const K: usize = 4;
    let mut y = 0;
    while y < h {
        let k = K.min(h - y);
        let mut acc = [0f32; K];
        for (j, a) in acc.iter_mut().enumerate() {
            let yy = y + j.min(k - 1);
            *a = p.data[yy * w..yy * w + r.min(w - 1) + 1].iter().sum();
        }
        let mut cnt = r.min(w - 1) + 1;
        // rows past the last one repeat it (computed, never stored)
        let rows: [&[f32]; K] = std::array::from_fn(|j| {
            let yy = y + j.min(k - 1);
            &p.data[yy * w..(yy + 1) * w]
        });
        for x in 0..w {
            let n = cnt as f32;
            let add = x + r + 1;
            let mut out = [0f32; K];
            for j in 0..K {
                out[j] = acc[j] / n;
                if add < w {
                    acc[j] += rows[j][add];
                }
                if x >= r {
                    acc[j] -= rows[j][x - r];
                }
            }
            for (j, v) in out.iter().enumerate().take(k) {
                tmp[(y + j) * w + x] = *v;
            }
            if add < w {
                cnt += 1;
            }
            if x >= r {
                cnt -= 1;
            }
        }
        y += k;
    }
    // vertical pass
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f32; w];
    let mut cnt = 0usize;
    for y in 0..=r.min(h - 1) {
        for x in 0..w {
            acc[x] += tmp[y * w + x];
        }
        cnt += 1;
    }
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = acc[x] / cnt as f32;
        }
        let add = y + r + 1;
        if add < h {
            for x in 0..w {
                acc[x] += tmp[add * w + x];
            }
            cnt += 1;
        }
        if y >= r {
            for x in 0..w {
                acc[x] -= tmp[(y - r) * w + x];
            }
            cnt -= 1;
        }
    }
    Plane {
        width: p.width,
        height: p.height,
        data: out,
    }
}

/// [`box_mean`] of `C` interleaved channels (`row[x * C + c]`), the channels side by side in
/// every operation (the same running sums per channel, the same values), over rows made on
/// demand and handed on when ready: `row_in(y, row)` fills input row `y` (called once per
/// row, in order), `row_out(y, row)` receives the means of row `y` (in order). Only 2r + 2 filtered rows are kept, so a many-channel filter
/// stays in the cache and needs no whole-image buffers.
pub fn box_mean_streamed<const C: usize>(
    (w, h, r): (usize, usize, usize),
    mut row_in: impl FnMut(usize, &mut [f32]),
    mut row_out: impl FnMut(usize, &[f32]),
) {
    let rw = w * C;
    if rw == 0 || h == 0 {
        return;
    }
    let slots = 2 * r + 2;
    let mut ring = vec![0f32; rw * slots.min(h)];
    let mut input = vec![0f32; rw];
    // the horizontal running sums of input row `y` into its ring slot
    let mut filter_row = |y: usize, ring: &mut [f32]| {
        row_in(y, &mut input);
        let slot = y % slots;
        let out = &mut ring[slot * rw..(slot + 1) * rw];
        let mut acc = [0f32; C];
        for px in input[..(r.min(w - 1) + 1) * C].chunks_exact(C) {
            for c in 0..C {
                acc[c] += px[c];
            }
        }
        let mut cnt = r.min(w - 1) + 1;
        for x in 0..w {
            // a division, as `box_mean`: the same values to the bit
            let n = cnt as f32;
            let o = &mut out[x * C..x * C + C];
            for c in 0..C {
                o[c] = acc[c] / n;
            }
            if x + r + 1 < w {
                let add = &input[(x + r + 1) * C..(x + r + 2) * C];
                for c in 0..C {
                    acc[c] += add[c];
                }
                cnt += 1;
            }
            if x >= r {
                let sub = &input[(x - r) * C..(x - r + 1) * C];
                for c in 0..C {
                    acc[c] -= sub[c];
                }
                cnt -= 1;
            }
        }
    };
    // the vertical running sums over the ring
    let slot = |y: usize| (y % slots) * rw;
    let mut acc = vec![0f32; rw];
    let mut out = vec![0f32; rw];
    for y in 0..=r.min(h - 1) {
        filter_row(y, &mut ring);
        let row = &ring[slot(y)..slot(y) + rw];
        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    }
    let mut cnt = r.min(h - 1) + 1;
    for y in 0..h {
        let n = cnt as f32;
        out.iter_mut().zip(&acc).for_each(|(o, a)| *o = a / n);
        row_out(y, &out);
        if y + r + 1 < h {
            filter_row(y + r + 1, &mut ring);
            let row = &ring[slot(y + r + 1)..slot(y + r + 1) + rw];
            acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            cnt += 1;
        }
        if y >= r {
            let row = &ring[slot(y - r)..slot(y - r) + rw];
            acc.iter_mut().zip(row).for_each(|(a, v)| *a -= v);
            cnt -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running-sum box mean of one row, as `box_mean` computed it before rows were
    /// interleaved (the reference for bit-identical results).
    fn box_mean_reference(p: &Plane, r: usize) -> Vec<f32> {
        let (w, h) = (p.width as usize, p.height as usize);
        let mut tmp = vec![0f32; w * h];
        for y in 0..h {
            let row = &p.data[y * w..(y + 1) * w];
            let mut acc: f32 = row[..=r.min(w - 1)].iter().sum();
            let mut cnt = r.min(w - 1) + 1;
            for x in 0..w {
                tmp[y * w + x] = acc / cnt as f32;
                if x + r + 1 < w {
                    acc += row[x + r + 1];
                    cnt += 1;
                }
                if x >= r {
                    acc -= row[x - r];
                    cnt -= 1;
                }
            }
        }
        let t = Plane {
            width: p.height,
            height: p.width,
            data: (0..w * h).map(|i| tmp[(i % h) * w + i / h]).collect(),
        };
        // vertical pass = horizontal pass of the transpose
        let mut out = vec![0f32; w * h];
        for x in 0..w {
            let col = &t.data[x * h..(x + 1) * h];
            let mut acc: f32 = col[..=r.min(h - 1)].iter().sum();
            let mut cnt = r.min(h - 1) + 1;
            for yy in 0..h {
                out[yy * w + x] = acc / cnt as f32;
                if yy + r + 1 < h {
                    acc += col[yy + r + 1];
                    cnt += 1;
                }
                if yy >= r {
                    acc -= col[yy - r];
                    cnt -= 1;
                }
            }
        }
        out
    }

    #[test]
    fn streamed_box_mean_is_box_mean_per_channel() {
        for (w, h, r) in [(1usize, 1usize, 2usize), (9, 6, 1), (40, 23, 4), (5, 13, 7)] {
            let data: Vec<f32> = (0..w * h * 3)
                .map(|i| ((i * 37) % 23) as f32 / 7.0)
                .collect();
            let mut got = vec![0f32; data.len()];
            box_mean_streamed::<3>(
                (w, h, r),
                |y, row| row.copy_from_slice(&data[y * w * 3..(y + 1) * w * 3]),
                |y, row| got[y * w * 3..(y + 1) * w * 3].copy_from_slice(row),
            );
            for c in 0..3 {
                let p = Plane {
                    width: w as u32,
                    height: h as u32,
                    data: data.iter().skip(c).step_by(3).copied().collect(),
                };
                let want = box_mean(&p, r);
                let got_c: Vec<f32> = got.iter().skip(c).step_by(3).copied().collect();
                assert_eq!(got_c, want.data, "{w}x{h} r{r} channel {c}");
            }
        }
    }

    #[test]
    fn box_mean_matches_running_sums_row_by_row() {
        for (w, h, r) in [(1, 1, 2), (9, 6, 1), (40, 23, 4), (5, 13, 7)] {
            let p = Plane {
                width: w,
                height: h,
                data: (0..w * h).map(|i| ((i * 37) % 23) as f32 / 7.0).collect(),
            };
            let got = box_mean(&p, r as usize);
            let want = box_mean_reference(&p, r as usize);
            for (g, e) in got.data.iter().zip(&want) {
                assert!(
                    (g - e).abs() <= 1e-5 * e.abs().max(1.0),
                    "{w}x{h} r{r}: {g} vs {e}"
                );
            }
        }
    }

    #[test]
    fn box_mean_of_constant_and_step() {
        let p = Plane::filled(9, 7, 2.0);
        assert!(box_mean(&p, 2).data.iter().all(|v| (v - 2.0).abs() < 1e-5));
        let mut s = Plane::filled(10, 1, 0.0);
        for x in 5..10 {
            s.data[x] = 1.0;
        }
        let m = box_mean(&s, 1);
        assert!((m.data[4] - 1.0 / 3.0).abs() < 1e-5);
        assert!((m.data[5] - 2.0 / 3.0).abs() < 1e-5);
        assert!((m.data[0]).abs() < 1e-6 && (m.data[9] - 1.0).abs() < 1e-6);
    }
}
