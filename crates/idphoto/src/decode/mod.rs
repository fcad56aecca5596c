//! Decoding of user photos (JPEG, PNG, WebP) into 8-bit sRGB, and inspection of image files.
//!
//! [`decode`] is the entry point for photos to be processed. It
//!
//! * refuses oversized inputs before any pixel buffer is allocated ([`Limits`]),
//! * applies the EXIF orientation (all 8 values; a broken EXIF block counts as "no rotation"),
//! * converts embedded ICC profiles (Display P3 from iPhones, Adobe RGB, ...) to sRGB,
//! * expands grey, 16-bit and alpha images to 8-bit RGB; **transparent areas become white**
//!   (alpha is composited onto a white background, which is what ID photos need),
//! * never panics: corrupt input yields [`Error::Decode`](crate::Error::Decode).
//!
//! [`inspect`] reads only the headers of a file made elsewhere (dimensions, density/DPI,
//! progressive or baseline, ICC, ...) so that it can be validated against a specification.
//!
//! Files: `limits.rs` (resource limits), `format.rs` (magic bytes), `guard.rs` (panics become
//! errors), `pixels.rs` ([`decode`], `decode_reduced`), `jpeg.rs` (JPEG decoders, reduced
//! decode), `png_reduced.rs` (PNG reduced row by row), `markers.rs` (JPEG marker walk),
//! `scans.rs` (strict check of the compressed data: every block of every scan
//! Huffman-decoded, restart markers, completeness), with `entropy.rs` (bit reader, Huffman
//! tables) and `coefficients.rs` (one block's coefficients), `orientation.rs` (EXIF
//! orientation), `icc.rs` (ICC to sRGB), `inspect.rs` ([`inspect`] and its header parsers).

mod coefficients;
mod entropy;
mod format;
mod guard;
pub(crate) mod icc;
mod inspect;
mod jpeg;
mod limits;
mod markers;
mod orientation;
pub(crate) mod pixels;
mod png_reduced;
mod raw;
mod scans;
#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

pub use format::{detect_format, SourceFormat};
pub use inspect::{inspect, Density, DensitySource, FileInfo};
pub(crate) use jpeg::jpeg_frame_size;
pub use limits::Limits;
pub(crate) use png_reduced::png_frame_size;
// `decode` is `decode_reduced` at 1: the library decodes through that, tests through this
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use pixels::{decode, decode_reduced};
pub use raw::{PixelFormat, RawImage};
