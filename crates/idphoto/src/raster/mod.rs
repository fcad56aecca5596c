//! Small raster helpers: affine sampling, resizing with fast_image_resize, float planes.

pub mod colour;

use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg};
use fast_image_resize::{ResizeOptions, Resizer};
use image::RgbImage;

use crate::error::{Error, Result};

/// A 2-D point in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// x (right).
    pub x: f32,
    /// y (down).
    pub y: f32,
}

impl Point {
    /// New point.
    pub const fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }
    /// Distance to another point.
    pub fn dist(self, o: Point) -> f32 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }
    /// Midpoint.
    pub fn mid(self, o: Point) -> Point {
        Point::new((self.x + o.x) / 2.0, (self.y + o.y) / 2.0)
    }
}

/// An affine map `src = A * dst + t` from destination pixel centres to source coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Row-major 2x3 matrix [a, b, c, d, e, f]: x = a u + b v + c, y = d u + e v + f.
    pub m: [f32; 6],
}

impl Affine {
    /// Maps a destination point to the source.
    pub fn apply(&self, p: Point) -> Point {
        let [a, b, c, d, e, f] = self.m;
        Point::new(a * p.x + b * p.y + c, d * p.x + e * p.y + f)
    }

    /// The inverse map.
    pub fn inverse(&self) -> Affine {
        let [a, b, c, d, e, f] = self.m;
        let det = a * e - b * d;
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Affine {
            m: [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)],
        }
    }

    /// A map for a destination of `dst_size` that shows the square/rectangle centred at
    /// `center` of `size` source pixels, rotated by `angle` radians (positive = clockwise in
    /// image coordinates, i.e. the sampled content is rotated counter-clockwise).
    pub fn rect(center: Point, size: (f32, f32), angle: f32, dst_size: (u32, u32)) -> Affine {
        let sx = size.0 / dst_size.0 as f32;
        let sy = size.1 / dst_size.1 as f32;
        let (s, c) = angle.sin_cos();
        let hw = dst_size.0 as f32 / 2.0;
        let hh = dst_size.1 as f32 / 2.0;
        // src = center + R * (S * (dst - half))
        let a = c * sx;
        let b = -s * sy;
        let d = s * sx;
        let e = c * sy;
        Affine {
            m: [
                a,
                b,
                center.x - a * hw - b * hh,
                d,
                e,
                center.y - d * hw - e * hh,
            ],
        }
    }
}

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
    let done = if crate::nn::has_avx2_fma() {
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

/// A single-channel f32 image.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
    /// Row-major values.
    pub data: Vec<f32>,
}

impl Plane {
    /// A plane filled with `v`.
    pub fn filled(width: u32, height: u32, v: f32) -> Plane {
        Plane {
            width,
            height,
            data: vec![v; (width * height) as usize],
        }
    }

    /// Value at integer coordinates.
    #[inline]
    pub fn at(&self, x: u32, y: u32) -> f32 {
        self.data[(y * self.width + x) as usize]
    }

