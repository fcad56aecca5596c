//! Input formats: [`SourceFormat`], recognising it from the magic bytes ([`detect_format`]),
//! naming the formats that are refused, and mapping `image` errors to ours.

use image::{ImageError, ImageFormat};

use crate::error::{Error, Result};

/// The container format of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// JPEG (JFIF or EXIF).
    Jpeg,
    /// PNG.
    Png,
    /// WebP (lossy or lossless).
    WebP,
}

impl SourceFormat {
    /// Short human-readable name ("JPEG", "PNG", "WebP").
    pub fn name(self) -> &'static str {
        match self {
            SourceFormat::Jpeg => "JPEG",
            SourceFormat::Png => "PNG",
            SourceFormat::WebP => "WebP",
        }
    }

    pub(super) fn image_format(self) -> ImageFormat {
        match self {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::WebP => ImageFormat::WebP,
        }
    }
}

/// Identify the format from the magic bytes at the start of `bytes`.
///
/// Returns [`Error::UnsupportedFormat`] for anything other than JPEG, PNG and WebP, naming the
/// format when it is recognisable (GIF, TIFF, BMP, HEIF, AVIF, ...).
pub fn detect_format(bytes: &[u8]) -> Result<SourceFormat> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(SourceFormat::Jpeg);
    }
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(SourceFormat::Png);
    }
    if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Ok(SourceFormat::WebP);
    }
    Err(Error::UnsupportedFormat(describe_unsupported(bytes)))
}

fn describe_unsupported(bytes: &[u8]) -> String {
    let name = if bytes.is_empty() {
        "empty input"
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        "GIF"
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        "TIFF"
    } else if bytes.starts_with(b"BM") {
        "BMP"
    } else if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        // ISO base media file: look at the major brand and the compatible brands.
        let end = bytes.len().min(64);
        let brands = &bytes[8..end];
        let has = |b: &[u8]| brands.chunks(4).any(|c| c == b);
        if has(b"avif") || has(b"avis") {
            "AVIF"
        } else if has(b"heic")
            || has(b"heix")
            || has(b"heim")
            || has(b"heis")
            || has(b"hevc")
            || has(b"hevx")
            || has(b"mif1")
            || has(b"msf1")
        {
            "HEIF/HEIC"
        } else {
            "an ISO media file (MP4/MOV?)"
        }
    } else if bytes.starts_with(&[0, 0, 1, 0]) {
        "ICO"
    } else if bytes.starts_with(&[0xFF, 0x0A]) || bytes.starts_with(b"\0\0\0\x0cJXL ") {
        "JPEG XL"
    } else if bytes.starts_with(b"\0\0\0\x0cjP  ") || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51]) {
        "JPEG 2000"
    } else if bytes.starts_with(b"8BPS") {
        "PSD"
    } else if bytes.starts_with(b"%PDF") {
        "PDF"
    } else if bytes.starts_with(b"qoif") {
        "QOI"
    } else if bytes.starts_with(b"#?RADIANCE") || bytes.starts_with(b"#?RGBE") {
        "Radiance HDR"
    } else if bytes.starts_with(&[0x76, 0x2F, 0x31, 0x01]) {
        "OpenEXR"
    } else if bytes.len() >= 2 && bytes[0] == b'P' && (b'1'..=b'7').contains(&bytes[1]) {
        "PNM/PGM/PPM"
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" {
        "RIFF (not WebP)"
    } else {
        "not JPEG, PNG or WebP"
    };
    name.to_string()
}

pub(super) fn map_image_error(format: SourceFormat, e: ImageError) -> Error {
    match e {
        ImageError::Unsupported(u) => {
            Error::UnsupportedFormat(format!("{} variant not supported: {u}", format.name()))
        }
        other => Error::Decode(format!("{}: {other}", format.name())),
    }
}
