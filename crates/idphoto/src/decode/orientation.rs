//! EXIF orientation: reading it from a decoder's metadata and applying it to the pixels.

use image::{ImageDecoder, RgbImage};

/// EXIF orientation 1..=8; 1 when absent or unreadable. Accepts EXIF blocks that keep the
/// JPEG-style `Exif\0\0` prefix (as some WebP writers do), which image's parser rejects.
pub(super) fn read_orientation(decoder: &mut impl ImageDecoder) -> u8 {
    let exif = match decoder.exif_metadata() {
        Ok(Some(e)) => e,
        _ => return 1,
    };
    let tiff = exif.strip_prefix(b"Exif\0\0").unwrap_or(&exif);
    image::metadata::Orientation::from_exif_chunk(tiff)
        .map(|o| o.to_exif())
        .unwrap_or(1)
        .clamp(1, 8)
}

/// Apply EXIF orientation `o` (1..=8) to an RGB image. Same result as image's
/// `DynamicImage::apply_orientation`, but tiled so that the 90-degree cases stay cache-friendly
/// (image's version takes ~120 ms on 12 MP, this one a fraction of that).
pub(super) fn apply_orientation(src: &RgbImage, o: u8) -> RgbImage {
    let (w, h) = (src.width() as usize, src.height() as usize);
    if w == 0 || h == 0 || !(2..=8).contains(&o) {
        return src.clone();
    }
    let (wi, hi) = (w as isize, h as isize);
    // Source pixel index of destination (dx, dy) = origin + dx * ax + dy * ay.
    let (origin, ax, ay): (isize, isize, isize) = match o {
        2 => (wi - 1, -1, wi),
        3 => ((hi - 1) * wi + wi - 1, -1, -wi),
        4 => ((hi - 1) * wi, 1, -wi),
        5 => (0, wi, 1),
        6 => ((hi - 1) * wi, -wi, 1),
        7 => ((hi - 1) * wi + wi - 1, -wi, -1),
        _ => (wi - 1, wi, -1), // 8
    };
    let (dw, dh) = if o >= 5 { (h, w) } else { (w, h) };
    let s = src.as_raw();
    let mut out = vec![0u8; w * h * 3];
    const TILE: usize = 64;
    for ty in (0..dh).step_by(TILE) {
        for tx in (0..dw).step_by(TILE) {
            for dy in ty..(ty + TILE).min(dh) {
                let row_origin = origin + dy as isize * ay;
                let drow = &mut out[dy * dw * 3..(dy + 1) * dw * 3];
                for dx in tx..(tx + TILE).min(dw) {
                    let si = (row_origin + dx as isize * ax) as usize * 3;
                    drow[dx * 3..dx * 3 + 3].copy_from_slice(&s[si..si + 3]);
                }
            }
        }
    }
    RgbImage::from_raw(dw as u32, dh as u32, out).expect("buffer size matches dimensions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::test_image;
    use image::DynamicImage;

    #[test]
    fn orientation_matches_image_crate() {
        let img = test_image(7, 4);
        for o in 1..=8u8 {
            let mut d = DynamicImage::ImageRgb8(img.clone());
            d.apply_orientation(image::metadata::Orientation::from_exif(o).unwrap());
            assert_eq!(apply_orientation(&img, o), d.into_rgb8(), "orientation {o}");
        }
        let big = test_image(130, 70);
        for o in 1..=8u8 {
            let mut d = DynamicImage::ImageRgb8(big.clone());
            d.apply_orientation(image::metadata::Orientation::from_exif(o).unwrap());
            assert_eq!(apply_orientation(&big, o), d.into_rgb8(), "orientation {o}");
        }
    }
}
