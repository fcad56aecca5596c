//! A face given by the host instead of the built-in detector.

use serde::{Deserialize, Serialize};

use crate::raster::Point;

/// A face given by the host instead of the built-in detector (for example from WeChat's face
/// detection in a mini-program). Coordinates are in the displayed (EXIF-rotated) photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaceHint {
    /// Face box: left, top, width, height in pixels.
    pub bbox: [f32; 4],
    /// The subject's right eye (image left), if known.
    pub right_eye: Option<Point>,
    /// The subject's left eye (image right), if known.
    pub left_eye: Option<Point>,
}
