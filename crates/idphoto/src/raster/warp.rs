//! Sampling an RGB image through an affine map (bilinear, edge-clamped), with a prefilter
//! when the map shrinks.

use fast_image_resize::FilterType;
use image::RgbImage;

#[cfg(target_arch = "x86_64")]
use super::cpu::has_avx2_fma;
use super::point::{Affine, Point};
use super::resize::resize_rgb_filter;
use crate::error::{Error, Result};

/// Samples `src` through `map` into a `w` x `h` f32 RGB buffer (values 0..255), bilinear,
/// clamping to the edge. When the map shrinks by more than 1.5x, the source region it covers is
/// first reduced with fast_image_resize (an averaging convolution) so that the bilinear
/// sampling runs at about 1:1 without aliasing.
pub fn warp_rgb_f32(src: &RgbImage, map: &Affine, w: u32, h: u32) -> Vec<f32> {
    warp_generic(src, map, w, h, |v| v)
}

/// The body of [`warp_rgb_f32`] and [`warp_rgb`], storing samples through `store`.
fn warp_generic<T: Copy + Default>(
    src: &RgbImage,
    map: &Affine,
    w: u32,
    h: u32,
    store: impl Fn(f32) -> T + Copy,
) -> Vec<T> {
    let [a, b, _, d, e, _] = map.m;
    let scale = (a * a + d * d).sqrt().max((b * b + e * e).sqrt());
    if scale > 1.5 {
        // bounding box of the destination in the source
        let corners = [
            (0.0, 0.0),
            (w as f32, 0.0),
            (0.0, h as f32),
            (w as f32, h as f32),
        ]
        .map(|(u, v)| map.apply(Point::new(u, v)));
        let x0 = corners
            .iter()
            .map(|p| p.x)
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0)
            - 0.0;
        let y0 = corners
            .iter()
            .map(|p| p.y)
            .fold(f32::MAX, f32::min)
            .floor()
            .max(0.0);
        let x1 = corners
            .iter()
            .map(|p| p.x)
            .fold(f32::MIN, f32::max)
            .ceil()
            .min(src.width() as f32);
        let y1 = corners
            .iter()
            .map(|p| p.y)
            .fold(f32::MIN, f32::max)
            .ceil()
            .min(src.height() as f32);
        if x1 - x0 >= 2.0 && y1 - y0 >= 2.0 {
            let k = scale;
            let rw = (((x1 - x0) / k).round() as u32).max(1);
            let rh = (((y1 - y0) / k).round() as u32).max(1);
            if let Ok(small) = resize_rgb_filter(
                src,
                (x0 as f64, y0 as f64, (x1 - x0) as f64, (y1 - y0) as f64),
                rw,
                rh,
                FilterType::Bilinear,
            ) {
                let (kx, ky) = ((x1 - x0) / rw as f32, (y1 - y0) / rh as f32);
                let [a, b, c, d, e, f] = map.m;
                let m2 = Affine {
                    m: [a / kx, b / kx, (c - x0) / kx, d / ky, e / ky, (f - y0) / ky],
                };
                return warp_bilinear_into(&small, &m2, w, h, store);
            }
        }
    }
    warp_bilinear_into(src, map, w, h, store)
}

/// [`warp_rgb_f32`] rounded to an 8-bit image.
pub fn warp_rgb(src: &RgbImage, map: &Affine, w: u32, h: u32) -> Result<RgbImage> {
    // samples lie in 0..=255: adding 0.5 and truncating rounds them (`as` saturates)
    let px = warp_generic(src, map, w, h, |v| (v + 0.5) as u8);
    RgbImage::from_raw(w, h, px).ok_or_else(|| Error::Internal("warp buffer".into()))
}

#[cfg(test)]
fn warp_bilinear(src: &RgbImage, map: &Affine, w: u32, h: u32) -> Vec<f32> {
    warp_bilinear_into(src, map, w, h, |v| v)
}

