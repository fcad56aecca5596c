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

use super::box_filter::box_mean;
use super::push_pull::push_pull;
use crate::raster::colour::srgb_to_linear_lut;
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
            start_edge_level((img, a), (w, h), (pw, ph), &mut f, &mut b)
        };
        (pw, ph) = (w, h);
        for _ in 0..iters {
            relax(img, a, w, h, &active, (&mut f, &mut b), opts);
        }
    }
    (f, b)
}

/// Start of a large level of `w` x `h` pixels (image `img`, alpha `a`): `F = B = I`, then
/// the pixels next to fractional alpha or an alpha change take the previous level's colours
/// (`f`, `b` of `pw` x `ph` pixels, replaced by this level's). Returns those pixels.
fn start_edge_level(
    (img, a): (&[f32], &[f32]),
    (w, h): (usize, usize),
    (pw, ph): (usize, usize),
    f: &mut Vec<f32>,
    b: &mut Vec<f32>,
) -> Vec<u32> {
    let (fp, bp) = (std::mem::take(f), std::mem::take(b));
    *f = img.to_vec();
    *b = img.to_vec();
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
}

/// One Gauss-Seidel sweep of the multi-level equations over the `active` pixels of a level
/// of `w` x `h` pixels, updating `f` and `b` in place.
fn relax(
    img: &[f32],
    a: &[f32],
    w: usize,
    h: usize,
    active: &[u32],
    (f, b): (&mut [f32], &mut [f32]),
    opts: &MlOptions,
) {
    for &i in active {
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

/// Foreground colours of the pixels whose alpha is fractional, and of the opaque pixels near
/// them whose colour was despilled (the only ones compositing needs to change): pixel
/// indices in increasing order and their linear-light RGB colour (0..1).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Foreground {
    /// Width of the image.
    pub width: u32,
    /// Height of the image.
    pub height: u32,
    /// Indices (`y * width + x`) of the pixels, increasing.
    pub index: Vec<u32>,
    /// Linear foreground colour of each of those pixels.
    pub colour: Vec<[f32; 3]>,
}

/// Reach of the edge zone around coarse cells with fractional alpha, in coarse cells.
const ZONE: usize = 2;

/// Long side of the level on which the multi-level solve runs in [`estimate_ml`].
const COARSE_SIDE: usize = 320;

/// Multi-level foreground estimation of an sRGB image, in linear light, for the pixels with
/// fractional alpha.
///
/// The multi-level solve ([`estimate_fg_bg`]) runs on the image box-averaged to a long side of
/// about 320 px (averaging keeps `I = alpha F + (1 - alpha) B` where F and B are smooth).
/// Each fractional pixel at full resolution then takes one step of the same equations, its
/// neighbours' colours being the coarse solution upsampled (F0, B0): the closest F, B to
/// F0, B0 that composite exactly to the pixel. A despill step finally removes any part of F
/// that points from F0 towards B0 (a tint of the old background the alpha could not
/// explain), and, in the edge zone (within a few pixels of fractional alpha, opaque pixels
/// included), any chroma in the direction of the old background's chroma (spill seen
/// through or reflected by hair).
pub fn estimate_ml(img: &RgbImage, alpha: &Plane) -> Foreground {
    let (wu, hu) = img.dimensions();
    let (w, h) = (wu as usize, hu as usize);
    let mut out = Foreground {
        width: wu,
        height: hu,
        ..Default::default()
    };
    if w == 0 || h == 0 || alpha.width != wu || alpha.height != hu || alpha.data.len() != w * h {
        return out;
    }
    let lut = srgb_to_linear_lut();
    let raw = img.as_raw();
    let k = w.max(h).div_ceil(COARSE_SIDE).max(1);
    let (cw, ch) = (w.div_ceil(k), h.div_ceil(k));
    let (ci, ca) = coarse_level(img, alpha, k, (cw, ch));
    let zone = edge_zone(&ca);
    let person = person_colour(&ci, &ca, &zone);
    let (f0, b0) = estimate_fg_bg(&ci, &ca, &MlOptions::default());
    let coarse = Coarse {
        f0: &f0,
        b0: &b0,
        person: &person,
        cw,
    };
    let inv_k = 1.0 / k as f32;
    // zone cell of each column (an integer division per pixel would cost more than the test)
    let zone_x: Vec<usize> = (0..w).map(|x| x / k).collect();
    for y in 0..h {
        let arow = &alpha.data[y * w..(y + 1) * w];
        let fy = ((y as f32 + 0.5) * inv_k - 0.5).clamp(0.0, (ch - 1) as f32);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(ch - 1);
        let ty = fy - y0 as f32;
        let zrow = &zone[(y / k) * cw..(y / k + 1) * cw];
        for x in 0..w {
            let a0 = arow[x];
            if a0 <= 0.0 || (a0 >= 1.0 && !zrow[zone_x[x]]) {
                continue;
            }
            let i = y * w + x;
            let p = [
                lut[raw[i * 3] as usize],
                lut[raw[i * 3 + 1] as usize],
                lut[raw[i * 3 + 2] as usize],
            ];
            let fx = ((x as f32 + 0.5) * inv_k - 0.5).clamp(0.0, (cw - 1) as f32);
            if a0 >= 1.0 {
                // opaque edge pixel: only the spill of the old background is removed
                let bm = bilinear3(&b0, cw, fx, y0, y1, ty);
                let pm = bilinear3(&person, cw, fx, y0, y1, ty);
                if let Some(c) = despill_capped(p, bm, pm, SPILL_OPAQUE) {
                    out.index.push(i as u32);
                    out.colour.push(c);
                }
                continue;
            }
            out.index.push(i as u32);
            if !(EPS..=1.0 - EPS).contains(&a0) {
                out.colour.push(p);
                continue;
            }
            // smoothness weight of the four neighbours (as in the multi-level iteration)
            let nb = |xx: usize| arow[xx];
            let around = [
                if x > 0 { nb(x - 1) } else { a0 },
                if x + 1 < w { nb(x + 1) } else { a0 },
                if y > 0 { alpha.data[i - w] } else { a0 },
                if y + 1 < h { alpha.data[i + w] } else { a0 },
            ];
            let fc = coarse.fractional_colour(p, a0, around, fx, (y0, y1, ty));
            out.colour.push(fc);
        }
    }
    out
}

/// The image (linear light) and alpha box-averaged over cells of `k` x `k` pixels, a grid
/// of `cw` x `ch` cells.
fn coarse_level(
    img: &RgbImage,
    alpha: &Plane,
    k: usize,
    (cw, ch): (usize, usize),
) -> (Vec<f32>, Plane) {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let lut = srgb_to_linear_lut();
    let raw = img.as_raw();
    let mut ci = vec![0f32; cw * ch * 3];
    let mut ca = vec![0f32; cw * ch];
    let mut cnt = vec![0f32; cw * ch];
    for y in 0..h {
        let o = (y / k) * cw;
        let row = &raw[y * w * 3..(y + 1) * w * 3];
        let arow = &alpha.data[y * w..(y + 1) * w];
        // one cell's k pixels summed in registers, then added to the cell
        for (cx, (px, ar)) in row.chunks(k * 3).zip(arow.chunks(k)).enumerate() {
            let (mut r, mut g, mut b) = (0f32, 0f32, 0f32);
            for p in px.chunks_exact(3) {
                r += lut[p[0] as usize];
                g += lut[p[1] as usize];
                b += lut[p[2] as usize];
            }
            let j = o + cx;
            ci[j * 3] += r;
            ci[j * 3 + 1] += g;
            ci[j * 3 + 2] += b;
            ca[j] += ar.iter().sum::<f32>();
            cnt[j] += ar.len() as f32;
        }
    }
    for j in 0..cw * ch {
        let inv = 1.0 / cnt[j].max(1.0);
        ca[j] = (ca[j] * inv).clamp(0.0, 1.0);
        for c in 0..3 {
            ci[j * 3 + c] *= inv;
        }
    }
    let ca = Plane {
        width: cw as u32,
        height: ch as u32,
        data: ca,
    };
    (ci, ca)
}

/// Cells of `ca` with fractional alpha and their neighbours (within [`ZONE`] cells): the
/// edge zone where opaque pixels are despilled too.
fn edge_zone(ca: &Plane) -> Vec<bool> {
    let (cw, ch) = (ca.width as usize, ca.height as usize);
    let mut zone = vec![false; cw * ch];
    for cy in 0..ch {
        for cx in 0..cw {
            let v = ca.data[cy * cw + cx];
            if v > EPS && v < 1.0 - EPS {
                for ny in cy.saturating_sub(ZONE)..(cy + ZONE + 1).min(ch) {
                    zone[ny * cw + cx.saturating_sub(ZONE)..ny * cw + (cx + ZONE + 1).min(cw)]
                        .fill(true);
                }
            }
        }
    }
    zone
}

/// The person's own colour for the despill limit: the colours `ci` of the opaque cells of
/// `ca` at least three cells away from the edge `zone` (hair gaps and spill are near the
/// edge), filled in by pull-push.
fn person_colour(ci: &[f32], ca: &Plane, zone: &[bool]) -> Vec<f32> {
    let (cw, ch) = (ca.width as usize, ca.height as usize);
    let zone_p = Plane {
        width: cw as u32,
        height: ch as u32,
        data: zone.iter().map(|&z| z as u8 as f32).collect(),
    };
    let near_zone = box_mean(&zone_p, 3);
    let wt: Vec<f32> = (0..cw * ch)
        .map(|j| (ca.data[j] >= 1.0 - EPS && near_zone.data[j] < 1e-6) as u8 as f32)
        .collect();
    let weighted: Vec<f32> = ci.iter().enumerate().map(|(q, &v)| v * wt[q / 3]).collect();
    push_pull::<3>(&weighted, &wt, cw, ch)
}

/// The coarse level's solution: foreground `f0`, background `b0` and the person's own
/// colour, interleaved RGB on a grid `cw` cells wide.
struct Coarse<'a> {
    f0: &'a [f32],
    b0: &'a [f32],
    person: &'a [f32],
    cw: usize,
}

