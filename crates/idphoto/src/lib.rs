//! # idphoto
//!
//! Turns an ordinary phone photo into an ID photo that meets an official specification, and
//! checks any photo against such a specification.

#![warn(missing_docs)]

pub mod decode;
pub mod encode;
pub mod error;
pub mod spec;

pub use error::{Error, Result};
pub use spec::Spec;
