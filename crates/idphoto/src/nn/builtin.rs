//! The built-in networks' model bytes, embedded in the library.

/// BlazeFace short-range detector (ONNX), MediaPipe, Apache-2.0.
pub(crate) const FACE_DETECTION_ONNX: &[u8] =
    include_bytes!("../../models/face_detection_short_range.onnx");
/// FaceMesh landmark model (ONNX), MediaPipe, Apache-2.0.
pub(crate) const FACE_LANDMARK_ONNX: &[u8] = include_bytes!("../../models/face_landmark.onnx");
/// Selfie segmentation model (ONNX), MediaPipe, Apache-2.0.
pub(crate) const SELFIE_SEGMENTATION_ONNX: &[u8] =
    include_bytes!("../../models/selfie_segmentation.onnx");
/// Selfie segmentation, landscape variant (ONNX), MediaPipe, Apache-2.0.
pub(crate) const SELFIE_SEGMENTATION_LANDSCAPE_ONNX: &[u8] =
    include_bytes!("../../models/selfie_segmentation_landscape.onnx");
