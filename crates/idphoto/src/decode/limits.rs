//! Resource limits of a decode: [`Limits`], the byte and pixel checks made before any pixel
//! buffer is allocated, and the allocation budget given to the decoders.

use crate::error::{Error, Result};

/// Resource limits applied by [`decode`](crate::decode::decode) before any pixel buffer is
/// allocated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Maximum width x height, as declared by the file header. Default 100 000 000.
    pub max_pixels: u64,
    /// Maximum size of the encoded input in bytes. Default 100 MiB.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_pixels: 100_000_000,
            max_bytes: 100 * 1024 * 1024,
        }
    }
}

pub(super) fn check_bytes(bytes: &[u8], limits: &Limits) -> Result<()> {
    let len = bytes.len() as u64;
    if len > limits.max_bytes {
        return Err(Error::TooManyBytes {
            bytes: len,
            limit: limits.max_bytes,
        });
    }
    Ok(())
}

pub(super) fn check_pixels(width: u32, height: u32, limits: &Limits) -> Result<()> {
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(Error::TooManyPixels {
            width,
            height,
            pixels,
            limit: limits.max_pixels,
        });
    }
    Ok(())
}

/// Upper bound on what the decoder may allocate: an RGBA 16-bit buffer of `max_pixels` plus slack.
pub(super) fn alloc_budget(limits: &Limits) -> u64 {
    limits
        .max_pixels
        .saturating_mul(8)
        .saturating_add(64 * 1024 * 1024)
}
