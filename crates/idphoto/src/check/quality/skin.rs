//! One pass over the skin pixels gathering what the lighting and natural-colour measures use:
//! the luma of the skin and of each face half, the linear luminance of the outer cheeks, and
//! the linear colour of the cheeks between the eye line and the mouth corners.

use image::RgbImage;

use super::region::Face;
use crate::face::landmarks::{LEFT_CHEEK, NOSE_TIP, RIGHT_CHEEK};
use crate::raster::Plane;

/// Samples of the skin pixels (the mask of [`skin_mask`](super::region::skin_mask)).
pub(super) struct SkinSamples {
    /// Luma (0..255) of every skin pixel.
    pub(super) all: Vec<f32>,
    /// Luma of the skin in the face half left of the nose (OFIQ IlluminationUniformity).
    pub(super) left: Vec<f32>,
    /// Luma of the skin in the face half right of the nose.
    pub(super) right: Vec<f32>,
    /// Sum and count of the linear luminance of the outer cheeks (image left, image right): the
    /// outer half of each face half, where a side light falls off most.
    pub(super) outer: [(f64, usize); 2],
    /// Sum of the linear RGB of the cheeks between the eye line and the mouth corners.
    cheek_sum: [f64; 3],
    /// Number of pixels in `cheek_sum`.
    cheek_n: usize,
}

impl SkinSamples {
    /// Gathers the samples of the pixels set in `skin`; `y` is the luma of `img`.
    pub(super) fn gather(img: &RgbImage, y: &Plane, face: &Face, skin: &[u8]) -> SkinSamples {
        let (w, h) = img.dimensions();
        let lm = face.lm;
        let mouth_y = face
            .local(lm.pt(61).x, lm.pt(61).y)
            .1
            .max(face.local(lm.pt(291).x, lm.pt(291).y).1);
        let nose_x = face.local(lm.pt(NOSE_TIP).x, lm.pt(NOSE_TIP).y).0;
        let (mut all, mut left, mut right) = (Vec::new(), Vec::new(), Vec::new());
        // outer cheeks: the outer half of each face half, where a side light falls off most
        let xl = face.local(lm.pt(RIGHT_CHEEK).x, lm.pt(RIGHT_CHEEK).y).0;
        let xr = face.local(lm.pt(LEFT_CHEEK).x, lm.pt(LEFT_CHEEK).y).0;
        let mut outer = [(0f64, 0usize); 2];
        let mut lab_sum = [0f64; 3];
        let mut lab_n = 0usize;
        let lut = crate::raster::colour::srgb_to_linear_lut();
        let raw = img.as_raw();
        for yy in 0..h {
            for xx in 0..w {
                let i = (yy * w + xx) as usize;
                if skin[i] == 0 {
                    continue;
                }
                let v = y.data[i];
                all.push(v);
                let p = &raw[3 * i..3 * i + 3];
                let lin = 0.2126 * lut[p[0] as usize]
                    + 0.7152 * lut[p[1] as usize]
                    + 0.0722 * lut[p[2] as usize];
                let (lx, ly) = face.local(xx as f32 + 0.5, yy as f32 + 0.5);
                // OFIQ IlluminationUniformity: the face halves either side of the nose
                let side = lx - nose_x;
                if side < -0.05 * face.ied {
                    left.push(v);
                } else if side > 0.05 * face.ied {
                    right.push(v);
                }
                if lx < nose_x - 0.5 * (nose_x - xl) {
                    outer[0] = (outer[0].0 + lin as f64, outer[0].1 + 1);
                } else if lx > nose_x + 0.5 * (xr - nose_x) {
                    outer[1] = (outer[1].0 + lin as f64, outer[1].1 + 1);
                }
                if ly > 0.0 && ly < mouth_y && (lx < -0.1 * face.ied || lx > 0.1 * face.ied) {
                    // cheeks between the eye line and the mouth corners: natural colour
                    for k in 0..3 {
                        lab_sum[k] += lut[p[k] as usize] as f64;
                    }
                    lab_n += 1;
                }
            }
        }
        SkinSamples {
            all,
            left,
            right,
            outer,
            cheek_sum: lab_sum,
            cheek_n: lab_n,
        }
    }

    /// Whether the skin is large enough to measure the light on it: 200 pixels, 50 in each
    /// face half.
    pub(super) fn measurable(&self) -> bool {
        !(self.all.len() < 200 || self.left.len() < 50 || self.right.len() < 50)
    }

    /// Mean linear RGB (0..1) of the cheeks between the eye line and the mouth corners.
    pub(super) fn cheeks_linear(&self) -> [f64; 3] {
        self.cheek_sum.map(|s| s / self.cheek_n.max(1) as f64)
    }
}
