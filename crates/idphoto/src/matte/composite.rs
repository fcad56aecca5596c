//! Compositing the person onto the new background colour, in linear light.

use image::RgbImage;

use super::foreground::{estimate_ml, Foreground};
use crate::raster::colour::{linear_to_srgb, srgb_to_linear_lut};
use crate::raster::Plane;

/// `out = fg * alpha + bg * (1 - alpha)`, computed in linear light and encoded back to sRGB.
/// `fg` and `alpha` have the same size.
pub fn composite(fg: &RgbImage, alpha: &Plane, bg: [u8; 3]) -> RgbImage {
    composite_linear(fg, &Foreground::default(), alpha, bg)
}

/// `out = F * alpha + bg * (1 - alpha)` in linear light, where `fg` holds the foreground
/// colour of the pixels with fractional alpha and of despilled opaque edge pixels (from
/// [`estimate_ml`]); pixels it does not list use their own colour (opaque
/// ones keep `img` exactly).
pub fn composite_linear(img: &RgbImage, fg: &Foreground, alpha: &Plane, bg: [u8; 3]) -> RgbImage {
    let lut = srgb_to_linear_lut();
    let bgl = bg.map(|v| lut[v as usize]);
    let mut out = img.clone();
    let mut next = 0usize;
    for (k, px) in out.as_mut().chunks_exact_mut(3).enumerate() {
        let a = alpha.data.get(k).copied().unwrap_or(1.0).clamp(0.0, 1.0);
        if a <= 0.0 {
            px.copy_from_slice(&bg);
            continue;
        }
        while next < fg.index.len() && (fg.index[next] as usize) < k {
            next += 1;
        }
        let listed = match (fg.index.get(next), fg.colour.get(next)) {
            (Some(&i), Some(c)) if i as usize == k => Some(*c),
            _ => None,
        };
        if a >= 1.0 && listed.is_none() {
            continue;
        }
        let f = listed.unwrap_or([
            lut[px[0] as usize],
            lut[px[1] as usize],
            lut[px[2] as usize],
        ]);
        for c in 0..3 {
            let v = f[c] * a + bgl[c] * (1.0 - a);
            px[c] = (linear_to_srgb(v) * 255.0).round() as u8;
        }
    }
    out
}

/// Background replacement without colour fringe: estimates the foreground colour of the
/// edge pixels (multi-level, Germer et al. 2020) so that they carry no trace of the old
/// background, then composites onto `bg` in linear light.
pub fn composite_with_foreground(img: &RgbImage, alpha: &Plane, bg: [u8; 3]) -> RgbImage {
    let fg = estimate_ml(img, alpha);
    composite_linear(img, &fg, alpha, bg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compositing_equation_in_linear_light() {
        let fg = RgbImage::from_pixel(3, 1, image::Rgb([0, 0, 0]));
        let alpha = Plane {
            width: 3,
            height: 1,
            data: vec![0.0, 0.5, 1.0],
        };
        let out = composite(&fg, &alpha, [255, 255, 255]);
        assert_eq!(out.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(out.get_pixel(2, 0).0, [0, 0, 0]);
        // half coverage of black on white is 0.5 in linear light = 188 in sRGB
        assert_eq!(out.get_pixel(1, 0).0, [188, 188, 188]);
    }

    #[test]
    fn compositing_with_estimated_foreground_removes_old_background() {
        // orange person on saturated blue with a soft edge; replace with white
        let (w, h) = (40u32, 20u32);
        let alpha = Plane {
            width: w,
            height: h,
            data: (0..w * h)
                .map(|i| ((i % w) as f32 - 15.0).clamp(0.0, 10.0) / 10.0)
                .collect(),
        };
        let f = [0.8f32, 0.3, 0.1];
        let b = [0.0f32, 0.1, 1.0];
        let img = RgbImage::from_fn(w, h, |x, y| {
            let a = alpha.data[(y * w + x) as usize];
            image::Rgb(std::array::from_fn(|c| {
                (linear_to_srgb(a * f[c] + (1.0 - a) * b[c]) * 255.0).round() as u8
            }))
        });
        let out = composite_with_foreground(&img, &alpha, [255, 255, 255]);
        for x in 16..25 {
            let a = alpha.data[x as usize];
            let want: [f32; 3] =
                std::array::from_fn(|c| linear_to_srgb(a * f[c] + (1.0 - a)) * 255.0);
            let got = out.get_pixel(x, 10).0;
            for c in 0..3 {
                assert!(
                    (got[c] as f32 - want[c]).abs() < 4.0,
                    "x {x} channel {c}: {got:?} vs {want:?}"
                );
            }
        }
        // the naive composite keeps a blue tint at the edge
        let naive = composite(&img, &alpha, [255, 255, 255]);
        let p = naive.get_pixel(20, 10).0;
        let q = out.get_pixel(20, 10).0;
        assert!(p[2] as i32 - p[0] as i32 > q[2] as i32 - q[0] as i32 + 10);
    }
}
