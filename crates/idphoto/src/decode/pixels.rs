//! [`decode`] and [`decode_reduced`]: bytes to an 8-bit sRGB [`Decoded`] photo, with the
//! limits checked first, the ICC profile converted, alpha flattened onto white and the EXIF
//! orientation applied.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, RgbImage};
use moxcms::ColorProfile;

use super::format::{detect_format, map_image_error, SourceFormat};
use super::guard::guard;
use super::icc::{apply_icc, IccStatus};
use super::jpeg::{check_jpeg_complete, decode_jpeg_pixels, zune_safe};
use super::limits::{alloc_budget, check_bytes, check_pixels, Limits};
use super::orientation::{apply_orientation, read_orientation};
use super::png_reduced::decode_png_reduced;
use super::scans::validate_jpeg;
use crate::error::{Error, Result};

/// A decoded photo: 8-bit sRGB, orientation applied, alpha flattened onto white.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// 8-bit sRGB pixels, EXIF orientation already applied.
    pub image: RgbImage,
    /// Format the bytes were in.
    pub format: SourceFormat,
    /// EXIF orientation as found in the file (1..=8); 1 if absent or invalid.
    pub orientation: u8,
    /// Whether the source had an alpha channel (now composited onto white).
    pub had_alpha: bool,
    /// Bits per channel of the source (8 or 16; 1, 2 or 4 for low-depth PNG).
    pub bits_per_channel: u8,
    /// What was done with the embedded ICC profile.
    pub icc: IccStatus,
    /// Reduction factor of `decode_reduced`: 1, 2, 4 or 8; pixel (x, y) of `image` covers
    /// source pixels (x, y) * `reduction` of the full-size (oriented) photo. Always 1 for an
    /// interlaced PNG, WebP and [`decode`].
    pub reduction: u32,
}

/// Decode a photo into 8-bit sRGB with its EXIF orientation applied.
///
/// Order of checks: byte length ([`Error::TooManyBytes`]), magic bytes
/// ([`Error::UnsupportedFormat`]), header dimensions ([`Error::TooManyPixels`]), all before any
/// pixel buffer is allocated; then the pixels are decoded ([`Error::Decode`] if the data is
/// truncated or corrupt).
///
/// Conversions: grey is expanded to RGB, 16-bit is rounded to 8-bit, an embedded ICC profile is
/// converted to sRGB with moxcms (see [`IccStatus`]), alpha is composited onto **white** (so
/// transparent areas become white background), then the EXIF orientation is applied.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Decoded> {
    guard(|| decode_inner(bytes, limits, 1))
}

/// Like [`decode`], but a JPEG is decoded at 1/`reduction` of its size (1, 2, 4 or 8) in the
/// DCT domain, which skips most of the inverse transform and needs `reduction`² times less
/// memory. The size is rounded up (a 4000x3000 photo at 8 gives 500x375). A PNG is reduced
/// row by row (the mean of each block), so its full-size pixels are never held at once; an
/// interlaced PNG and WebP are decoded at full size; [`Decoded::reduction`] says what was
/// done. Any other `reduction` is an [`Error::InvalidOption`].
pub fn decode_reduced(bytes: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    if !matches!(reduction, 1 | 2 | 4 | 8) {
        return Err(Error::InvalidOption {
            option: "reduction".into(),
            reason: format!("{reduction} is not 1, 2, 4 or 8"),
        });
    }
    guard(|| decode_inner(bytes, limits, reduction))
}

fn decode_inner(bytes: &[u8], limits: &Limits, reduction: u32) -> Result<Decoded> {
    check_bytes(bytes, limits)?;
    let format = detect_format(bytes)?;
    if format == SourceFormat::Jpeg {
        check_jpeg_complete(bytes)?;
        validate_jpeg(bytes).map_err(|e| Error::Decode(format!("JPEG: {e}")))?;
    }
    let mut decoder = open_decoder(bytes, limits, format)?;

    let orientation = read_orientation(&mut decoder);
    let icc_bytes = decoder.icc_profile().ok().flatten();
    let original = decoder.original_color_type();
    let color_type = decoder.color_type();
    let channels = original.channel_count().max(1);
    let bits_per_channel = (original.bits_per_pixel() / u16::from(channels))
        .clamp(1, 32)
        .try_into()
        .unwrap_or(8);
    let had_alpha = color_type.has_alpha();
    let is_grey = !color_type.has_color();

    let (dynimg, reduced) = decode_pixels(decoder, bytes, limits, format, reduction)?;
    let (mut rgb, icc) = to_srgb(dynimg, icc_bytes.as_deref(), had_alpha, is_grey);

    if orientation != 1 {
        rgb = apply_orientation(&rgb, orientation);
    }

    Ok(Decoded {
        image: rgb,
        format,
        orientation,
        had_alpha,
        bits_per_channel,
        icc,
        reduction: reduced,
    })
}

