//! The detector's second opinion on a face the landmark model found.

use image::RgbImage;

use super::detect::{detect_tile, INPUT};
use super::landmarks::Landmarks;
use crate::error::Result;
use crate::nn::Networks;
use crate::raster::{warp_rgb, Affine, Point};

/// Side of the square [`confirm`] looks at, in widths of the landmarks' extent.
const CONFIRM_SIDE: f32 = 2.0;

/// The detector's second opinion on a face found by the landmark model: its best score for a
/// face centred in a square of twice the landmarks' extent, levelled by their roll, seen at
/// 128x128 (the scale it was trained for). A pyramid level sees a face at whatever scale and
/// offset the tiles give; a weak detection there (a window pattern, a texture) that the
/// landmark model takes for a face scores low here too, while real faces score high. On the
/// shared photos: real faces 0.78-0.96 (a face cut by the edge 0.78), the detections the
/// landmark model rejects 0.56-0.60, and a building facade it accepted (obama1.jpg) 0.48.
pub fn confirm(nets: &Networks, img: &RgbImage, lm: &Landmarks) -> Result<f32> {
    confirm_turned(nets, img, lm, 0.0)
}

/// [`confirm`] with the square turned by a further `turn` radians.
pub(crate) fn confirm_turned(
    nets: &Networks,
    img: &RgbImage,
    lm: &Landmarks,
    turn: f32,
) -> Result<f32> {
    let (mut x0, mut x1, mut y0, mut y1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in &lm.points {
        (x0, x1) = (x0.min(p[0]), x1.max(p[0]));
        (y0, y1) = (y0.min(p[1]), y1.max(p[1]));
    }
    let side = (x1 - x0).max(y1 - y0) * CONFIRM_SIDE;
    if !(side.is_finite() && side > 1.0) {
        return Ok(0.0);
    }
    let center = Point::new((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let n = INPUT as u32;
    let angle = lm.roll_deg().to_radians() + turn;
    let map = Affine::rect(center, (side, side), angle, (n, n));
    let crop = warp_rgb(img, &map, n, n)?;
    let faces = detect_tile(nets, crop.as_raw(), (INPUT, INPUT), 0.0)?;
    let mid = INPUT as f32 / 2.0;
    Ok(faces
        .iter()
        .filter(|f| {
            let c = f.center();
            (c.x - mid).abs() < INPUT as f32 / 4.0 && (c.y - mid).abs() < INPUT as f32 / 4.0
        })
        .map(|f| f.score)
        .fold(0.0, f32::max))
}
