//! Person matte: the selfie-segmentation networks' probability map of the person
//! ([`segment_with`]), other people removed ([`keep_subject`]), refined into an alpha matte at
//! the photo's resolution ([`refine_with_info`]: a colour-guided fast guided filter, He and
//! Sun 2015, arXiv 1505.00996, so that the matte's edges follow the photo, then a local
//! colour model in the band around the contour), the foreground colours of the edge pixels
//! ([`estimate_ml`], Germer et al. 2020), and compositing onto the new background in linear
//! light ([`composite_with_foreground`]).
//!
//! Files, in the order of the pipeline: `segment` (networks), `subject` (connected regions of
//! the mask), `refine` (the refinement's steps: `cells`, `regions`, `colour_model`, `band`,
//! with its parameters in `options`), `foreground`, `composite`; the filters they share:
//! `box_filter`, `guided`, `push_pull`.

mod band;
mod box_filter;
mod cells;
mod colour_model;
mod composite;
mod foreground;
mod guided;
mod options;
mod push_pull;
mod refine;
mod regions;
mod segment;
mod subject;

pub use box_filter::{box_mean, box_mean_streamed};
pub use composite::{composite, composite_linear, composite_with_foreground};
pub use foreground::{estimate_fg_bg, estimate_ml, MlOptions};
pub use options::RefineOptions;
pub use refine::{refine, refine_with_info};
pub use segment::{person_matte, segment, segment_with, SegmentFit};
pub use subject::keep_subject;
