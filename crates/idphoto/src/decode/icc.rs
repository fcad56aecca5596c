//! Colour management: what happened to an embedded ICC profile ([`IccStatus`]), converting
//! pixels from the profile to sRGB with moxcms, and recognising profiles equivalent to sRGB.

use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

/// What happened to the embedded ICC profile during [`decode`](crate::decode::decode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IccStatus {
    /// The file has no ICC profile; its pixels are taken as sRGB.
    None,
    /// The file has a profile that is equivalent to sRGB (within one 8-bit step); pixels kept.
    Srgb,
    /// The pixels were converted from the embedded profile to sRGB.
    Converted,
    /// The profile could not be used (unparseable, or it does not match the pixel data); the
    /// pixels were kept as they are. The string says why.
    Unsupported(String),
}

/// Convert `pixels` (RGB or RGBA, 8-bit, interleaved; grey already expanded) from `profile` to
/// sRGB in place. Never fails: problems are reported as [`IccStatus::Unsupported`].
pub(super) fn apply_icc(
    profile: &ColorProfile,
    pixels: &mut [u8],
    bpp: usize,
    is_grey: bool,
) -> IccStatus {
    let srgb = ColorProfile::new_srgb();
    let options = TransformOptions::default();
    match profile.color_space {
        DataColorSpace::Gray => {
            if !is_grey {
                return IccStatus::Unsupported("grey ICC profile on a colour image".into());
            }
            // Build a 256-entry lookup table grey -> sRGB grey (R=G=B for a neutral axis).
            let t = match profile.create_transform_8bit(Layout::Gray, &srgb, Layout::Rgb, options) {
                Ok(t) => t,
                Err(e) => return IccStatus::Unsupported(format!("grey profile: {e:?}")),
            };
            let src: Vec<u8> = (0..=255u8).collect();
            let mut dst = vec![0u8; 256 * 3];
            if let Err(e) = t.transform(&src, &mut dst) {
                return IccStatus::Unsupported(format!("grey profile: {e:?}"));
            }
            let lut: Vec<[u8; 3]> = dst.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect();
            if lut
                .iter()
                .enumerate()
                .all(|(i, c)| c.iter().all(|&v| (i32::from(v) - i as i32).abs() <= 1))
            {
                return IccStatus::Srgb;
            }
            for px in pixels.chunks_exact_mut(bpp) {
                let m = lut[px[0] as usize];
                px[..3].copy_from_slice(&m);
            }
            IccStatus::Converted
        }
        DataColorSpace::Rgb => {
            let layout = if bpp == 4 { Layout::Rgba } else { Layout::Rgb };
            let t = match profile.create_transform_8bit(layout, &srgb, layout, options) {
                Ok(t) => t,
                Err(e) => return IccStatus::Unsupported(format!("RGB profile: {e:?}")),
            };
            match is_srgb_equivalent(profile) {
                Some(true) => return IccStatus::Srgb,
                Some(false) => {}
                None => {
                    return IccStatus::Unsupported("RGB profile: probe transform failed".into())
                }
            }
            const CHUNK_PIXELS: usize = 16 * 1024;
            let mut scratch = vec![0u8; CHUNK_PIXELS * bpp];
            for chunk in pixels.chunks_mut(CHUNK_PIXELS * bpp) {
                let src = &mut scratch[..chunk.len()];
                src.copy_from_slice(chunk);
                if let Err(e) = t.transform(src, chunk) {
                    // Restore this chunk; earlier chunks are already converted, which cannot
                    // happen for a transform that worked on the first chunk (same sizes).
                    chunk.copy_from_slice(src);
                    return IccStatus::Unsupported(format!("RGB transform: {e:?}"));
                }
            }
            IccStatus::Converted
        }
        other => IccStatus::Unsupported(format!(
            "{other:?} ICC profile on an RGB/grey image is not supported"
        )),
    }
}

/// Whether an RGB profile maps a 9x9x9 grid of colours to sRGB within one 8-bit step.
/// `None` if moxcms cannot build the transform.
pub(super) fn is_srgb_equivalent(profile: &ColorProfile) -> Option<bool> {
    let srgb = ColorProfile::new_srgb();
    let t = profile
        .create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
        .ok()?;
    let steps: Vec<u8> = (0..9).map(|i| (i * 255 / 8) as u8).collect();
    let mut src = Vec::with_capacity(9 * 9 * 9 * 3);
    for &r in &steps {
        for &g in &steps {
            for &b in &steps {
                src.extend_from_slice(&[r, g, b]);
            }
        }
    }
    let mut dst = vec![0u8; src.len()];
    t.transform(&src, &mut dst).ok()?;
    Some(
        src.iter()
            .zip(&dst)
            .all(|(&a, &b)| (i32::from(a) - i32::from(b)).abs() <= 1),
    )
}