impl Coarse<'_> {
    /// Foreground colour of a pixel of linear colour `p` and fractional alpha `a0` (its four
    /// neighbours' alpha `around`), at coarse column `fx` between rows `y0` and `y1` (weight
    /// `ty` on `y1`): one step of the multi-level equations from the coarse solution, then
    /// despilled.
    fn fractional_colour(
        &self,
        p: [f32; 3],
        a0: f32,
        around: [f32; 4],
        fx: f32,
        (y0, y1, ty): (usize, usize, f32),
    ) -> [f32; 3] {
        let (cw, f0, b0) = (self.cw, self.f0, self.b0);
        let x0 = fx as usize;
        let x1 = (x0 + 1).min(cw - 1);
        let tx = fx - x0 as f32;
        let wts = [
            (1.0 - tx) * (1.0 - ty),
            tx * (1.0 - ty),
            (1.0 - tx) * ty,
            tx * ty,
        ];
        let idx = [y0 * cw + x0, y0 * cw + x1, y1 * cw + x0, y1 * cw + x1];
        let (mut fm, mut bm) = ([0f32; 3], [0f32; 3]);
        for (&j, &wj) in idx.iter().zip(&wts) {
            for c in 0..3 {
                fm[c] += wj * f0[j * 3 + c];
                bm[c] += wj * b0[j * 3 + c];
            }
        }
        let mut d = 0.0;
        for v in around {
            d += 1e-5 + (a0 - v).abs();
        }
        let a1 = 1.0 - a0;
        let s = 1.0 / (a0 * a0 + a1 * a1 + d);
        let mut fc = [0f32; 3];
        for c in 0..3 {
            let r = p[c] - a0 * fm[c] - a1 * bm[c];
            fc[c] = fm[c] + a0 * r * s;
        }
        // despill: no component from the local foreground towards the old background
        let dir = [bm[0] - fm[0], bm[1] - fm[1], bm[2] - fm[2]];
        let n2 = dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2];
        if n2 > 1e-4 {
            let t =
                ((fc[0] - fm[0]) * dir[0] + (fc[1] - fm[1]) * dir[1] + (fc[2] - fm[2]) * dir[2])
                    / n2;
            if t > 0.0 {
                for c in 0..3 {
                    fc[c] -= t * dir[c];
                }
            }
        }
        let pm = bilinear3(self.person, cw, fx, y0, y1, ty);
        let fc = despill(fc, bm, pm).unwrap_or(fc);
        fc.map(|v| v.clamp(0.0, 1.0))
    }
}

