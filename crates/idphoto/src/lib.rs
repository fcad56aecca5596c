//! # idphoto
//!
//! Turns an ordinary phone photo into an ID photo that meets an official specification, and
//! checks any photo against such a specification.

#![warn(missing_docs)]

pub mod check;
pub mod composite;
pub mod decode;
pub mod encode;
pub mod error;
pub mod face;
pub mod foreground;
pub mod geometry;
pub mod matte;
pub mod nn;
pub mod options;
pub mod pipeline;
pub mod raster;
pub mod render;
pub mod report;
pub mod spec;

#[cfg(test)]
mod test_support;

pub use error::{Error, Result};
pub use face::FaceHint;
pub use options::{Options, DEFAULT_MAX_UPSCALE};
pub use pipeline::{check, process, Output};
pub use report::Report;
pub use spec::Spec;
