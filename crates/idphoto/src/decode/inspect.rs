//! [`inspect`]: the headers of an image file made elsewhere (dimensions, density/DPI,
//! progressive or baseline, ICC, ...) read without decoding its pixels, so that it can be
//! validated against a specification.

use std::io::Cursor;

use image::{ImageDecoder, ImageReader};
use moxcms::{ColorProfile, DataColorSpace};

use super::format::{detect_format, map_image_error, SourceFormat};
use super::guard::guard;
use super::icc::is_srgb_equivalent;
use super::markers::parse_jpeg;
use super::orientation::read_orientation;
use crate::error::Result;

/// Where a density value was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DensitySource {
    /// JFIF APP0 segment of a JPEG.
    Jfif,
    /// EXIF XResolution / YResolution / ResolutionUnit.
    Exif,
    /// PNG `pHYs` chunk.
    PngPhys,
}

/// Pixel density of a file, in dots per inch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Density {
    /// Horizontal dots per inch.
    pub x_dpi: f64,
    /// Vertical dots per inch.
    pub y_dpi: f64,
    /// Which header the values come from.
    pub source: DensitySource,
}

/// Header information about an image file, for validating files made elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    /// Container format.
    pub format: SourceFormat,
    /// Width as stored in the file.
    pub width: u32,
    /// Height as stored in the file.
    pub height: u32,
    /// Width once the EXIF orientation is applied (swapped for orientations 5..=8).
    pub display_width: u32,
    /// Height once the EXIF orientation is applied.
    pub display_height: u32,
    /// EXIF orientation (1..=8), 1 if absent or invalid.
    pub orientation: u8,
    /// Pixel density. JPEG: the JFIF APP0 density (units 1 = dpi, 2 = dots/cm, converted);
    /// if there is no JFIF segment or it only gives an aspect ratio, the EXIF resolution.
    /// PNG: `pHYs` (pixels per metre, converted), else EXIF. WebP: EXIF. `None` when unknown
    /// or aspect-ratio only.
    pub density: Option<Density>,
    /// Bits per channel as stored (8 for baseline JPEG, 8 or 16 for PNG, ...).
    pub bits_per_channel: u8,
    /// Channels as stored: 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha (or CMYK JPEG).
    pub channels: u8,
    /// For JPEG: whether the frame is progressive (SOF2/SOF6/SOF10/SOF14). `None` for other
    /// formats.
    pub progressive: Option<bool>,
    /// Whether an ICC profile is embedded.
    pub has_icc: bool,
    /// Best effort: `Some(true)` if the embedded profile maps colours like sRGB (within one
    /// 8-bit step), `Some(false)` if it does not, `None` if there is no profile or moxcms
    /// cannot parse it.
    pub icc_is_srgb: Option<bool>,
    /// Length of the file in bytes.
    pub byte_len: u64,
}

/// Read the headers of an image file without decoding its pixels.
///
/// Errors: [`Error::UnsupportedFormat`] for anything but JPEG, PNG and WebP;
/// [`Error::Decode`] if the headers cannot be read. Never panics.
///
/// [`Error::UnsupportedFormat`]: crate::Error::UnsupportedFormat
/// [`Error::Decode`]: crate::Error::Decode
pub fn inspect(bytes: &[u8]) -> Result<FileInfo> {
    guard(|| inspect_inner(bytes))
}

fn inspect_inner(bytes: &[u8]) -> Result<FileInfo> {
    let format = detect_format(bytes)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    reader.limits(image::Limits::default());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(format, e))?;
    let (width, height) = decoder.dimensions();
    let orientation = read_orientation(&mut decoder);
    let original = decoder.original_color_type();
    let channels = original.channel_count();
    let bits_per_channel = if channels == 0 {
        8
    } else {
        u8::try_from(original.bits_per_pixel() / u16::from(channels)).unwrap_or(8)
    };
    let icc = decoder.icc_profile().ok().flatten();
    let icc_is_srgb = icc.as_ref().and_then(|b| {
        let p = ColorProfile::new_from_slice(b).ok()?;
        match p.color_space {
            DataColorSpace::Rgb => is_srgb_equivalent(&p),
            _ => Some(false),
        }
    });
    let (density, progressive) = match format {
        SourceFormat::Jpeg => {
            let meta = parse_jpeg(bytes);
            let jfif = meta.jfif.and_then(|(units, x, y)| {
                let f = match units {
                    1 => 1.0,
                    2 => 2.54,
                    _ => return None,
                };
                if x == 0 || y == 0 {
                    return None;
                }
                Some(Density {
                    x_dpi: f64::from(x) * f,
                    y_dpi: f64::from(y) * f,
                    source: DensitySource::Jfif,
                })
            });
            let density = jfif.or_else(|| meta.exif.and_then(exif_density));
            (density, meta.progressive)
        }
        SourceFormat::Png => {
            let (phys, exif) = parse_png(bytes);
            let density = phys.or_else(|| exif.and_then(exif_density));
            (density, None)
        }
        SourceFormat::WebP => (parse_webp_exif(bytes).and_then(exif_density), None),
    };
    let swap = orientation >= 5;
    Ok(FileInfo {
        format,
        width,
        height,
        display_width: if swap { height } else { width },
        display_height: if swap { width } else { height },
        orientation,
        density,
        bits_per_channel,
        channels,
        progressive,
        has_icc: icc.is_some(),
        icc_is_srgb,
        byte_len: bytes.len() as u64,
    })
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?))
}

