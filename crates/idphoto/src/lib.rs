//! # idphoto
//!
//! Turns an ordinary phone photo into an ID photo that meets an official specification (China's
//! resident ID card, passports, visas, exam sign-ups...), and checks any photo against such a
//! specification.
//!
//! [`Engine::process`] finds the face, replaces the background with a colour the spec allows,
//! crops and scales the head to the spec's geometry, resizes to the exact pixel size, writes
//! the DPI and encodes a JPEG inside the spec's file-size window; then it measures the output
//! again and returns a [`Report`] with one [`RuleResult`] per rule, each with a message in
//! Chinese and English saying what to fix. [`Engine::check`] measures any photo the same way.
//! Specs are data: the built-in presets ([`spec::presets`]) or a JSON document
//! ([`Spec::from_json`]).
//!
//! ```
//! use idphoto::{spec::presets, Engine, Options, Status};
//!
//! # fn main() -> idphoto::Result<()> {
//! // once per program: loads the networks; share it between threads
//! let engine = Engine::new()?;
//! # let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/photos/obama.jpg");
//! let photo = std::fs::read(path).expect("a photo");
//! let spec = presets::get("cn-id-card")?;
//! let opts = Options::from_json(r#"{"background": "white"}"#)?;
//! let out = engine.process(&photo, &spec, &opts)?;
//! assert_eq!((out.width, out.height), (358, 441));
//! for rule in &out.report.rules {
//!     if rule.status == Status::Fail {
//!         println!("{}: {}", rule.code, rule.message_en);
//!     }
//! }
//! // out.jpeg holds the file; a photo made elsewhere is checked the same way
//! let report = engine.check(&out.jpeg, &spec)?;
//! println!("{}", report.to_table());
//! # Ok(())
//! # }
//! ```
//!
//! Errors are [`Error`] values with a stable string code ([`Error::code`]) and number
//! ([`Error::numeric_code`]); bad input never panics.

#![warn(missing_docs)]

mod check;
pub mod decode;
mod encode;
mod engine;
mod error;
mod face;
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

pub use decode::{PixelFormat, RawImage};
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