/// [`warp_bilinear`] storing each sample through `store` (f32 or rounded u8).
fn warp_bilinear_into<T: Copy + Default>(
    src: &RgbImage,
    map: &Affine,
    w: u32,
    h: u32,
    store: impl Fn(f32) -> T + Copy,
) -> Vec<T> {
    let [a, b, c, d, e, f] = map.m;
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let raw = src.as_raw();
    let (maxx, maxy) = ((sw - 1) as f32, (sh - 1) as f32);
    let stride = sw * 3;
    let mut out = vec![T::default(); (w * h * 3) as usize];
    for (v, row) in out.chunks_exact_mut((w * 3) as usize).enumerate() {
        let vy = v as f32 + 0.5;
        // source position of pixel (0, v), pixel centres at integers
        let x = a * 0.5 + b * vy + c - 0.5;
        let y = d * 0.5 + e * vy + f - 0.5;
        // the row's samples lie on a segment: when both ends have all four neighbours inside
        // the image, so do all samples, and the clamps and edge tests can go
        let (xe, ye) = (x + a * (w - 1) as f32, y + d * (w - 1) as f32);
        let inside = |p: f32, max: f32| p >= 0.0 && p < max - 1e-3;
        if inside(x, maxx) && inside(xe, maxx) && inside(y, maxy) && inside(ye, maxy) {
            warp_row_inside(raw, stride, row, x, y, a, d, store);
        } else {
            warp_row_clamped(
                raw,
                (sw, sh, stride),
                row,
                (x, y, a, d),
                (maxx, maxy),
                store,
            );
        }
    }
    out
}

/// One output row whose every sample has its four neighbours inside the source.
#[allow(clippy::too_many_arguments)]
#[inline]
fn warp_row_inside<T>(
    raw: &[u8],
    stride: usize,
    row: &mut [T],
    x: f32,
    y: f32,
    a: f32,
    d: f32,
    store: impl Fn(f32) -> T,
) {
    // eight samples at a time where the CPU has AVX2 (the same arithmetic, the same values)
    #[cfg(target_arch = "x86_64")]
    let done = if has_avx2_fma() {
        // SAFETY: the CPU has AVX2 (checked just above)
        unsafe { warp_row_inside_avx2(raw, stride, row, (x, y, a, d), &store) }
    } else {
        0
    };
    #[cfg(not(target_arch = "x86_64"))]
    let done = 0;
    // x + a * u rather than a running sum: monotonic in u, so the ends bound every sample
    for (u, px) in row.chunks_exact_mut(3).enumerate().skip(done) {
        let (xu, yu) = (x + a * u as f32, y + d * u as f32);
        // non-negative: truncation is floor
        let (x0, y0) = (xu as i32, yu as i32);
        let (fx, fy) = (xu - x0 as f32, yu - y0 as f32);
        let i = y0 as usize * stride + x0 as usize * 3;
        let Some(top) = raw.get(i..i + 6) else {
            continue;
        };
        let Some(bot) = raw.get(i + stride..i + stride + 6) else {
            continue;
        };
        for k in 0..3 {
            let (t0, t1) = (f32::from(top[k]), f32::from(top[k + 3]));
            let (b0, b1) = (f32::from(bot[k]), f32::from(bot[k + 3]));
            let t = t0 + fx * (t1 - t0);
            let bb = b0 + fx * (b1 - b0);
            px[k] = store(t + fy * (bb - t));
        }
    }
}

