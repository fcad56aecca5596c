//! Person mask and its refinement: the selfie-segmentation model's 256x256 probability map,
//! upsampled to the working resolution with a colour-guided fast guided filter
//! (He and Sun 2015, arXiv 1505.00996) so that the matte's edges follow the photo.

use image::RgbImage;

use crate::error::{Error, Result};
use crate::nn;
use crate::raster::{downscale_to, Plane};
use serde::{Deserialize, Serialize};

/// Side of the segmentation model's square input.
pub const SEG_SIZE: u32 = 256;

/// Runs the segmentation model on `img` (resized, not cropped, to 256x256) and returns the
/// person probability at 256x256.
pub fn segment(img: &RgbImage) -> Result<(Plane, RgbImage)> {
    segment_with(img, SegmentFit::Single)
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

fn run_segmenter(input: Vec<f32>) -> Result<Vec<f32>> {
    // the size-free plan of the exported size: the same mask (`nn::tests`), its
    // whole-map pools computed by the faster `ChannelMean`
    let side = SEG_SIZE as usize;
    let model = nn::default_networks()?.segmenter_at(nn::Segmenter::General, side, side)?;
    run_model(&model, input, side * side)
}

fn run_model(model: &nn::Model, input: Vec<f32>, n: usize) -> Result<Vec<f32>> {
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
/// [`SegmentFit::Ensemble`]); [`refine`] takes both.
pub fn segment_with(img: &RgbImage, fit: SegmentFit) -> Result<(Plane, RgbImage)> {
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
        SegmentFit::Single => run_segmenter(input)?,
        SegmentFit::Flip => {
            let other = mirror(&run_segmenter(mirror(&input, wu, 3))?, wu, 1);
            let mut data = run_segmenter(input)?;
            for (d, o) in data.iter_mut().zip(&other) {
                *d = 0.5 * (*d + o);
            }
            data
        }
        SegmentFit::Ensemble => {
            use nn::Segmenter::{General, Landscape};
            let networks = nn::default_networks()?;
            let general = networks.segmenter_at(General, wu, hu)?;
            let landscape = networks.segmenter_at(Landscape, wu, hu)?;
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

/// Box mean with radius `r` (window (2r+1)^2, clipped at the borders) via running sums.
pub fn box_mean(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.width as usize, p.height as usize);
    let mut tmp = vec![0f32; w * h];
    // horizontal pass, four rows at a time: the running sum of one row is a chain of
    // dependent additions, four independent chains keep the FPU busy
    const K: usize = 4;
    let mut y = 0;
    while y < h {
        let k = K.min(h - y);
        let mut acc = [0f32; K];
        for (j, a) in acc.iter_mut().enumerate() {
            let yy = y + j.min(k - 1);
            *a = p.data[yy * w..yy * w + r.min(w - 1) + 1].iter().sum();
        }
        let mut cnt = r.min(w - 1) + 1;
        // rows past the last one repeat it (computed, never stored)
        let rows: [&[f32]; K] = std::array::from_fn(|j| {
            let yy = y + j.min(k - 1);
            &p.data[yy * w..(yy + 1) * w]
        });
        for x in 0..w {
            let n = cnt as f32;
            let add = x + r + 1;
            let mut out = [0f32; K];
            for j in 0..K {
                out[j] = acc[j] / n;
                if add < w {
                    acc[j] += rows[j][add];
                }
                if x >= r {
                    acc[j] -= rows[j][x - r];
                }
            }
            for (j, v) in out.iter().enumerate().take(k) {
                tmp[(y + j) * w + x] = *v;
            }
            if add < w {
                cnt += 1;
            }
            if x >= r {
                cnt -= 1;
            }
        }
        y += k;
    }
    // vertical pass
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f32; w];
    let mut cnt = 0usize;
    for y in 0..=r.min(h - 1) {
        for x in 0..w {
            acc[x] += tmp[y * w + x];
        }
        cnt += 1;
    }
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = acc[x] / cnt as f32;
        }
        let add = y + r + 1;
        if add < h {
            for x in 0..w {
                acc[x] += tmp[add * w + x];
            }
            cnt += 1;
        }
        if y >= r {
            for x in 0..w {
                acc[x] -= tmp[(y - r) * w + x];
            }
            cnt -= 1;
        }
    }
    Plane {
        width: p.width,
        height: p.height,
        data: out,
    }
}

/// [`box_mean`] of `C` interleaved channels (`row[x * C + c]`), the channels side by side in
/// every operation (the same running sums per channel, the same values), over rows made on
/// demand and handed on when ready: `row_in(y, row)` fills input row `y` (called once per
/// row, in order), `row_out(y, row)` receives the means of row `y` (in order). Only 2r + 2 filtered rows are kept, so a many-channel filter
/// stays in the cache and needs no whole-image buffers.
pub fn box_mean_streamed<const C: usize>(
    (w, h, r): (usize, usize, usize),
    mut row_in: impl FnMut(usize, &mut [f32]),
    mut row_out: impl FnMut(usize, &[f32]),
) {
    let rw = w * C;
    if rw == 0 || h == 0 {
        return;
    }
    let slots = 2 * r + 2;
    let mut ring = vec![0f32; rw * slots.min(h)];
    let mut input = vec![0f32; rw];
    // the horizontal running sums of input row `y` into its ring slot
    let mut filter_row = |y: usize, ring: &mut [f32]| {
        row_in(y, &mut input);
        let slot = y % slots;
        let out = &mut ring[slot * rw..(slot + 1) * rw];
        let mut acc = [0f32; C];
        for px in input[..(r.min(w - 1) + 1) * C].chunks_exact(C) {
            for c in 0..C {
                acc[c] += px[c];
            }
        }
        let mut cnt = r.min(w - 1) + 1;
        for x in 0..w {
            // a division, as `box_mean`: the same values to the bit
            let n = cnt as f32;
            let o = &mut out[x * C..x * C + C];
            for c in 0..C {
                o[c] = acc[c] / n;
            }
            if x + r + 1 < w {
                let add = &input[(x + r + 1) * C..(x + r + 2) * C];
                for c in 0..C {
                    acc[c] += add[c];
                }
                cnt += 1;
            }
            if x >= r {
                let sub = &input[(x - r) * C..(x - r + 1) * C];
                for c in 0..C {
                    acc[c] -= sub[c];
                }
                cnt -= 1;
            }
        }
    };
    // the vertical running sums over the ring
    let slot = |y: usize| (y % slots) * rw;
    let mut acc = vec![0f32; rw];
    let mut out = vec![0f32; rw];
    for y in 0..=r.min(h - 1) {
        filter_row(y, &mut ring);
        let row = &ring[slot(y)..slot(y) + rw];
        acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
    }
    let mut cnt = r.min(h - 1) + 1;
    for y in 0..h {
        let n = cnt as f32;
        out.iter_mut().zip(&acc).for_each(|(o, a)| *o = a / n);
        row_out(y, &out);
        if y + r + 1 < h {
            filter_row(y + r + 1, &mut ring);
            let row = &ring[slot(y + r + 1)..slot(y + r + 1) + rw];
            acc.iter_mut().zip(row).for_each(|(a, v)| *a += v);
            cnt += 1;
        }
        if y >= r {
            let row = &ring[slot(y - r)..slot(y - r) + rw];
            acc.iter_mut().zip(row).for_each(|(a, v)| *a -= v);
            cnt -= 1;
        }
    }
}

