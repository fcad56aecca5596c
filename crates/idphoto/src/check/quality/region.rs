//! Face regions: the FaceMesh landmark index sets the checks use, the face frame ([`Face`]:
//! eye midpoint, T, inter-eye distance, the eye-line axes), polygon filling, and the skin
//! region with its mean colour.

use image::RgbImage;

use super::colour::lin_to_lab;
use crate::face::landmarks::Landmarks;
use crate::raster::{Plane, Point};

/// Face outline, in order around the face.
pub const FACE_OVAL: [usize; 36] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];
/// Outer lip contour, in order.
pub(super) const LIPS_OUTER: [usize; 20] = [
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];
/// Eye contours (subject's right = image left, then left), in order.
pub(super) const EYE_RINGS: [[usize; 16]; 2] = [
    [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ],
    [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ],
];
/// Upper / lower eyelid point pairs of each eye (OFIQ: maximum pair distance).
pub(super) const EYE_PAIRS: [[(usize, usize); 5]; 2] = [
    [(159, 145), (158, 153), (160, 144), (157, 154), (161, 163)],
    [(386, 374), (385, 380), (387, 373), (384, 381), (388, 390)],
];
/// Upper / lower inner-lip point pairs (OFIQ MouthClosed: maximum pair distance).
pub(super) const MOUTH_PAIRS: [(usize, usize); 5] =
    [(13, 14), (82, 87), (312, 317), (81, 178), (311, 402)];
/// Upper contour of each eyebrow.
pub(super) const BROWS_UPPER: [[usize; 5]; 2] = [[70, 63, 105, 66, 107], [300, 293, 334, 296, 336]];
/// Symmetric contour pairs (subject's right, left) for yaw.
pub(super) const YAW_PAIRS: [(usize, usize); 4] = [(234, 454), (93, 323), (132, 361), (127, 356)];
/// Midline pairs (upper, lower) for pitch: forehead to chin.
pub(super) const PITCH_PAIRS: [(usize, usize); 3] = [(10, 152), (151, 175), (9, 199)];

/// Fills the polygon `pts` into `mask` (row-major `w` x `h`) with `val`, scanline rule on pixel
/// centres.
pub fn fill_polygon(pts: &[Point], w: u32, h: u32, mask: &mut [u8], val: u8) {
    if pts.len() < 3 {
        return;
    }
    let miny = pts
        .iter()
        .map(|p| p.y)
        .fold(f32::MAX, f32::min)
        .floor()
        .max(0.0) as u32;
    let maxy = pts
        .iter()
        .map(|p| p.y)
        .fold(f32::MIN, f32::max)
        .ceil()
        .min(h as f32) as u32;
    let mut xs = Vec::with_capacity(8);
    for y in miny..maxy {
        let yc = y as f32 + 0.5;
        xs.clear();
        for i in 0..pts.len() {
            let (a, b) = (pts[i], pts[(i + 1) % pts.len()]);
            if (a.y <= yc) != (b.y <= yc) {
                xs.push(a.x + (yc - a.y) / (b.y - a.y) * (b.x - a.x));
            }
        }
        xs.sort_by(|a, b| a.total_cmp(b));
        for pair in xs.chunks_exact(2) {
            let x0 = (pair[0] - 0.5).ceil().max(0.0) as u32;
            let x1 = ((pair[1] - 0.5).floor() + 1.0).clamp(0.0, w as f32) as u32;
            for x in x0..x1.max(x0) {
                mask[(y * w + x) as usize] = val;
            }
        }
    }
}

/// The polygon `pts` scaled by `k` about its centroid.
pub(super) fn scaled(pts: &[Point], k: f32) -> Vec<Point> {
    let n = pts.len() as f32;
    let c = pts.iter().fold(Point::default(), |a, p| {
        Point::new(a.x + p.x / n, a.y + p.y / n)
    });
    pts.iter()
        .map(|p| Point::new(c.x + k * (p.x - c.x), c.y + k * (p.y - c.y)))
        .collect()
}

