//! The levelled frame: the photo rotated about the eye midpoint so that the eyes are level,
//! and maps from output frames back to the photo.

use crate::raster::{Affine, Point};

/// `p` rotated by `angle` (radians) about `c`.
pub(crate) fn rotate(p: Point, c: Point, angle: f32) -> Point {
    let (s, co) = angle.sin_cos();
    let (dx, dy) = (p.x - c.x, p.y - c.y);
    Point::new(c.x + co * dx - s * dy, c.y + s * dx + co * dy)
}

/// Map from a frame with origin (x0, y0) in the levelled frame and `scale` frame px per
/// levelled px, to source coordinates (levelled = source rotated by -theta about `c`).
pub(crate) fn frame_to_source(x0: f64, y0: f64, scale: f64, theta: f32, c: Point) -> Affine {
    let (s, co) = theta.sin_cos();
    let k = (1.0 / scale) as f32;
    // L = (x0, y0) + k * (u, v); S = c + R(theta) (L - c)
    let (lx, ly) = (x0 as f32 - c.x, y0 as f32 - c.y);
    Affine {
        m: [
            co * k,
            -s * k,
            c.x + co * lx - s * ly,
            s * k,
            co * k,
            c.y + s * lx + co * ly,
        ],
    }
}
