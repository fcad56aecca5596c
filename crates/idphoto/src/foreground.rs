//! Foreground colour estimation: Germer et al., "Fast Multi-Level Foreground Estimation"
//! (ICPR 2020, arXiv 2006.14970), following pymatting's `estimate_foreground_ml`.
//!
//! Given an image `I` and its alpha, finds foreground `F` and background `B` colours with
//! `I = alpha F + (1 - alpha) B` that vary smoothly where alpha does not change. Edge pixels
//! then carry the person's colour only, without the old background's tint.
//!
//! The solve runs coarse to fine on a geometric pyramid (nearest-neighbour resampling). At the
//! large levels only pixels near fractional alpha are iterated: elsewhere `F = I` (opaque) or
//! `B = I` (transparent) and the other colour is the coarse level's smooth extension, which is
//! what the full iteration converges to there.

use image::RgbImage;

use crate::composite::srgb_to_linear;
use crate::raster::Plane;

/// Parameters of the multi-level solver (pymatting's defaults).
#[derive(Debug, Clone, Copy)]
pub struct MlOptions {
    /// Regularisation of the smoothness term.
    pub regularization: f32,
    /// Iterations on levels no larger than `small_size` on both sides.
    pub small_iterations: usize,
    /// Iterations on larger levels.
    pub big_iterations: usize,
    /// Side below which a level counts as small.
    pub small_size: usize,
    /// Weight of the alpha-gradient term.
    pub gradient_weight: f32,
}

impl Default for MlOptions {
    fn default() -> Self {
        MlOptions {
            regularization: 1e-5,
            small_iterations: 10,
            big_iterations: 2,
            small_size: 32,
            gradient_weight: 1.0,
        }
    }
}

/// Alpha below which a pixel counts as pure background, above `1 - EPS` as pure foreground.
const EPS: f32 = 1.0 / 512.0;

fn resize_nearest(src: &[f32], sw: usize, sh: usize, ch: usize, w: usize, h: usize) -> Vec<f32> {
    let mut out = vec![0f32; w * h * ch];
    let xs: Vec<usize> = (0..w)
        .map(|x| ((x as f64 + 0.5) * sw as f64 / w as f64).floor() as usize)
        .map(|x| x.min(sw - 1))
        .collect();
    for y in 0..h {
        let sy = (((y as f64 + 0.5) * sh as f64 / h as f64).floor() as usize).min(sh - 1);
        for (x, &sx) in xs.iter().enumerate() {
            let o = (y * w + x) * ch;
            let s = (sy * sw + sx) * ch;
            out[o..o + ch].copy_from_slice(&src[s..s + ch]);
        }
    }
    out
}

/// Estimates foreground (and background) colours of `image` (interleaved RGB, any scale,
/// usually linear light 0..1) for `alpha`. Returns `(F, B)`, interleaved RGB like the input.
pub fn estimate_fg_bg(image: &[f32], alpha: &Plane, opts: &MlOptions) -> (Vec<f32>, Vec<f32>) {
    let (w0, h0) = (alpha.width as usize, alpha.height as usize);
    assert_eq!(image.len(), w0 * h0 * 3, "image and alpha sizes differ");
    let n_levels = (w0.max(h0) as f64).log2().ceil().max(1.0) as i32;
    // start from the mean colour
    let mut mean = [0f64; 3];
    for px in image.chunks_exact(3) {
        for c in 0..3 {
            mean[c] += px[c] as f64;
        }
    }
    let n = (w0 * h0).max(1) as f64;
    let mean = mean.map(|m| (m / n) as f32);
    let (mut pw, mut ph) = (1usize, 1usize);
    let mut f = mean.to_vec();
    let mut b = mean.to_vec();
    for level in 0..=n_levels {
        let t = level as f64 / n_levels as f64;
        let w = ((w0 as f64).powf(t).round() as usize).clamp(1, w0);
        let h = ((h0 as f64).powf(t).round() as usize).clamp(1, h0);
        let full = w == w0 && h == h0;
        let (img_l, a_l) = if full {
            (Vec::new(), Vec::new())
        } else {
            (
                resize_nearest(image, w0, h0, 3, w, h),
                resize_nearest(&alpha.data, w0, h0, 1, w, h),
            )
        };
        let (img, a): (&[f32], &[f32]) = if full {
            (image, &alpha.data)
        } else {
            (&img_l, &a_l)
        };
        let small = w <= opts.small_size && h <= opts.small_size;
        let iters = if small {
            opts.small_iterations
        } else {
            opts.big_iterations
        };
        // pixels to iterate: all on small levels, else those next to fractional alpha or an
        // alpha change. The others keep F = I (opaque) or B = I (transparent); their other
        // colour only enters the active pixels' equations with the tiny regularisation weight.
        let active: Vec<u32> = if small {
            f = resize_nearest(&f, pw, ph, 3, w, h);
            b = resize_nearest(&b, pw, ph, 3, w, h);
            (0..(w * h) as u32).collect()
        } else {
            let (fp, bp) = (std::mem::take(&mut f), std::mem::take(&mut b));
            f = img.to_vec();
            b = img.to_vec();
            let frac = |v: f32| v > EPS && v < 1.0 - EPS;
            let mut act = Vec::new();
            for y in 0..h {
                let sy = (((y as f64 + 0.5) * ph as f64 / h as f64) as usize).min(ph - 1);
                for x in 0..w {
                    let i = y * w + x;
                    let v = a[i];
                    let differs = |j: usize| (a[j] - v).abs() > EPS;
                    let near = frac(v)
                        || (x > 0 && differs(i - 1))
                        || (x + 1 < w && differs(i + 1))
                        || (y > 0 && differs(i - w))
                        || (y + 1 < h && differs(i + w));
                    if near {
                        act.push(i as u32);
                        let sx = (((x as f64 + 0.5) * pw as f64 / w as f64) as usize).min(pw - 1);
                        let s = (sy * pw + sx) * 3;
                        f[i * 3..i * 3 + 3].copy_from_slice(&fp[s..s + 3]);
                        b[i * 3..i * 3 + 3].copy_from_slice(&bp[s..s + 3]);
                    }
                }
            }
            act
        };
        (pw, ph) = (w, h);
        for _ in 0..iters {
            for &i in &active {
                let i = i as usize;
                let (x, y) = (i % w, i / w);
                let a0 = a[i];
                let a1 = 1.0 - a0;
                let mut a00 = a0 * a0;
                let a01 = a0 * a1;
                let mut a11 = a1 * a1;
                let mut b0 = [img[i * 3] * a0, img[i * 3 + 1] * a0, img[i * 3 + 2] * a0];
                let mut b1 = [img[i * 3] * a1, img[i * 3 + 1] * a1, img[i * 3 + 2] * a1];
                let nb = [
                    if x > 0 { i - 1 } else { i },
                    if x + 1 < w { i + 1 } else { i },
                    if y > 0 { i - w } else { i },
                    if y + 1 < h { i + w } else { i },
                ];
                for j in nb {
                    let da = opts.regularization + opts.gradient_weight * (a0 - a[j]).abs();
                    a00 += da;
                    a11 += da;
                    for c in 0..3 {
                        b0[c] += da * f[j * 3 + c];
                        b1[c] += da * b[j * 3 + c];
                    }
                }
                let inv = 1.0 / (a00 * a11 - a01 * a01);
                let (m00, m01, m11) = (inv * a11, -inv * a01, inv * a00);
                for c in 0..3 {
                    f[i * 3 + c] = (m00 * b0[c] + m01 * b1[c]).clamp(0.0, 1.0);
                    b[i * 3 + c] = (m01 * b0[c] + m11 * b1[c]).clamp(0.0, 1.0);
                }
            }
        }
    }
    (f, b)
}

