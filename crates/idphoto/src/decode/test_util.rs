//! Helpers shared by the decode tests: the `../shared/data` folder, small synthetic images,
//! PNG encoding with hand-made chunks, and image comparisons.

use image::{ImageBuffer, ImageEncoder, Rgb, RgbImage};
use std::path::PathBuf;

/// The shared real-data folder (`../shared/data` beside the checkout), or `None` after
/// printing why the calling test is skipped.
pub(super) fn shared_data() -> Option<PathBuf> {
    let dir = std::env::var_os("IDPHOTO_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: ../shared/data not found (looked in {}; set IDPHOTO_SHARED_DATA)",
            dir.display()
        );
        None
    }
}

pub(super) fn read(dir: &std::path::Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

pub(super) fn mean_abs_error(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

pub(super) fn png_bytes<P: image::PixelWithColorType>(
    img: &ImageBuffer<P, Vec<P::Subpixel>>,
) -> Vec<u8>
where
    [P::Subpixel]: image::EncodableLayout,
{
    use image::EncodableLayout;
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(
            img.as_raw().as_bytes(),
            img.width(),
            img.height(),
            P::COLOR_TYPE,
        )
        .unwrap();
    out
}

pub(super) fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

pub(super) fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = (data.len() as u32).to_be_bytes().to_vec();
    c.extend_from_slice(kind);
    c.extend_from_slice(data);
    c.extend_from_slice(&crc32(&c[4..]).to_be_bytes());
    c
}

/// A small photo-like RGB image.
pub(super) fn test_image(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        Rgb([
            (x * 255 / w.max(1)) as u8,
            (y * 255 / h.max(1)) as u8,
            ((x * 7 + y * 13) % 256) as u8,
        ])
    })
}

/// Mean of each `r`x`r` block (partial blocks at the edges).
pub(super) fn box_reduce(img: &RgbImage, r: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    RgbImage::from_fn(w.div_ceil(r), h.div_ceil(r), |x, y| {
        let mut sum = [0u32; 3];
        let mut n = 0;
        for sy in y * r..((y + 1) * r).min(h) {
            for sx in x * r..((x + 1) * r).min(w) {
                let p = img.get_pixel(sx, sy);
                for c in 0..3 {
                    sum[c] += u32::from(p[c]);
                }
                n += 1;
            }
        }
        Rgb(sum.map(|v| ((v + n / 2) / n) as u8))
    })
}
