//! # idphoto
//!
//! Turns an ordinary phone photo into an ID photo that meets an official specification, and
//! checks any photo against such a specification.

#![warn(missing_docs)]

pub mod check;
pub mod composite;
pub mod decode;
pub mod detect;
pub mod encode;
pub mod error;
pub mod foreground;
pub mod geometry;
pub mod landmarks;
pub mod matte;
pub mod matting_metrics;
pub mod models;
mod nn_ops;
mod nn_pointwise;
mod nn_spatial;
mod nn_strided;
pub mod pipeline;
pub mod raster;
pub mod report;
pub mod spec;
pub mod validate;

#[cfg(test)]
mod test_support;

pub use error::{Error, Result};
pub use pipeline::{check, process, FaceHint, Options, Output};
pub use report::Report;
pub use spec::Spec;
