//! A PNG decoded at 1/`r` of its size row by row: each `r` x `r` block of the 8-bit pixels
//! (after the png crate's expansion of palettes, low bit depths and transparency, and its
//! reduction of 16-bit samples) is averaged, so that only one row of the full-size photo is
//! held at a time. `check` uses it for large photos as it uses the DCT-domain reduction of
//! JPEGs.

use std::io::Cursor;

use image::{DynamicImage, GrayAlphaImage, GrayImage, RgbImage, RgbaImage};

/// The pixel size (width, height) of a PNG from its header, without decoding; `None` for
/// other formats.
pub(crate) fn png_frame_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.get(..8)? != b"\x89PNG\r\n\x1a\n" || bytes.get(12..16)? != b"IHDR" {
        return None;
    }
    let be = |i: usize| Some(u32::from_be_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    Some((be(16)?, be(20)?))
}

/// `bytes` (a PNG) at 1/`reduction` of its size (rounded up), or `None` when it cannot be
/// read row by row here (an interlaced file, or any decoding error: the full-size decode then
/// reports it).
pub(super) fn decode_png_reduced(bytes: &[u8], reduction: u32) -> Option<DynamicImage> {
    let mut decoder = png::Decoder::new(Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let (w, h) = (reader.info().width, reader.info().height);
    if reader.info().interlaced || reduction < 2 {
        return None;
    }
    let channels = match reader.output_color_type() {
        (png::ColorType::Grayscale, png::BitDepth::Eight) => 1,
        (png::ColorType::GrayscaleAlpha, png::BitDepth::Eight) => 2,
        (png::ColorType::Rgb, png::BitDepth::Eight) => 3,
        (png::ColorType::Rgba, png::BitDepth::Eight) => 4,
        _ => return None,
    };
    let mut boxes = BoxMean::new(w as usize, reduction as usize, channels);
    for _ in 0..h {
        let row = reader.next_row().ok()??;
        boxes.add_row(row.data())?;
    }
    let (rw, rh, data) = boxes.finish(h as usize);
    Some(match channels {
        1 => DynamicImage::ImageLuma8(GrayImage::from_raw(rw, rh, data)?),
        2 => DynamicImage::ImageLumaA8(GrayAlphaImage::from_raw(rw, rh, data)?),
        3 => DynamicImage::ImageRgb8(RgbImage::from_raw(rw, rh, data)?),
        _ => DynamicImage::ImageRgba8(RgbaImage::from_raw(rw, rh, data)?),
    })
}

/// Means of `r` x `r` blocks over rows given one at a time.
struct BoxMean {
    width: usize,
    r: usize,
    channels: usize,
    /// Sums of the block row being filled, per reduced pixel and channel.
    sums: Vec<u32>,
    /// Full-size rows added to the block row being filled.
    rows: usize,
    out: Vec<u8>,
}

impl BoxMean {
    fn new(width: usize, r: usize, channels: usize) -> BoxMean {
        BoxMean {
            width,
            r,
            channels,
            sums: vec![0; width.div_ceil(r) * channels],
            rows: 0,
            out: Vec::new(),
        }
    }

    /// Adds one full-size row (`width` x `channels` bytes); `None` if it is too short.
    fn add_row(&mut self, row: &[u8]) -> Option<()> {
        let c = self.channels;
        let row = row.get(..self.width * c)?;
        for (x, px) in row.chunks_exact(c).enumerate() {
            let s = &mut self.sums[(x / self.r) * c..(x / self.r + 1) * c];
            for (s, &v) in s.iter_mut().zip(px) {
                *s += u32::from(v);
            }
        }
        self.rows += 1;
        if self.rows == self.r {
            self.flush();
        }
        Some(())
    }

    /// Writes the block row being filled as means.
    fn flush(&mut self) {
        let c = self.channels;
        for (bx, s) in self.sums.chunks_exact_mut(c).enumerate() {
            let cols = (self.width - bx * self.r).min(self.r);
            let n = (cols * self.rows) as u32;
            for v in s.iter_mut() {
                self.out.push(((*v + n / 2) / n) as u8);
                *v = 0;
            }
        }
        self.rows = 0;
    }

    /// The reduced pixels of a photo `height` rows high: width, height and data.
    fn finish(mut self, height: usize) -> (u32, u32, Vec<u8>) {
        if self.rows > 0 {
            self.flush();
        }
        let rw = self.width.div_ceil(self.r) as u32;
        (rw, height.div_ceil(self.r) as u32, self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::{box_reduce, png_bytes, test_image};

    #[test]
    fn a_png_reduced_row_by_row_is_the_box_mean() {
        // odd sizes: the last blocks are partial
        let img = test_image(203, 151);
        let bytes = png_bytes(&img);
        for r in [2u32, 4, 8] {
            let reduced = decode_png_reduced(&bytes, r).unwrap().into_rgb8();
            assert_eq!(
                reduced.dimensions(),
                (203u32.div_ceil(r), 151u32.div_ceil(r))
            );
            let want = box_reduce(&img, r);
            let worst = reduced
                .as_raw()
                .iter()
                .zip(want.as_raw())
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap();
            assert!(worst <= 1, "reduction {r}: off by {worst}");
        }
        // not reduced, or not a PNG: the full-size decode does it
        assert_eq!(png_frame_size(&bytes), Some((203, 151)));
        assert_eq!(png_frame_size(b"GIF89a"), None);
        assert!(decode_png_reduced(&bytes, 1).is_none());
        assert!(decode_png_reduced(b"not a png", 2).is_none());
    }
}
