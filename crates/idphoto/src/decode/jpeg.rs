//! JPEG specifics of decoding: choosing between zune-jpeg and jpeg-decoder, jpeg-decoder's
//! (optionally DCT-reduced) decode, the completeness check and the frame size.

use std::io::Cursor;

use image::{DynamicImage, RgbImage};

use super::limits::{alloc_budget, Limits};
use super::markers::parse_jpeg;
use crate::error::{Error, Result};

/// True when zune-jpeg (image's decoder, about 1.5x faster than jpeg-decoder on 12 MP) decodes
/// this JPEG correctly: progressive files, and baseline files whose first scan interleaves every
/// component (what cameras and phones write).
pub(super) fn zune_safe(bytes: &[u8]) -> bool {
    let m = parse_jpeg(bytes);
    match (m.progressive, m.frame_components, m.scan_components) {
        (Some(true), _, _) => true,
        (Some(false), Some(nf), Some(ns)) => ns >= nf,
        _ => false,
    }
}

/// Decodes JPEG pixels with jpeg-decoder. image 0.25.10's JPEG path (zune-jpeg 0.5.15)
/// decodes some valid 4:2:0 files that jpeg-encoder writes into green stripes (see the test
/// `own_output_decodes_like_libjpeg`), so pixels come from jpeg-decoder, whose output matches
/// libjpeg on those files.
/// With `reduction` > 1 the image is decoded at 1/`reduction` of its size (jpeg-decoder's
/// DCT scaling).
pub(super) fn decode_jpeg_pixels(
    bytes: &[u8],
    limits: &Limits,
    reduction: u32,
) -> Result<DynamicImage> {
    let mut d = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    d.set_max_decoding_buffer_size(usize::try_from(alloc_budget(limits)).unwrap_or(usize::MAX));
    if reduction > 1 {
        d.read_info()
            .map_err(|e| Error::Decode(format!("JPEG: {e}")))?;
        let info = d
            .info()
            .ok_or_else(|| Error::Decode("JPEG: no frame header".into()))?;
        let r = reduction as u16;
        let (w, h) = (info.width.div_ceil(r), info.height.div_ceil(r));
        let got = d
            .scale(w, h)
            .map_err(|e| Error::Decode(format!("JPEG: {e}")))?;
        if got != (w, h) {
            return Err(Error::Decode(format!(
                "JPEG: reduced decode gave {got:?}, not {w}x{h}"
            )));
        }
    }
    let px = d
        .decode()
        .map_err(|e| Error::Decode(format!("JPEG: {e}")))?;
    let info = d
        .info()
        .ok_or_else(|| Error::Decode("JPEG: no frame header".into()))?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let bad = || Error::Decode("JPEG: pixel buffer shorter than the frame".into());
    Ok(match info.pixel_format {
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(image::GrayImage::from_raw(w, h, px).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::L16 => {
            let v: Vec<u16> = px
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            DynamicImage::ImageLuma16(image::ImageBuffer::from_raw(w, h, v).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, px).ok_or_else(bad)?)
        }
        jpeg_decoder::PixelFormat::CMYK32 => {
            // Adobe-style inverted CMYK, as phones and Photoshop write it
            let rgb: Vec<u8> = px
                .chunks_exact(4)
                .flat_map(|c| {
                    let k = c[3] as u32;
                    [
                        (c[0] as u32 * k / 255) as u8,
                        (c[1] as u32 * k / 255) as u8,
                        (c[2] as u32 * k / 255) as u8,
                    ]
                })
                .collect();
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, rgb).ok_or_else(bad)?)
        }
    })
}

/// The stored pixel size (width, height) of a JPEG from its frame header, without decoding;
/// `None` for other formats or an unreadable header.
pub fn jpeg_frame_size(bytes: &[u8]) -> Option<(u32, u32)> {
    parse_jpeg(bytes).frame_size
}

/// zune-jpeg decodes a truncated file without complaint (filling the rest with grey), so a JPEG
/// must contain a scan and an EOI marker after it to count as complete.
pub(super) fn check_jpeg_complete(bytes: &[u8]) -> Result<()> {
    let meta = parse_jpeg(bytes);
    let Some(sos) = meta.first_sos else {
        return Err(Error::Decode(
            "JPEG: no image data (missing start-of-scan)".into(),
        ));
    };
    // EOI is FF D9; inside entropy-coded data FF is always followed by 00 or a restart marker,
    // so an FF D9 after the first scan is the end of the image.
    let tail = &bytes[sos..];
    if !tail.windows(2).any(|w| w == [0xFF, 0xD9]) {
        return Err(Error::Decode(
            "JPEG: truncated file (no end-of-image marker)".into(),
        ));
    }
    Ok(())
}
