//! The library's error type. Every variant has a stable machine-readable code
//! ([`Error::code`]) that the C and JS bindings expose unchanged.

use thiserror::Error;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every way a call into the library can fail.
#[derive(Debug, Error, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not an image in a supported format (JPEG, PNG, WebP).
    #[error("unsupported image format: {0}")]
    UnsupportedFormat(String),
    /// The file looks like a supported format but is truncated or corrupt.
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    /// The image exceeds the configured pixel limit. Checked before pixels are allocated.
    #[error(
        "image too large: {width}x{height} = {pixels} pixels exceeds the limit of {limit} pixels"
    )]
    TooManyPixels {
        /// Width in pixels as declared by the file.
        width: u32,
        /// Height in pixels as declared by the file.
        height: u32,
        /// width x height.
        pixels: u64,
        /// The configured limit.
        limit: u64,
    },
    /// The input file exceeds the configured byte limit.
    #[error("input too large: {bytes} bytes exceeds the limit of {limit} bytes")]
    TooManyBytes {
        /// Size of the input.
        bytes: u64,
        /// The configured limit.
        limit: u64,
    },
    /// No face was found in the photo.
    #[error("no face found in the photo")]
    NoFace,
    /// More than one face of comparable size was found.
    #[error("more than one face in the photo: {count} faces of comparable size")]
    MultipleFaces {
        /// Number of comparable faces found.
        count: usize,
    },
    /// The face or head is cut by the photo edge, so the spec's framing cannot be met.
    #[error(
        "the head is cut by the {edge} edge of the photo; take a photo with space around the head"
    )]
    FaceCut {
        /// Which edge: "top", "bottom", "left" or "right".
        edge: String,
    },
    /// The face is too small for the spec's pixel size.
    #[error("face too small: {face_px:.0} px wide, the spec needs at least {min_face_px:.0} px (move closer or use a higher resolution photo)")]
    FaceTooSmall {
        /// Measured face width in the source photo, in pixels.
        face_px: f32,
        /// Minimum face width in the source photo this spec needs, in pixels.
        min_face_px: f32,
    },
    /// No built-in spec has this id.
    #[error("unknown spec id: {0}")]
    UnknownSpec(String),
    /// A spec (built-in or custom JSON) is invalid; `field` names the offending field.
    #[error("invalid spec: field `{field}`: {reason}")]
    InvalidSpec {
        /// JSON path of the field, e.g. `geometry.face_width.min`.
        field: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A processing option is invalid (for example a background colour the spec does not allow).
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// Name of the option.
        option: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file-size window could not be reached with any encoder setting.
    #[error(
        "file size window {}-{} KB cannot be reached; nearest size reached: {} KB",
        kb(*.min_kb),
        kb(*.max_kb),
        kb(*.nearest_kb)
    )]
    SizeWindowUnreachable {
        /// Lower bound of the window in KB (1 KB = 1024 bytes).
        min_kb: f64,
        /// Upper bound of the window in KB.
        max_kb: f64,
        /// The size closest to the window that any encode produced.
        nearest_kb: f64,
    },
    /// Raw pixels whose size, stride or buffer length do not fit together.
    #[error("invalid image: {0}")]
    InvalidImage(String),
    /// A built-in model failed to load or run (should not happen; report it).
    #[error("model error: {0}")]
    Model(String),
    /// An internal invariant failed (a bug; report it).
    #[error("internal error: {0}")]
    Internal(String),
}

/// A size in KB with one decimal, or as many as it takes to show a small value (0.002, not
/// 0.0).
fn kb(v: f64) -> String {
    let digits = if v.abs() >= 1.0 || v == 0.0 || !v.is_finite() {
        1
    } else {
        ((-v.abs().log10()).ceil() as usize).clamp(1, 6)
    };
    format!("{v:.digits$}")
}

impl Error {
    /// Stable, machine-readable code of the variant (snake case). Never changes between versions.
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedFormat(_) => "unsupported_format",
            Error::Decode(_) => "decode_failed",
            Error::TooManyPixels { .. } => "too_many_pixels",
            Error::TooManyBytes { .. } => "too_many_bytes",
            Error::NoFace => "no_face",
            Error::MultipleFaces { .. } => "multiple_faces",
            Error::FaceCut { .. } => "face_cut",
            Error::FaceTooSmall { .. } => "face_too_small",
            Error::UnknownSpec(_) => "unknown_spec",
            Error::InvalidSpec { .. } => "invalid_spec",
            Error::InvalidOption { .. } => "invalid_option",
            Error::SizeWindowUnreachable { .. } => "size_window_unreachable",
            Error::Model(_) => "model_error",
            Error::Internal(_) => "internal_error",
            Error::InvalidImage(_) => "invalid_image",
        }
    }

    /// Stable numeric code for C callers (0 is reserved for success).
    pub fn numeric_code(&self) -> i32 {
        match self {
            Error::UnsupportedFormat(_) => 1,
            Error::Decode(_) => 2,
            Error::TooManyPixels { .. } => 3,
            Error::TooManyBytes { .. } => 4,
            Error::NoFace => 5,
            Error::MultipleFaces { .. } => 6,
            Error::FaceCut { .. } => 7,
            Error::FaceTooSmall { .. } => 8,
            Error::UnknownSpec(_) => 9,
            Error::InvalidSpec { .. } => 10,
            Error::InvalidOption { .. } => 11,
            Error::SizeWindowUnreachable { .. } => 12,
            Error::Model(_) => 13,
            Error::Internal(_) => 14,
            Error::InvalidImage(_) => 15,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct() {
        let all = [
            Error::UnsupportedFormat(String::new()),
            Error::Decode(String::new()),
            Error::TooManyPixels {
                width: 1,
                height: 1,
                pixels: 1,
                limit: 0,
            },
            Error::TooManyBytes { bytes: 1, limit: 0 },
            Error::NoFace,
            Error::MultipleFaces { count: 2 },
            Error::FaceCut { edge: "top".into() },
            Error::FaceTooSmall {
                face_px: 1.0,
                min_face_px: 2.0,
            },
            Error::UnknownSpec(String::new()),
            Error::InvalidSpec {
                field: "a".into(),
                reason: "b".into(),
            },
            Error::InvalidOption {
                option: "a".into(),
                reason: "b".into(),
            },
            Error::SizeWindowUnreachable {
                min_kb: 1.0,
                max_kb: 2.0,
                nearest_kb: 3.0,
            },
            Error::Model(String::new()),
            Error::Internal(String::new()),
            Error::InvalidImage(String::new()),
        ];
        let mut codes: Vec<_> = all.iter().map(|e| e.code()).collect();
        let mut nums: Vec<_> = all.iter().map(|e| e.numeric_code()).collect();
        codes.sort();
        codes.dedup();
        nums.sort();
        nums.dedup();
        assert_eq!(codes.len(), all.len());
        assert_eq!(nums.len(), all.len());
        assert!(!nums.contains(&0));
    }

    #[test]
    fn small_kb_windows_print_their_digits() {
        let e = Error::SizeWindowUnreachable {
            min_kb: 0.001,
            max_kb: 0.002,
            nearest_kb: 13.46,
        };
        assert_eq!(
            e.to_string(),
            "file size window 0.001-0.002 KB cannot be reached; nearest size reached: 13.5 KB"
        );
    }
}
