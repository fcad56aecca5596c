//! Building blocks of the pipeline for the crate's own benchmarks and evaluations
//! (`benches/`). Not part of the API: anything here may change in any release.

pub use crate::check::quality::damage::{damage_blocks, damage_rule};
pub use crate::check::quality::quality_rules;
pub use crate::check::{border_matte, check_decoded};
pub use crate::decode::icc::IccStatus;
pub use crate::decode::pixels::{decode, Decoded};
pub use crate::encode::encode_jpeg;
pub use crate::face::detect::{detect_faces, DetectOptions, Face};
pub use crate::face::landmarks::{landmarks_fast, landmarks_refined, Landmarks};
pub use crate::matte::{
    box_mean, person_matte, refine, refine_with_info, segment, segment_with, RefineOptions,
    SegmentFit,
};
pub use crate::matte::{composite, composite_linear, composite_with_foreground};
pub use crate::matte::{estimate_fg_bg, estimate_ml, MlOptions};
pub use crate::nn::Networks;
pub use crate::pipeline::process_image;
pub use crate::raster::colour::{linear_to_srgb, srgb_to_linear};
pub use crate::raster::{bilinear_rgb, resize_rgb, Plane};