/// Face measurements shared by the checks.
pub(super) struct Face<'a> {
    pub(super) lm: &'a Landmarks,
    /// OFIQ's T: eye midpoint to chin.
    pub(super) t: f32,
    /// Inter-eye distance (eye centres), px.
    pub(super) ied: f32,
    /// Midpoint between the eye centres.
    pub(super) eye_mid: Point,
    /// Unit vector along the eye line and across it (down the face).
    pub(super) ux: (f32, f32),
    pub(super) uy: (f32, f32),
}

impl<'a> Face<'a> {
    /// The face frame of `lm`.
    pub(super) fn new(lm: &'a Landmarks) -> Face<'a> {
        let (r, l) = (lm.right_eye(), lm.left_eye());
        let d = r.dist(l).max(1e-3);
        let ux = ((l.x - r.x) / d, (l.y - r.y) / d);
        let eye_mid = r.mid(l);
        Face {
            lm,
            t: eye_mid.dist(lm.chin()).max(1.0),
            ied: d,
            eye_mid,
            ux,
            uy: (-ux.1, ux.0),
        }
    }
    /// Coordinates in the face frame: (along the eye line, down the face) from the eye
    /// midpoint, in px.
    pub(super) fn local(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.eye_mid.x, y - self.eye_mid.y);
        (
            dx * self.ux.0 + dy * self.ux.1,
            dx * self.uy.0 + dy * self.uy.1,
        )
    }
    /// The image positions of the landmarks `idx`.
    pub(super) fn pts(&self, idx: &[usize]) -> Vec<Point> {
        idx.iter().map(|&i| self.lm.pt(i)).collect()
    }
    /// The largest distance between the two landmarks of a pair in `pairs`, px.
    pub(super) fn max_pair(&self, pairs: &[(usize, usize)]) -> f32 {
        pairs
            .iter()
            .map(|&(a, b)| self.lm.pt(a).dist(self.lm.pt(b)))
            .fold(0.0, f32::max)
    }
}

/// Skin region: inside the face outline, below the brows, without eyes and lips, on the person.
pub(super) fn skin_mask(face: &Face, alpha: &Plane, w: u32, h: u32) -> Vec<u8> {
    let mut m = vec![0u8; (w * h) as usize];
    fill_polygon(&face.pts(&FACE_OVAL), w, h, &mut m, 1);
    for ring in &EYE_RINGS {
        fill_polygon(&scaled(&face.pts(ring), 1.6), w, h, &mut m, 0);
    }
    fill_polygon(&scaled(&face.pts(&LIPS_OUTER), 1.15), w, h, &mut m, 0);
    // only below the upper brow contour (hair often covers the forehead)
    let brow_y = BROWS_UPPER
        .iter()
        .flatten()
        .map(|&i| face.local(face.lm.pt(i).x, face.lm.pt(i).y).1)
        .fold(f32::MIN, f32::max);
    for y in 0..h {
        for x in 0..w {
            let i = (y * w + x) as usize;
            if m[i] == 1
                && (face.local(x as f32 + 0.5, y as f32 + 0.5).1 < brow_y + 0.05 * face.t
                    || alpha.data[i] < 0.5)
            {
                m[i] = 0;
            }
        }
    }
    m
}

/// Mean L*a*b* of the person's pixels in a square around each cheek landmark (the reference
/// skin colour of the ears check).
pub(super) fn mean_lab_skin(img: &RgbImage, face: &Face, alpha: &Plane) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let lut = crate::raster::colour::srgb_to_linear_lut();
    let raw = img.as_raw();
    let mut s = [0f64; 3];
    let mut n = 0usize;
    for idx in [50usize, 280, 205, 425] {
        // cheek points
        let p = face.lm.pt(idx);
        let r = (0.04 * face.t).max(1.0) as i64;
        for dy in -r..=r {
            for dx in -r..=r {
                let (x, y) = (p.x as i64 + dx, p.y as i64 + dy);
                if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                    let i = (y as u32 * w + x as u32) as usize;
                    if alpha.data[i] >= 0.5 {
                        for k in 0..3 {
                            s[k] += lut[raw[3 * i + k] as usize] as f64;
                        }
                        n += 1;
                    }
                }
            }
        }
    }
    lin_to_lab(s.map(|v| v / n.max(1) as f64))
}
