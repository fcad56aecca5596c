//! The working region rotated once into the levelled frame.

use image::RgbImage;

use super::frame::frame_to_source;
use crate::error::Result;
use crate::raster::{warp_rgb, Point};

/// The working region rotated once into the levelled frame, for heads that must be levelled:
/// every render pass crops from it. Sampled at source resolution, or lower when that would
/// exceed 4 MP (then the final resize still shrinks by at least 2x).
pub(crate) struct Levelled {
    /// The rotated region.
    pub(crate) img: RgbImage,
    /// Levelled-frame coordinates of the image's top-left corner.
    pub(crate) bx: f64,
    /// Levelled-frame y of the image's top edge.
    pub(crate) by: f64,
    /// Pixels of `img` per levelled-frame pixel.
    pub(crate) scale: f64,
}

impl Levelled {
    pub(crate) fn new(
        src: &RgbImage,
        region: (f64, f64, f64, f64),
        out_scale: f64,
        theta: f32,
        c: Point,
    ) -> Result<Levelled> {
        let (x0, y0, rw, rh) = region;
        let scale = (4.0e6 / (rw * rh)).sqrt().max(2.0 * out_scale).min(1.0);
        let w = ((rw * scale).ceil() as u32).max(1);
        let h = ((rh * scale).ceil() as u32).max(1);
        let map = frame_to_source(x0, y0, scale, theta, c);
        let img = warp_rgb(src, &map, w, h)?;
        Ok(Levelled {
            img,
            bx: x0,
            by: y0,
            scale,
        })
    }
}
