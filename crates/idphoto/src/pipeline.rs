//! The end-to-end pipeline: [`process`] turns a photo into a compliant ID photo, [`check`]
//! validates any photo against a spec.

use serde::{Deserialize, Serialize};

use crate::decode::Limits;
use crate::error::{Error, Result};
use crate::raster::Point;
use crate::report::Report;
use crate::spec::Spec;

/// Default largest upscale of the face allowed by [`process`]: 1.25x. Beyond it the photo is
/// refused with [`Error::FaceTooSmall`]; between 1.0 and 1.25 the report carries a notice.
pub const DEFAULT_MAX_UPSCALE: f64 = 1.25;

/// A face given by the host instead of the built-in detector (for example from WeChat's face
/// detection in a mini-program). Coordinates are in the displayed (EXIF-rotated) photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceHint {
    /// Face box: left, top, width, height in pixels.
    pub bbox: [f32; 4],
    /// The subject's right eye (image left), if known.
    pub right_eye: Option<Point>,
    /// The subject's left eye (image right), if known.
    pub left_eye: Option<Point>,
}

/// Options for [`process`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Background colour: a name or `#RRGGBB` the spec allows; `None` = the spec's default.
    pub background: Option<String>,
    /// Largest face upscale allowed (default [`DEFAULT_MAX_UPSCALE`]).
    pub max_upscale: f64,
    /// Decoder limits.
    pub limits: Limits,
    /// Host-supplied face instead of detection.
    pub face: Option<FaceHint>,
    /// Output size for specs that accept a range (must be inside the range); `None` = default.
    pub size: Option<(u32, u32)>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            background: None,
            max_upscale: DEFAULT_MAX_UPSCALE,
            limits: Limits::default(),
            face: None,
            size: None,
        }
    }
}

/// Time spent in each stage, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding, orientation and colour conversion.
    pub decode_ms: f64,
    /// Face detection and landmarks.
    pub detect_ms: f64,
    /// Person segmentation.
    pub segment_ms: f64,
    /// Matte refinement and compositing.
    pub refine_ms: f64,
    /// Crop solve and the resize to the output size.
    pub crop_resize_ms: f64,
    /// JPEG encoding to the size window.
    pub encode_ms: f64,
    /// Re-checking the output.
    pub check_ms: f64,
}

/// Result of [`process`].
#[derive(Debug, Clone)]
pub struct Output {
    /// The encoded JPEG.
    pub jpeg: Vec<u8>,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// JPEG quality used.
    pub quality: u8,
    /// Compliance report measured again on the encoded output.
    pub report: Report,
    /// Per-stage times.
    pub timings: Timings,
}

/// Makes an ID photo from encoded image bytes (JPEG, PNG, WebP).
pub fn process(bytes: &[u8], spec: &Spec, opts: &Options) -> Result<Output> {
    let _ = (bytes, spec, opts);
    Err(Error::Internal("not implemented yet".into()))
}

/// Checks encoded image bytes against a spec.
pub fn check(bytes: &[u8], spec: &Spec) -> Result<Report> {
    let _ = (bytes, spec);
    Err(Error::Internal("not implemented yet".into()))
}