    /// Bilinear sample at continuous coordinates (pixel centres at integers), clamped.
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (w, h) = (self.width as i64, self.height as i64);
        let x = x.clamp(0.0, (w - 1) as f32);
        let y = y.clamp(0.0, (h - 1) as f32);
        let x0 = x.floor() as i64;
        let y0 = y.floor() as i64;
        let x1 = (x0 + 1).min(w - 1);
        let y1 = (y0 + 1).min(h - 1);
        let fx = x - x0 as f32;
        let fy = y - y0 as f32;
        let at = |xx: i64, yy: i64| self.data[(yy * w + xx) as usize];
        let top = at(x0, y0) * (1.0 - fx) + at(x1, y0) * fx;
        let bot = at(x0, y1) * (1.0 - fx) + at(x1, y1) * fx;
        top * (1.0 - fy) + bot * fy
    }

    /// Resamples through an affine map (destination -> this plane), bilinear.
    pub fn warp(&self, map: &Affine, w: u32, h: u32) -> Plane {
        let [a, b, c, d, e, f] = map.m;
        if b == 0.0 && d == 0.0 && self.width > 0 && self.height > 0 {
            return self.warp_axis_aligned((a, c), (e, f), w, h);
        }
        let mut data = Vec::with_capacity((w * h) as usize);
        for v in 0..h {
            for u in 0..w {
                let p = map.apply(Point::new(u as f32 + 0.5, v as f32 + 0.5));
                data.push(self.sample(p.x - 0.5, p.y - 0.5));
            }
        }
        Plane {
            width: w,
            height: h,
            data,
        }
    }

    /// [`Plane::warp`] for a map without rotation or shear (`x = sx u + tx`, `y = sy v + ty`):
    /// the same samples as [`Plane::sample`], with each column's taps computed once.
    fn warp_axis_aligned(
        &self,
        (sx, tx): (f32, f32),
        (sy, ty): (f32, f32),
        w: u32,
        h: u32,
    ) -> Plane {
        // the taps of one coordinate, clamped as `sample` clamps them
        let taps = |n: u32, s: f32, t: f32, len: u32| -> Vec<(usize, usize, f32)> {
            (0..n)
                .map(|i| {
                    let p = (s * (i as f32 + 0.5) + t - 0.5).clamp(0.0, (len - 1) as f32);
                    let i0 = p.floor() as usize;
                    (i0, (i0 + 1).min(len as usize - 1), p - i0 as f32)
                })
                .collect()
        };
        let (xs, ys) = (taps(w, sx, tx, self.width), taps(h, sy, ty, self.height));
        let sw = self.width as usize;
        let mut data = Vec::with_capacity((w * h) as usize);
        for &(y0, y1, fy) in &ys {
            let (top, bot) = (&self.data[y0 * sw..][..sw], &self.data[y1 * sw..][..sw]);
            data.extend(xs.iter().map(|&(x0, x1, fx)| {
                let t = top[x0] * (1.0 - fx) + top[x1] * fx;
                let b = bot[x0] * (1.0 - fx) + bot[x1] * fx;
                t * (1.0 - fy) + b * fy
            }));
        }
        Plane {
            width: w,
            height: h,
            data,
        }
    }

    /// Resizes with fast_image_resize (bilinear for upsampling masks, box-filtered for
    /// downsampling).
    pub fn resize(&self, w: u32, h: u32) -> Result<Plane> {
        let src = ImageRef::from_pixels(self.width, self.height, bytemuck_f32(&self.data))
            .map_err(|e| Error::Internal(format!("resize source: {e}")))?;
        let mut dst = Image::new(w, h, PixelType::F32);
        let filter = if w < self.width {
            FilterType::Box
        } else {
            FilterType::Bilinear
        };
        Resizer::new()
            .resize(
                &src,
                &mut dst,
                &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(filter)),
            )
            .map_err(|e| Error::Internal(format!("resize: {e}")))?;
        let data = dst
            .buffer()
            .chunks_exact(4)
            .map(|c| f32::from_ne_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok(Plane {
            width: w,
            height: h,
            data,
        })
    }
}

fn bytemuck_f32(data: &[f32]) -> &[fast_image_resize::pixels::F32] {
    // SAFETY: `pixels::F32` is a `#[repr(C)]` newtype around `f32` (same size and alignment).
    unsafe { std::slice::from_raw_parts(data.as_ptr().cast(), data.len()) }
}

/// Resizes the rectangle `crop` (left, top, width, height in source pixels, may be
/// fractional, must lie inside the image) of `src` to exactly `w` x `h` with a Lanczos3
/// convolution (SIMD). This is the one resampling step of the output's colour pixels.
pub fn resize_rgb(src: &RgbImage, crop: (f64, f64, f64, f64), w: u32, h: u32) -> Result<RgbImage> {
    resize_rgb_filter(src, crop, w, h, FilterType::Lanczos3)
}

/// Resizes the whole image to exactly `w` x `h` with fast_image_resize (a bilinear convolution,
/// whose support widens with the ratio, so it averages properly when shrinking). Used for the
/// small inputs of the detection and segmentation models.
pub fn downscale_to(src: &RgbImage, w: u32, h: u32) -> Result<RgbImage> {
    resize_rgb_filter(
        src,
        (0.0, 0.0, src.width() as f64, src.height() as f64),
        w.max(1),
        h.max(1),
        FilterType::Bilinear,
    )
}

