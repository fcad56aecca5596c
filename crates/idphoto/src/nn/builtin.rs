//! The built-in networks, embedded in the library in their converted form (see
//! [`convert`](super::convert)); the ONNX models they were converted from, for the tests.

/// BlazeFace short-range detector, MediaPipe, Apache-2.0, converted.
pub(crate) const FACE_DETECTION: &[u8] =
    include_bytes!("../../models/face_detection_short_range.idnn");
/// FaceMesh landmark model, MediaPipe, Apache-2.0, converted.
pub(crate) const FACE_LANDMARK: &[u8] = include_bytes!("../../models/face_landmark.idnn");
/// Selfie segmentation model, MediaPipe, Apache-2.0, converted.
pub(crate) const SELFIE_SEGMENTATION: &[u8] =
    include_bytes!("../../models/selfie_segmentation.idnn");
/// Selfie segmentation, landscape variant, MediaPipe, Apache-2.0, converted.
pub(crate) const SELFIE_SEGMENTATION_LANDSCAPE: &[u8] =
    include_bytes!("../../models/selfie_segmentation_landscape.idnn");

/// BlazeFace short-range detector (ONNX).
#[cfg(test)]
pub(crate) const FACE_DETECTION_ONNX: &[u8] =
    include_bytes!("../../models/face_detection_short_range.onnx");
/// FaceMesh landmark model (ONNX).
#[cfg(test)]
pub(crate) const FACE_LANDMARK_ONNX: &[u8] = include_bytes!("../../models/face_landmark.onnx");
/// Selfie segmentation model (ONNX).
#[cfg(test)]
pub(crate) const SELFIE_SEGMENTATION_ONNX: &[u8] =
    include_bytes!("../../models/selfie_segmentation.onnx");
/// Selfie segmentation, landscape variant (ONNX).
#[cfg(test)]
pub(crate) const SELFIE_SEGMENTATION_LANDSCAPE_ONNX: &[u8] =
    include_bytes!("../../models/selfie_segmentation_landscape.onnx");
