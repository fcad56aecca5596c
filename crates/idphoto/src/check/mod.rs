//! Checks of a finished photo against a specification.
//!
//! - [`quality`]: the image-quality measures of the face photo (OFIQ / ISO/IEC 29794-5).

pub mod quality;
