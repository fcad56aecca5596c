//! Alpha-matte error metrics of Rhemann et al. ("A Perceptually Motivated Online Benchmark
//! for Image Matting", CVPR 2009) as used by the matting literature: SAD, MSE, gradient error
//! and connectivity error, each over the whole image or a region (e.g. the contour band).
//!
//! Alphas are in 0..1. SAD, gradient and connectivity errors are sums (the literature divides
//! them by 1000 for display); MSE is a mean.

use std::collections::VecDeque;

use idphoto::internals::Plane;

fn check(a: &Plane, b: &Plane) {
    assert!(
        a.width == b.width && a.height == b.height,
        "alpha sizes differ: {}x{} vs {}x{}",
        a.width,
        a.height,
        b.width,
        b.height
    );
}

fn in_mask(mask: Option<&[bool]>, i: usize) -> bool {
    mask.is_none_or(|m| m[i])
}

/// Sum of absolute differences.
#[cfg(test)]
pub fn sad(pred: &Plane, gt: &Plane, mask: Option<&[bool]>) -> f64 {
    check(pred, gt);
    (0..pred.data.len())
        .filter(|&i| in_mask(mask, i))
        .map(|i| (pred.data[i] as f64 - gt.data[i] as f64).abs())
        .sum()
}

/// Mean squared error (over the masked pixels; 0 when the mask is empty).
#[cfg(test)]
pub fn mse(pred: &Plane, gt: &Plane, mask: Option<&[bool]>) -> f64 {
    check(pred, gt);
    let (mut s, mut n) = (0f64, 0usize);
    for i in 0..pred.data.len() {
        if in_mask(mask, i) {
            s += (pred.data[i] as f64 - gt.data[i] as f64).powi(2);
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// Gradient magnitude with Gaussian derivative filters (sigma 1.4, kernels normalised to unit
/// L2 norm as in the benchmark's `gaussgradient`).
pub fn gradient_magnitude(p: &Plane, sigma: f32) -> Plane {
    let half = (sigma * (-2.0 * 0.01f32.ln()).sqrt()).ceil() as i32;
    let xs: Vec<f32> = (-half..=half).map(|x| x as f32).collect();
    let g: Vec<f32> = xs
        .iter()
        .map(|x| (-x * x / (2.0 * sigma * sigma)).exp())
        .collect();
    let dg: Vec<f32> = xs
        .iter()
        .zip(&g)
        .map(|(x, gv)| -x / (sigma * sigma) * gv)
        .collect();
    let norm =
        (g.iter().map(|v| v * v).sum::<f32>() * dg.iter().map(|v| v * v).sum::<f32>()).sqrt();
    let dg: Vec<f32> = dg.iter().map(|v| v / norm).collect();
    let (w, h) = (p.width as i32, p.height as i32);
    let conv = |src: &[f32], k: &[f32], horizontal: bool| -> Vec<f32> {
        let mut out = vec![0f32; src.len()];
        for y in 0..h {
            for x in 0..w {
                let mut acc = 0f32;
                for (j, kv) in k.iter().enumerate() {
                    let o = j as i32 - half;
                    // replicate the border
                    let (sx, sy) = if horizontal {
                        ((x + o).clamp(0, w - 1), y)
                    } else {
                        (x, (y + o).clamp(0, h - 1))
                    };
                    acc += kv * src[(sy * w + sx) as usize];
                }
                out[(y * w + x) as usize] = acc;
            }
        }
        out
    };
    let gx = conv(&conv(&p.data, &dg, true), &g, false);
    let gy = conv(&conv(&p.data, &g, true), &dg, false);
    Plane {
        width: p.width,
        height: p.height,
        data: gx.iter().zip(&gy).map(|(a, b)| a.hypot(*b)).collect(),
    }
}

/// Gradient error: sum of squared differences of the Gaussian gradient magnitudes.
#[cfg(test)]
pub fn gradient_error(pred: &Plane, gt: &Plane, mask: Option<&[bool]>) -> f64 {
    check(pred, gt);
    let gp = gradient_magnitude(pred, 1.4);
    let gg = gradient_magnitude(gt, 1.4);
    (0..pred.data.len())
        .filter(|&i| in_mask(mask, i))
        .map(|i| (gp.data[i] as f64 - gg.data[i] as f64).powi(2))
        .sum()
}

/// Largest 4-connected component of `on`.
fn largest_component(on: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut label = vec![0u32; on.len()];
    let mut best = (0u32, 0usize);
    let mut next = 1u32;
    let mut queue = VecDeque::new();
    for s in 0..on.len() {
        if !on[s] || label[s] != 0 {
            continue;
        }
        let mut size = 0usize;
        label[s] = next;
        queue.push_back(s);
        while let Some(i) = queue.pop_front() {
            size += 1;
            let (x, y) = (i % w, i / w);
            let mut visit = |j: usize| {
                if on[j] && label[j] == 0 {
                    label[j] = next;
                    queue.push_back(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        if size > best.1 {
            best = (next, size);
        }
        next += 1;
    }
    label.iter().map(|&l| l != 0 && l == best.0).collect()
}

/// Per-pixel connectivity terms `|phi(pred) - phi(gt)|` (step 0.1, theta 0.15): for each
/// pixel, the highest threshold at which it still belongs to the largest component of both
/// mattes; alpha above that level counts as disconnected.
pub fn connectivity_map(pred: &Plane, gt: &Plane) -> Vec<f32> {
    check(pred, gt);
    let (w, h) = (pred.width as usize, pred.height as usize);
    let step = 0.1f32;
    let n_steps = 10;
    let mut l_map = vec![-1f32; w * h];
    for k in 1..=n_steps {
        let t = k as f32 * step;
        let on: Vec<bool> = (0..w * h)
            .map(|i| pred.data[i] >= t - 1e-6 && gt.data[i] >= t - 1e-6)
            .collect();
        let omega = largest_component(&on, w, h);
        for i in 0..w * h {
            if l_map[i] < 0.0 && !omega[i] {
                l_map[i] = (k - 1) as f32 * step;
            }
        }
    }
    let phi = |a: f32, l: f32| {
        let d = a - l;
        if d >= 0.15 {
            1.0 - d
        } else {
            1.0
        }
    };
    (0..w * h)
        .map(|i| {
            let l = if l_map[i] < 0.0 { 1.0 } else { l_map[i] };
            (phi(pred.data[i], l) - phi(gt.data[i], l)).abs()
        })
        .collect()
}

/// Connectivity error: the sum of [`connectivity_map`] over the region.
#[cfg(test)]
pub fn connectivity_error(pred: &Plane, gt: &Plane, mask: Option<&[bool]>) -> f64 {
    connectivity_map(pred, gt)
        .iter()
        .enumerate()
        .filter(|&(i, _)| in_mask(mask, i))
        .map(|(_, &v)| v as f64)
        .sum()
}

/// The contour band of a reference alpha: pixels with fractional alpha (0.02..0.98) and every
/// pixel within `radius` pixels (square neighbourhood) of them or of the 0.5 contour.
pub fn contour_band(gt: &Plane, radius: usize) -> Vec<bool> {
    let (w, h) = (gt.width as usize, gt.height as usize);
    let mut edge = Plane::filled(gt.width, gt.height, 0.0);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            let v = gt.data[i];
            let side = v >= 0.5;
            let boundary = (x + 1 < w && (gt.data[i + 1] >= 0.5) != side)
                || (y + 1 < h && (gt.data[i + w] >= 0.5) != side);
            if (v > 0.02 && v < 0.98) || boundary {
                edge.data[i] = 1.0;
            }
        }
    }
    idphoto::internals::box_mean(&edge, radius)
        .data
        .iter()
        .map(|&v| v > 1e-6)
        .collect()
}

/// All four metrics at once.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Errors {
    /// Sum of absolute differences.
    pub sad: f64,
    /// Mean squared error.
    pub mse: f64,
    /// Gradient error.
    pub grad: f64,
    /// Connectivity error.
    pub conn: f64,
}

/// [`Errors`] over several regions at once (the per-pixel terms are computed once).
#[allow(clippy::needless_range_loop)] // five parallel per-pixel arrays
pub fn errors_in(pred: &Plane, gt: &Plane, masks: &[Option<&[bool]>]) -> Vec<Errors> {
    check(pred, gt);
    let gp = gradient_magnitude(pred, 1.4);
    let gg = gradient_magnitude(gt, 1.4);
    let conn = connectivity_map(pred, gt);
    masks
        .iter()
        .map(|&mask| {
            let mut e = Errors::default();
            let mut n = 0usize;
            for i in 0..pred.data.len() {
                if !in_mask(mask, i) {
                    continue;
                }
                let d = pred.data[i] as f64 - gt.data[i] as f64;
                e.sad += d.abs();
                e.mse += d * d;
                e.grad += (gp.data[i] as f64 - gg.data[i] as f64).powi(2);
                e.conn += conn[i] as f64;
                n += 1;
            }
            e.mse /= n.max(1) as f64;
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plane(w: u32, h: u32, v: &[f32]) -> Plane {
        Plane {
            width: w,
            height: h,
            data: v.to_vec(),
        }
    }

    #[test]
    fn sad_and_mse_by_hand() {
        let a = plane(2, 2, &[0.0, 0.5, 1.0, 0.25]);
        let b = plane(2, 2, &[0.0, 1.0, 0.5, 0.25]);
        assert!((sad(&a, &b, None) - 1.0).abs() < 1e-9);
        assert!((mse(&a, &b, None) - 0.125).abs() < 1e-9);
        let m = [false, true, false, true];
        assert!((sad(&a, &b, Some(&m)) - 0.5).abs() < 1e-9);
        assert!((mse(&a, &b, Some(&m)) - 0.125).abs() < 1e-9);
    }

    #[test]
    fn gradient_error_zero_for_equal_and_positive_for_blur() {
        let step: Vec<f32> = (0..20 * 10)
            .map(|i| ((i % 20) >= 10) as u8 as f32)
            .collect();
        let a = plane(20, 10, &step);
        assert_eq!(gradient_error(&a, &a, None), 0.0);
        // a unit step has peak gradient magnitude sum(dg)/norm
        let g = gradient_magnitude(&a, 1.4);
        assert!(g.at(9, 5) > 0.3 && g.at(0, 5) < 1e-6);
        let ramp: Vec<f32> = (0..20 * 10)
            .map(|i| (((i % 20) as f32 - 5.0) / 10.0).clamp(0.0, 1.0))
            .collect();
        assert!(gradient_error(&plane(20, 10, &ramp), &a, None) > 0.1);
        // a constant plane has zero gradient, also at the borders
        let c = gradient_magnitude(&Plane::filled(7, 5, 0.7), 1.4);
        assert!(c.data.iter().all(|v| v.abs() < 1e-5));
    }

    #[test]
    fn connectivity_counts_a_detached_blob() {
        // 8x4: the person fills columns 0..4; the prediction adds a detached 2x2 blob at
        // alpha 1 in columns 6..8 (rows 1..3): each blob pixel has phi 0 vs 1 -> error 4.
        let mut gt = vec![0f32; 32];
        for y in 0..4 {
            for x in 0..4 {
                gt[y * 8 + x] = 1.0;
            }
        }
        let mut pred = gt.clone();
        for y in 1..3 {
            for x in 6..8 {
                pred[y * 8 + x] = 1.0;
            }
        }
        let (p, g) = (plane(8, 4, &pred), plane(8, 4, &gt));
        assert!((connectivity_error(&p, &g, None) - 4.0).abs() < 1e-6);
        assert_eq!(connectivity_error(&g, &g, None), 0.0);
        // a blob at alpha 0.1 is below theta: no error
        let mut faint = gt.clone();
        faint[8 + 6] = 0.1;
        assert_eq!(connectivity_error(&plane(8, 4, &faint), &g, None), 0.0);
        // at alpha 0.5: d = 0.5, phi = 0.5 vs 1
        faint[8 + 6] = 0.5;
        assert!((connectivity_error(&plane(8, 4, &faint), &g, None) - 0.5).abs() < 1e-6);
        // the combined computation agrees with the single metrics
        let m: Vec<bool> = (0..32).map(|i| i % 8 >= 6).collect();
        let e = errors_in(&p, &g, &[None, Some(&m)]);
        assert!((e[0].conn - 4.0).abs() < 1e-6 && (e[1].conn - 4.0).abs() < 1e-6);
        assert!((e[0].sad - 4.0).abs() < 1e-9 && (e[1].mse - 0.5).abs() < 1e-9);
        assert!((e[0].grad - gradient_error(&p, &g, None)).abs() < 1e-6);
    }

    #[test]
    fn contour_band_surrounds_the_edge() {
        let gt: Vec<f32> = (0..20 * 3).map(|i| ((i % 20) >= 10) as u8 as f32).collect();
        let band = contour_band(&plane(20, 3, &gt), 2);
        let row: Vec<bool> = band[20..40].to_vec();
        // boundary between x = 9 and 10; radius 2 -> x in 7..=11
        let want: Vec<bool> = (0..20).map(|x| (7..=11).contains(&x)).collect();
        assert_eq!(row, want);
    }
}
