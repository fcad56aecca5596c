//! Person segmentation: MediaPipe's selfie-segmentation networks on the photo resized to
//! the networks' input (one run, a run and its mirror image, or a three-run ensemble at the
//! photo's aspect ratio), and the person matte of a whole photo for checking.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::guided::guided_upsample;
use crate::error::{Error, Result};
use crate::nn::{Model, Networks, Segmenter};
use crate::raster::{downscale_to, Plane};

/// Side of the segmentation model's square input.
pub const SEG_SIZE: u32 = 256;

/// Runs the segmentation model on `img` (resized, not cropped, to 256x256) and returns the
/// person probability at 256x256.
pub fn segment(nets: &Networks, img: &RgbImage) -> Result<(Plane, RgbImage)> {
    segment_with(nets, img, SegmentFit::Single)
}

/// Which segmentation runs [`segment_with`] averages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentFit {
    /// One run of the general model on the photo squeezed to 256x256 (as [`segment`]):
    /// the fastest (about 12 ms on one core).
    Single,
    /// Test-time augmentation: the mean of the runs on the photo and on its mirror image
    /// (two runs of the general model at 256x256).
    Flip,
    /// Three runs at the photo's own aspect ratio (long side 256, sides multiples of 32):
    /// the general model on the photo and on its mirror image, and MediaPipe's landscape
    /// model, averaged. The models' gross mistakes (a statue or a dark wall taken as the
    /// person, a missed arm) differ, so the mean has fewer: on p3m the contour-band error
    /// after refinement falls by a further ~15 % of the baseline, on the full photos and on
    /// portrait crops like the pipeline's working region (`matting-eval`). About 2.2 times
    /// the time of [`SegmentFit::Single`] for a portrait region. The default.
    #[default]
    Ensemble,
}

impl std::str::FromStr for SegmentFit {
    type Err = String;

    /// `single`, `flip` or `ensemble` (the names of the JSON form).
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim() {
            "single" => Ok(SegmentFit::Single),
            "flip" => Ok(SegmentFit::Flip),
            "ensemble" => Ok(SegmentFit::Ensemble),
            _ => Err(format!("`{s}` is not one of ensemble, flip, single")),
        }
    }
}

fn run_segmenter(nets: &Networks, input: Vec<f32>) -> Result<Vec<f32>> {
    // the size-free plan of the exported size: the same mask (`nn::tests`), its
    // whole-map pools computed by the faster `ChannelMean`
    let side = SEG_SIZE as usize;
    let model = nets.segmenter_at(Segmenter::General, side, side)?;
    run_model(&model, input, side * side)
}

fn run_model(model: &Model, input: Vec<f32>, n: usize) -> Result<Vec<f32>> {
    let out = model.run(input)?;
    let data = out.into_iter().next().unwrap_or_default();
    if data.len() != n {
        return Err(Error::Internal(format!(
            "segmentation output has {} values, expected {n}",
            data.len()
        )));
    }
    Ok(data)
}

/// Mirrors a plane of `ch` interleaved channels and `width` columns left to right.
fn mirror(data: &[f32], width: usize, ch: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for (dst, src) in out
        .chunks_exact_mut(width * ch)
        .zip(data.chunks_exact(width * ch))
    {
        for x in 0..width {
            let (a, b) = (x * ch, (width - 1 - x) * ch);
            dst[a..a + ch].copy_from_slice(&src[b..b + ch]);
        }
    }
    out
}

/// Model input size for `img` at its own aspect ratio: long side 256, the short side
/// rounded to a multiple of 32, at least 96 (a more elongated photo is squeezed).
pub fn aspect_input_size(width: u32, height: u32) -> (u32, u32) {
    let (long, short) = (width.max(height).max(1) as f64, width.min(height) as f64);
    let s = ((SEG_SIZE as f64 * short / long / 32.0).round() as u32 * 32).clamp(96, SEG_SIZE);
    if width >= height {
        (SEG_SIZE, s)
    } else {
        (s, SEG_SIZE)
    }
}

/// [`segment`] with a choice of runs. Returns the person probability and the photo resized
/// to the mask's size (256x256, or the aspect-preserving size of `aspect_input_size` for
/// [`SegmentFit::Ensemble`]); [`refine`](crate::matte::refine()) takes both.
pub fn segment_with(nets: &Networks, img: &RgbImage, fit: SegmentFit) -> Result<(Plane, RgbImage)> {
    if img.width() == 0 || img.height() == 0 {
        return Err(Error::Internal("segment: empty image".into()));
    }
    let (w, h) = match fit {
        SegmentFit::Ensemble => aspect_input_size(img.width(), img.height()),
        _ => (SEG_SIZE, SEG_SIZE),
    };
    let small = downscale_to(img, w, h)?;
    let input: Vec<f32> = small.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
    let (wu, hu) = (w as usize, h as usize);
    let n = wu * hu;
    let data = match fit {
        SegmentFit::Single => run_segmenter(nets, input)?,
        SegmentFit::Flip => {
            let other = mirror(&run_segmenter(nets, mirror(&input, wu, 3))?, wu, 1);
            let mut data = run_segmenter(nets, input)?;
            for (d, o) in data.iter_mut().zip(&other) {
                *d = 0.5 * (*d + o);
            }
            data
        }
        SegmentFit::Ensemble => {
            let general = nets.segmenter_at(Segmenter::General, wu, hu)?;
            let landscape = nets.segmenter_at(Segmenter::Landscape, wu, hu)?;
            let other = mirror(&run_model(&general, mirror(&input, wu, 3), n)?, wu, 1);
            let third = run_model(&landscape, input.clone(), n)?;
            let mut data = run_model(&general, input, n)?;
            for ((d, o), t) in data.iter_mut().zip(&other).zip(&third) {
                *d = (*d + o + t) * (1.0 / 3.0);
            }
            data
        }
    };
    Ok((
        Plane {
            width: w,
            height: h,
            data,
        },
        small,
    ))
}