/// The `image` decoder for `bytes`, with the header read under an allocation budget, the
/// declared dimensions checked against `limits` ([`Error::TooManyPixels`]) and strict
/// per-dimension limits set in the decoder itself. No pixel buffer is allocated yet.
fn open_decoder<'a>(
    bytes: &'a [u8],
    limits: &Limits,
    format: SourceFormat,
) -> Result<impl ImageDecoder + 'a> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format.image_format());
    // First guard: only an allocation budget while the header is read.
    let mut img_limits = image::Limits::default();
    img_limits.max_alloc = Some(alloc_budget(limits));
    reader.limits(img_limits.clone());
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| map_image_error(format, e))?;
    let (width, height) = decoder.dimensions();
    check_pixels(width, height, limits)?;
    // Second guard: strict per-dimension limits in the decoder itself.
    let max_side = u32::try_from(limits.max_pixels).unwrap_or(u32::MAX);
    img_limits.max_image_width = Some(max_side);
    img_limits.max_image_height = Some(max_side);
    let too_many = || Error::TooManyPixels {
        width,
        height,
        pixels: u64::from(width) * u64::from(height),
        limit: limits.max_pixels,
    };
    decoder.set_limits(img_limits).map_err(|e| match e {
        ImageError::Limits(_) => too_many(),
        e => map_image_error(format, e),
    })?;
    let total = decoder.total_bytes();
    if total > alloc_budget(limits) || total > isize::MAX as u64 {
        return Err(too_many());
    }
    Ok(decoder)
}

/// The pixels as `image` gives them, and the reduction actually applied (1 unless a JPEG was
/// decoded by jpeg-decoder at 1/`reduction` of its size).
fn decode_pixels(
    decoder: impl ImageDecoder,
    bytes: &[u8],
    limits: &Limits,
    format: SourceFormat,
    reduction: u32,
) -> Result<(DynamicImage, u32)> {
    let mut reduced = 1;
    if format == SourceFormat::Png && reduction > 1 {
        if let Some(img) = decode_png_reduced(bytes, reduction) {
            return Ok((img, reduction));
        }
    }
    let dynimg = if format == SourceFormat::Jpeg && (reduction > 1 || !zune_safe(bytes)) {
        // jpeg-decoder for reduced decodes, and for baseline files with one scan per
        // component (zune-jpeg 0.5.15 mis-decodes them); zune-jpeg if jpeg-decoder rejects
        // the file
        match decode_jpeg_pixels(bytes, limits, reduction) {
            Ok(img) => {
                reduced = reduction;
                img
            }
            Err(_) => {
                DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(format, e))?
            }
        }
    } else {
        DynamicImage::from_decoder(decoder).map_err(|e| map_image_error(format, e))?
    };
    Ok((dynimg, reduced))
}

/// 8-bit sRGB from the decoded pixels: the embedded profile `icc_bytes` (if any) converted to
/// sRGB, alpha flattened onto white.
fn to_srgb(
    dynimg: DynamicImage,
    icc_bytes: Option<&[u8]>,
    had_alpha: bool,
    is_grey: bool,
) -> (RgbImage, IccStatus) {
    let profile = match icc_bytes {
        None => Err(IccStatus::None),
        Some(b) => ColorProfile::new_from_slice(b)
            .map_err(|e| IccStatus::Unsupported(format!("cannot parse ICC profile: {e:?}"))),
    };

    if had_alpha {
        let mut rgba = dynimg.into_rgba8();
        let icc = match profile {
            Err(s) => s,
            Ok(p) => apply_icc(&p, rgba.as_mut(), 4, is_grey),
        };
        (flatten_on_white(&rgba), icc)
    } else {
        let mut rgb = dynimg.into_rgb8();
        let icc = match profile {
            Err(s) => s,
            Ok(p) => apply_icc(&p, rgb.as_mut(), 3, is_grey),
        };
        (rgb, icc)
    }
}

