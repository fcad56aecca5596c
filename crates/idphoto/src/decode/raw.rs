//! Raw pixels handed over by a capture SDK or a host program (RGB, RGBA, BGR or BGRA rows with
//! a stride), turned into the 8-bit sRGB image the pipeline works on.

use image::RgbImage;

use super::limits::{check_pixels, Limits};
use crate::error::{Error, Result};

/// The order and number of the channels of a raw pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
#[repr(u32)]
pub enum PixelFormat {
    /// Red, green, blue: 3 bytes.
    Rgb = 0,
    /// Red, green, blue, alpha (straight, not premultiplied): 4 bytes.
    Rgba = 1,
    /// Blue, green, red: 3 bytes (Windows bitmaps, OpenCV).
    Bgr = 2,
    /// Blue, green, red, alpha (straight): 4 bytes.
    Bgra = 3,
}

impl PixelFormat {
    /// Bytes per pixel.
    pub fn bytes_per_pixel(self) -> usize {
        match self {
            PixelFormat::Rgb | PixelFormat::Bgr => 3,
            PixelFormat::Rgba | PixelFormat::Bgra => 4,
        }
    }
}

/// Raw 8-bit sRGB pixels: `height` rows of `width` pixels, each row starting `stride` bytes
/// after the previous one (the last row needs only its pixels). Transparent pixels are
/// composited onto white, as transparent areas of decoded files are.
#[derive(Debug, Clone, Copy)]
pub struct RawImage<'a> {
    /// The pixel bytes.
    pub data: &'a [u8],
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next (at least
    /// `width * bytes_per_pixel`).
    pub stride: usize,
    /// Channel order.
    pub format: PixelFormat,
}

impl RawImage<'_> {
    /// The pixels as an RGB image, after checking the size against `limits` and the buffer
    /// against the stride. A size, stride or buffer that does not fit is
    /// [`Error::InvalidImage`].
    pub fn to_rgb(&self, limits: &Limits) -> Result<RgbImage> {
        let (w, h) = (self.width, self.height);
        if w == 0 || h == 0 {
            return Err(Error::InvalidImage(format!("{w}x{h} pixels: empty image")));
        }
        check_pixels(w, h, limits)?;
        let bpp = self.format.bytes_per_pixel();
        let row = w as usize * bpp;
        if self.stride < row {
            return Err(Error::InvalidImage(format!(
                "stride {} is shorter than a row of {w} pixels ({row} bytes)",
                self.stride
            )));
        }
        let needed = (h as usize - 1)
            .checked_mul(self.stride)
            .and_then(|n| n.checked_add(row))
            .ok_or_else(|| Error::InvalidImage("stride x height overflows".into()))?;
        if self.data.len() < needed {
            return Err(Error::InvalidImage(format!(
                "{} bytes given, {w}x{h} pixels with stride {} need {needed}",
                self.data.len(),
                self.stride
            )));
        }
        let mut out = Vec::with_capacity(w as usize * h as usize * 3);
        for y in 0..h as usize {
            let line = &self.data[y * self.stride..y * self.stride + row];
            for px in line.chunks_exact(bpp) {
                let rgb = match self.format {
                    PixelFormat::Rgb | PixelFormat::Rgba => [px[0], px[1], px[2]],
                    PixelFormat::Bgr | PixelFormat::Bgra => [px[2], px[1], px[0]],
                };
                if bpp == 4 {
                    let a = u32::from(px[3]);
                    out.extend(
                        rgb.map(|c| ((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8),
                    );
                } else {
                    out.extend(rgb);
                }
            }
        }
        RgbImage::from_raw(w, h, out).ok_or_else(|| Error::Internal("raw image buffer size".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_gives_the_same_rgb() {
        // 2x2 pixels, rows padded to 12 bytes
        let rgb = [[10u8, 20, 30], [40, 50, 60], [70, 80, 90], [100, 110, 120]];
        let build = |format: PixelFormat| {
            let bpp = format.bytes_per_pixel();
            let mut data = vec![0xEEu8; 12 * 2];
            for (i, p) in rgb.iter().enumerate() {
                let at = (i / 2) * 12 + (i % 2) * bpp;
                let px: Vec<u8> = match format {
                    PixelFormat::Rgb => p.to_vec(),
                    PixelFormat::Bgr => vec![p[2], p[1], p[0]],
                    PixelFormat::Rgba => vec![p[0], p[1], p[2], 255],
                    PixelFormat::Bgra => vec![p[2], p[1], p[0], 255],
                };
                data[at..at + bpp].copy_from_slice(&px);
            }
            data
        };
        for format in [
            PixelFormat::Rgb,
            PixelFormat::Rgba,
            PixelFormat::Bgr,
            PixelFormat::Bgra,
        ] {
            let data = build(format);
            let raw = RawImage {
                data: &data,
                width: 2,
                height: 2,
                stride: 12,
                format,
            };
            let img = raw.to_rgb(&Limits::default()).unwrap();
            let want: Vec<u8> = rgb.iter().flatten().copied().collect();
            assert_eq!(img.as_raw(), &want, "{format:?}");
        }
    }

    #[test]
    fn transparent_pixels_become_white_and_bad_buffers_are_refused() {
        let data = [0u8, 0, 0, 0, 200, 100, 50, 128];
        let raw = RawImage {
            data: &data,
            width: 2,
            height: 1,
            stride: 8,
            format: PixelFormat::Rgba,
        };
        let img = raw.to_rgb(&Limits::default()).unwrap();
        assert_eq!(img.as_raw(), &[255, 255, 255, 227, 177, 152]);
        let bad = |w, h, stride, len: usize| {
            let data = vec![0u8; len];
            let raw = RawImage {
                data: &data,
                width: w,
                height: h,
                stride,
                format: PixelFormat::Rgb,
            };
            raw.to_rgb(&Limits {
                max_pixels: 1000,
                ..Limits::default()
            })
            .unwrap_err()
        };
        assert!(matches!(bad(0, 5, 0, 0), Error::InvalidImage(_)));
        assert!(matches!(bad(4, 2, 11, 100), Error::InvalidImage(_)));
        assert!(matches!(bad(4, 2, 12, 23), Error::InvalidImage(_)));
        let exact = vec![0u8; 24];
        let raw = RawImage {
            data: &exact,
            width: 4,
            height: 2,
            stride: 12,
            format: PixelFormat::Rgb,
        };
        assert!(raw.to_rgb(&Limits::default()).is_ok());
        assert!(matches!(bad(4, 2, usize::MAX, 24), Error::InvalidImage(_)));
        assert!(matches!(
            bad(100, 100, 300, 30_000),
            Error::TooManyPixels { .. }
        ));
    }
}
