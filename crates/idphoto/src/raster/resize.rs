//! Resizing with fast_image_resize (SIMD convolutions).

use fast_image_resize::{images::Image, images::ImageRef, FilterType, PixelType, ResizeAlg};
use fast_image_resize::{ResizeOptions, Resizer};
use image::RgbImage;

use crate::error::{Error, Result};

pub(super) fn bytemuck_f32(data: &[f32]) -> &[fast_image_resize::pixels::F32] {
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

pub(super) fn resize_rgb_filter(
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
    fn resize_rgb_exact_size() {
        let img = RgbImage::from_fn(100, 80, |x, y| image::Rgb([x as u8, y as u8, 7]));
        let out = resize_rgb(&img, (10.0, 5.0, 50.0, 60.0), 25, 30).unwrap();
        assert_eq!(out.dimensions(), (25, 30));
        let px = out.get_pixel(0, 0);
        assert!((px[0] as i32 - 11).abs() <= 2 && (px[1] as i32 - 6).abs() <= 2);
    }

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