/// Bilinear sample of an interleaved RGB grid of width `cw` at column `fx` between rows
/// `y0` and `y1` (weight `ty` on `y1`).
fn bilinear3(g: &[f32], cw: usize, fx: f32, y0: usize, y1: usize, ty: f32) -> [f32; 3] {
    let x0 = fx as usize;
    let x1 = (x0 + 1).min(cw - 1);
    let tx = fx - x0 as f32;
    std::array::from_fn(|c| {
        let top = g[(y0 * cw + x0) * 3 + c] * (1.0 - tx) + g[(y0 * cw + x1) * 3 + c] * tx;
        let bot = g[(y1 * cw + x0) * 3 + c] * (1.0 - tx) + g[(y1 * cw + x1) * 3 + c] * tx;
        top * (1.0 - ty) + bot * ty
    })
}

/// Chroma of the old background below which nothing is despilled (linear RGB distance from
/// its grey).
const SPILL_MIN_CHROMA: f32 = 0.03;

/// Cap of [`despill`] on an opaque pixel, as a share of the old background's chroma per unit
/// of that chroma: light spilled onto an opaque edge grows with the background's saturation
/// (a saturated blue screen spills, a pale tinted wall hardly), so the removal is capped at
/// `SPILL_OPAQUE * n * n` for a background of chroma `n` (linear RGB distance from its grey).
/// Without the cap, an opaque edge whose reference colour comes from elsewhere (a bare arm
/// whose nearest interior is a white shirt, on a pale pink wall) lost all its own chroma.
const SPILL_OPAQUE: f32 = 1.5;

