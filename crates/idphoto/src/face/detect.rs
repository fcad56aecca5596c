//! Face detection with BlazeFace (short range), run over an image pyramid of 128x128 tiles so
//! that both frame-filling selfies and small faces in large photos are found.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::nn::Networks;
use crate::raster::{downscale_to, Point};

/// Detection score threshold. Measured on `shared/data/detection` (see `benches/`): MediaPipe's
/// default 0.5 keeps clothing false positives; this value keeps every labelled face that is
/// large enough for an ID photo.
pub const SCORE_THRESHOLD: f32 = 0.6;

/// Side of the detector's exported input (and of its tiles).
pub(super) const INPUT: usize = 128;
const NMS_IOU: f32 = 0.3;

/// A detected face, in the coordinates of the image it was detected in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// Box left.
    pub x: f32,
    /// Box top.
    pub y: f32,
    /// Box width.
    pub w: f32,
    /// Box height.
    pub h: f32,
    /// Confidence in 0..1.
    pub score: f32,
    /// Six keypoints: right eye, left eye (the subject's), nose tip, mouth centre,
    /// right ear tragion, left ear tragion.
    pub keypoints: [Point; 6],
}

impl Face {
    /// The subject's right eye (image left).
    pub fn right_eye(&self) -> Point {
        self.keypoints[0]
    }
    /// The subject's left eye (image right).
    pub fn left_eye(&self) -> Point {
        self.keypoints[1]
    }
    /// Box centre.
    pub fn center(&self) -> Point {
        Point::new(self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    fn iou(&self, o: &Face) -> f32 {
        let x0 = self.x.max(o.x);
        let y0 = self.y.max(o.y);
        let x1 = (self.x + self.w).min(o.x + o.w);
        let y1 = (self.y + self.h).min(o.y + o.h);
        let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
        let union = self.w * self.h + o.w * o.h - inter;
        if union <= 0.0 {
            0.0
        } else {
            inter / union
        }
    }
}

/// Side of the detector's large input: a pyramid level that fits in it takes one run instead
/// of four overlapping 128 px tiles (2.25 times the pixels of one tile, not 4).
const LARGE_INPUT: usize = 192;

/// SSD anchors of BlazeFace short range for a `w` x `h` input: strides 8 (2 anchors per cell)
/// and 16 (6 per cell), fixed size, centres at cell centres, in input pixels. Row by row, or
/// column by column when `by_column` (a transposed plan's order).
fn anchor_grid(w: usize, h: usize, by_column: bool) -> Vec<(f32, f32)> {
    let mut v = Vec::new();
    for (stride, per_cell) in [(8usize, 2usize), (16, 6)] {
        let (nx, ny) = (w / stride, h / stride);
        let (outer, inner) = if by_column { (nx, ny) } else { (ny, nx) };
        for o in 0..outer {
            for i in 0..inner {
                let (x, y) = if by_column { (o, i) } else { (i, o) };
                let c = |i: usize| (i as f32 + 0.5) * stride as f32;
                v.extend(std::iter::repeat_n((c(x), c(y)), per_cell));
            }
        }
    }
    v
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x.clamp(-100.0, 100.0)).exp())
}

/// Runs the detector on one `w` x `h` tile (sides multiples of 16) given as RGB bytes;
/// returns faces in tile pixels.
pub(super) fn detect_tile(
    nets: &Networks,
    tile: &[u8],
    (w, h): (usize, usize),
    threshold: f32,
) -> Result<Vec<Face>> {
    let input: Vec<f32> = tile.iter().map(|&v| v as f32 / 127.5 - 1.0).collect();
    let model = nets.detector_at(w, h)?;
    let out = model.run(input)?;
    let (reg, cls) = (&out[0], &out[1]);
    let anchors = anchor_grid(w, h, model.transposed());
    if cls.len() != anchors.len() || reg.len() != anchors.len() * 16 {
        return Err(crate::error::Error::Internal(format!(
            "detector output {} / {} for {} anchors",
            cls.len(),
            reg.len(),
            anchors.len()
        )));
    }
    let mut faces = Vec::new();
    for (i, &(ax, ay)) in anchors.iter().enumerate() {
        let score = sigmoid(cls[i]);
        if score < threshold {
            continue;
        }
        let r = &reg[i * 16..i * 16 + 16];
        let cx = r[0] + ax;
        let cy = r[1] + ay;
        let (w, h) = (r[2], r[3]);
        let mut keypoints = [Point::default(); 6];
        for (k, kp) in keypoints.iter_mut().enumerate() {
            *kp = Point::new(r[4 + 2 * k] + ax, r[5 + 2 * k] + ay);
        }
        faces.push(Face {
            x: cx - w / 2.0,
            y: cy - h / 2.0,
            w,
            h,
            score,
            keypoints,
        });
    }
    Ok(faces)
}