/// Colour guided filter coefficients: for each pixel, `q = a . I + b` fitted to `p` in a
/// (2r+1)^2 window with regulariser `eps`. Returns (a_r, a_g, a_b, b), box-averaged; zeros
/// when `guide` and `p` differ in size (the callers check sizes first).
pub fn guided_coefficients(guide: &RgbImage, p: &Plane, r: usize, eps: f32) -> [Plane; 4] {
    let (w, h) = (p.width, p.height);
    let n = p.data.len();
    let mut out: [Plane; 4] = std::array::from_fn(|_| Plane::filled(w, h, 0.0));
    if guide.dimensions() != (w, h) || n != (w * h) as usize || n == 0 {
        return out;
    }
    let (wu, hu) = (w as usize, h as usize);
    let raw = guide.as_raw();
    // per pixel: I (3), p, I * p (3), the six products I_a * I_b; one box mean for all
    const K: usize = 13;
    let products = |y: usize, row: &mut [f32]| {
        let px = raw[y * wu * 3..(y + 1) * wu * 3].chunks_exact(3);
        for ((px, &pv), o) in px
            .zip(&p.data[y * wu..(y + 1) * wu])
            .zip(row.chunks_exact_mut(K))
        {
            let i = [
                px[0] as f32 / 255.0,
                px[1] as f32 / 255.0,
                px[2] as f32 / 255.0,
            ];
            o.copy_from_slice(&[
                i[0],
                i[1],
                i[2],
                pv,
                i[0] * pv,
                i[1] * pv,
                i[2] * pv,
                i[0] * i[0],
                i[0] * i[1],
                i[0] * i[2],
                i[1] * i[1],
                i[1] * i[2],
                i[2] * i[2],
            ]);
        }
    };
    // the coefficients (a_r, a_g, a_b, b) of each pixel, interleaved
    let mut coef = vec![0f32; n * 4];
    let solve = |y: usize, means: &[f32]| {
        let row = &mut coef[y * wu * 4..(y + 1) * wu * 4];
        for (m, out) in means.chunks_exact(K).zip(row.chunks_exact_mut(4)) {
            let mi = [m[0], m[1], m[2]];
            let mp = m[3];
            let c = [m[4] - mi[0] * mp, m[5] - mi[1] * mp, m[6] - mi[2] * mp];
            let s00 = m[7] - mi[0] * mi[0] + eps;
            let s01 = m[8] - mi[0] * mi[1];
            let s02 = m[9] - mi[0] * mi[2];
            let s11 = m[10] - mi[1] * mi[1] + eps;
            let s12 = m[11] - mi[1] * mi[2];
            let s22 = m[12] - mi[2] * mi[2] + eps;
            // inverse of the symmetric 3x3 matrix
            let i00 = s11 * s22 - s12 * s12;
            let i01 = s02 * s12 - s01 * s22;
            let i02 = s01 * s12 - s02 * s11;
            let i11 = s00 * s22 - s02 * s02;
            let i12 = s01 * s02 - s00 * s12;
            let i22 = s00 * s11 - s01 * s01;
            let det = s00 * i00 + s01 * i01 + s02 * i02;
            let inv = if det.abs() > 1e-12 { 1.0 / det } else { 0.0 };
            let a0 = (i00 * c[0] + i01 * c[1] + i02 * c[2]) * inv;
            let a1 = (i01 * c[0] + i11 * c[1] + i12 * c[2]) * inv;
            let a2 = (i02 * c[0] + i12 * c[1] + i22 * c[2]) * inv;
            out.copy_from_slice(&[a0, a1, a2, mp - a0 * mi[0] - a1 * mi[1] - a2 * mi[2]]);
        }
    };
    box_mean_streamed::<K>((wu, hu, r), products, solve);
    // the coefficients box-averaged, into four planes
    let rw = wu * 4;
    box_mean_streamed::<4>(
        (wu, hu, r),
        |y, row| row.copy_from_slice(&coef[y * rw..(y + 1) * rw]),
        |y, means| {
            for (x, m) in means.chunks_exact(4).enumerate() {
                for (k, plane) in out.iter_mut().enumerate() {
                    plane.data[y * wu + x] = m[k];
                }
            }
        },
    );
    out
}

/// Fast guided filter upsampling: coefficients computed at low resolution (`guide_low`, `p`
/// of the same size), bilinearly upsampled and applied to the full-resolution `guide`.
pub fn guided_upsample(
    guide: &RgbImage,
    guide_low: &RgbImage,
    p: &Plane,
    r: usize,
    eps: f32,
) -> Result<Plane> {
    let coef = guided_coefficients(guide_low, p, r, eps);
    let (w, h) = guide.dimensions();
    let up: Vec<Plane> = coef.iter().map(|c| c.resize(w, h)).collect::<Result<_>>()?;
    let mut out = Plane::filled(w, h, 0.0);
    for (k, px) in guide.as_raw().chunks_exact(3).enumerate() {
        let v = up[0].data[k] * px[0] as f32 / 255.0
            + up[1].data[k] * px[1] as f32 / 255.0
            + up[2].data[k] * px[2] as f32 / 255.0
            + up[3].data[k];
        out.data[k] = v.clamp(0.0, 1.0);
    }
    Ok(out)
}

/// Person matte of `img` at its own resolution: segmentation, then guided upsampling.
pub fn person_matte(img: &RgbImage) -> Result<Plane> {
    let (mask, small) = segment(img)?;
    guided_upsample(img, &small, &mask, 4, 1e-3)
}

/// Parameters of [`refine`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineOptions {
    /// Radius of the low-resolution guided filter (mask pixels).
    pub radius: usize,
    /// Regulariser of the guided filter.
    pub eps: f32,
    /// Half-width of the uncertain band on the person's side of the contour, in mask pixels
    /// (one mask pixel = the image's long side / 256).
    pub band_inner: f32,
    /// Half-width of the uncertain band on the background's side, in mask pixels.
    pub band_outer: f32,
    /// Extra outer band width when the background is plain (mask pixels): fine hair far from
    /// the model's contour is recovered from the known wall colour.
    pub band_outer_plain: f32,
    /// Extra inner band width when the background is plain (mask pixels): background seen
    /// through gaps in the hair is found by its colour.
    pub band_inner_plain: f32,
    /// Slope applied to the guided filter's alpha around 0.5 where colour gives no evidence
    /// (1 = unchanged; larger = crisper edge).
    pub sharpen: f32,
    /// Colour distance (0..1 RGB) between the local person and background colours below
    /// which the colour model is not trusted at all.
    pub min_contrast: f32,
    /// How many local standard deviations of the two colours the distance must exceed.
    pub spread: f32,
    /// Alpha below this becomes 0 and above `1 - clip` becomes 1 (noise suppression), on a
    /// plain wall.
    pub clip: f32,
    /// The same on other backgrounds, where faint alpha is mostly background texture taken
    /// for hair.
    pub clip_busy: f32,
    /// Soft edge: radius in pixels of a final blur of the alpha (0 = none).
    pub feather: f32,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions {
            // 6 lowers the p3m band SAD by about one point (`--sweep`), but with it the crown
            // that `check` measures on a face pasted at the corner of a large canvas lies 5 px
            // above the planned one (tests/canvas_geometry.rs, cn-driver-license): 4 kept
            radius: 4,
            band_inner: 1.5,
            band_outer: 2.5,
            band_outer_plain: 4.0,
            band_inner_plain: 2.0,
            sharpen: 2.0,
            eps: 1e-4,
            min_contrast: 0.03,
            // 0.25 lowers the p3m band SAD a little more (`--sweep`), but together with
            // radius 6 the crown moves by more than a pixel between a full and a reduced
            // decode (pipeline test small_face_in_a_large_photo_is_decoded_finer)
            spread: 0.5,
            clip: 0.05,
            // 0.15: lower p3m band SAD than 0.05 / 0.1 (`matting-eval --sweep`), and no faint
            // remnants of a busy background around the hair
            clip_busy: 0.15,
            // 1 px: lowest p3m contour-band SAD and gradient error of 0, 1 and 2 px
            // (`matting-eval`)
            feather: 1.0,
        }
    }
}

/// What the refinement learned about the photo.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MatteInfo {
    /// The background is a near-uniform wall; its mean colour (sRGB).
    pub plain_background: Option<[u8; 3]>,
    /// Share of background pixels next to the person that differ clearly from the local
    /// mean background colour (texture, objects): 0 plain .. 1 busy.
    pub background_clutter: f32,
    /// Share of the lower (clothing) contour where person and background colours are too
    /// close to separate by colour.
    pub low_contrast_clothing: f32,
}

impl MatteInfo {
    /// The background is too busy to separate the person reliably.
    pub fn cluttered(&self) -> bool {
        self.background_clutter > 0.35
    }
    /// The clothing is close to the background colour.
    pub fn clothing_like_background(&self) -> bool {
        self.low_contrast_clothing > 0.3
    }
}

impl MatteInfo {
    /// Report notices (warnings) for what the refinement found.
    pub fn notices(&self) -> Vec<crate::report::Notice> {
        let mut out = Vec::new();
        if self.cluttered() {
            out.push(crate::report::Notice::new(
                "background.cluttered",
                "背景杂乱, 人像边缘可能分离不准确; 请在纯色墙前重拍",
                "the background is too cluttered to separate the person reliably: retake in front of a plain wall",
            ));
        }
        if self.clothing_like_background() {
            out.push(crate::report::Notice::new(
                "clothing.like_background",
                "衣服颜色与背景接近, 边缘可能不准确",
                "the clothing is close to the background colour: its outline may be inaccurate",
            ));
        }
        out
    }
}