/// Image to interleaved linear-light RGB in 0..1.
pub fn to_linear(img: &RgbImage) -> Vec<f32> {
    let lut: Vec<f32> = (0..256).map(|i| srgb_to_linear(i as f32 / 255.0)).collect();
    img.as_raw().iter().map(|&v| lut[v as usize]).collect()
}

/// Multi-level foreground estimation of an sRGB image, in linear light: returns the
/// foreground colour per pixel as interleaved linear RGB in 0..1.
pub fn estimate_ml(img: &RgbImage, alpha: &Plane) -> Vec<f32> {
    estimate_fg_bg(&to_linear(img), alpha, &MlOptions::default()).0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_known_foreground_of_a_synthetic_composite() {
        // foreground: smooth warm gradient; background: saturated blue with a ramp;
        // alpha: soft disc edge plus thin "strands"
        let (w, h) = (64usize, 48usize);
        let mut alpha = Plane::filled(w as u32, h as u32, 0.0);
        let mut fg = vec![0f32; w * h * 3];
        let mut img = vec![0f32; w * h * 3];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let d =
                    (((x as f32 - 30.0).powi(2) + (y as f32 - 24.0).powi(2)).sqrt() - 14.0) / 4.0;
                let mut a = (0.5 - d).clamp(0.0, 1.0);
                if x % 6 == 0 && y < 12 {
                    a = a.max(0.4);
                }
                alpha.data[i] = a;
                let f = [
                    0.6 + 0.2 * x as f32 / w as f32,
                    0.35,
                    0.2 + 0.1 * y as f32 / h as f32,
                ];
                let b = [0.02, 0.05 + 0.2 * x as f32 / w as f32, 0.9];
                for c in 0..3 {
                    fg[i * 3 + c] = f[c];
                    img[i * 3 + c] = a * f[c] + (1.0 - a) * b[c];
                }
            }
        }
        let (f, _) = estimate_fg_bg(&img, &alpha, &MlOptions::default());
        let (mut err, mut err_naive, mut n) = (0f32, 0f32, 0);
        for i in 0..w * h {
            let a = alpha.data[i];
            if a > 0.1 && a < 0.9 {
                for c in 0..3 {
                    err += (f[i * 3 + c] - fg[i * 3 + c]).abs();
                    err_naive += (img[i * 3 + c] - fg[i * 3 + c]).abs();
                }
                n += 3;
            }
        }
        let (err, err_naive) = (err / n as f32, err_naive / n as f32);
        assert!(n > 100);
        assert!(err < 0.04, "mean fg error {err} (naive {err_naive})");
        assert!(
            err < err_naive / 5.0,
            "mean fg error {err} (naive {err_naive})"
        );
        // opaque pixels keep their colour
        let i = 24 * w + 30;
        assert!((f[i * 3] - img[i * 3]).abs() < 1e-4);
    }
}