/// Weighted non-maximum suppression (MediaPipe's "weighted" mode): each cluster of boxes
/// overlapping the best one is replaced by their score-weighted mean.
fn weighted_nms(mut faces: Vec<Face>) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut out: Vec<Face> = Vec::new();
    while !faces.is_empty() {
        let best = faces[0].clone();
        let (cluster, rest): (Vec<Face>, Vec<Face>) =
            faces.into_iter().partition(|f| f.iou(&best) > NMS_IOU);
        faces = rest;
        let total: f32 = cluster.iter().map(|f| f.score).sum();
        let mut m = best.clone();
        if total > 0.0 {
            let wavg = |g: &dyn Fn(&Face) -> f32| {
                cluster.iter().map(|f| g(f) * f.score).sum::<f32>() / total
            };
            m.x = wavg(&|f| f.x);
            m.y = wavg(&|f| f.y);
            m.w = wavg(&|f| f.w);
            m.h = wavg(&|f| f.h);
            for k in 0..6 {
                m.keypoints[k] =
                    Point::new(wavg(&|f| f.keypoints[k].x), wavg(&|f| f.keypoints[k].y));
            }
        }
        out.push(m);
    }
    out
}

/// Options for [`detect_faces`].
#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Stop descending the pyramid once a face at least this wide (source px) is found.
    pub enough_face_px: f32,
    /// Smallest face width (source px) the search must be able to find.
    pub min_face_px: f32,
    /// Score threshold.
    pub threshold: f32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            enough_face_px: 0.0,
            min_face_px: 48.0,
            threshold: SCORE_THRESHOLD,
        }
    }
}

/// Detects faces in `img`. The image is searched at several scales, coarse to fine: whole
/// image, then overlapping tiles of 2/3, 1/3, 1/6 ... of its long side, until a face of
/// `enough_face_px` is found or tiles reach the size at which `min_face_px` faces are
/// detectable; last, zoomed out (for faces that fill the frame), only when nothing was found.
/// Faces are returned sorted by width, largest first.
pub fn detect_faces(nets: &Networks, img: &RgbImage, opts: &DetectOptions) -> Result<Vec<Face>> {
    let (w, h) = img.dimensions();
    let long = w.max(h) as f32;
    let mut found: Vec<Face> = Vec::new();
    // tile side in source pixels for each level, coarse to fine; the first step is 1.5 (a
    // 4:3 photo then takes 2x2 tiles, not 3x2), later ones 2
    let mut sides = vec![long];
    let mut t = long / 1.5;
    // a face is reliably detected down to about 1/8 of the tile side
    while t >= 96.0 && (t / 8.0 > opts.min_face_px * 0.9 || t > opts.enough_face_px * 5.0) {
        sides.push(t);
        t = if sides.len() == 2 {
            long / 3.0
        } else {
            t / 2.0
        };
    }
    if sides.len() == 1 && long / 1.5 >= 96.0 {
        sides.push(long / 1.5);
    }
    // every level is cut from one reduced copy (long side <= 1024) when it is fine enough and
    // at most half the photo's size (a resize costs about as much as its larger image: from
    // a 1 MP photo, each level directly costs less than one copy)
    let finest = INPUT as f32 / sides.last().copied().unwrap_or(long);
    let base_scale = (1024.0 / long).min(1.0).max(finest);
    let base = if base_scale <= 0.5 {
        Some(downscale_to(
            img,
            ((w as f32 * base_scale).round() as u32).max(1),
            ((h as f32 * base_scale).round() as u32).max(1),
        )?)
    } else {
        None
    };
    let mut levels: Vec<(f32, bool)> = sides.into_iter().map(|s| (s, false)).collect();
    // zoomed out, for a face that fills the frame: only when nothing else was found
    levels.push((long * 1.6, true));
    for &(side, zoomed_out) in &levels {
        if zoomed_out && !found.is_empty() {
            break;
        }
        let r = INPUT as f32 / side;
        let sw = ((w as f32 * r).round() as u32).max(1);
        let sh = ((h as f32 * r).round() as u32).max(1);
        let small = match &base {
            Some(b) => downscale_to(b, sw, sh)?,
            None => downscale_to(img, sw, sh)?,
        };
        let (mut xs, mut ys) = (tile_starts(sw), tile_starts(sh));
        let mut tile = (INPUT, INPUT);
        if sw as usize <= LARGE_INPUT && sh as usize <= LARGE_INPUT {
            // the whole level in one run, at its own aspect ratio
            let fit = |v: u32| (v as usize).div_ceil(16).max(2) * 16;
            (xs, ys, tile) = (vec![0], vec![0], (fit(sw), fit(sh)));
        }
        let (tw, th) = (tile.0 as f32, tile.1 as f32);
        let mut level_faces = Vec::new();
        for &ty in &ys {
            for &tx in &xs {
                let pixels = extract_tile(&small, tx, ty, tile);
                for f in detect_tile(nets, &pixels, tile, opts.threshold)? {
                    // discard boxes cut by an interior tile border: another tile sees them whole
                    let margin = 2.0;
                    let interior_cut = (tx > 0 && f.x < margin)
                        || (ty > 0 && f.y < margin)
                        || ((tx as f32 + tw) < sw as f32 && f.x + f.w > tw - margin)
                        || ((ty as f32 + th) < sh as f32 && f.y + f.h > th - margin);
                    if interior_cut && (xs.len() > 1 || ys.len() > 1) {
                        continue;
                    }
                    level_faces.push(to_source(&f, tx as f32, ty as f32, 1.0 / r));
                }
            }
        }
        found.extend(level_faces);
        found = weighted_nms(found);
        let biggest = found.iter().map(|f| f.w).fold(0.0, f32::max);
        // Stop once a big enough face was found at a level where faces of its size are
        // reliably detected (at least a fifth of the tile): any comparable face would have
        // been found too.
        if !zoomed_out && biggest > 0.0 && biggest >= opts.enough_face_px && side <= biggest * 5.0 {
            break;
        }
    }
    found.sort_by(|a, b| b.w.total_cmp(&a.w));
    Ok(found)
}