/// Spill suppression: limits the colour's chroma in the direction of the old background's
/// chroma (`bg`) to that of the local foreground colour `fg` (never below zero), keeping the
/// mean of the channels: skin on a beige wall keeps its warmth, hair on blue loses the blue.
/// `None` when there is nothing to remove (neutral background, or no excess chroma).
fn despill(c: [f32; 3], bg: [f32; 3], fg: [f32; 3]) -> Option<[f32; 3]> {
    despill_capped(c, bg, fg, f32::INFINITY)
}

/// [`despill`] removing at most `cap * n * n` for an old background of chroma `n`.
fn despill_capped(c: [f32; 3], bg: [f32; 3], fg: [f32; 3], cap: f32) -> Option<[f32; 3]> {
    let g = (bg[0] + bg[1] + bg[2]) / 3.0;
    let u = [bg[0] - g, bg[1] - g, bg[2] - g];
    let n = (u[0] * u[0] + u[1] * u[1] + u[2] * u[2]).sqrt();
    if n < SPILL_MIN_CHROMA {
        return None;
    }
    let u = u.map(|v| v / n);
    let limit = (fg[0] * u[0] + fg[1] * u[1] + fg[2] * u[2]).max(0.0);
    let s = (c[0] * u[0] + c[1] * u[1] + c[2] * u[2] - limit).min(cap * n * n);
    if s <= 1e-4 {
        return None;
    }
    Some(std::array::from_fn(|k| (c[k] - s * u[k]).clamp(0.0, 1.0)))
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

    #[test]
    fn estimate_ml_lists_fractional_pixels_without_old_background_tint() {
        // warm person on saturated blue with a soft 12 px edge
        let (w, h) = (96u32, 64u32);
        let alpha = Plane {
            width: w,
            height: h,
            data: (0..w * h)
                .map(|i| ((i % w) as f32 - 40.0).clamp(0.0, 12.0) / 12.0)
                .collect(),
        };
        let f = [0.5f32, 0.25, 0.12];
        let b = [0.01f32, 0.05, 0.9];
        let img = RgbImage::from_fn(w, h, |x, y| {
            let a = alpha.data[(y * w + x) as usize];
            image::Rgb(std::array::from_fn(|c| {
                (crate::raster::colour::linear_to_srgb(a * f[c] + (1.0 - a) * b[c]) * 255.0).round()
                    as u8
            }))
        });
        let fg = estimate_ml(&img, &alpha);
        let frac = alpha.data.iter().filter(|&&a| a > 0.0 && a < 1.0).count();
        assert_eq!(fg.index.len(), frac);
        assert_eq!(fg.colour.len(), frac);
        assert!(fg.index.windows(2).all(|p| p[0] < p[1]));
        for (&i, c) in fg.index.iter().zip(&fg.colour) {
            let a = alpha.data[i as usize];
            if a > 0.15 {
                for k in 0..3 {
                    assert!((c[k] - f[k]).abs() < 0.06, "alpha {a}: {c:?} vs {f:?}");
                }
            }
        }
        // mismatched sizes give an empty result instead of a panic
        let wrong = Plane::filled(3, 3, 0.5);
        assert!(estimate_ml(&img, &wrong).index.is_empty());
    }

    #[test]
    fn despill_removes_only_excess_chroma_of_the_old_background() {
        let blue = [0.01f32, 0.05, 0.8];
        let brown = [0.2f32, 0.1, 0.05];
        // brown hair tinted by blue loses the tint but keeps its mean
        let tinted = [0.2f32, 0.12, 0.3];
        let d = despill(tinted, blue, brown).unwrap();
        let chroma = |c: [f32; 3]| c[2] - (c[0] + c[1]) / 2.0;
        assert!(chroma(d) < chroma(tinted) - 0.1, "{d:?}");
        let mean = |c: [f32; 3]| (c[0] + c[1] + c[2]) / 3.0;
        assert!((mean(d) - mean(tinted)).abs() < 1e-4);
        // the person's own colour is kept
        assert!(despill(brown, blue, brown).is_none());
        // skin in front of a beige wall keeps its warmth
        let beige = [0.7f32, 0.55, 0.4];
        let skin = [0.6f32, 0.35, 0.25];
        assert!(despill(skin, beige, skin).is_none());
        // a neutral wall has no spill to remove
        assert!(despill(tinted, [0.8, 0.8, 0.8], brown).is_none());
        // capped: skin on a pale pink wall, judged against a white shirt, keeps most of its
        // warmth (uncapped it would lose all of it)
        let (skin, pink, shirt) = ([0.58, 0.31, 0.22], [0.91, 0.75, 0.75], [0.72, 0.75, 0.87]);
        let full = despill(skin, pink, shirt).unwrap();
        let capped = despill_capped(skin, pink, shirt, SPILL_OPAQUE).unwrap();
        let chroma = |c: [f32; 3]| c[0] - (c[1] + c[2]) / 2.0;
        assert!(chroma(full) < 0.05, "{full:?}");
        assert!(chroma(capped) > 0.75 * chroma(skin), "{capped:?}");
        // a saturated blue background's spill is still removed up to the cap
        let blue = [0.02, 0.05, 0.9];
        let d = despill_capped(tinted, blue, brown, SPILL_OPAQUE).unwrap();
        assert!(d[2] < tinted[2]);
    }
}