fn resize_rgb_filter(
    src: &RgbImage,
    crop: (f64, f64, f64, f64),
    w: u32,
    h: u32,
    filter: FilterType,
) -> Result<RgbImage> {
    let view = ImageRef::new(src.width(), src.height(), src.as_raw(), PixelType::U8x3)
        .map_err(|e| Error::Internal(format!("resize source: {e}")))?;
    let mut dst = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(filter))
        .crop(crop.0, crop.1, crop.2, crop.3);
    Resizer::new()
        .resize(&view, &mut dst, &opts)
        .map_err(|e| Error::Internal(format!("resize: {e}")))?;
    RgbImage::from_raw(w, h, dst.into_vec())
        .ok_or_else(|| Error::Internal("resize produced a short buffer".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_rect_maps_centre_and_inverts() {
        let m = Affine::rect(Point::new(100.0, 50.0), (64.0, 64.0), 0.3, (128, 128));
        let c = m.apply(Point::new(64.0, 64.0));
        assert!((c.x - 100.0).abs() < 1e-3 && (c.y - 50.0).abs() < 1e-3);
        let p = Point::new(10.0, 20.0);
        let back = m.inverse().apply(m.apply(p));
        assert!(back.dist(p) < 1e-3);
        // corner distance is half the diagonal of the source rect
        let corner = m.apply(Point::new(0.0, 0.0));
        assert!((corner.dist(Point::new(100.0, 50.0)) - 32.0 * 2f32.sqrt()).abs() < 1e-2);
    }

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

    #[test]
    fn axis_aligned_plane_warp_matches_sample() {
        let p = Plane {
            width: 37,
            height: 23,
            data: (0..37 * 23)
                .map(|i| ((i * 7919) % 101) as f32 / 100.0)
                .collect(),
        };
        // enlarging and shrinking, partly outside the plane (clamped)
        for m in [
            [0.83, 0.0, -3.0, 0.0, 0.83, 2.5],
            [1.7, 0.0, 4.2, 0.0, 1.3, -6.0],
        ] {
            let map = Affine { m };
            let out = p.warp(&map, 40, 30);
            for v in 0..30 {
                for u in 0..40 {
                    let q = map.apply(Point::new(u as f32 + 0.5, v as f32 + 0.5));
                    let want = p.sample(q.x - 0.5, q.y - 0.5);
                    let got = out.data[(v * 40 + u) as usize];
                    assert!((got - want).abs() < 1e-5, "{u},{v}: {got} vs {want}");
                }
            }
        }
    }

    #[test]
    fn plane_resize_keeps_constant() {
        let p = Plane::filled(10, 7, 0.25);
        let r = p.resize(33, 21).unwrap();
        assert!(r.data.iter().all(|v| (v - 0.25).abs() < 1e-5));
        let r = p.resize(3, 2).unwrap();
        assert!(r.data.iter().all(|v| (v - 0.25).abs() < 1e-5));
    }

    #[test]
    fn resize_rgb_exact_size() {
        let img = RgbImage::from_fn(100, 80, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let out = resize_rgb(&img, (10.0, 5.0, 50.0, 60.0), 25, 30).unwrap();
        assert_eq!(out.dimensions(), (25, 30));
        let px = out.get_pixel(0, 0);
        assert!((px[0] as i32 - 11).abs() <= 2 && (px[1] as i32 - 6).abs() <= 2);
    }
}

#[cfg(test)]
mod downscale_tests {
    use super::*;
    #[test]
    fn downscale_odd_sizes_keeps_content() {
        for (w, h, dw, dh) in [
            (358u32, 441u32, 80u32, 98u32),
            (358, 441, 52, 64),
            (910, 1137, 102, 128),
            (100, 100, 33, 17),
        ] {
            let img = RgbImage::from_fn(w, h, |x, y| {
                image::Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 100])
            });
            let out = downscale_to(&img, dw, dh).unwrap();
            for y in 0..dh {
                for x in 0..dw {
                    let p = out.get_pixel(x, y);
                    let ex = ((x as f32 + 0.5) / dw as f32 * 255.0) as i32;
                    let ey = ((y as f32 + 0.5) / dh as f32 * 255.0) as i32;
                    assert!(
                        (p[0] as i32 - ex).abs() < 8
                            && (p[1] as i32 - ey).abs() < 8
                            && (p[2] as i32 - 100).abs() < 3,
                        "{w}x{h}->{dw}x{dh} at {x},{y}: {:?} vs {ex},{ey}",
                        p
                    );
                }
            }
        }
    }
}