/// Read XResolution, YResolution and ResolutionUnit from IFD0 of a TIFF/EXIF block.
fn exif_density(tiff: &[u8]) -> Option<Density> {
    let little = match tiff.get(0..4)? {
        b"II*\0" => true,
        b"MM\0*" => false,
        _ => return None,
    };
    let u16_at = |i: usize| -> Option<u16> {
        let s: [u8; 2] = tiff.get(i..i + 2)?.try_into().ok()?;
        Some(if little {
            u16::from_le_bytes(s)
        } else {
            u16::from_be_bytes(s)
        })
    };
    let u32_at = |i: usize| -> Option<u32> {
        let s: [u8; 4] = tiff.get(i..i + 4)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    };
    // The resolution should be a RATIONAL, but some writers store an integer (SHORT, LONG,
    // SLONG, inline in the entry); accept those too.
    // Integer value stored inline: SHORT, SSHORT, LONG or SLONG.
    let integer = |entry: usize| -> Option<i64> {
        match u16_at(entry + 2)? {
            3 => Some(i64::from(u16_at(entry + 8)?)),
            8 => Some(i64::from(u16_at(entry + 8)? as i16)),
            4 => Some(i64::from(u32_at(entry + 8)?)),
            9 => Some(i64::from(u32_at(entry + 8)? as i32)),
            _ => None,
        }
    };
    let rational = |entry: usize| -> Option<f64> {
        let v = match u16_at(entry + 2)? {
            3 | 4 | 8 | 9 => integer(entry)? as f64,
            5 | 10 => {
                let off = u32_at(entry + 8)? as usize;
                let num = u32_at(off)?;
                let den = u32_at(off.checked_add(4)?)?;
                if den == 0 {
                    return None;
                }
                f64::from(num) / f64::from(den)
            }
            _ => return None,
        };
        (v.is_finite() && v > 0.0).then_some(v)
    };
    let ifd = u32_at(4)? as usize;
    let count = u16_at(ifd)? as usize;
    let (mut x, mut y, mut unit) = (None, None, 2u16); // TIFF default unit: inch
    for k in 0..count.min(512) {
        let entry = ifd.checked_add(2 + 12 * k)?;
        let tag = u16_at(entry)?;
        match tag {
            0x011A => x = rational(entry),
            0x011B => y = rational(entry),
            0x0128 => {
                if let Some(u) = integer(entry) {
                    unit = u16::try_from(u).unwrap_or(0);
                }
            }
            _ => {}
        }
    }
    let f = match unit {
        2 => 1.0,
        3 => 2.54,
        _ => return None,
    };
    let x = x?;
    let y = y.unwrap_or(x);
    Some(Density {
        x_dpi: x * f,
        y_dpi: y * f,
        source: DensitySource::Exif,
    })
}

/// Returns the `pHYs` density (if in metres) and the `eXIf` payload of a PNG.
fn parse_png(b: &[u8]) -> (Option<Density>, Option<&[u8]>) {
    let mut phys = None;
    let mut exif = None;
    let mut i = 8usize;
    while let (Some(len), Some(kind)) = (be32(b, i), b.get(i + 4..i + 8)) {
        let len = len as usize;
        let Some(data) = b.get(i + 8..(i + 8).saturating_add(len)) else {
            break;
        };
        match kind {
            b"pHYs" if data.len() == 9 && data[8] == 1 => {
                let (x, y) = (be32(data, 0).unwrap_or(0), be32(data, 4).unwrap_or(0));
                if x > 0 && y > 0 {
                    phys = Some(Density {
                        x_dpi: f64::from(x) * 0.0254,
                        y_dpi: f64::from(y) * 0.0254,
                        source: DensitySource::PngPhys,
                    });
                }
            }
            b"eXIf" => exif = Some(data),
            b"IEND" => break,
            _ => {}
        }
        i = i.saturating_add(12).saturating_add(len);
    }
    (phys, exif)
}

