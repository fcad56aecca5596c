//! The face: detection (BlazeFace over an image pyramid), landmarks (FaceMesh, 468 points)
//! and the measures derived from them (eye line, chin, face width, roll), which detections
//! count as faces, the one face a photo is made from, and whether it is upside down.

mod confirm;
pub mod detect;
mod find;
mod hint;
pub mod landmarks;
mod presence;
mod upright;

pub use detect::{detect_faces, DetectOptions, Face};
pub(crate) use find::{check_face_inside, find_face};
pub use hint::FaceHint;
pub use landmarks::Landmarks;
pub(crate) use presence::is_face;
pub use presence::{COMPARABLE_FACE_FRACTION, MIN_PRESENCE};
pub(crate) use upright::upside_down;
