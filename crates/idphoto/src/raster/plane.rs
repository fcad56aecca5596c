//! [`Plane`]: a single-channel f32 image (masks, mattes, luminance).

use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg};
use fast_image_resize::{ResizeOptions, Resizer};

use super::point::{Affine, Point};
use super::resize::bytemuck_f32;
use crate::error::{Error, Result};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