/// Composite RGBA onto white: `c * a + 255 * (1 - a)` in 8-bit sRGB values.
fn flatten_on_white(rgba: &image::RgbaImage) -> RgbImage {
    let (w, h) = rgba.dimensions();
    let mut out = Vec::with_capacity(w as usize * h as usize * 3);
    for px in rgba.as_raw().chunks_exact(4) {
        let a = u32::from(px[3]);
        for &c in &px[..3] {
            let v = (u32::from(c) * a + 255 * (255 - a) + 127) / 255;
            out.push(v as u8);
        }
    }
    RgbImage::from_raw(w, h, out).expect("buffer size matches dimensions")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::test_util::{box_reduce, mean_abs_error, png_bytes, test_image};
    use image::{ImageBuffer, ImageEncoder, Rgb, Rgba};

    #[test]
    fn truncated_jpeg_is_decode_error() {
        let img = test_image(64, 48);
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&img)
            .unwrap();
        assert!(decode(&jpeg, &Limits::default()).is_ok());
        let half = &jpeg[..jpeg.len() / 2];
        match decode(half, &Limits::default()) {
            Err(Error::Decode(_)) => {}
            other => panic!("{other:?}"),
        }
        // Cut inside the header too.
        match decode(&jpeg[..40], &Limits::default()) {
            Err(Error::Decode(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn truncated_png_and_webp_are_decode_errors() {
        let png = png_bytes(&test_image(64, 48));
        for cut in [png.len() / 2, png.len() - 13, 30] {
            match decode(&png[..cut], &Limits::default()) {
                Err(Error::Decode(_)) => {}
                other => panic!("cut {cut}: {other:?}"),
            }
        }
        let mut webp = Vec::new();
        image::codecs::webp::WebPEncoder::new_lossless(&mut webp)
            .encode(
                test_image(64, 48).as_raw(),
                64,
                48,
                image::ExtendedColorType::Rgb8,
            )
            .unwrap();
        assert!(decode(&webp, &Limits::default()).is_ok());
        match decode(&webp[..webp.len() / 2], &Limits::default()) {
            Err(Error::Decode(_)) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pixel_and_byte_limits() {
        let png = png_bytes(&test_image(100, 100));
        let l = Limits {
            max_pixels: 9_999,
            ..Limits::default()
        };
        assert!(matches!(
            decode(&png, &l),
            Err(Error::TooManyPixels { pixels: 10_000, .. })
        ));
        let l = Limits {
            max_pixels: 10_000,
            ..Limits::default()
        };
        assert!(decode(&png, &l).is_ok());
        let l = Limits {
            max_bytes: png.len() as u64 - 1,
            ..Limits::default()
        };
        match decode(&png, &l) {
            Err(Error::TooManyBytes { bytes, limit }) => {
                assert_eq!((bytes, limit), (png.len() as u64, png.len() as u64 - 1))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sixteen_bit_png_to_8bit() {
        let vals = [0u16, 257, 32896, 65535, 1000, 50000];
        let img: ImageBuffer<Rgb<u16>, Vec<u16>> =
            ImageBuffer::from_fn(6, 2, |x, _| Rgb([vals[x as usize], 0, 65535]));
        let d = decode(&png_bytes(&img), &Limits::default()).unwrap();
        assert_eq!(d.bits_per_channel, 16);
        assert!(!d.had_alpha);
        for (x, &v) in vals.iter().enumerate() {
            let expect = (f64::from(v) / 257.0).round() as u8;
            let got = d.image.get_pixel(x as u32, 1).0;
            assert!(got[0].abs_diff(expect) <= 1, "{v}: {got:?}");
            assert_eq!((got[1], got[2]), (0, 255));
        }
        // 16-bit RGBA: half-transparent black over white.
        let img: ImageBuffer<Rgba<u16>, Vec<u16>> =
            ImageBuffer::from_pixel(2, 2, Rgba([0, 0, 0, 32896]));
        let d = decode(&png_bytes(&img), &Limits::default()).unwrap();
        assert!(d.had_alpha);
        assert_eq!(d.image.get_pixel(0, 0).0, [127, 127, 127]);
    }

    #[test]
    fn own_output_decodes_like_libjpeg() {
        // a photo-like 358x441 image through our encoder, then our decoder: same pixels
        let img = test_image(358, 441);
        let enc = crate::encode::encode_jpeg(&img, 350, (None, None)).unwrap();
        let back = decode(&enc.bytes, &Limits::default()).unwrap().image;
        assert!(
            mean_abs_error(&img, &back) < 12.0,
            "{}",
            mean_abs_error(&img, &back)
        );
    }

    #[test]
    fn reduced_decode_matches_block_means() {
        // smooth content: a DCT-domain reduction equals block means only without aliasing
        let img = RgbImage::from_fn(203, 117, |x, y| {
            let (fx, fy) = (x as f32 / 203.0, y as f32 / 117.0);
            Rgb([
                (fx * 255.0) as u8,
                (fy * 255.0) as u8,
                (127.0 + 100.0 * (fx * 6.0 + fy * 4.0).sin()) as u8,
            ])
        });
        let enc = crate::encode::encode_jpeg(&img, 350, (None, None)).unwrap();
        let full = decode(&enc.bytes, &Limits::default()).unwrap();
        assert_eq!(full.reduction, 1);
        for r in [1u32, 2, 4, 8] {
            let d = decode_reduced(&enc.bytes, &Limits::default(), r).unwrap();
            assert_eq!(d.reduction, r);
            assert_eq!(
                d.image.dimensions(),
                (203u32.div_ceil(r), 117u32.div_ceil(r))
            );
            let mae = mean_abs_error(&box_reduce(&full.image, r), &d.image);
            assert!(mae < 6.0, "reduction {r}: mean abs error {mae:.2}");
        }
        // PNG is reduced to the block means, row by row
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(img.as_raw(), 203, 117, image::ExtendedColorType::Rgb8)
            .unwrap();
        let d = decode_reduced(&png, &Limits::default(), 4).unwrap();
        assert_eq!((d.reduction, d.image.dimensions()), (4, (51, 30)));
        assert!(mean_abs_error(&box_reduce(&img, 4), &d.image) < 0.5);
        for bad in [0, 3, 16] {
            let e = decode_reduced(&enc.bytes, &Limits::default(), bad).unwrap_err();
            assert_eq!(e.code(), "invalid_option");
        }
    }
}
