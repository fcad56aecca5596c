//! # idphoto
//!
//! Turns an ordinary phone photo into an ID photo that meets an official specification, and
//! checks any photo against such a specification.

#![warn(missing_docs)]

mod check;
mod composite;
pub mod decode;
mod encode;
mod engine;
mod error;
mod face;
mod foreground;
mod geometry;
mod matte;
mod nn;
mod options;
mod pipeline;
mod raster;
mod render;
mod report;
pub mod spec;

#[doc(hidden)]
pub mod internals;
#[cfg(test)]
mod test_support;

pub use engine::{check, process, Engine};
pub use error::{Error, Result};
pub use face::FaceHint;
pub use matte::SegmentFit;
pub use nn::Models;
pub use options::{Options, DEFAULT_MAX_UPSCALE};
pub use pipeline::{Output, Timings, REDUCED_DECODE_FACE_FRACTION};
pub use raster::Point;
pub use report::{Notice, Report, RuleResult, Status, SCHEMA_VERSION};
pub use spec::Spec;