/// Returns the EXIF chunk payload of a WebP file (TIFF header first).
fn parse_webp_exif(b: &[u8]) -> Option<&[u8]> {
    let mut i = 12usize;
    while let (Some(kind), Some(len)) = (b.get(i..i + 4), le32(b, i + 4)) {
        let len = len as usize;
        let data = b.get(i + 8..(i + 8).saturating_add(len))?;
        if kind == b"EXIF" {
            // Some writers keep the JPEG-style "Exif\0\0" prefix.
            return Some(data.strip_prefix(b"Exif\0\0").unwrap_or(data));
        }
        i = i.saturating_add(8).saturating_add(len + (len & 1));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::limits::Limits;
    use crate::decode::pixels::decode;
    use crate::decode::test_util::{png_bytes, png_chunk, read, shared_data, test_image};

    #[test]
    fn inspect_real_files() {
        let Some(dir) = shared_data() else { return };
        let i = inspect(&read(&dir, "orientation/hopper.jpg")).unwrap();
        assert_eq!(
            (i.format, i.width, i.height),
            (SourceFormat::Jpeg, 128, 128)
        );
        assert_eq!((i.channels, i.bits_per_channel), (3, 8));
        assert_eq!(i.progressive, Some(false));
        let d = i.density.unwrap();
        assert_eq!((d.x_dpi, d.source), (96.0, DensitySource::Jfif));
        // JFIF says aspect ratio only; EXIF says 72 dpi.
        let i = inspect(&read(&dir, "orientation/exif-72dpi-int.jpg")).unwrap();
        let d = i.density.unwrap();
        assert_eq!(
            (d.x_dpi, d.y_dpi, d.source),
            (72.0, 72.0, DensitySource::Exif)
        );
        // PNG pHYs: 3779 pixels per metre = 95.99 dpi.
        let i = inspect(&read(&dir, "orientation/hopper.png")).unwrap();
        let d = i.density.unwrap();
        assert_eq!(d.source, DensitySource::PngPhys);
        assert!((d.x_dpi - 95.99).abs() < 0.01, "{d:?}");
        assert_eq!(i.progressive, None);
        let i = inspect(&read(&dir, "orientation/hopper_gray.jpg")).unwrap();
        assert_eq!(i.channels, 1);
        let i = inspect(&read(&dir, "bench/phone12mp_exif6.jpg")).unwrap();
        assert_eq!((i.width, i.height), (4000, 3000));
        assert_eq!(
            (i.display_width, i.display_height, i.orientation),
            (3000, 4000, 6)
        );
        let i = inspect(&read(&dir, "orientation/hopper_orientation_6.webp")).unwrap();
        assert_eq!((i.format, i.orientation), (SourceFormat::WebP, 6));
    }

    #[test]
    fn inspect_png_phys_and_jpeg_markers() {
        let png = png_bytes(&test_image(10, 10));
        // Insert pHYs (11811 px/m = 300 dpi) after IHDR (8 + 25 bytes).
        let mut phys = 11811u32.to_be_bytes().to_vec();
        phys.extend_from_slice(&11811u32.to_be_bytes());
        phys.push(1);
        let mut with = png[..33].to_vec();
        with.extend(png_chunk(b"pHYs", &phys));
        with.extend_from_slice(&png[33..]);
        let d = inspect(&with).unwrap().density.unwrap();
        assert!((d.x_dpi - 300.0).abs() < 0.01, "{d:?}");
        assert_eq!(inspect(&png).unwrap().density, None);
        assert!(decode(&with, &Limits::default()).is_ok());

        // JPEG marker walk: JFIF in dots/cm, then a progressive SOF.
        let mut j = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        j.extend_from_slice(b"JFIF\0\x01\x02\x02");
        j.extend_from_slice(&[0, 100, 0, 100, 0, 0]);
        j.extend_from_slice(&[0xFF, 0xFF, 0xC2, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]);
        j.extend_from_slice(&[0xFF, 0xDA, 0, 8, 1, 1, 0, 0, 63, 0]);
        let m = parse_jpeg(&j);
        assert_eq!(m.jfif, Some((2, 100, 100)));
        assert_eq!(m.progressive, Some(true));
        assert!(m.first_sos.is_some());
        // Length running past the end: stop quietly.
        let m = parse_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0]);
        assert_eq!((m.jfif, m.progressive), (None, None));
    }
}