/// Pull-push fill: `data` holds `C` weighted values per pixel (premultiplied by `wt`). Returns
/// per-pixel values where known pixels keep theirs and unknown ones take a smooth blend of the
/// nearest known ones (coarse-to-fine).
pub(crate) fn push_pull<const C: usize>(data: &[f32], wt: &[f32], w: usize, h: usize) -> Vec<f32> {
    let n = w * h;
    let mut val = vec![0f32; n * C];
    let mut a = vec![0f32; n];
    for i in 0..n {
        if wt[i] > 1e-8 {
            let inv = 1.0 / wt[i];
            for c in 0..C {
                val[i * C + c] = data[i * C + c] * inv;
            }
            a[i] = wt[i].min(1.0);
        }
    }
    if w <= 1 && h <= 1 {
        return val;
    }
    let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
    let mut d2 = vec![0f32; w2 * h2 * C];
    let mut wt2 = vec![0f32; w2 * h2];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if a[i] == 0.0 {
                continue;
            }
            let j = (y / 2) * w2 + x / 2;
            wt2[j] += a[i];
            for c in 0..C {
                d2[j * C + c] += a[i] * val[i * C + c];
            }
        }
    }
    let coarse = push_pull::<C>(&d2, &wt2, w2, h2);
    // bilinear taps of each column (non-negative after the clamp: truncation is floor)
    let cols: Vec<(usize, usize, f32)> = (0..w)
        .map(|x| {
            let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (w2 - 1) as f32);
            let x0 = fx as usize;
            (x0, (x0 + 1).min(w2 - 1), fx - x0 as f32)
        })
        .collect();
    for y in 0..h {
        let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (h2 - 1) as f32);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(h2 - 1);
        let ty = fy - y0 as f32;
        let r0 = &coarse[y0 * w2 * C..(y0 + 1) * w2 * C];
        let r1 = &coarse[y1 * w2 * C..(y1 + 1) * w2 * C];
        for (x, &(x0, x1, tx)) in cols.iter().enumerate() {
            let i = y * w + x;
            let ai = a[i];
            if ai >= 1.0 {
                continue;
            }
            let (p00, p01) = (&r0[x0 * C..x0 * C + C], &r0[x1 * C..x1 * C + C]);
            let (p10, p11) = (&r1[x0 * C..x0 * C + C], &r1[x1 * C..x1 * C + C]);
            let v = &mut val[i * C..i * C + C];
            for c in 0..C {
                let up = (p00[c] * (1.0 - tx) + p01[c] * tx) * (1.0 - ty)
                    + (p10[c] * (1.0 - tx) + p11[c] * tx) * ty;
                v[c] = ai * v[c] + (1.0 - ai) * up;
            }
        }
    }
    val
}

/// The 4-connected neighbours of pixel `i` in a `w` x `h` grid.
fn neighbours4(i: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % w, i / w);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < w).then(|| i + 1),
        (y > 0).then(|| i - w),
        (y + 1 < h).then(|| i + w),
    ]
    .into_iter()
    .flatten()
}