/// The leading multiple-of-eight samples of [`warp_row_inside`] with AVX2 gathers; returns how
/// many were done. Each lane computes exactly what the scalar loop computes (no fused
/// multiply-adds), so both give the same values.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn warp_row_inside_avx2<T>(
    raw: &[u8],
    stride: usize,
    row: &mut [T],
    (x, y, a, d): (f32, f32, f32, f32),
    store: &impl Fn(f32) -> T,
) -> usize {
    use std::arch::x86_64::*;
    let n = row.len() / 3;
    // every lane reads 4 bytes at its four corners: the furthest byte is 7 past the
    // bottom-left corner's first byte; indices must fit an i32
    if raw.len() > i32::MAX as usize || stride > i32::MAX as usize / 2 {
        return 0;
    }
    let lanes = _mm256_setr_ps(0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
    let (vx, vy, va, vd) = (
        _mm256_set1_ps(x),
        _mm256_set1_ps(y),
        _mm256_set1_ps(a),
        _mm256_set1_ps(d),
    );
    let vstride = _mm256_set1_epi32(stride as i32);
    let (three, byte) = (_mm256_set1_epi32(3), _mm256_set1_epi32(0xff));
    let base = raw.as_ptr() as *const i32;
    let mut out = [[0f32; 8]; 3];
    let mut idx = [0i32; 8];
    let mut u = 0;
    while u + 8 <= n {
        let uf = _mm256_add_ps(_mm256_set1_ps(u as f32), lanes);
        let xu = _mm256_add_ps(vx, _mm256_mul_ps(va, uf));
        let yu = _mm256_add_ps(vy, _mm256_mul_ps(vd, uf));
        // non-negative inside the source: truncation is floor
        let (x0, y0) = (_mm256_cvttps_epi32(xu), _mm256_cvttps_epi32(yu));
        let fx = _mm256_sub_ps(xu, _mm256_cvtepi32_ps(x0));
        let fy = _mm256_sub_ps(yu, _mm256_cvtepi32_ps(y0));
        let i = _mm256_add_epi32(
            _mm256_mullo_epi32(y0, vstride),
            _mm256_mullo_epi32(x0, three),
        );
        _mm256_storeu_si256(idx.as_mut_ptr() as *mut __m256i, i);
        // the samples are monotonic in u: the ends bound every lane's reads
        let (lo, hi) = (idx[0].min(idx[7]), idx[0].max(idx[7]));
        if lo < 0 || hi as usize + stride + 7 > raw.len() {
            break;
        }
        let i_r = _mm256_add_epi32(i, three);
        let i_b = _mm256_add_epi32(i, vstride);
        let i_br = _mm256_add_epi32(i_b, three);
        let tl = _mm256_i32gather_epi32::<1>(base, i);
        let tr = _mm256_i32gather_epi32::<1>(base, i_r);
        let bl = _mm256_i32gather_epi32::<1>(base, i_b);
        let br = _mm256_i32gather_epi32::<1>(base, i_br);
        for (k, o) in out.iter_mut().enumerate() {
            let sh = _mm256_set1_epi32(8 * k as i32);
            let ch =
                |v: __m256i| _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(v, sh), byte));
            let (t0, t1, b0, b1) = (ch(tl), ch(tr), ch(bl), ch(br));
            let t = _mm256_add_ps(t0, _mm256_mul_ps(fx, _mm256_sub_ps(t1, t0)));
            let bb = _mm256_add_ps(b0, _mm256_mul_ps(fx, _mm256_sub_ps(b1, b0)));
            let v = _mm256_add_ps(t, _mm256_mul_ps(fy, _mm256_sub_ps(bb, t)));
            _mm256_storeu_ps(o.as_mut_ptr(), v);
        }
        for (l, px) in row[u * 3..(u + 8) * 3].chunks_exact_mut(3).enumerate() {
            for k in 0..3 {
                px[k] = store(out[k][l]);
            }
        }
        u += 8;
    }
    u
}

/// One output row with samples clamped to the source's edge.
#[inline]
fn warp_row_clamped<T>(
    raw: &[u8],
    (sw, sh, stride): (usize, usize, usize),
    row: &mut [T],
    (x, y, a, d): (f32, f32, f32, f32),
    (maxx, maxy): (f32, f32),
    store: impl Fn(f32) -> T,
) {
    let (mut x, mut y) = (x, y);
    for px in row.chunks_exact_mut(3) {
        let xc = x.clamp(0.0, maxx);
        let yc = y.clamp(0.0, maxy);
        let x0 = xc as usize;
        let y0 = yc as usize;
        let fx = xc - x0 as f32;
        let fy = yc - y0 as f32;
        let dx = if x0 + 1 < sw { 3 } else { 0 };
        let dy = if y0 + 1 < sh { stride } else { 0 };
        let i = y0 * stride + x0 * 3;
        for k in 0..3 {
            let (t0, t1) = (f32::from(raw[i + k]), f32::from(raw[i + dx + k]));
            let (b0, b1) = (f32::from(raw[i + dy + k]), f32::from(raw[i + dy + dx + k]));
            let t = t0 + fx * (t1 - t0);
            let bb = b0 + fx * (b1 - b0);
            px[k] = store(t + fy * (bb - t));
        }
        x += a;
        y += d;
    }
}

