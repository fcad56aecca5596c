//! One JPEG encode with jpeg-encoder: baseline, 24-bit YCbCr, JFIF density in dpi, with a
//! chosen chroma subsampling and Huffman table setting ([`Subsampling`], `Config`).

use jpeg_encoder::{ChromaSubsamplingMethod, ColorType, PixelDensity, SamplingFactor};

use crate::error::{Error, Result};

/// Chroma subsampling of an encoded JPEG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subsampling {
    /// No chroma subsampling (largest files, best colour edges).
    S444,
    /// Chroma halved horizontally and vertically (smallest files; the usual choice).
    S420,
    /// Chroma halved horizontally only.
    S422,
}

/// One encoder configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Config {
    pub(super) subsampling: Subsampling,
    pub(super) optimized_huffman: bool,
}

/// The primary configuration: 4:2:0 with the standard Huffman tables. jpeg-encoder writes this
/// as one interleaved baseline scan, the most widely readable layout; with optimised tables it
/// writes one scan per component, which some decoders get wrong (zune-jpeg 0.5.15 decodes such
/// files into green stripes), so optimisation is only a lever for a too-small upper bound.
pub(super) const PRIMARY: Config = Config {
    subsampling: Subsampling::S420,
    optimized_huffman: false,
};

/// The smallest files at a given quality (4:2:0, optimised tables, one scan per component).
pub(super) const SMALLEST: Config = Config {
    subsampling: Subsampling::S420,
    optimized_huffman: true,
};

/// One baseline encode.
pub(super) fn encode_once(
    img: &image::RgbImage,
    dpi: u16,
    quality: u8,
    config: Config,
) -> Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let mut out = Vec::with_capacity(16 * 1024);
    let mut enc = jpeg_encoder::Encoder::new(&mut out, quality.clamp(1, 100));
    enc.set_sampling_factor(match config.subsampling {
        Subsampling::S444 => SamplingFactor::R_4_4_4,
        Subsampling::S420 => SamplingFactor::R_4_2_0,
        Subsampling::S422 => SamplingFactor::R_4_2_2,
    });
    enc.set_chroma_subsampling_method(ChromaSubsamplingMethod::Average);
    enc.set_optimized_huffman_tables(config.optimized_huffman);
    enc.set_progressive(false);
    enc.set_density(PixelDensity::dpi(dpi));
    enc.encode(img.as_raw(), w as u16, h as u16, ColorType::Rgb)
        .map_err(|e| Error::Internal(format!("JPEG encoder: {e}")))?;
    Ok(out)
}