/// Tile origins covering `len` pixels with 128-px tiles overlapping by at least 25 %.
fn tile_starts(len: u32) -> Vec<u32> {
    let t = INPUT as u32;
    if len <= t {
        return vec![0];
    }
    let n = (len - t).div_ceil(96) + 1;
    (0..n)
        .map(|i| ((len - t) as f32 * i as f32 / (n - 1) as f32).round() as u32)
        .collect()
}

/// A `tw` x `th` RGB tile with its top-left corner at (tx, ty), black where the image ends.
fn extract_tile(img: &RgbImage, tx: u32, ty: u32, (tw, th): (usize, usize)) -> Vec<u8> {
    let mut tile = vec![0u8; tw * th * 3];
    let (w, h) = img.dimensions();
    for y in 0..th as u32 {
        let sy = ty + y;
        if sy >= h {
            break;
        }
        let row_len = (w.saturating_sub(tx)).min(tw as u32) as usize;
        let src = ((sy * w + tx) * 3) as usize;
        let dst = (y as usize) * tw * 3;
        tile[dst..dst + row_len * 3].copy_from_slice(&img.as_raw()[src..src + row_len * 3]);
    }
    tile
}

fn to_source(f: &Face, tx: f32, ty: f32, k: f32) -> Face {
    let mut o = f.clone();
    o.x = (f.x + tx) * k;
    o.y = (f.y + ty) * k;
    o.w = f.w * k;
    o.h = f.h * k;
    for (dst, src) in o.keypoints.iter_mut().zip(f.keypoints.iter()) {
        *dst = Point::new((src.x + tx) * k, (src.y + ty) * k);
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::tests::shared_dir;

    fn load(p: &std::path::Path) -> RgbImage {
        image::open(p).unwrap().to_rgb8()
    }

    #[test]
    fn anchors_count() {
        assert_eq!(anchor_grid(INPUT, INPUT, false).len(), 896);
        let large = anchor_grid(LARGE_INPUT, LARGE_INPUT, false);
        assert_eq!(large.len(), 24 * 24 * 2 + 12 * 12 * 6);
        assert_eq!(anchor_grid(INPUT, INPUT, false)[0], (4.0, 4.0));
        assert_eq!(large.last(), Some(&(184.0, 184.0)));
        // 96 wide, 128 tall: row by row, and column by column for a transposed plan
        let rows = anchor_grid(96, 128, false);
        let cols = anchor_grid(96, 128, true);
        assert_eq!(rows.len(), 12 * 16 * 2 + 6 * 8 * 6);
        assert_eq!((rows[2], cols[2]), ((12.0, 4.0), (4.0, 12.0)));
        let (mut a, mut b) = (rows.clone(), cols.clone());
        a.sort_by(|p, q| p.partial_cmp(q).unwrap());
        b.sort_by(|p, q| p.partial_cmp(q).unwrap());
        assert_eq!(a, b);
    }

    /// A portrait tile, run by the transposed network, finds the face the square tile holding
    /// it finds, at the same place.
    #[test]
    fn portrait_tile_finds_the_same_face() {
        let Some(shared) = shared_dir() else { return };
        assert!(crate::nn::tests::nets()
            .detector_at(96, 128)
            .unwrap()
            .transposed());
        let img = load(&shared.join("data/portraits/obama.jpg"));
        let small = downscale_to(&img, 96, 128).unwrap();
        let best = |size: (usize, usize)| {
            let tile = extract_tile(&small, 0, 0, size);
            let faces =
                detect_tile(crate::nn::tests::nets(), &tile, size, SCORE_THRESHOLD).unwrap();
            weighted_nms(faces).into_iter().next().expect("a face")
        };
        let (square, portrait) = (best((128, 128)), best((96, 128)));
        assert!(portrait.score > 0.9, "{portrait:?}");
        let close = |a: f32, b: f32| (a - b).abs() < 0.05;
        assert!(
            close(square.x, portrait.x)
                && close(square.y, portrait.y)
                && close(square.w, portrait.w)
                && close(square.score, portrait.score),
            "{square:?}\n{portrait:?}"
        );
        for (a, b) in square.keypoints.iter().zip(&portrait.keypoints) {
            assert!(a.dist(*b) < 0.05, "{square:?}\n{portrait:?}");
        }
    }

    #[test]
    fn large_input_finds_the_same_face_as_a_tile() {
        let Some(shared) = shared_dir() else { return };
        let img = load(&shared.join("data/portraits/obama.jpg"));
        let small = downscale_to(&img, 128, 128 * img.height() / img.width()).unwrap();
        let one = |side: usize, at: (u32, u32)| {
            let mut canvas = RgbImage::new(side as u32, side as u32);
            image::imageops::overlay(&mut canvas, &small, at.0.into(), at.1.into());
            let tile = extract_tile(&canvas, 0, 0, (side, side));
            let faces = detect_tile(
                crate::nn::tests::nets(),
                &tile,
                (side, side),
                SCORE_THRESHOLD,
            )
            .unwrap();
            let best = weighted_nms(faces).into_iter().next().expect("a face");
            (
                best.x - at.0 as f32,
                best.y - at.1 as f32,
                best.w,
                best.score,
            )
        };
        let a = one(INPUT, (0, 0));
        for at in [(0, 0), (64, 40)] {
            let b = one(LARGE_INPUT, at);
            assert!(
                (a.0 - b.0).abs() < 3.0 && (a.1 - b.1).abs() < 3.0 && (a.2 - b.2).abs() < 4.0,
                "128: {a:?}, 192 at {at:?}: {b:?}"
            );
            assert!(b.3 > 0.9, "{b:?}");
        }
    }

    #[test]
    fn tiles_cover() {
        assert_eq!(tile_starts(100), vec![0]);
        let t = tile_starts(300);
        assert_eq!(*t.last().unwrap(), 172);
        for pair in t.windows(2) {
            assert!(pair[1] - pair[0] <= 96);
        }
    }

    #[test]
    fn no_face_in_flat_image() {
        let img = RgbImage::from_pixel(640, 480, image::Rgb([200, 200, 200]));
        assert!(
            detect_faces(crate::nn::tests::nets(), &img, &DetectOptions::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn finds_portrait_faces() {
        let Some(shared) = shared_dir() else { return };
        for name in [
            "obama.jpg",
            "bush_official_2003.jpg",
            "obama1.jpg",
            "obama_small.jpg",
        ] {
            let img = load(&shared.join("data/portraits").join(name));
            let faces =
                detect_faces(crate::nn::tests::nets(), &img, &DetectOptions::default()).unwrap();
            eprintln!(
                "{name}: {:?}",
                faces
                    .iter()
                    .map(|f| (f.x as i32, f.y as i32, f.w as i32, f.score))
                    .collect::<Vec<_>>()
            );
            // obama1.jpg also has a weak detection on the building behind (score ~0.67): the
            // landmark model's presence score rejects it in the pipeline
            assert!(!faces.is_empty(), "{name}");
            let f = faces
                .iter()
                .max_by(|a, b| a.score.total_cmp(&b.score))
                .unwrap();
            assert!(f.score > 0.9, "{name}: best face score {}", f.score);
            assert!(f.right_eye().x < f.left_eye().x, "{name}: eye order");
        }
    }
}