/// Bilinear sample of an RGB image at continuous pixel coordinates (pixel centres at integers),
/// clamped to the edge.
pub fn bilinear_rgb(img: &RgbImage, x: f32, y: f32) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x = x.clamp(0.0, (w - 1) as f32);
    let y = y.clamp(0.0, (h - 1) as f32);
    let x0 = x.floor() as i64;
    let y0 = y.floor() as i64;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = x - x0 as f32;
    let fy = y - y0 as f32;
    let raw = img.as_raw();
    let at = |xx: i64, yy: i64, c: usize| raw[((yy * w + xx) * 3) as usize + c] as f32;
    let mut out = [0f32; 3];
    for (c, o) in out.iter_mut().enumerate() {
        let top = at(x0, y0, c) * (1.0 - fx) + at(x1, y0, c) * fx;
        let bot = at(x0, y1, c) * (1.0 - fx) + at(x1, y1, c) * fx;
        *o = top * (1.0 - fy) + bot * fy;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_warp_matches_reference_sampler() {
        let img = RgbImage::from_fn(64, 48, |x, y| {
            image::Rgb([(x * 4) as u8, (y * 5) as u8, ((x * y) % 256) as u8])
        });
        // partly outside (clamped rows), and wholly inside (rows without clamps)
        for map in [
            Affine::rect(Point::new(30.0, 20.0), (50.0, 40.0), 0.3, (70, 55)),
            Affine::rect(Point::new(33.0, 25.0), (30.0, 20.0), -0.4, (70, 55)),
            // inside rows ending at the last pixel: the vector loop must stop before reading
            // past the buffer and leave those samples to the scalar one
            Affine {
                m: [0.897, 0.0, 0.2, 0.0, 0.849, 0.3],
            },
        ] {
            check_warp(&img, &map);
        }
    }

    fn check_warp(img: &RgbImage, map: &Affine) {
        let out = warp_bilinear(img, map, 70, 55);
        for v in 0..55 {
            for u in 0..70 {
                let p = map.apply(Point::new(u as f32 + 0.5, v as f32 + 0.5));
                let r = bilinear_rgb(img, p.x - 0.5, p.y - 0.5);
                let o = ((v * 70 + u) * 3) as usize;
                for k in 0..3 {
                    assert!(
                        (out[o + k] - r[k]).abs() < 0.05,
                        "{u},{v}: {} vs {}",
                        out[o + k],
                        r[k]
                    );
                }
            }
        }
    }

    #[test]
    fn shrinking_warp_matches_the_gradient() {
        let img = RgbImage::from_fn(800, 600, |x, y| {
            image::Rgb([(x / 4) as u8, (y / 3) as u8, 50])
        });
        // 4x shrink of the region x 100..500, y 60..420, no rotation
        let map = Affine {
            m: [4.0, 0.0, 100.0, 0.0, 4.0, 60.0],
        };
        let out = warp_rgb_f32(&img, &map, 100, 90);
        for (u, v) in [(0u32, 0u32), (50, 45), (99, 89)] {
            let o = ((v * 100 + u) * 3) as usize;
            let ex = (100.0 + 4.0 * (u as f32 + 0.5)) / 4.0;
            let ey = (60.0 + 4.0 * (v as f32 + 0.5)) / 3.0;
            assert!(
                (out[o] - ex).abs() < 2.0 && (out[o + 1] - ey).abs() < 2.0,
                "{u},{v}: {:?} vs {ex},{ey}",
                &out[o..o + 3]
            );
        }
    }
}