/// Person matte of `img` at its own resolution: segmentation, then guided upsampling.
pub fn person_matte(nets: &Networks, img: &RgbImage) -> Result<Plane> {
    let (mask, small) = segment(nets, img)?;
    guided_upsample(img, &small, &mask, 4, 1e-3)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matte::options::RefineOptions;
    use crate::matte::refine::refine;

    #[test]
    fn mirror_reverses_rows_and_keeps_channels() {
        // 3x3, two channels: value = 10 * x + channel, plus 100 * y
        let data: Vec<f32> = (0..3)
            .flat_map(|y| {
                (0..3).flat_map(move |x| (0..2).map(move |c| (100 * y + 10 * x + c) as f32))
            })
            .collect();
        let m = mirror(&data, 3, 2);
        assert_eq!(&m[..6], &[20.0, 21.0, 10.0, 11.0, 0.0, 1.0]);
        assert_eq!(&m[12..14], &[220.0, 221.0]);
        assert_eq!(mirror(&m, 3, 2), data);
    }

    #[test]
    fn flip_segmentation_is_mirror_symmetric() {
        // a person-like figure left of centre; its mirror image must get the mirrored mask
        let img = RgbImage::from_fn(200, 240, |x, y| {
            let (dx, dy) = (x as f32 - 80.0, y as f32 - 90.0);
            let head = dx * dx / 900.0 + dy * dy / 1600.0 < 1.0;
            let body = y > 140 && (x as f32 - 80.0).abs() < 60.0 + (y as f32 - 140.0) * 0.3;
            if head {
                image::Rgb([200, 150, 120])
            } else if body {
                image::Rgb([40, 60, 120])
            } else {
                image::Rgb([225, 225, 220])
            }
        });
        let mirrored = image::imageops::flip_horizontal(&img);
        let (a, _) = segment_with(crate::nn::tests::nets(), &img, SegmentFit::Flip).unwrap();
        let (b, _) = segment_with(crate::nn::tests::nets(), &mirrored, SegmentFit::Flip).unwrap();
        let s = SEG_SIZE as usize;
        let b_back = mirror(&b.data, s, 1);
        let max_diff = a
            .data
            .iter()
            .zip(&b_back)
            .map(|(p, q)| (p - q).abs())
            .fold(0f32, f32::max);
        assert!(max_diff < 1e-4, "max diff {max_diff}");
        // one run alone is not symmetric in general, but it is what `segment` returns
        let (single, _) = segment(crate::nn::tests::nets(), &img).unwrap();
        let (single2, _) =
            segment_with(crate::nn::tests::nets(), &img, SegmentFit::Single).unwrap();
        assert_eq!(single.data, single2.data);
        assert!(segment_with(
            crate::nn::tests::nets(),
            &RgbImage::new(0, 0),
            SegmentFit::Flip
        )
        .is_err());
    }

    #[test]
    fn segment_fit_names() {
        for fit in [SegmentFit::Single, SegmentFit::Flip, SegmentFit::Ensemble] {
            let json = serde_json::to_string(&fit).unwrap();
            assert_eq!(json.trim_matches('"').parse::<SegmentFit>(), Ok(fit));
        }
        assert!("fast".parse::<SegmentFit>().is_err());
    }

    #[test]
    fn aspect_input_sizes() {
        assert_eq!(aspect_input_size(444, 617), (192, 256));
        assert_eq!(aspect_input_size(1620, 1080), (256, 160));
        assert_eq!(aspect_input_size(1000, 1000), (256, 256));
        assert_eq!(aspect_input_size(3000, 100), (256, 96));
        assert_eq!(aspect_input_size(1, 1), (256, 256));
        for (w, h) in [(5, 7), (700, 500), (99, 1000)] {
            let (a, b) = aspect_input_size(w, h);
            assert!(a % 32 == 0 && b % 32 == 0 && a.max(b) == SEG_SIZE);
        }
    }

    #[test]
    fn ensemble_segments_a_real_portrait_at_its_aspect() {
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/photos/obama.jpg"
        ))
        .unwrap()
        .to_rgb8();
        let (mask, small) =
            segment_with(crate::nn::tests::nets(), &img, SegmentFit::Ensemble).unwrap();
        assert_eq!((mask.width, mask.height), aspect_input_size(910, 1137));
        assert_eq!(small.dimensions(), (mask.width, mask.height));
        let at = |fx: f32, fy: f32| {
            let (x, y) = (
                (fx * mask.width as f32) as u32,
                (fy * mask.height as f32) as u32,
            );
            mask.data[(y * mask.width + x) as usize]
        };
        // face and chest are person, the upper corners are the wall
        assert!(at(0.5, 0.4) > 0.9 && at(0.5, 0.9) > 0.9);
        assert!(at(0.05, 0.05) < 0.1 && at(0.95, 0.05) < 0.1);
        // and refinement takes the mask at that size
        let alpha = refine(&img, &mask, &small, &RefineOptions::default()).unwrap();
        assert_eq!((alpha.width, alpha.height), (910, 1137));
    }
}
