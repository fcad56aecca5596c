//! Layout changes of f32 tensors around a network run: NHWC to planar (NCHW, or NCWH for a
//! transposed plan), and height and width swapped.

/// An NHWC tensor as NCHW, or as NCWH (height and width swapped) when `swap`.
pub(crate) fn to_planar(data: &[f32], [n, h, w, c]: [usize; 4], swap: bool) -> Vec<f32> {
    let plane = h * w;
    let mut out = vec![0f32; data.len()];
    if plane == 0 || c == 0 {
        return out;
    }
    for (src, dst) in data
        .chunks_exact(plane * c)
        .zip(out.chunks_exact_mut(plane * c))
        .take(n)
    {
        for (k, d) in dst.chunks_exact_mut(plane).enumerate() {
            if !swap {
                for (o, px) in d.iter_mut().zip(src.chunks_exact(c)) {
                    *o = px[k];
                }
                continue;
            }
            // a band of rows at a time: each column's run of the band is contiguous in the
            // output, and the band's source rows stay in cache across the columns
            const BAND: usize = 16;
            for y0 in (0..h).step_by(BAND) {
                let rows = BAND.min(h - y0);
                let band = &src[y0 * w * c..(y0 + rows) * w * c];
                for (x, col) in d.chunks_exact_mut(h).enumerate() {
                    for (j, o) in col[y0..y0 + rows].iter_mut().enumerate() {
                        *o = band[(j * w + x) * c + k];
                    }
                }
            }
        }
    }
    out
}

/// An NHWC tensor `n` x `h` x `w` x `c` with height and width swapped (`n` x `w` x `h` x `c`).
pub(crate) fn swap_hw(data: &[f32], n: usize, h: usize, w: usize, c: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for b in 0..n {
        let (src, dst) = (
            &data[b * h * w * c..][..h * w * c],
            &mut out[b * h * w * c..][..h * w * c],
        );
        for y in 0..h {
            for x in 0..w {
                let (i, o) = ((y * w + x) * c, (x * h + y) * c);
                dst[o..o + c].copy_from_slice(&src[i..i + c]);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn to_planar_makes_nchw_and_ncwh() {
        // 1 x 2 x 3 x 2 (h 2, w 3, c 2): value = 10 y + x, channel 1 negated
        let x: Vec<f32> = (0..6)
            .flat_map(|i| {
                let v = (10 * (i / 3) + i % 3) as f32;
                [v, -v]
            })
            .collect();
        let nchw = to_planar(&x, [1, 2, 3, 2], false);
        assert_eq!(&nchw[..6], &[0., 1., 2., 10., 11., 12.]);
        assert_eq!(&nchw[6..], &[-0., -1., -2., -10., -11., -12.]);
        let ncwh = to_planar(&x, [1, 2, 3, 2], true);
        assert_eq!(&ncwh[..6], &[0., 10., 1., 11., 2., 12.]);
    }

    #[test]
    fn swap_hw_swaps_height_and_width() {
        // 1 x 2 x 3 x 2
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let t = swap_hw(&x, 1, 2, 3, 2);
        assert_eq!(t, vec![0., 1., 6., 7., 2., 3., 8., 9., 4., 5., 10., 11.]);
        assert_eq!(swap_hw(&t, 1, 3, 2, 2), x);
    }
}