/// Labels of 4-connected components of `on`; returns (labels, sizes) with label 0 = off.
fn components(on: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<usize>) {
    let mut label = vec![0u32; on.len()];
    let mut sizes = vec![0usize];
    let mut stack = Vec::new();
    for s in 0..on.len() {
        if !on[s] || label[s] != 0 {
            continue;
        }
        let l = sizes.len() as u32;
        let mut size = 0;
        label[s] = l;
        stack.push(s);
        while let Some(i) = stack.pop() {
            size += 1;
            for j in neighbours4(i, w, h) {
                if on[j] && label[j] == 0 {
                    label[j] = l;
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    (label, sizes)
}

/// Mask value above which a pixel is surely a person in [`keep_subject`].
const CORE: f32 = 0.95;

/// Removes from the segmentation mask other people beside the subject's head. The mask's sure
/// regions (probability >= 0.95: every run of [`SegmentFit::Ensemble`] agrees) are split into
/// connected cores; the core at `seed` (the subject's eye midpoint, in mask pixels) is the
/// subject. Another core is another person (a head in the crowd behind) when it is at least
/// 2 % of the subject's size, reaches above the eye line and has its centre more than one
/// `face_width` (mask pixels) to the side of the eyes: the subject's own shoulders start
/// below the chin and their hair is centred on the head. The pixels of the mask that are
/// closer, along the mask, to such a core than to any other are cleared, so a neighbour
/// touching the subject through a band of uncertain mask (the average of several runs
/// blurs such gaps) is cut off at that band. Returns how many pixels were cleared; the mask
/// is unchanged when `seed` is not inside a core or there is no other person.
pub fn keep_subject(mask: &mut Plane, seed: (f32, f32), face_width: f32) -> usize {
    let (w, h) = (mask.width as usize, mask.height as usize);
    if w == 0 || h == 0 || !(seed.0.is_finite() && seed.1.is_finite()) {
        return 0;
    }
    let (sx, sy) = (seed.0.round(), seed.1.round());
    if sx < 0.0 || sy < 0.0 || sx >= w as f32 || sy >= h as f32 {
        return 0;
    }
    let on: Vec<bool> = mask.data.iter().map(|&v| v >= CORE).collect();
    let (label, sizes) = components(&on, w, h);
    let subject = label[sy as usize * w + sx as usize];
    if subject == 0 {
        return 0;
    }
    let min_size = (sizes[subject as usize] / 50).max(1);
    // per core: sum of x, topmost row
    let mut sum_x = vec![0f64; sizes.len()];
    let mut top = vec![usize::MAX; sizes.len()];
    for (i, &l) in label.iter().enumerate() {
        sum_x[l as usize] += (i % w) as f64;
        top[l as usize] = top[l as usize].min(i / w);
    }
    let other_core: Vec<bool> = (0..sizes.len())
        .map(|l| {
            l != 0
                && l != subject as usize
                && sizes[l] >= min_size
                && (top[l] as f32) < sy
                && ((sum_x[l] / sizes[l] as f64) as f32 - sx).abs() > face_width
        })
        .collect();
    if !other_core.iter().any(|&o| o) {
        return 0;
    }
    let other = |l: u32| other_core[l as usize];
    // multi-source breadth-first growth of the cores through the rest of the mask
    let mut owner = label.clone();
    let mut queue: std::collections::VecDeque<usize> =
        (0..w * h).filter(|&i| owner[i] != 0).collect();
    while let Some(i) = queue.pop_front() {
        for j in neighbours4(i, w, h) {
            if owner[j] == 0 && mask.data[j] >= 0.1 {
                owner[j] = owner[i];
                queue.push_back(j);
            }
        }
    }
    let mut cleared = 0;
    for (v, &o) in mask.data.iter_mut().zip(&owner) {
        if other(o) {
            *v = 0.0;
            cleared += 1;
        }
    }
    cleared
}

/// The person as one solid region: the largest components of `alpha >= 0.5` (others kept
/// only when at least a fifth of the largest), with enclosed holes up to 3 % of the person's
/// area filled.
pub fn solid_person(alpha: &Plane) -> Vec<bool> {
    solid_person_with(alpha, |_| true)
}

/// [`solid_person`], filling only the holes (given as pixel indices) that `fill` accepts.
pub fn solid_person_with(alpha: &Plane, fill: impl Fn(&[usize]) -> bool) -> Vec<bool> {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let on: Vec<bool> = alpha.data.iter().map(|&v| v >= 0.5).collect();
    let (label, sizes) = components(&on, w, h);
    let largest = sizes.iter().skip(1).copied().max().unwrap_or(0);
    let keep_label: Vec<bool> = sizes
        .iter()
        .enumerate()
        .map(|(l, &s)| l > 0 && s * 5 >= largest && s > 0)
        .collect();
    let mut keep: Vec<bool> = label.iter().map(|&l| keep_label[l as usize]).collect();
    let area = keep.iter().filter(|&&k| k).count();
    // holes: components of the complement that do not touch the border
    let off: Vec<bool> = keep.iter().map(|&k| !k).collect();
    let (hl, hs) = components(&off, w, h);
    let mut touches = vec![false; hs.len()];
    for x in 0..w {
        touches[hl[x] as usize] = true;
        touches[hl[(h - 1) * w + x] as usize] = true;
    }
    for y in 0..h {
        touches[hl[y * w] as usize] = true;
        touches[hl[y * w + w - 1] as usize] = true;
    }
    let candidate: Vec<bool> = (0..hs.len())
        .map(|l| l > 0 && !touches[l] && hs[l] * 33 <= area)
        .collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); hs.len()];
    for (i, &l) in hl.iter().enumerate() {
        if candidate[l as usize] {
            members[l as usize].push(i);
        }
    }
    for m in members.iter().filter(|m| !m.is_empty()) {
        if fill(m) {
            for &i in m {
                keep[i] = true;
            }
        }
    }
    keep
}

/// Refines the segmentation model's 256x256 mask (`mask256`, computed on `small`, the image
/// resized to 256x256) to an alpha matte at the resolution of `img`.
///
/// 1. colour-guided fast guided filter (low-resolution coefficients, full-resolution guide);
/// 2. the person kept whole: detached blobs dropped, enclosed holes filled;
/// 3. inside an uncertain band around the contour, alpha from a local colour model: the
///    foreground and background colours near each pixel (pull-push fill from the sure
///    regions), alpha = projection of the pixel onto the line between them, trusted where
///    the two colours are well apart and the background is locally uniform, blended with the
///    guided filter's alpha elsewhere. A near-uniform background (white or grey wall) is
///    detected; its smooth colour is then used and the band reaches further out for hair.
///    Holes of the model's mask coloured like the background rather than like the person
///    around them stay open (gaps between arm and body, wall seen through hair); on a busy
///    background, faint alpha is clipped harder and band pixels not linked to the person by
///    a path of clear alpha are dropped (no remnants of background texture).
pub fn refine(
    img: &RgbImage,
    mask256: &Plane,
    small: &RgbImage,
    opts: &RefineOptions,
) -> Result<Plane> {
    Ok(refine_with_info(img, mask256, small, opts)?.0)
}

/// [`refine`], also returning what it learned about the background and the contour.
///
/// The sure regions, background statistics, colour models and the guided filter's
/// coefficients live on a grid of cells about a mask pixel wide (4x4 image pixels at 1200
/// px): only the band is solved per pixel, and only the band and its neighbourhood are
/// feathered.
#[allow(clippy::needless_range_loop)] // several parallel per-pixel arrays
pub fn refine_with_info(
    img: &RgbImage,
    mask256: &Plane,
    small: &RgbImage,
    opts: &RefineOptions,
) -> Result<(Plane, MatteInfo)> {
    let (wu, hu) = img.dimensions();
    let (sw, sh) = small.dimensions();
    if wu == 0
        || hu == 0
        || mask256.width != sw
        || mask256.height != sh
        || mask256.data.len() != (sw * sh) as usize
        || sw == 0
        || sh == 0
    {
        return Err(Error::Internal(format!(
            "refine: image {wu}x{hu}, mask {}x{} ({} values), small image {sw}x{sh}",
            mask256.width,
            mask256.height,
            mask256.data.len()
        )));
    }
    let (w, h) = (wu as usize, hu as usize);
    let unit = wu.max(hu) as f32 / sw.max(sh) as f32;
    let f = ((unit * 0.85).round() as usize).max(1);
    let raw = img.as_raw();
    let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
    let ln = lw * lh;

    // per-cell means of colour and squared norm (integer sums)
    let mut cells = vec![0f32; ln * 4];
    {
        let mut acc = vec![0u32; lw * 4];
        for cy in 0..lh {
            acc.iter_mut().for_each(|v| *v = 0);
            let (y0, y1) = (cy * f, ((cy + 1) * f).min(h));
            for y in y0..y1 {
                let row = &raw[y * w * 3..(y + 1) * w * 3];
                for (cx, chunk) in row.chunks(f * 3).enumerate() {
                    let a = &mut acc[cx * 4..cx * 4 + 4];
                    for px in chunk.chunks_exact(3) {
                        let (r, g, b) = (px[0] as u32, px[1] as u32, px[2] as u32);
                        a[0] += r;
                        a[1] += g;
                        a[2] += b;
                        a[3] += r * r + g * g + b * b;
                    }
                }
            }
            for cx in 0..lw {
                let n = ((y1 - y0) * (((cx + 1) * f).min(w) - cx * f)) as f32;
                let j = (cy * lw + cx) * 4;
                let s = 1.0 / (255.0 * n);
                cells[j] = acc[cx * 4] as f32 * s;
                cells[j + 1] = acc[cx * 4 + 1] as f32 * s;
                cells[j + 2] = acc[cx * 4 + 2] as f32 * s;
                cells[j + 3] = acc[cx * 4 + 3] as f32 * (s / 255.0);
            }
        }
    }

    // fast guided filter: coefficients at the mask's resolution, sampled at the cell centres
    let coef = guided_coefficients(small, mask256, opts.radius, opts.eps);
    let (sx, sy) = (sw as f32 / w as f32, sh as f32 / h as f32);
    let mut coef_c = vec![0f32; ln * 4];
    // bilinear taps of the cell centres on the mask's grid
    let taps = |n: usize, len: usize, full: usize, scale: f32| -> Vec<(usize, usize, f32)> {
        (0..n)
            .map(|c| {
                let m = (((c as f32 + 0.5) * f as f32).min(full as f32 - 0.5) * scale - 0.5)
                    .clamp(0.0, (len - 1) as f32);
                let i0 = m as usize;
                (i0, (i0 + 1).min(len - 1), m - i0 as f32)
            })
            .collect()
    };
    let (tx_, ty_) = (taps(lw, sw as usize, w, sx), taps(lh, sh as usize, h, sy));
    let swu = sw as usize;
    for (cy, &(ya, yb, ty)) in ty_.iter().enumerate() {
        for (cx, &(xa, xb, tx)) in tx_.iter().enumerate() {
            for k in 0..4 {
                let d = &coef[k].data;
                let top = d[ya * swu + xa] * (1.0 - tx) + d[ya * swu + xb] * tx;
                let bot = d[yb * swu + xa] * (1.0 - tx) + d[yb * swu + xb] * tx;
                coef_c[(cy * lw + cx) * 4 + k] = top * (1.0 - ty) + bot * ty;
            }
        }
    }
    let coarse_low = Plane {
        width: lw as u32,
        height: lh as u32,
        data: (0..ln)
            .map(|j| {
                let (c, m) = (&coef_c[j * 4..j * 4 + 4], &cells[j * 4..j * 4 + 3]);
                (c[0] * m[0] + c[1] * m[1] + c[2] * m[2] + c[3]).clamp(0.0, 1.0)
            })
            .collect(),
    };
    let mut keep = solid_person(&coarse_low);
    let keep_p = Plane {
        width: lw as u32,
        height: lh as u32,
        data: keep.iter().map(|&k| k as u8 as f32).collect(),
    };
    let cu = unit / f as f32; // cells per mask pixel
    let r_in = (opts.band_inner * cu).round().max(1.0) as usize;
    let r_out = (opts.band_outer * cu).round().max(1.0) as usize;
    let near_in = box_mean(&keep_p, r_in);
    let near_out = box_mean(&keep_p, r_out);
    let mut sure_fg: Vec<bool> = near_in.data.iter().map(|&v| v > 1.0 - 1e-4).collect();
    let mut sure_bg: Vec<bool> = near_out.data.iter().map(|&v| v < 1e-4).collect();

    // background statistics: local smooth colour (masked box mean over ~3 mask pixels)
    let r_bg = (3.0 * cu).round().max(2.0) as usize;
    let mut bg_planes: Vec<Plane> = (0..4)
        .map(|_| Plane::filled(lw as u32, lh as u32, 0.0))
        .collect();
    for j in 0..ln {
        if sure_bg[j] {
            for c in 0..3 {
                bg_planes[c].data[j] = cells[j * 4 + c];
            }
            bg_planes[3].data[j] = 1.0;
        }
    }
    let bg_means: Vec<Plane> = bg_planes.iter().map(|p| box_mean(p, r_bg)).collect();
    let smooth_bg = |j: usize| -> [f32; 3] {
        let s = 1.0 / bg_means[3].data[j].max(1e-6);
        [
            bg_means[0].data[j] * s,
            bg_means[1].data[j] * s,
            bg_means[2].data[j] * s,
        ]
    };
    // clutter: background cells within a few band widths of the person
    let near_person = box_mean(&keep_p, r_out * 3);
    let (mut dev_n, mut dev_big, mut sum, mut bg_count) = (0usize, 0usize, [0f64; 3], 0usize);
    let mut dev_sum = 0f64;
    for j in 0..ln {
        if !sure_bg[j] || bg_means[3].data[j] < 1e-3 {
            continue;
        }
        bg_count += 1;
        let m = smooth_bg(j);
        let c = &cells[j * 4..j * 4 + 4];
        // deviation of the cell mean from the smooth colour, plus the texture inside the cell
        let inner = (c[3] - (c[0] * c[0] + c[1] * c[1] + c[2] * c[2])).max(0.0);
        let d: f32 = ((0..3).map(|k| (c[k] - m[k]).powi(2)).sum::<f32>() + inner).sqrt();
        for k in 0..3 {
            sum[k] += c[k] as f64;
        }
        if near_person.data[j] > 1e-4 {
            dev_n += 1;
            dev_sum += d as f64;
            if d > 0.06 {
                dev_big += 1;
            }
        }
    }
    let clutter = if dev_n > 0 {
        dev_big as f32 / dev_n as f32
    } else {
        1.0
    };
    let plain = bg_count * 10 >= ln && clutter < 0.05 && dev_sum / (dev_n.max(1) as f64) < 0.025;
    let mut info = MatteInfo {
        background_clutter: clutter,
        ..Default::default()
    };
    if !plain {
        // holes of the model's mask coloured like the nearby background rather than like the
        // person around them (background seen between arm and body) stay open; others (dark
        // clothing, hair) are filled
        let mut data = vec![0f32; ln * 3];
        let mut wt = vec![0f32; ln];
        for j in 0..ln {
            if sure_bg[j] {
                data[j * 3..j * 3 + 3].copy_from_slice(&cells[j * 4..j * 4 + 3]);
                wt[j] = 1.0;
            }
        }
        let bg_fill = push_pull::<3>(&data, &wt, lw, lh);
        let cells_data = &cells;
        let filled = keep.clone();
        // cells already counted for the current hole: marked with the hole's number
        let stamp = std::cell::RefCell::new(vec![0u32; ln]);
        let hole_no = std::cell::Cell::new(0u32);
        let open = solid_person_with(&coarse_low, |members| {
            let n = members.len() as f32;
            let (mut hole, mut bg) = ([0f32; 3], [0f32; 3]);
            hole_no.set(hole_no.get() + 1);
            let id = hole_no.get();
            let mut member = stamp.borrow_mut();
            for &j in members {
                member[j] = id;
                for k in 0..3 {
                    hole[k] += cells_data[j * 4 + k] / n;
                    bg[k] += bg_fill[j * 3 + k] / n;
                }
            }
            // the person's colour in a ring of two cells around the hole
            let (mut ring, mut rn) = ([0f32; 3], 0f32);
            for &j in members {
                let (x, y) = (j % lw, j / lw);
                for ny in y.saturating_sub(2)..(y + 3).min(lh) {
                    for nx in x.saturating_sub(2)..(x + 3).min(lw) {
                        let q = ny * lw + nx;
                        if member[q] != id && filled[q] {
                            member[q] = id; // count once
                            for k in 0..3 {
                                ring[k] += cells_data[q * 4 + k];
                            }
                            rn += 1.0;
                        }
                    }
                }
            }
            let dist = |a: [f32; 3], b: [f32; 3]| {
                (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f32>().sqrt()
            };
            rn == 0.0 || dist(hole, ring.map(|v| v / rn)) <= dist(hole, bg)
        });
        if open != keep {
            keep = open;
            let keep_p = Plane {
                width: lw as u32,
                height: lh as u32,
                data: keep.iter().map(|&k| k as u8 as f32).collect(),
            };
            let near_in = box_mean(&keep_p, r_in);
            let near_out = box_mean(&keep_p, r_out);
            for j in 0..ln {
                sure_fg[j] = near_in.data[j] > 1.0 - 1e-4;
                sure_bg[j] = near_out.data[j] < 1e-4;
            }
        }
    }
    if plain {
        let m = sum.map(|s| (s / bg_count as f64 * 255.0).round().clamp(0.0, 255.0) as u8);
        info.plain_background = Some(m);
        // holes coloured like the wall (background seen through hair, between arm and body)
        // stay open for the colour model; others (dark clothing, hair) are filled
        let wall = m.map(|v| v as f32 / 255.0);
        let cells_data = &cells;
        keep = solid_person_with(&coarse_low, |members| {
            let mut c = [0f32; 3];
            for &j in members {
                for k in 0..3 {
                    c[k] += cells_data[j * 4 + k];
                }
            }
            let d: f32 = (0..3)
                .map(|k| (c[k] / members.len() as f32 - wall[k]).powi(2))
                .sum::<f32>()
                .sqrt();
            d > 0.12
        });
        let keep_p = Plane {
            width: lw as u32,
            height: lh as u32,
            data: keep.iter().map(|&k| k as u8 as f32).collect(),
        };
        let r_far = ((opts.band_outer + opts.band_outer_plain) * cu).round() as usize;
        let near_far = box_mean(&keep_p, r_far);
        for (b, v) in sure_bg.iter_mut().zip(&near_far.data) {
            *b = *v < 1e-4;
        }
        let r_deep = ((opts.band_inner + opts.band_inner_plain) * cu).round() as usize;
        let near_deep = box_mean(&keep_p, r_deep);
        for (s, v) in sure_fg.iter_mut().zip(&near_deep.data) {
            *s = *v > 1.0 - 1e-4;
        }
    }

    // local colour models (mean colour, mean squared norm) by pull-push from the sure cells,
    // interleaved per cell with the guided filter's coefficients: [fg 4, bg 4, coef 4]
    let model = |sure: &[bool], smooth: bool| -> Vec<f32> {
        let mut data = vec![0f32; ln * 4];
        let mut wt = vec![0f32; ln];
        for j in 0..ln {
            if !sure[j] {
                continue;
            }
            if smooth && bg_means[3].data[j] > 1e-3 {
                let m = smooth_bg(j);
                data[j * 4..j * 4 + 3].copy_from_slice(&m);
                data[j * 4 + 3] = m[0] * m[0] + m[1] * m[1] + m[2] * m[2];
            } else {
                data[j * 4..j * 4 + 4].copy_from_slice(&cells[j * 4..j * 4 + 4]);
            }
            wt[j] = 1.0;
        }
        push_pull::<4>(&data, &wt, lw, lh)
    };
    let fm = model(&sure_fg, false);
    let bm = model(&sure_bg, plain);
    let mut params = vec![0f32; ln * 12];
    for j in 0..ln {
        params[j * 12..j * 12 + 4].copy_from_slice(&fm[j * 4..j * 4 + 4]);
        params[j * 12 + 4..j * 12 + 8].copy_from_slice(&bm[j * 4..j * 4 + 4]);
        params[j * 12 + 8..j * 12 + 12].copy_from_slice(&coef_c[j * 4..j * 4 + 4]);
    }

    let mut alpha = Plane::filled(wu, hu, 0.0);
    let (mut low_n, mut low_c) = (0usize, 0usize);
    let lower = (lh as f32 * 0.6) as usize;
    let inv_f = 1.0 / f as f32;
    let clip = if plain { opts.clip } else { opts.clip_busy };
    let clip_scale = 1.0 / (1.0 - 2.0 * clip).max(1e-3);
    let band_cell: Vec<bool> = (0..ln).map(|j| !sure_fg[j] && !sure_bg[j]).collect();
    for cy in 0..lh {
        let (ya, yb) = (cy * f, ((cy + 1) * f).min(h));
        for cx in 0..lw {
            let j = cy * lw + cx;
            let (xa, xb) = (cx * f, ((cx + 1) * f).min(w));
            if sure_fg[j] {
                for y in ya..yb {
                    alpha.data[y * w + xa..y * w + xb].fill(1.0);
                }
                continue;
            }
            if !band_cell[j] {
                continue;
            }
            for y in ya..yb {
                let fy = ((y as f32 + 0.5) * inv_f - 0.5).clamp(0.0, (lh - 1) as f32);
                let y0 = fy as usize;
                let y1 = (y0 + 1).min(lh - 1);
                let ty = fy - y0 as f32;
                for x in xa..xb {
                    let i = y * w + x;
                    let fx = ((x as f32 + 0.5) * inv_f - 0.5).clamp(0.0, (lw - 1) as f32);
                    let x0 = fx as usize;
                    let x1 = (x0 + 1).min(lw - 1);
                    let tx = fx - x0 as f32;
                    let wts = [
                        (1.0 - tx) * (1.0 - ty),
                        tx * (1.0 - ty),
                        (1.0 - tx) * ty,
                        tx * ty,
                    ];
                    let idx = [y0 * lw + x0, y0 * lw + x1, y1 * lw + x0, y1 * lw + x1];
                    let mut m = [0f32; 12];
                    for (&k, &wk) in idx.iter().zip(&wts) {
                        let src = &params[k * 12..k * 12 + 12];
                        for c in 0..12 {
                            m[c] += src[c] * wk;
                        }
                    }
                    let fc = [m[0], m[1], m[2]];
                    let bc = [m[4], m[5], m[6]];
                    let var_f = (m[3] - (fc[0] * fc[0] + fc[1] * fc[1] + fc[2] * fc[2])).max(0.0);
                    let var_b = if plain {
                        0.0
                    } else {
                        (m[7] - (bc[0] * bc[0] + bc[1] * bc[1] + bc[2] * bc[2])).max(0.0)
                    };
                    let p = [
                        raw[i * 3] as f32 * (1.0 / 255.0),
                        raw[i * 3 + 1] as f32 * (1.0 / 255.0),
                        raw[i * 3 + 2] as f32 * (1.0 / 255.0),
                    ];
                    let fb = [fc[0] - bc[0], fc[1] - bc[1], fc[2] - bc[2]];
                    let d2 = fb[0] * fb[0] + fb[1] * fb[1] + fb[2] * fb[2];
                    let d = d2.sqrt();
                    let ib = [p[0] - bc[0], p[1] - bc[1], p[2] - bc[2]];
                    let proj = if d2 > 1e-6 {
                        ((ib[0] * fb[0] + ib[1] * fb[1] + ib[2] * fb[2]) / d2).clamp(0.0, 1.0)
                    } else {
                        0.5
                    };
                    // residual off the F-B line
                    let res = (0..3)
                        .map(|c| (ib[c] - proj * fb[c]).powi(2))
                        .sum::<f32>()
                        .sqrt();
                    // on a plain wall the background colour is known: the person's colour
                    // variety (hair, skin) does not make the projection ambiguous
                    let spread = if plain {
                        0.0
                    } else {
                        opts.spread * (var_f.sqrt() + var_b.sqrt())
                    };
                    let conf = ((d - spread - opts.min_contrast) / 0.12).clamp(0.0, 1.0)
                        * (1.0 - res / (0.5 * d).max(1e-3)).clamp(0.0, 1.0);
                    // the guided filter's alpha
                    let c0 = (m[8] * p[0] + m[9] * p[1] + m[10] * p[2] + m[11]).clamp(0.0, 1.0);
                    let fallback = ((c0 - 0.5) * opts.sharpen + 0.5).clamp(0.0, 1.0);
                    let fallback = if keep[j] || c0 < 0.5 { fallback } else { 0.0 };
                    let a = conf * proj + (1.0 - conf) * fallback;
                    alpha.data[i] = ((a - clip) * clip_scale).clamp(0.0, 1.0);
                    if cy >= lower {
                        low_n += 1;
                        if d < 0.1 {
                            low_c += 1;
                        }
                    }
                }
            }
        }
    }
    info.low_contrast_clothing = if low_n > 0 {
        low_c as f32 / low_n as f32
    } else {
        0.0
    };
    // on a plain wall the colour model is reliable and islands are hair strands
    if !plain {
        drop_detached(&mut alpha, &keep, &band_cell, lw, f);
    }
    if opts.feather > 0.0 {
        let r = opts.feather.round().max(1.0) as usize;
        feather_band(&mut alpha, &band_cell, lw, lh, f, r);
    }
    Ok((alpha, info))
}

/// Alpha at least this high links a band pixel to the person in [`drop_detached`].
const LINK_ALPHA: f32 = 0.25;

/// Clears band pixels that are not linked to the person: a pixel is kept when a 4-connected
/// path of pixels with alpha >= [`LINK_ALPHA`] joins it to an opaque pixel of the solid
/// person (`keep` cells), or when it touches such a linked pixel (the edge's last, faint
/// pixel). Faint islands of background texture next to the person go.
fn drop_detached(alpha: &mut Plane, keep: &[bool], band_cell: &[bool], lw: usize, f: usize) {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let xc: Vec<usize> = (0..w).map(|x| x / f).collect();
    let yc: Vec<usize> = (0..h).map(|y| (y / f) * lw).collect();
    let in_band = |x: usize, y: usize| band_cell[yc[y] + xc[x]];
    let mut linked = vec![false; w * h];
    let mut stack: Vec<u32> = Vec::new();
    // seeds: opaque band pixels of the solid person, or next to an opaque pixel outside the
    // band (sure foreground)
    let lh = band_cell.len() / lw.max(1);
    for cy in 0..lh {
        for cx in 0..lw {
            let j = cy * lw + cx;
            if !band_cell[j] {
                continue;
            }
            for y in cy * f..((cy + 1) * f).min(h) {
                for x in cx * f..((cx + 1) * f).min(w) {
                    let i = y * w + x;
                    if alpha.data[i] < LINK_ALPHA {
                        continue;
                    }
                    let opaque_out =
                        |xx: usize, yy: usize| !in_band(xx, yy) && alpha.data[yy * w + xx] >= 0.5;
                    let seed = (keep[j] && alpha.data[i] >= 0.5)
                        || (x > 0 && opaque_out(x - 1, y))
                        || (x + 1 < w && opaque_out(x + 1, y))
                        || (y > 0 && opaque_out(x, y - 1))
                        || (y + 1 < h && opaque_out(x, y + 1));
                    if seed {
                        linked[i] = true;
                        stack.push(i as u32);
                    }
                }
            }
        }
    }
    while let Some(i) = stack.pop() {
        let i = i as usize;
        let (x, y) = (i % w, i / w);
        let nb = [
            (x > 0).then(|| (x - 1, y)),
            (x + 1 < w).then(|| (x + 1, y)),
            (y > 0).then(|| (x, y - 1)),
            (y + 1 < h).then(|| (x, y + 1)),
        ];
        for (nx, ny) in nb.into_iter().flatten() {
            let j = ny * w + nx;
            if !linked[j] && alpha.data[j] >= LINK_ALPHA && in_band(nx, ny) {
                linked[j] = true;
                stack.push(j as u32);
            }
        }
    }
    // pixels outside the band are constant (0 or 1) and count as linked when opaque
    let linked_at = |xx: usize, yy: usize| {
        let j = yy * w + xx;
        linked[j] || (!in_band(xx, yy) && alpha.data[j] >= 0.5)
    };
    let mut clear: Vec<u32> = Vec::new();
    for cy in 0..lh {
        for cx in 0..lw {
            if !band_cell[cy * lw + cx] {
                continue;
            }
            for y in cy * f..((cy + 1) * f).min(h) {
                for x in cx * f..((cx + 1) * f).min(w) {
                    let i = y * w + x;
                    if linked[i] || alpha.data[i] <= 0.0 {
                        continue;
                    }
                    let touches = (x > 0 && linked_at(x - 1, y))
                        || (x + 1 < w && linked_at(x + 1, y))
                        || (y > 0 && linked_at(x, y - 1))
                        || (y + 1 < h && linked_at(x, y + 1));
                    if !touches || alpha.data[i] >= LINK_ALPHA {
                        clear.push(i as u32);
                    }
                }
            }
        }
    }
    for i in clear {
        alpha.data[i as usize] = 0.0;
    }
}

/// Two box blurs of radius `r` (a tent of radius `2r`, edges replicated) applied to the
/// pixels of `alpha` within `2r` pixels of a band cell; elsewhere alpha is constant over
/// the tent's support and stays as it is.
fn feather_band(alpha: &mut Plane, band_cell: &[bool], lw: usize, lh: usize, f: usize, r: usize) {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let reach = (2 * r).div_ceil(f);
    // cells to blur: band cells dilated by `reach`
    let mut rows = vec![false; lw * lh];
    for cy in 0..lh {
        for cx in 0..lw {
            if band_cell[cy * lw + cx] {
                for ny in cy.saturating_sub(reach)..(cy + reach + 1).min(lh) {
                    let o = ny * lw;
                    rows[o + cx.saturating_sub(reach)..o + (cx + reach + 1).min(lw)].fill(true);
                }
            }
        }
    }
    let flagged = rows;
    let n = 2 * r + 1;
    let kernel: Vec<f32> = (0..2 * n - 1)
        .map(|k| (n - (k as isize - (n as isize - 1)).unsigned_abs()) as f32 / (n * n) as f32)
        .collect();
    let span = 2 * r;
    let src = alpha.data.clone();
    let mut tmp = Vec::new();
    for cy in 0..lh {
        let (ya, yb) = (cy * f, ((cy + 1) * f).min(h));
        for cx in 0..lw {
            if !flagged[cy * lw + cx] {
                continue;
            }
            let (xa, xb) = (cx * f, ((cx + 1) * f).min(w));
            // vertical pass over columns xa - span .. xb + span (clamped), rows ya..yb
            let cols = xb - xa + 2 * span;
            tmp.clear();
            tmp.resize(cols * (yb - ya), 0.0);
            for y in ya..yb {
                let t = &mut tmp[(y - ya) * cols..(y - ya + 1) * cols];
                for (k, &wk) in kernel.iter().enumerate() {
                    let sy = (y + k).saturating_sub(span).min(h - 1);
                    let row = &src[sy * w..(sy + 1) * w];
                    for (c, tv) in t.iter_mut().enumerate() {
                        let sx = (xa + c).saturating_sub(span).min(w - 1);
                        *tv += wk * row[sx];
                    }
                }
            }
            for y in ya..yb {
                let t = &tmp[(y - ya) * cols..(y - ya + 1) * cols];
                for x in xa..xb {
                    let c = x - xa;
                    alpha.data[y * w + x] = kernel
                        .iter()
                        .zip(&t[c..c + kernel.len()])
                        .map(|(a, b)| a * b)
                        .sum();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pull-push fill as it was written before the channel count became a constant: the
    /// reference for [`push_pull`].
    fn push_pull_dyn(data: &[f32], wt: &[f32], w: usize, h: usize, ch: usize) -> Vec<f32> {
        let n = w * h;
        let mut val = vec![0f32; n * ch];
        let mut a = vec![0f32; n];
        for i in 0..n {
            if wt[i] > 1e-8 {
                let inv = 1.0 / wt[i];
                for c in 0..ch {
                    val[i * ch + c] = data[i * ch + c] * inv;
                }
                a[i] = wt[i].min(1.0);
            }
        }
        if w <= 1 && h <= 1 {
            return val;
        }
        let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
        let mut d2 = vec![0f32; w2 * h2 * ch];
        let mut wt2 = vec![0f32; w2 * h2];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if a[i] == 0.0 {
                    continue;
                }
                let j = (y / 2) * w2 + x / 2;
                wt2[j] += a[i];
                for c in 0..ch {
                    d2[j * ch + c] += a[i] * val[i * ch + c];
                }
            }
        }
        let coarse = push_pull_dyn(&d2, &wt2, w2, h2, ch);
        for y in 0..h {
            let fy = ((y as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (h2 - 1) as f32);
            let y0 = fy.floor() as usize;
            let y1 = (y0 + 1).min(h2 - 1);
            let ty = fy - y0 as f32;
            for x in 0..w {
                let i = y * w + x;
                if a[i] >= 1.0 {
                    continue;
                }
                let fx = ((x as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (w2 - 1) as f32);
                let x0 = fx.floor() as usize;
                let x1 = (x0 + 1).min(w2 - 1);
                let tx = fx - x0 as f32;
                for c in 0..ch {
                    let at = |xx: usize, yy: usize| coarse[(yy * w2 + xx) * ch + c];
                    let up = (at(x0, y0) * (1.0 - tx) + at(x1, y0) * tx) * (1.0 - ty)
                        + (at(x0, y1) * (1.0 - tx) + at(x1, y1) * tx) * ty;
                    val[i * ch + c] = a[i] * val[i * ch + c] + (1.0 - a[i]) * up;
                }
            }
        }
        val
    }

    /// The running-sum box mean of one row, as `box_mean` computed it before rows were
    /// interleaved (the reference for bit-identical results).
    fn box_mean_reference(p: &Plane, r: usize) -> Vec<f32> {
        let (w, h) = (p.width as usize, p.height as usize);
        let mut tmp = vec![0f32; w * h];
        for y in 0..h {
            let row = &p.data[y * w..(y + 1) * w];
            let mut acc: f32 = row[..=r.min(w - 1)].iter().sum();
            let mut cnt = r.min(w - 1) + 1;
            for x in 0..w {
                tmp[y * w + x] = acc / cnt as f32;
                if x + r + 1 < w {
                    acc += row[x + r + 1];
                    cnt += 1;
                }
                if x >= r {
                    acc -= row[x - r];
                    cnt -= 1;
                }
            }
        }
        let t = Plane {
            width: p.height,
            height: p.width,
            data: (0..w * h).map(|i| tmp[(i % h) * w + i / h]).collect(),
        };
        // vertical pass = horizontal pass of the transpose
        let mut out = vec![0f32; w * h];
        for x in 0..w {
            let col = &t.data[x * h..(x + 1) * h];
            let mut acc: f32 = col[..=r.min(h - 1)].iter().sum();
            let mut cnt = r.min(h - 1) + 1;
            for yy in 0..h {
                out[yy * w + x] = acc / cnt as f32;
                if yy + r + 1 < h {
                    acc += col[yy + r + 1];
                    cnt += 1;
                }
                if yy >= r {
                    acc -= col[yy - r];
                    cnt -= 1;
                }
            }
        }
        out
    }

    #[test]
    fn streamed_box_mean_is_box_mean_per_channel() {
        for (w, h, r) in [(1usize, 1usize, 2usize), (9, 6, 1), (40, 23, 4), (5, 13, 7)] {
            let data: Vec<f32> = (0..w * h * 3)
                .map(|i| ((i * 37) % 23) as f32 / 7.0)
                .collect();
            let mut got = vec![0f32; data.len()];
            box_mean_streamed::<3>(
                (w, h, r),
                |y, row| row.copy_from_slice(&data[y * w * 3..(y + 1) * w * 3]),
                |y, row| got[y * w * 3..(y + 1) * w * 3].copy_from_slice(row),
            );
            for c in 0..3 {
                let p = Plane {
                    width: w as u32,
                    height: h as u32,
                    data: data.iter().skip(c).step_by(3).copied().collect(),
                };
                let want = box_mean(&p, r);
                let got_c: Vec<f32> = got.iter().skip(c).step_by(3).copied().collect();
                assert_eq!(got_c, want.data, "{w}x{h} r{r} channel {c}");
            }
        }
    }

    #[test]
    fn box_mean_matches_running_sums_row_by_row() {
        for (w, h, r) in [(1, 1, 2), (9, 6, 1), (40, 23, 4), (5, 13, 7)] {
            let p = Plane {
                width: w,
                height: h,
                data: (0..w * h).map(|i| ((i * 37) % 23) as f32 / 7.0).collect(),
            };
            let got = box_mean(&p, r as usize);
            let want = box_mean_reference(&p, r as usize);
            for (g, e) in got.data.iter().zip(&want) {
                assert!(
                    (g - e).abs() <= 1e-5 * e.abs().max(1.0),
                    "{w}x{h} r{r}: {g} vs {e}"
                );
            }
        }
    }

    #[test]
    fn push_pull_fixed_channel_counts_match_the_general_one() {
        for (w, h) in [(1, 1), (7, 5), (64, 33)] {
            let n: usize = w * h;
            for ch in [1usize, 3, 4] {
                let wt: Vec<f32> = (0..n)
                    .map(|i| {
                        if i % 5 == 0 || i % 7 == 3 {
                            0.0
                        } else {
                            (i % 9) as f32 / 6.0
                        }
                    })
                    .collect();
                let data: Vec<f32> = (0..n * ch)
                    .map(|k| wt[k / ch] * ((k * 31) % 17) as f32 / 16.0)
                    .collect();
                let got = match ch {
                    1 => push_pull::<1>(&data, &wt, w, h),
                    3 => push_pull::<3>(&data, &wt, w, h),
                    _ => push_pull::<4>(&data, &wt, w, h),
                };
                assert_eq!(got, push_pull_dyn(&data, &wt, w, h, ch), "{w}x{h}x{ch}");
            }
        }
    }

    #[test]
    fn box_mean_of_constant_and_step() {
        let p = Plane::filled(9, 7, 2.0);
        assert!(box_mean(&p, 2).data.iter().all(|v| (v - 2.0).abs() < 1e-5));
        let mut s = Plane::filled(10, 1, 0.0);
        for x in 5..10 {
            s.data[x] = 1.0;
        }
        let m = box_mean(&s, 1);
        assert!((m.data[4] - 1.0 / 3.0).abs() < 1e-5);
        assert!((m.data[5] - 2.0 / 3.0).abs() < 1e-5);
        assert!((m.data[0]).abs() < 1e-6 && (m.data[9] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn guided_filter_follows_guide_edge() {
        // guide: sharp vertical edge at x = 40; mask: blurry ramp around x = 40
        let guide = RgbImage::from_fn(80, 40, |x, _| {
            if x < 40 {
                image::Rgb([20, 20, 200])
            } else {
                image::Rgb([230, 200, 180])
            }
        });
        let mut p = Plane::filled(80, 40, 0.0);
        for y in 0..40 {
            for x in 0..80 {
                p.data[(y * 80 + x) as usize] = ((x as f32 - 35.0) / 10.0).clamp(0.0, 1.0);
            }
        }
        let q = guided_upsample(&guide, &guide, &p, 6, 1e-4).unwrap();
        // the filtered matte is near-binary on both sides of the guide's edge
        assert!(q.at(36, 20) < 0.2, "{}", q.at(36, 20));
        assert!(q.at(44, 20) > 0.8, "{}", q.at(44, 20));
    }

    #[test]
    fn refine_recovers_soft_edge_on_plain_wall() {
        // grey wall, dark person with a soft 6 px edge; the "model mask" is a blurry,
        // shifted version of the truth at 64x64
        let (w, h) = (256u32, 256u32);
        let truth = |x: f32, y: f32| {
            let d = ((x - 128.0).powi(2) + (y - 150.0).powi(2)).sqrt() - 70.0;
            (0.5 - d / 6.0).clamp(0.0, 1.0)
        };
        let img = RgbImage::from_fn(w, h, |x, y| {
            let a = truth(x as f32, y as f32);
            image::Rgb(std::array::from_fn(|c| {
                let f = [60.0, 40.0, 30.0][c];
                (a * f + (1.0 - a) * 200.0).round() as u8
            }))
        });
        let small = downscale_to(&img, 64, 64).unwrap();
        let mut mask = Plane::filled(64, 64, 0.0);
        for y in 0..64 {
            for x in 0..64 {
                let d = ((x as f32 * 4.0 + 2.0 - 131.0).powi(2)
                    + (y as f32 * 4.0 + 2.0 - 150.0).powi(2))
                .sqrt()
                    - 70.0;
                mask.data[y * 64 + x] = (0.5 - d / 16.0).clamp(0.0, 1.0);
            }
        }
        let (alpha, info) =
            refine_with_info(&img, &mask, &small, &RefineOptions::default()).unwrap();
        assert!(info.plain_background.is_some(), "{info:?}");
        let mut err = 0f32;
        for y in 0..h {
            for x in 0..w {
                err += (alpha.at(x, y) - truth(x as f32, y as f32)).powi(2);
            }
        }
        let mse = err / (w * h) as f32;
        assert!(mse < 1e-3, "mse {mse}");
    }

    #[test]
    fn solid_person_fills_holes_and_drops_blobs() {
        let mut a = Plane::filled(40, 40, 0.0);
        for y in 5..35 {
            for x in 5..25 {
                a.data[y * 40 + x] = 1.0;
            }
        }
        // hole in the body, and a detached blob
        a.data[20 * 40 + 15] = 0.0;
        a.data[20 * 40 + 35] = 1.0;
        let keep = solid_person(&a);
        assert!(keep[20 * 40 + 15]);
        assert!(!keep[20 * 40 + 35]);
        assert!(keep[6 * 40 + 6] && !keep[2 * 40 + 2]);
    }

    #[test]
    fn feather_band_matches_two_box_means_inside() {
        // a soft step; every cell is a band cell, so the whole plane is feathered
        let (w, h, f) = (23usize, 17usize, 4usize);
        let mut a = Plane::filled(w as u32, h as u32, 0.0);
        for y in 0..h {
            for x in 0..w {
                a.data[y * w + x] = ((x as f32 - 9.0 + 0.3 * y as f32) / 5.0).clamp(0.0, 1.0);
            }
        }
        let want = box_mean(&box_mean(&a, 1), 1);
        let (lw, lh) = (w.div_ceil(f), h.div_ceil(f));
        let mut got = a.clone();
        feather_band(&mut got, &vec![true; lw * lh], lw, lh, f, 1);
        for y in 2..h - 2 {
            for x in 2..w - 2 {
                let i = y * w + x;
                assert!((got.data[i] - want.data[i]).abs() < 1e-5, "{x},{y}");
            }
        }
    }

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
        let (a, _) = segment_with(&img, SegmentFit::Flip).unwrap();
        let (b, _) = segment_with(&mirrored, SegmentFit::Flip).unwrap();
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
        let (single, _) = segment(&img).unwrap();
        let (single2, _) = segment_with(&img, SegmentFit::Single).unwrap();
        assert_eq!(single.data, single2.data);
        assert!(segment_with(&RgbImage::new(0, 0), SegmentFit::Flip).is_err());
    }

    /// A 100x140 mask: the subject's head (disc at (50, 50), radius 20) on shoulders (rows
    /// from 80 down), optional extra discs, and an optional band of value `link` between.
    fn mask_with(extra: &[((f32, f32), f32, f32)]) -> Plane {
        let mut m = Plane::filled(100, 140, 0.0);
        for y in 0..140u32 {
            for x in 0..100u32 {
                let (fx, fy) = (x as f32, y as f32);
                let mut v: f32 = 0.0;
                if (fx - 50.0).hypot(fy - 50.0) < 20.0 || (y >= 80 && (15..85).contains(&x)) {
                    v = 1.0;
                }
                for &((cx, cy), r, val) in extra {
                    if (fx - cx).hypot(fy - cy) < r {
                        v = v.max(val);
                    }
                }
                m.data[(y * 100 + x) as usize] = v;
            }
        }
        m
    }

    #[test]
    fn another_head_beside_the_subject_is_removed() {
        // a neighbour's head at the right edge, joined to the subject's by uncertain mask
        let mut m = mask_with(&[((95.0, 45.0), 18.0, 1.0), ((75.0, 45.0), 8.0, 0.8)]);
        let cleared = keep_subject(&mut m, (50.0, 50.0), 35.0);
        assert!(cleared > 300, "{cleared}");
        assert_eq!(m.data[45 * 100 + 97], 0.0);
        assert_eq!(m.data[50 * 100 + 50], 1.0);
        assert_eq!(m.data[120 * 100 + 80], 1.0, "the subject's shoulder stays");
        // joined by sure mask, it is one person for the models: nothing to separate
        let mut joined = mask_with(&[((95.0, 45.0), 18.0, 1.0), ((75.0, 45.0), 8.0, 1.0)]);
        assert_eq!(keep_subject(&mut joined, (50.0, 50.0), 35.0), 0);
    }

    #[test]
    fn the_subjects_own_parts_are_kept() {
        // shoulders cut from the head by an uncertain neck, a bun above the head, hair
        // falling beside the face: none is another person
        let mut m = mask_with(&[((50.0, 75.0), 9.0, 0.9)]);
        for y in 68..80 {
            for x in 15..85 {
                let v = &mut m.data[y * 100 + x];
                if *v < 1.0 || (40..60).contains(&x) {
                    *v = v.min(0.9);
                }
            }
        }
        let mut bun = mask_with(&[((50.0, 20.0), 10.0, 1.0), ((50.0, 30.0), 3.0, 0.9)]);
        let mut hair = mask_with(&[((78.0, 60.0), 9.0, 1.0), ((70.0, 55.0), 5.0, 0.8)]);
        for (name, m) in [("neck", &mut m), ("bun", &mut bun), ("hair", &mut hair)] {
            let before = m.data.clone();
            assert_eq!(keep_subject(m, (50.0, 50.0), 35.0), 0, "{name}");
            assert_eq!(m.data, before);
        }
        // no subject at the seed, or a seed outside: unchanged
        let mut m = mask_with(&[((95.0, 45.0), 18.0, 1.0)]);
        assert_eq!(keep_subject(&mut m, (5.0, 5.0), 35.0), 0);
        assert_eq!(keep_subject(&mut m, (-5.0, 500.0), 35.0), 0);
        assert_eq!(keep_subject(&mut m, (f32::NAN, 5.0), 35.0), 0);
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
        let (mask, small) = segment_with(&img, SegmentFit::Ensemble).unwrap();
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

    #[test]
    fn refine_rejects_mismatched_inputs() {
        let img = RgbImage::new(40, 30);
        let small = RgbImage::new(16, 16);
        let mask = Plane::filled(8, 8, 0.5);
        assert!(refine(&img, &mask, &small, &RefineOptions::default()).is_err());
        let empty = RgbImage::new(0, 0);
        let mask16 = Plane::filled(16, 16, 0.5);
        assert!(refine(&empty, &mask16, &small, &RefineOptions::default()).is_err());
    }

    #[test]
    fn detached_faint_islands_are_dropped() {
        // 12x8 pixels, cells of 4: left column of cells is the person, the rest is band
        let (w, h, f) = (12usize, 8usize, 4usize);
        let mut a = Plane::filled(w as u32, h as u32, 0.0);
        for y in 0..h {
            for x in 0..4 {
                a.data[y * w + x] = 1.0;
            }
            a.data[y * w + 4] = 0.6; // soft edge linked to the person
            a.data[y * w + 5] = 0.1; // its faint last pixel
        }
        a.data[2 * w + 9] = 0.4; // island
        a.data[2 * w + 10] = 0.2;
        let (lw, lh) = (3, 2);
        let keep = vec![true, false, false, true, false, false];
        let band = vec![false, true, true, false, true, true];
        assert_eq!(keep.len(), lw * lh);
        drop_detached(&mut a, &keep, &band, lw, f);
        assert_eq!(a.data[2 * w + 4], 0.6);
        assert_eq!(a.data[2 * w + 5], 0.1);
        assert_eq!(a.data[2 * w + 9], 0.0);
        assert_eq!(a.data[2 * w + 10], 0.0);
        assert_eq!(a.data[2 * w], 1.0);
    }
}
