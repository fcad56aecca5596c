//! Image-quality checks of a face photo, named after the OFIQ (ISO/IEC 29794-5) measures where
//! OFIQ has one: head pose, eyes open, mouth closed, crop of the face image, background
//! uniformity and colour, illumination uniformity, luminance, under- and over-exposure, dynamic
//! range, sharpness, compression artefacts, noise, natural colour, and advisory checks for
//! glasses glare, hair over the eyebrows and hidden ears.
//!
//! Every check returns a [`RuleResult`] with a stable code, the raw value, its limits and a
//! message saying what to do. Raw values follow OFIQ's definitions (not its 0-100 scores);
//! where this library departs from OFIQ (no face-parsing network, no aligned 616x616 face),
//! the function's documentation says how.
//!
//! Limits were chosen by measuring compliant outputs of `process` on the shared portraits and
//! injected defects of them (`cargo run --release -p idphoto-benches --bin check-eval`); each
//! constant's documentation gives the reason.

use image::RgbImage;

use crate::face::landmarks::{Landmarks, CHIN, LEFT_CHEEK, NOSE_TIP, RIGHT_CHEEK};
use crate::raster::{Plane, Point};
use crate::report::{RuleResult, Status};
use crate::spec::Spec;

// ---------------------------------------------------------------------------------------------
// FaceMesh index sets

/// Face outline, in order around the face.
pub const FACE_OVAL: [usize; 36] = [
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152,
    148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
];
/// Outer lip contour, in order.
const LIPS_OUTER: [usize; 20] = [
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
];
/// Eye contours (subject's right = image left, then left), in order.
const EYE_RINGS: [[usize; 16]; 2] = [
    [
        33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
    ],
    [
        263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
    ],
];
/// Upper / lower eyelid point pairs of each eye (OFIQ: maximum pair distance).
const EYE_PAIRS: [[(usize, usize); 5]; 2] = [
    [(159, 145), (158, 153), (160, 144), (157, 154), (161, 163)],
    [(386, 374), (385, 380), (387, 373), (384, 381), (388, 390)],
];
/// Upper / lower inner-lip point pairs (OFIQ MouthClosed: maximum pair distance).
const MOUTH_PAIRS: [(usize, usize); 5] = [(13, 14), (82, 87), (312, 317), (81, 178), (311, 402)];
/// Upper contour of each eyebrow.
const BROWS_UPPER: [[usize; 5]; 2] = [[70, 63, 105, 66, 107], [300, 293, 334, 296, 336]];
/// Symmetric contour pairs (subject's right, left) for yaw.
const YAW_PAIRS: [(usize, usize); 4] = [(234, 454), (93, 323), (132, 361), (127, 356)];
/// Midline pairs (upper, lower) for pitch: forehead to chin.
const PITCH_PAIRS: [(usize, usize); 3] = [(10, 152), (151, 175), (9, 199)];

// ---------------------------------------------------------------------------------------------
// Limits (values measured on the compliant outputs and defect variants; see each reason)

/// Roll above which a warning is given even inside the spec's limit: outputs of `process` are
/// levelled to within 1 degree, and landmark roll is accurate to 1.5 degrees on the known-roll
/// portraits, so 3 degrees is a real tilt that a reviewer can see.
pub const ROLL_WARN_DEG: f64 = 3.0;
/// Yaw and pitch from one photo (no camera model) are estimates: beyond the spec's limit they
/// warn, beyond this multiple of it they fail.
pub const POSE_FAIL_FACTOR: f64 = 2.0;
/// Pitch of the forehead-to-chin line in FaceMesh's depth when the face looks straight at the
/// camera (median over the 20 compliant outputs of the shared portraits: 7.8 degrees);
/// subtracted so that frontal reads 0.
pub const PITCH_OFFSET_DEG: f64 = 8.0;
/// EyesOpen raw (smaller eye's largest lid opening / T): OFIQ's sigmoid centre is 0.02; open
/// eyes of the compliant outputs measure 0.07 to 0.11 and closed lids below 0.03.
pub const MIN_EYES_OPEN: f64 = 0.035;
/// MouthClosed raw (largest inner-lip opening / T): OFIQ's sigmoid centre is 0.2 (score 50);
/// closed mouths measure below 0.03; an open mouth showing teeth is above 0.1.
pub const MAX_MOUTH_OPEN: f64 = 0.1;
/// OFIQ CropOfTheFaceImage: leftward/rightward crop (eye x over the inter-eye distance), OFIQ's
/// sigmoid centre 0.9. Reported as advisory: the spec's own geometry rules decide.
pub const OFIQ_MIN_SIDE_CROP: f64 = 0.9;
/// OFIQ margin above (eye-midpoint y / T). OFIQ's centre 1.4 assumes ICAO's smaller head; the
/// Chinese specs' head fills most of the height, so compliant cn-id-card outputs measure
/// 0.92-1.1. 0.7 still flags a crown cut off by the top edge.
pub const OFIQ_MIN_MARGIN_ABOVE: f64 = 0.7;
/// OFIQ margin below ((H - eye-midpoint y) / T). OFIQ's centre is 1.8; compliant cn-id-card
/// outputs measure 1.37-1.5. 1.1 still flags a chin at the bottom edge.
pub const OFIQ_MIN_MARGIN_BELOW: f64 = 1.1;
/// OFIQ HeadSize raw T / H: optimum 0.45 with width 0.05 in OFIQ's aligned frame. For submitted
/// photos the compliant outputs of all presets fall in 0.2-0.4; outside 0.15-0.5 warns.
pub const HEAD_SIZE_RANGE: (f64, f64) = (0.15, 0.5);
/// Largest CIEDE2000 difference between the mean background and the nearest allowed colour.
/// Clean outputs measure below 1; a studio's near-white (RGB 235) is 4.8; a visible tint (a
/// pale blue or cream instead of white) is 6 and more.
pub const MAX_BACKGROUND_DE2000: f64 = 6.0;
/// Largest OFIQ BackgroundUniformity raw (mean Scharr gradient magnitude of luminance on the
/// background). OFIQ's sigmoid centre is 10. Clean composited outputs measure below 3.
pub const MAX_BACKGROUND_GRADIENT: f64 = 10.0;
/// Largest difference of L* between the brightest and darkest background cell (shadow,
/// vignette or gradient behind the head).
pub const MAX_BACKGROUND_SPREAD: f64 = 10.0;
/// Smallest OFIQ IlluminationUniformity raw (intersection of the normalised luminance
/// histograms of the left and right face halves, split at the nose). Advisory: the
/// intersection also drops with skin texture and a turned head (compliant outputs measure
/// 0.47-0.96); [`MAX_LIGHT_BALANCE_EV`] decides.
pub const MIN_ILLUMINATION_UNIFORMITY: f64 = 0.4;
/// Largest difference in exposure values (|log2| of the ratio of the mean linear luminance)
/// between the outer cheeks: the skin in the outer half of each face half (from half-way
/// between the nose tip and the face contour out to the contour), where a light from one side
/// falls off most. Compliant outputs measure 0.00-0.90 (0.54-0.57: Bush's official portrait,
/// lit more from one side but acceptable; 0.84-0.90: 32bit.png, whose turned head puts the far
/// cheek in shade); a light falling from x1.5 at one cheek to x0.5 at the other gives
/// 1.02-1.97. 0.95 EV is a light ratio of 1.93:1 between the cheeks. The margins on both sides
/// are small and were set on ten source photos: treat values near the limit as a judgement
/// call. (Comparing the whole halves split at the nose, as OFIQ does, gives 0.02-0.58 clean
/// and 0.56-1.27 with the gradient: obama1.jpg's turned head hides it.)
pub const MAX_LIGHT_BALANCE_EV: f64 = 0.95;
/// Smallest 98th percentile of luma over the face outline (the face's highlights). Compliant
/// outputs measure 174-207; a -1.7 EV exposure of them 100-119. The limit leaves room for
/// darker skin than in the test set, whose highlights (eye whites, specular reflections) are
/// still well above it in good light.
pub const MIN_FACE_HIGHLIGHTS: f64 = 135.0;
/// Largest percentage of face pixels with a clipped colour channel (>= 250). Compliant
/// outputs measure at most 0.5 %; a +1.3 EV exposure of them 42-88 %.
pub const MAX_CLIPPED_PCT: f64 = 10.0;
/// Face luminance mean (0..255, BT.601 luma over the skin region) limits. Compliant outputs
/// measure 112-185. Skin tone moves this mean, so the lower limit stays low enough for dark
/// skin in good light; a -1.7 EV exposure of light skin (about 106) passes it and is caught by
/// the background colour instead.
pub const FACE_LUMINANCE_RANGE: (f64, f64) = (70.0, 210.0);
/// Largest fraction (%) of face pixels with luminance in OFIQ's dark range 0..=25.
pub const MAX_UNDEREXPOSED_PCT: f64 = 5.0;
/// Largest fraction (%) of face pixels with luminance in OFIQ's bright range 247..=255.
pub const MAX_OVEREXPOSED_PCT: f64 = 5.0;
/// Smallest OFIQ DynamicRange raw (entropy in bits of the face's 256-bin luminance histogram).
/// Photographed faces measure 6.5-7.2 bits, a flat-shaded drawing 2.9-3.5; flat light alone is
/// not a reason for rejection, so only an almost constant face (posterised, clipped) fails.
pub const MIN_DYNAMIC_RANGE_BITS: f64 = 2.5;
/// Smallest sharpness: variance of the Laplacian over the variance of luminance, on the face
/// resampled to a canonical inter-eye distance of [`CANONICAL_IED`] px. Compliant outputs
/// measure 0.11-0.94; a gaussian blur of sigma 2 px at 358 px width gives 0.00-0.05.
pub const MIN_SHARPNESS: f64 = 0.06;
/// Inter-eye distance (px) of the canonical face on which sharpness is measured.
pub const CANONICAL_IED: f32 = 64.0;
/// Largest JPEG blockiness: mean luminance step across 8x8 block borders over the mean step
/// inside blocks. Unblocked images measure about 1.
pub const MAX_BLOCKINESS: f64 = 1.5;
/// Largest skin noise sigma ([`skin_noise`], luma levels at half resolution). Compliant outputs
/// measure 0.05-2.83 (2.83: the skin texture of obama.jpg at us-visa quality); sigma-10 RGB
/// noise measures 3.6-4.7 after the us-visa encoder and 2.6-3.7 after the cn-id-card 14-20 KB
/// window, which smooths most of it into mottling: the flat-shaded skin of the rendered
/// roll/ portraits then overlaps with real skin texture and is missed.
pub const MAX_NOISE_SIGMA: f64 = 3.0;
/// Factor putting [`background_residual`] on the scale of [`MAX_NOISE_SIGMA`]: a residual of
/// 1.2 luma levels counts as the limit. Clean outputs of both specs measure 0.01-0.73 (the
/// most on us-visa, where the KB window leaves more detail); sigma-10 noise after the spec's
/// encoder 1.87-3.92; a textured background 2.1-2.3 (it fails this rule too).
pub const BG_NOISE_SCALE: f64 = MAX_NOISE_SIGMA / 1.2;
/// Largest OFIQ NaturalColour raw (distance of the cheeks' mean a*, b* from a* in 5..25,
/// b* in 5..35).
pub const MAX_COLOUR_CAST: f64 = 8.0;
/// Glare: largest fraction (%) of saturated pixels (luminance >= 250) in the eye regions.
pub const MAX_GLARE_PCT: f64 = 3.0;
/// Hair over the eyebrows: smallest ratio of the luminance just above the brows to the cheeks.
pub const MIN_BROW_VISIBILITY: f64 = 0.55;
/// Ears: smallest fraction (%) of skin-coloured person pixels beside each cheek. Compliant
/// outputs with both ears visible measure 12-29 %; hair over an ear gives 0-3 %.
pub const MIN_EAR_SKIN_PCT: f64 = 5.0;

// ---------------------------------------------------------------------------------------------
// Colour

/// sRGB (0..255 per channel, may be fractional) to CIE L*a*b* (D65).
pub fn srgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let lin = rgb.map(|c| crate::raster::colour::srgb_to_linear((c / 255.0) as f32) as f64);
    lin_to_lab(lin)
}

fn lin_to_lab(lin: [f64; 3]) -> [f64; 3] {
    let x = 0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2];
    let y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    let z = 0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2];
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1.
pub fn ciede2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (l1, a1, b1) = (a[0], a[1], a[2]);
    let (l2, a2, b2) = (b[0], b[1], b[2]);
    let c1 = (a1 * a1 + b1 * b1).sqrt();
    let c2 = (a2 * a2 + b2 * b2).sqrt();
    let cm = (c1 + c2) / 2.0;
    let g = 0.5 * (1.0 - (cm.powi(7) / (cm.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let c1p = (a1p * a1p + b1 * b1).sqrt();
    let c2p = (a2p * a2p + b2 * b2).sqrt();
    let hue = |bb: f64, aa: f64| {
        if bb == 0.0 && aa == 0.0 {
            0.0
        } else {
            let h = bb.atan2(aa).to_degrees();
            if h < 0.0 {
                h + 360.0
            } else {
                h
            }
        }
    };
    let h1p = hue(b1, a1p);
    let h2p = hue(b2, a2p);
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dhh = 2.0 * (c1p * c2p).sqrt() * (dh.to_radians() / 2.0).sin();
    let lm = (l1 + l2) / 2.0;
    let cmp = (c1p + c2p) / 2.0;
    let hm = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (hm - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hm).to_radians().cos()
        + 0.32 * (3.0 * hm + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hm - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((hm - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (cmp.powi(7) / (cmp.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (lm - 50.0).powi(2) / (20.0 + (lm - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cmp;
    let sh = 1.0 + 0.015 * cmp * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh))
        .sqrt()
}

/// BT.601 luma (OFIQ's luminance image), 0..255.
pub fn luma(img: &RgbImage) -> Plane {
    let (w, h) = img.dimensions();
    let data = img
        .as_raw()
        .chunks_exact(3)
        .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
        .collect();
    Plane {
        width: w,
        height: h,
        data,
    }
}

// ---------------------------------------------------------------------------------------------
// Masks

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

fn scaled(pts: &[Point], k: f32) -> Vec<Point> {
    let n = pts.len() as f32;
    let c = pts.iter().fold(Point::default(), |a, p| {
        Point::new(a.x + p.x / n, a.y + p.y / n)
    });
    pts.iter()
        .map(|p| Point::new(c.x + k * (p.x - c.x), c.y + k * (p.y - c.y)))
        .collect()
}

/// Face measurements shared by the checks.
struct Face<'a> {
    lm: &'a Landmarks,
    /// OFIQ's T: eye midpoint to chin.
    t: f32,
    ied: f32,
    eye_mid: Point,
    /// Unit vector along the eye line and across it (down the face).
    ux: (f32, f32),
    uy: (f32, f32),
}

impl<'a> Face<'a> {
    fn new(lm: &'a Landmarks) -> Face<'a> {
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
    fn local(&self, x: f32, y: f32) -> (f32, f32) {
        let (dx, dy) = (x - self.eye_mid.x, y - self.eye_mid.y);
        (
            dx * self.ux.0 + dy * self.ux.1,
            dx * self.uy.0 + dy * self.uy.1,
        )
    }
    fn pts(&self, idx: &[usize]) -> Vec<Point> {
        idx.iter().map(|&i| self.lm.pt(i)).collect()
    }
    fn max_pair(&self, pairs: &[(usize, usize)]) -> f32 {
        pairs
            .iter()
            .map(|&(a, b)| self.lm.pt(a).dist(self.lm.pt(b)))
            .fold(0.0, f32::max)
    }
}

/// Skin region: inside the face outline, below the brows, without eyes and lips, on the person.
fn skin_mask(face: &Face, alpha: &Plane, w: u32, h: u32) -> Vec<u8> {
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

// ---------------------------------------------------------------------------------------------
// Measures (public for tests and the evaluation)

/// Head pose (yaw, pitch, roll) in degrees from the 3-D landmarks. Yaw: positive when the nose
/// turns to image right; pitch: positive when the chin is raised; roll as
/// [`Landmarks::roll_deg`]. Yaw and pitch are the angles of the cheek-to-cheek and
/// forehead-to-chin lines out of the image plane in FaceMesh's depth, in the face's own
/// (roll-levelled) frame.
pub fn head_pose(lm: &Landmarks) -> (f64, f64, f64) {
    let roll = lm.roll_deg();
    let (s, c) = (-roll.to_radians()).sin_cos();
    let lv = |i: usize| {
        let p = lm.points[i];
        (c * p[0] - s * p[1], s * p[0] + c * p[1], p[2])
    };
    let mean_angle = |pairs: &[(usize, usize)], along_x: bool| {
        let n = pairs.len() as f64;
        pairs
            .iter()
            .map(|&(a, b)| {
                let (pa, pb) = (lv(a), lv(b));
                let d = if along_x { pb.0 - pa.0 } else { pb.1 - pa.1 };
                ((pb.2 - pa.2) as f64).atan2(d as f64).to_degrees()
            })
            .sum::<f64>()
            / n
    };
    let yaw = mean_angle(&YAW_PAIRS, true);
    let pitch = -(mean_angle(&PITCH_PAIRS, false) - PITCH_OFFSET_DEG);
    (yaw, pitch, roll as f64)
}

/// OFIQ EyesOpen raw: the smaller eye's largest lid opening over T (eye midpoint to chin).
pub fn eyes_open(lm: &Landmarks) -> f64 {
    let f = Face::new(lm);
    (f.max_pair(&EYE_PAIRS[0]).min(f.max_pair(&EYE_PAIRS[1])) / f.t) as f64
}

/// OFIQ MouthClosed raw: the largest inner-lip opening over T.
pub fn mouth_opening(lm: &Landmarks) -> f64 {
    let f = Face::new(lm);
    (f.max_pair(&MOUTH_PAIRS) / f.t) as f64
}

/// JPEG blockiness: mean absolute luminance step across 8x8 block borders over the mean step
/// at the other positions, horizontally and vertically. About 1 without blocking artefacts.
pub fn blockiness(y: &Plane) -> f64 {
    let (w, h) = (y.width as usize, y.height as usize);
    let (mut edge, mut ne, mut inner, mut ni) = (0f64, 0usize, 0f64, 0usize);
    for r in 0..h {
        let row = &y.data[r * w..(r + 1) * w];
        for x in 1..w {
            let d = (row[x] - row[x - 1]).abs() as f64;
            if x % 8 == 0 {
                edge += d;
                ne += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    for r in 1..h {
        for x in 0..w {
            let d = (y.data[r * w + x] - y.data[(r - 1) * w + x]).abs() as f64;
            if r % 8 == 0 {
                edge += d;
                ne += 1;
            } else {
                inner += d;
                ni += 1;
            }
        }
    }
    if ne == 0 || ni == 0 {
        return 1.0;
    }
    let inner = inner / ni as f64;
    (edge / ne as f64) / inner.max(0.05)
}

/// Immerkaer's fast noise estimate (sigma, luminance levels) over the pixels where `mask` is
/// set (and its 3x3 neighbourhood lies in the image).
pub fn noise_sigma(y: &Plane, mask: &[u8]) -> Option<f64> {
    let (w, h) = (y.width as usize, y.height as usize);
    let (mut s, mut n) = (0f64, 0usize);
    let d = &y.data;
    for r in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let i = r * w + x;
            if mask[i] == 0 {
                continue;
            }
            let v = d[i - w - 1] - 2.0 * d[i - w] + d[i - w + 1] - 2.0 * d[i - 1] + 4.0 * d[i]
                - 2.0 * d[i + 1]
                + d[i + w - 1]
                - 2.0 * d[i + w]
                + d[i + w + 1];
            s += v.abs() as f64;
            n += 1;
        }
    }
    (n >= 200).then(|| (std::f64::consts::PI / 2.0).sqrt() * s / (6.0 * n as f64))
}

/// Variance of the 4-neighbour Laplacian over the variance of the values, of a plane.
pub fn laplacian_ratio(p: &Plane) -> f64 {
    let (w, h) = (p.width as usize, p.height as usize);
    let d = &p.data;
    let (mut s, mut s2, mut n) = (0f64, 0f64, 0usize);
    let (mut v, mut v2) = (0f64, 0f64);
    for r in 1..h.saturating_sub(1) {
        for x in 1..w - 1 {
            let i = r * w + x;
            let l = (d[i - 1] + d[i + 1] + d[i - w] + d[i + w] - 4.0 * d[i]) as f64;
            s += l;
            s2 += l * l;
            v += d[i] as f64;
            v2 += (d[i] as f64).powi(2);
            n += 1;
        }
    }
    if n < 16 {
        return 0.0;
    }
    let nf = n as f64;
    let var_l = s2 / nf - (s / nf).powi(2);
    let var_v = v2 / nf - (v / nf).powi(2);
    var_l / var_v.max(1.0)
}

/// Entropy in bits of a 256-bin histogram of `values` (0..255).
pub fn entropy(values: &[f32]) -> f64 {
    let hist = histogram(values);
    -hist
        .iter()
        .filter(|&&p| p > 0.0)
        .map(|&p| p * p.log2())
        .sum::<f64>()
}

fn histogram(values: &[f32]) -> [f64; 256] {
    let mut hist = [0f64; 256];
    for &v in values {
        hist[v.round().clamp(0.0, 255.0) as usize] += 1.0;
    }
    let n = values.len().max(1) as f64;
    hist.map(|c| c / n)
}

/// Sum of the element-wise minimum of the normalised 256-bin histograms (OFIQ
/// IlluminationUniformity raw): 1 for identical distributions, 0 for disjoint ones.
pub fn histogram_intersection(a: &[f32], b: &[f32]) -> f64 {
    let (ha, hb) = (histogram(a), histogram(b));
    ha.iter().zip(hb.iter()).map(|(x, y)| x.min(*y)).sum()
}

/// Background statistics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackgroundStats {
    /// Mean colour (sRGB, 0..255).
    pub mean_rgb: [f64; 3],
    /// OFIQ BackgroundUniformity raw: mean Scharr gradient magnitude of luminance.
    pub gradient: f64,
    /// L* of the brightest minus the darkest background cell.
    pub spread: f64,
    /// Number of background pixels.
    pub pixels: usize,
}

/// Background mask: pixels with matte below 0.02 whose 7x7 neighbourhood is all background.
pub fn background_mask(alpha: &Plane) -> Vec<u8> {
    let person = Plane {
        width: alpha.width,
        height: alpha.height,
        data: alpha
            .data
            .iter()
            .map(|&a| if a >= 0.02 { 1.0 } else { 0.0 })
            .collect(),
    };
    let near = crate::matte::box_mean(&person, 3);
    near.data.iter().map(|&v| u8::from(v < 1e-4)).collect()
}

/// Measures the background given by `mask`.
pub fn background_stats(img: &RgbImage, y: &Plane, mask: &[u8]) -> Option<BackgroundStats> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let lut = crate::raster::colour::srgb_to_linear_lut();
    let mut sum = [0f64; 3];
    let (mut g, mut n) = (0f64, 0usize);
    let cells = 8usize;
    let (cw, ch) = (w.div_ceil(cells), h.div_ceil(cells));
    let mut cell_sum = vec![[0f64; 3]; cells * cells];
    let mut cell_n = vec![0usize; cells * cells];
    let d = &y.data;
    let raw = img.as_raw();
    // the cell column of each x (no division per pixel)
    let col_cell: Vec<usize> = (0..w).map(|x| x / cw).collect();
    for r in 0..h {
        let row_cell = (r / ch) * cells;
        for x in 0..w {
            let i = r * w + x;
            if mask[i] == 0 {
                continue;
            }
            let p = &raw[3 * i..3 * i + 3];
            let c = row_cell + col_cell[x];
            for k in 0..3 {
                sum[k] += p[k] as f64;
                cell_sum[c][k] += lut[p[k] as usize] as f64;
            }
            cell_n[c] += 1;
            n += 1;
            if r > 0 && r + 1 < h && x > 0 && x + 1 < w {
                // Scharr 3x3 (OpenCV ksize -1)
                let at = |dr: isize, dx: isize| {
                    d[((r as isize + dr) as usize) * w + (x as isize + dx) as usize]
                };
                let gx = 3.0 * (at(-1, 1) - at(-1, -1))
                    + 10.0 * (at(0, 1) - at(0, -1))
                    + 3.0 * (at(1, 1) - at(1, -1));
                let gy = 3.0 * (at(1, -1) - at(-1, -1))
                    + 10.0 * (at(1, 0) - at(-1, 0))
                    + 3.0 * (at(1, 1) - at(-1, 1));
                g += ((gx * gx + gy * gy) as f64).sqrt();
            }
        }
    }
    if n < 200 {
        return None;
    }
    let min_cell = (cw * ch / 2).max(20);
    let ls: Vec<f64> = cell_sum
        .iter()
        .zip(&cell_n)
        .filter(|(_, &c)| c >= min_cell)
        .map(|(s, &c)| lin_to_lab(s.map(|v| v / c as f64))[0])
        .collect();
    let spread = if ls.is_empty() {
        0.0
    } else {
        ls.iter().cloned().fold(f64::MIN, f64::max) - ls.iter().cloned().fold(f64::MAX, f64::min)
    };
    Some(BackgroundStats {
        mean_rgb: sum.map(|s| s / n as f64),
        gradient: g / n as f64,
        spread,
        pixels: n,
    })
}

// ---------------------------------------------------------------------------------------------
// Rules

fn with_status(mut r: RuleResult, status: Status, zh: &str, en: &str) -> RuleResult {
    if status != r.status {
        r.status = status;
        if status == Status::Warn && !zh.is_empty() {
            r.message_zh = zh.into();
            r.message_en = en.into();
        }
    }
    r
}

/// A range rule whose failure is only advisory (status `warn`).
fn advisory(code: &str, v: f64, min: Option<f64>, max: Option<f64>, unit: &str) -> RuleResult {
    let r = RuleResult::range(code, v, min, max, unit);
    if r.status == Status::Fail {
        with_status(r, Status::Warn, "", "")
    } else {
        r
    }
}

fn unmeasured(code: &str, zh: &str, en: &str) -> RuleResult {
    let mut r = RuleResult::flag(code, false, zh, en);
    r.status = Status::Warn;
    r
}

/// Pose rules: roll against the spec (warning above [`ROLL_WARN_DEG`]), yaw and pitch
/// against the spec (warning up to [`POSE_FAIL_FACTOR`] times the limit, failure beyond).
pub fn pose_rules(lm: &Landmarks, spec: &Spec) -> Vec<RuleResult> {
    let (yaw, pitch, roll) = head_pose(lm);
    let mut out = Vec::new();
    let r = RuleResult::range(
        "pose.roll",
        roll,
        Some(-spec.pose.max_roll),
        Some(spec.pose.max_roll),
        "deg",
    );
    out.push(if r.status == Status::Pass && roll.abs() > ROLL_WARN_DEG {
        with_status(
            r,
            Status::Warn,
            &format!("头部略有倾斜 ({roll:.1}°): 请保持头部端正, 双眼水平"),
            &format!("Head slightly tilted ({roll:.1} degrees): hold the head straight with the eyes level"),
        )
    } else {
        r
    });
    for (code, v, lim) in [
        ("pose.yaw", yaw, spec.pose.max_yaw),
        ("pose.pitch", pitch, spec.pose.max_pitch),
    ] {
        let r = RuleResult::range(code, v, Some(-lim), Some(lim), "deg");
        out.push(
            if r.status == Status::Fail && v.abs() <= lim * POSE_FAIL_FACTOR {
                let (zh, en) = (r.message_zh.clone(), r.message_en.clone());
                with_status(
                    r,
                    Status::Warn,
                    &format!("{zh} (单张照片估计, 仅供参考)"),
                    &format!("{en} (estimated from one photo: advisory)"),
                )
            } else {
                r
            },
        );
    }
    out
}

/// Background colour (CIEDE2000 to the nearest allowed colour), OFIQ background uniformity
/// and the spread of L* across the background given by `mask` ([`background_mask`]).
pub fn background_rules(img: &RgbImage, y: &Plane, mask: &[u8], spec: &Spec) -> Vec<RuleResult> {
    let Some(bg) = background_stats(img, y, mask) else {
        return vec![unmeasured(
            "background.color",
            "无法找到背景区域",
            "No background area found",
        )];
    };
    let lab = srgb_to_lab(bg.mean_rgb);
    let de = spec
        .background
        .allowed
        .iter()
        .filter_map(|c| c.rgb().ok())
        .map(|rgb| ciede2000(lab, srgb_to_lab(rgb.map(|v| v as f64))))
        .fold(f64::INFINITY, f64::min);
    vec![
        RuleResult::range(
            "background.color",
            de,
            None,
            Some(MAX_BACKGROUND_DE2000),
            "dE00",
        ),
        RuleResult::range(
            "background.uniformity",
            bg.gradient,
            None,
            Some(MAX_BACKGROUND_GRADIENT),
            "grad",
        ),
        RuleResult::range(
            "background.shadow",
            bg.spread,
            None,
            Some(MAX_BACKGROUND_SPREAD),
            "dL",
        ),
    ]
}

/// All quality rules for one face: pose, expression, OFIQ crop measures, background,
/// lighting, sharpness, compression, noise, colour, and the advisory checks.
pub fn quality_rules(
    img: &RgbImage,
    lm: &Landmarks,
    alpha: &Plane,
    spec: &Spec,
) -> Vec<RuleResult> {
    let (w, h) = img.dimensions();
    let y = luma(img);
    let face = Face::new(lm);
    let mut out = pose_rules(lm, spec);

    // expression
    out.push(RuleResult::range(
        "expression.eyes_open",
        eyes_open(lm),
        Some(MIN_EYES_OPEN),
        None,
        "ratio",
    ));
    // A closed mouth is a hard rule only where the spec asks for a neutral expression (NIA
    // exit-entry guide "lips closed", US "neutral, non-smiling", ICAO); GA 461 only says
    // "natural expression", so elsewhere an open smile is a warning.
    let mouth = RuleResult::range(
        "expression.mouth_closed",
        mouth_opening(lm),
        None,
        Some(MAX_MOUTH_OPEN),
        "ratio",
    );
    out.push(if spec.policy.neutral_expression {
        mouth
    } else {
        advisory(
            "expression.mouth_closed",
            mouth_opening(lm),
            None,
            Some(MAX_MOUTH_OPEN),
            "ratio",
        )
    });

    // OFIQ crop of the face image and head size (advisory: the spec's geometry decides)
    let (re, le) = (lm.right_eye(), lm.left_eye());
    let t = face.t as f64;
    let ied = face.ied.max(1.0) as f64;
    let em = face.eye_mid;
    out.push(advisory(
        "crop.leftward",
        re.x as f64 / ied,
        Some(OFIQ_MIN_SIDE_CROP),
        None,
        "ratio",
    ));
    out.push(advisory(
        "crop.rightward",
        (w as f64 - le.x as f64) / ied,
        Some(OFIQ_MIN_SIDE_CROP),
        None,
        "ratio",
    ));
    out.push(advisory(
        "crop.margin_above",
        em.y as f64 / t,
        Some(OFIQ_MIN_MARGIN_ABOVE),
        None,
        "ratio",
    ));
    out.push(advisory(
        "crop.margin_below",
        (h as f64 - em.y as f64) / t,
        Some(OFIQ_MIN_MARGIN_BELOW),
        None,
        "ratio",
    ));
    out.push(advisory(
        "crop.head_size",
        t / h as f64,
        Some(HEAD_SIZE_RANGE.0),
        Some(HEAD_SIZE_RANGE.1),
        "ratio",
    ));

    // background
    let bg_mask = background_mask(alpha);
    out.extend(background_rules(img, &y, &bg_mask, spec));

    // lighting on the skin
    let skin = skin_mask(&face, alpha, w, h);
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
    if all.len() < 200 || left.len() < 50 || right.len() < 50 {
        out.push(unmeasured(
            "lighting.face_luminance",
            "无法测量脸部光照",
            "Lighting on the face could not be measured",
        ));
    } else {
        out.push(advisory(
            "lighting.uniformity",
            histogram_intersection(&left, &right),
            Some(MIN_ILLUMINATION_UNIFORMITY),
            None,
            "ratio",
        ));
        let mean = |a: (f64, usize)| (a.0 / a.1.max(1) as f64).max(1e-4);
        out.push(RuleResult::range(
            "lighting.balance",
            (mean(outer[0]) / mean(outer[1])).log2().abs(),
            None,
            Some(MAX_LIGHT_BALANCE_EV),
            "EV",
        ));
        let (highlights, clipped) = face_highlights(img, &y, lm, alpha);
        out.push(RuleResult::range(
            "lighting.highlights",
            highlights,
            Some(MIN_FACE_HIGHLIGHTS),
            None,
            "luma",
        ));
        out.push(RuleResult::range(
            "lighting.clipping",
            clipped,
            None,
            Some(MAX_CLIPPED_PCT),
            "%",
        ));
        let mean = all.iter().map(|&v| v as f64).sum::<f64>() / all.len() as f64;
        out.push(RuleResult::range(
            "lighting.face_luminance",
            mean,
            Some(FACE_LUMINANCE_RANGE.0),
            Some(FACE_LUMINANCE_RANGE.1),
            "luma",
        ));
        let pct = |f: &dyn Fn(f32) -> bool| {
            100.0 * all.iter().filter(|&&v| f(v)).count() as f64 / all.len() as f64
        };
        out.push(RuleResult::range(
            "lighting.underexposure",
            pct(&|v| v <= 25.5),
            None,
            Some(MAX_UNDEREXPOSED_PCT),
            "%",
        ));
        out.push(RuleResult::range(
            "lighting.overexposure",
            pct(&|v| v >= 246.5),
            None,
            Some(MAX_OVEREXPOSED_PCT),
            "%",
        ));
        out.push(RuleResult::range(
            "lighting.dynamic_range",
            entropy(&all),
            Some(MIN_DYNAMIC_RANGE_BITS),
            None,
            "bits",
        ));
        let lab = lin_to_lab(lab_sum.map(|s| s / lab_n.max(1) as f64));
        let (a, b) = (lab[1], lab[2]);
        let cast = if a >= 0.0 && b >= 0.0 {
            let da = (5.0 - a).max(a - 25.0).max(0.0);
            let db = (5.0 - b).max(b - 35.0).max(0.0);
            (da * da + db * db).sqrt()
        } else {
            100.0
        };
        out.push(RuleResult::range(
            "color.cast",
            cast,
            None,
            Some(MAX_COLOUR_CAST),
            "dAB",
        ));
    }

    // sharpness on the face resampled to a canonical size
    out.push(RuleResult::range(
        "image.sharpness",
        sharpness(&y, &face, w, h),
        Some(MIN_SHARPNESS),
        None,
        "ratio",
    ));
    out.push(RuleResult::range(
        "image.compression",
        blockiness(&y),
        None,
        Some(MAX_BLOCKINESS),
        "ratio",
    ));
    // noise: the larger of the skin's noise and the background's fine structure (a noisy
    // camera or processing shows on a plain background first; strong JPEG compression turns
    // it into blotches there, which the skin estimator's median ignores)
    let bg_noise = background_residual(&y, &bg_mask).map(|r| r * BG_NOISE_SCALE);
    match skin_noise(&y, &skin).map(|n| bg_noise.map_or(n, |b| n.max(b))) {
        Some(n) => out.push(RuleResult::range(
            "image.noise",
            n,
            None,
            Some(MAX_NOISE_SIGMA),
            "levels",
        )),
        None => out.push(unmeasured(
            "image.noise",
            "无法测量噪点",
            "Noise could not be measured",
        )),
    }

    // advisory
    out.extend(advisory_rules(img, &y, &face, alpha, spec, &all));
    out
}

/// Exposure measures on the whole face outline (eyes, brows, lips, teeth included): the 98th
/// percentile of luma (the level of the face's highlights: specular reflections, the whites
/// of the eyes, teeth) and the percentage of pixels with a colour channel at 250 or more.
/// Highlights depend much less on skin tone than the mean skin luminance does, so they tell an
/// underexposed face from a dark-skinned one; clipped channels mark an overexposed face.
pub fn face_highlights(img: &RgbImage, y: &Plane, lm: &Landmarks, alpha: &Plane) -> (f64, f64) {
    let (w, h) = img.dimensions();
    let mut oval = vec![0u8; (w * h) as usize];
    let pts: Vec<Point> = FACE_OVAL.iter().map(|&i| lm.pt(i)).collect();
    fill_polygon(&pts, w, h, &mut oval, 1);
    let raw = img.as_raw();
    let mut hist = [0usize; 256];
    let (mut n, mut clipped) = (0usize, 0usize);
    for (i, &m) in oval.iter().enumerate() {
        if m == 0 || alpha.data[i] < 0.5 {
            continue;
        }
        hist[y.data[i].round().clamp(0.0, 255.0) as usize] += 1;
        n += 1;
        if raw[3 * i..3 * i + 3].iter().any(|&c| c >= 250) {
            clipped += 1;
        }
    }
    if n == 0 {
        return (0.0, 0.0);
    }
    let target = (0.98 * n as f64).ceil() as usize;
    let mut acc = 0;
    let mut p98 = 255;
    for (v, &c) in hist.iter().enumerate() {
        acc += c;
        if acc >= target {
            p98 = v;
            break;
        }
    }
    (p98 as f64, 100.0 * clipped as f64 / n as f64)
}

/// RMS (luma levels) of the background's fine structure: luma minus its local mean over the
/// background within 6 px, where that window lies wholly on the background. A plain wall,
/// even with a soft light fall-off, measures near 0; noise that a strong JPEG compression has
/// turned into blotches, and texture, do not.
pub fn background_residual(y: &Plane, bg: &[u8]) -> Option<f64> {
    const R: usize = 6;
    let (w, h) = (y.width as usize, y.height as usize);
    if bg.len() != w * h || y.data.len() != w * h {
        return None;
    }
    let (mut sum, mut n) = (0f64, 0usize);
    // the background's share of each window and its mean luma there, in one pass
    crate::matte::box_mean_streamed::<2>(
        (w, h, R),
        |r, row| {
            let (lum, mask) = (&y.data[r * w..(r + 1) * w], &bg[r * w..(r + 1) * w]);
            for ((o, &v), &b) in row.chunks_exact_mut(2).zip(lum).zip(mask) {
                o[0] = f32::from(b);
                o[1] = v * f32::from(b);
            }
        },
        |r, means| {
            let (lum, mask) = (&y.data[r * w..(r + 1) * w], &bg[r * w..(r + 1) * w]);
            for ((m, &v), &b) in means.chunks_exact(2).zip(lum).zip(mask) {
                if b == 1 && m[0] > 0.999 {
                    let d = f64::from(v - m[1] / m[0]);
                    sum += d * d;
                    n += 1;
                }
            }
        },
    );
    (n >= 500).then(|| (sum / n as f64).sqrt())
}

/// Noise sigma (luma levels) of the pixels in `skin` (the skin, or the background): Immerkaer's
/// estimator at half resolution (2x2 means), taking the median absolute response instead of the mean
/// (sigma = 1.4826 median |v| / 6) so that the edges of nose, wrinkles and cheek contour do not
/// count as noise. Half resolution keeps what survives a strong JPEG compression (the noise
/// left after a 14-20 KB encode is mottling a few pixels wide).
pub fn skin_noise(y: &Plane, skin: &[u8]) -> Option<f64> {
    let (w, h) = (y.width as usize, y.height as usize);
    let (hw, hh) = (w / 2, h / 2);
    if hw < 3 || hh < 3 {
        return None;
    }
    let mut d = vec![0f32; hw * hh];
    let mut m = vec![0u8; hw * hh];
    for r in 0..hh {
        for x in 0..hw {
            let i = 2 * r * w + 2 * x;
            d[r * hw + x] = 0.25 * (y.data[i] + y.data[i + 1] + y.data[i + w] + y.data[i + w + 1]);
            m[r * hw + x] = skin[i] & skin[i + 1] & skin[i + w] & skin[i + w + 1];
        }
    }
    let mut v: Vec<f32> = Vec::new();
    for r in 1..hh - 1 {
        for x in 1..hw - 1 {
            let i = r * hw + x;
            if m[i] == 0 {
                continue;
            }
            let a = d[i - hw - 1] - 2.0 * d[i - hw] + d[i - hw + 1] - 2.0 * d[i - 1] + 4.0 * d[i]
                - 2.0 * d[i + 1]
                + d[i + hw - 1]
                - 2.0 * d[i + hw]
                + d[i + hw + 1];
            v.push(a.abs());
        }
    }
    if v.len() < 50 {
        return None;
    }
    let mid = v.len() / 2;
    let (_, med, _) = v.select_nth_unstable_by(mid, |a, b| a.total_cmp(b));
    Some(1.4826 * *med as f64 / 6.0)
}

fn sharpness(y: &Plane, face: &Face, w: u32, h: u32) -> f64 {
    let em = face.eye_mid;
    let half = face.ied;
    let x0 = (em.x - half).max(0.0).floor();
    let x1 = (em.x + half).min(w as f32).ceil();
    let y0 = (em.y - 0.5 * face.ied).max(0.0).floor();
    let y1 = face.lm.pt(CHIN).y.min(h as f32).ceil();
    if x1 - x0 < 8.0 || y1 - y0 < 8.0 {
        return 0.0;
    }
    let (cw, ch) = ((x1 - x0) as u32, (y1 - y0) as u32);
    let mut crop = Plane::filled(cw, ch, 0.0);
    for r in 0..ch {
        let src = ((y0 as u32 + r) * w + x0 as u32) as usize;
        crop.data[(r * cw) as usize..((r + 1) * cw) as usize]
            .copy_from_slice(&y.data[src..src + cw as usize]);
    }
    let k = CANONICAL_IED / face.ied.max(1.0);
    let (tw, th) = (
        ((cw as f32 * k).round() as u32).max(8),
        ((ch as f32 * k).round() as u32).max(8),
    );
    match crop.resize(tw, th) {
        Ok(c) => laplacian_ratio(&c),
        Err(_) => laplacian_ratio(&crop),
    }
}

fn advisory_rules(
    img: &RgbImage,
    y: &Plane,
    face: &Face,
    alpha: &Plane,
    spec: &Spec,
    skin_values: &[f32],
) -> Vec<RuleResult> {
    let (w, h) = img.dimensions();
    let mut out = Vec::new();
    let skin_mean = if skin_values.is_empty() {
        128.0
    } else {
        skin_values.iter().map(|&v| v as f64).sum::<f64>() / skin_values.len() as f64
    };
    // glare on glasses: saturated pixels around the eyes
    let mut eyes = vec![0u8; (w * h) as usize];
    for ring in &EYE_RINGS {
        fill_polygon(&scaled(&face.pts(ring), 2.2), w, h, &mut eyes, 1);
    }
    let (mut n, mut sat) = (0usize, 0usize);
    for (i, &m) in eyes.iter().enumerate() {
        if m == 1 {
            n += 1;
            if y.data[i] >= 250.0 {
                sat += 1;
            }
        }
    }
    if n > 0 {
        let r = advisory(
            "glasses.glare",
            100.0 * sat as f64 / n as f64,
            None,
            Some(MAX_GLARE_PCT),
            "%",
        );
        out.push(r);
    }
    // hair over the eyebrows: luminance of a band just above the brows against the skin
    let mut band = Vec::new();
    for brow in &BROWS_UPPER {
        for &i in brow {
            let p = face.lm.pt(i);
            let off = 0.06 * face.t;
            let (bx, by) = (p.x - face.uy.0 * off, p.y - face.uy.1 * off);
            let r = (0.03 * face.t).max(1.0) as i64;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (x, yy) = (bx as i64 + dx, by as i64 + dy);
                    if x >= 0 && yy >= 0 && (x as u32) < w && (yy as u32) < h {
                        band.push(y.data[(yy as u32 * w + x as u32) as usize] as f64);
                    }
                }
            }
        }
    }
    if !band.is_empty() {
        let ratio = band.iter().sum::<f64>() / band.len() as f64 / skin_mean.max(1.0);
        out.push(advisory(
            "hair.eyebrows_visible",
            ratio,
            Some(MIN_BROW_VISIBILITY),
            None,
            "ratio",
        ));
    }
    if spec.policy.ears_visible {
        // skin-coloured person pixels just outside each cheek, between eye line and mouth
        let lab_skin = mean_lab_skin(img, face, alpha);
        let mut pcts = Vec::new();
        for (idx, sign) in [(234usize, -1.0f32), (454, 1.0)] {
            let c = face.lm.pt(idx);
            let (mut n, mut skin) = (0usize, 0usize);
            let step = (0.01 * face.t).max(1.0);
            let mut a = 0.02 * face.t;
            while a < 0.15 * face.t {
                let mut b = 0.0;
                while b < 0.4 * face.t {
                    let x = c.x + sign * a * face.ux.0 + b * face.uy.0;
                    let yy = c.y + sign * a * face.ux.1 + b * face.uy.1;
                    if x >= 0.0 && yy >= 0.0 && (x as u32) < w && (yy as u32) < h {
                        n += 1;
                        let i = (yy as u32 * w + x as u32) as usize;
                        let p = img.as_raw();
                        let lab = srgb_to_lab([
                            p[3 * i] as f64,
                            p[3 * i + 1] as f64,
                            p[3 * i + 2] as f64,
                        ]);
                        if alpha.data[i] >= 0.5 && ciede2000(lab, lab_skin) < 15.0 {
                            skin += 1;
                        }
                    }
                    b += step;
                }
                a += step;
            }
            pcts.push(if n == 0 {
                0.0
            } else {
                100.0 * skin as f64 / n as f64
            });
        }
        let v = pcts.iter().cloned().fold(f64::MAX, f64::min);
        out.push(advisory(
            "ears.visible",
            v,
            Some(MIN_EAR_SKIN_PCT),
            None,
            "%",
        ));
    }
    out
}

fn mean_lab_skin(img: &RgbImage, face: &Face, alpha: &Plane) -> [f64; 3] {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::{detect_faces, DetectOptions};

    /// A compliant cn-id-card output of the repository's fixture photo, its landmarks and matte.
    fn clean() -> (RgbImage, Landmarks, Plane, Spec) {
        let (_, img, spec) = crate::test_support::compliant_output("cn-id-card");
        let (lm, alpha) = measure(&img);
        (img, lm, alpha, spec)
    }

    fn measure(img: &RgbImage) -> (Landmarks, Plane) {
        let faces = detect_faces(crate::nn::tests::nets(), img, &DetectOptions::default()).unwrap();
        let lm =
            crate::face::landmarks::landmarks_refined(crate::nn::tests::nets(), img, &faces[0])
                .unwrap();
        (
            lm,
            crate::matte::person_matte(crate::nn::tests::nets(), img).unwrap(),
        )
    }

    #[test]
    fn ciede2000_reference_pairs() {
        // Sharma, Wu and Dalal (2005), table 1, pairs 1 and 7
        let d = ciede2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485]);
        assert!((d - 2.0425).abs() < 1e-3, "{d}");
        let d = ciede2000([50.0, 0.0, 0.0], [50.0, -1.0, 2.0]);
        assert!((d - 2.3669).abs() < 1e-3, "{d}");
        assert!(ciede2000(srgb_to_lab([255.0; 3]), srgb_to_lab([255.0; 3])) < 1e-9);
    }

    #[test]
    fn blockiness_of_flat_blocks_and_smooth_ramp() {
        let blocks = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .map(|i| (((i % 64) / 8 * 13 + (i / 64) / 8 * 7) % 50) as f32 + 100.0)
                .collect(),
        };
        assert!(blockiness(&blocks) > MAX_BLOCKINESS);
        let ramp = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64).map(|i| (i % 64) as f32 * 2.0).collect(),
        };
        assert!(blockiness(&ramp) <= MAX_BLOCKINESS);
    }

    #[test]
    fn background_residual_sees_blotches_not_light_falloff() {
        let (w, h) = (96usize, 96usize);
        let bg = vec![1u8; w * h];
        // a plain wall with a soft light fall-off
        let wall = Plane {
            width: w as u32,
            height: h as u32,
            data: (0..w * h)
                .map(|i| 230.0 - 0.2 * (i % w) as f32 - 0.1 * (i / w) as f32)
                .collect(),
        };
        let r = background_residual(&wall, &bg).unwrap();
        assert!(r * BG_NOISE_SCALE < MAX_NOISE_SIGMA * 0.2, "{r}");
        // noise left as 8x8 blotches of +-4 levels by a strong JPEG compression
        let mut seed = 7u32;
        let blocks: Vec<f32> = (0..(w / 8) * (h / 8))
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                ((seed >> 16) % 9) as f32 - 4.0
            })
            .collect();
        let blotchy = Plane {
            width: w as u32,
            height: h as u32,
            data: (0..w * h)
                .map(|i| 230.0 + blocks[(i / w / 8) * (w / 8) + (i % w) / 8])
                .collect(),
        };
        let r = background_residual(&blotchy, &bg).unwrap();
        assert!(r * BG_NOISE_SCALE > MAX_NOISE_SIGMA, "{r}");
        // too little background: not measured
        assert!(background_residual(&wall, &vec![0u8; w * h]).is_none());
    }

    #[test]
    fn sharpness_noise_entropy_histograms() {
        let stripes = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .map(|i| if i % 2 == 0 { 60.0 } else { 200.0 })
                .collect(),
        };
        assert!(laplacian_ratio(&stripes) > MIN_SHARPNESS);
        let smooth = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64).map(|i| (i % 64) as f32 * 3.0).collect(),
        };
        assert!(laplacian_ratio(&smooth) < MIN_SHARPNESS);
        let mask = vec![1u8; 64 * 64];
        assert!(noise_sigma(&smooth, &mask).unwrap() < MAX_NOISE_SIGMA);
        let mut seed = 1u32;
        let noisy = Plane {
            width: 64,
            height: 64,
            data: (0..64 * 64)
                .map(|_| {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    128.0 + ((seed >> 16) % 41) as f32 - 20.0
                })
                .collect(),
        };
        assert!(noise_sigma(&noisy, &mask).unwrap() > MAX_NOISE_SIGMA);
        assert!(entropy(&noisy.data) > MIN_DYNAMIC_RANGE_BITS);
        assert!(entropy(&[128.0; 100]) < MIN_DYNAMIC_RANGE_BITS);
        let a = vec![100.0f32; 100];
        assert!((histogram_intersection(&a, &a) - 1.0).abs() < 1e-9);
        assert!(histogram_intersection(&a, &[180.0; 100]) < MIN_ILLUMINATION_UNIFORMITY);
    }

    fn code<'a>(rules: &'a [RuleResult], c: &str) -> &'a RuleResult {
        rules.iter().find(|r| r.code == c).unwrap()
    }

    #[test]
    fn clean_output_passes_and_defects_fail() {
        let (img, lm, alpha, spec) = clean();
        let rules = quality_rules(&img, &lm, &alpha, &spec);
        for c in [
            "pose.roll",
            "expression.eyes_open",
            "background.color",
            "background.uniformity",
            "background.shadow",
            "lighting.overexposure",
            "lighting.underexposure",
            "lighting.dynamic_range",
            "image.sharpness",
            "image.compression",
            "image.noise",
            "color.cast",
            "glasses.glare",
            "hair.eyebrows_visible",
            "crop.leftward",
            "crop.rightward",
            "crop.margin_above",
            "crop.margin_below",
            "crop.head_size",
        ] {
            assert_eq!(
                code(&rules, c).status,
                Status::Pass,
                "{c}: {:?}",
                code(&rules, c)
            );
        }
        // tinted background, in linear light
        let tinted = RgbImage::from_fn(img.width(), img.height(), |x, y| {
            let p = img.get_pixel(x, y);
            let b = 1.0 - alpha.at(x, y);
            image::Rgb([p[0], p[1], (p[2] as f32 * (1.0 - 0.25 * b)) as u8])
        });
        let r = quality_rules(&tinted, &lm, &alpha, &spec);
        assert_eq!(code(&r, "background.color").status, Status::Fail);
        // a closed-eye and an open-mouth face: move the lids and lips together / apart
        let mut closed = lm.clone();
        for pairs in &EYE_PAIRS {
            for &(a, b) in pairs {
                closed.points[b] = closed.points[a];
            }
        }
        assert!(eyes_open(&closed) < MIN_EYES_OPEN);
        let mut open = lm.clone();
        let t = Face::new(&lm).t;
        for &(_, b) in &MOUTH_PAIRS {
            open.points[b][1] += 0.2 * t;
        }
        assert!(mouth_opening(&open) > MAX_MOUTH_OPEN);
        // a tilted head warns, a turned head fails
        let mut spec2 = spec.clone();
        spec2.pose.max_roll = 8.0;
        let mut turned = lm.clone();
        let c = Face::new(&lm).eye_mid;
        for p in turned.points.iter_mut() {
            // turn 20 degrees further about the vertical axis through the eye midpoint
            let (s, co) = (-20f32).to_radians().sin_cos();
            let (dx, dz) = (p[0] - c.x, p[2]);
            p[0] = c.x + co * dx - s * dz;
            p[2] = s * dx + co * dz;
        }
        let pr = pose_rules(&turned, &spec2);
        assert_eq!(code(&pr, "pose.yaw").status, Status::Fail, "{:?}", pr);
        // a blurred image fails sharpness; a dark one fails luminance
        let dark = RgbImage::from_fn(img.width(), img.height(), |x, y| {
            image::Rgb(img.get_pixel(x, y).0.map(|v| v / 4))
        });
        let r = quality_rules(&dark, &lm, &alpha, &spec);
        assert_eq!(code(&r, "lighting.face_luminance").status, Status::Fail);
        let mut blurred = img.clone();
        for _ in 0..6 {
            blurred = image::imageops::blur(&blurred, 1.5);
        }
        let r = quality_rules(&blurred, &lm, &alpha, &spec);
        assert_eq!(code(&r, "image.sharpness").status, Status::Fail);
    }

    fn map(img: &RgbImage, f: impl Fn(u32, u32, [u8; 3]) -> [u8; 3]) -> RgbImage {
        RgbImage::from_fn(img.width(), img.height(), |x, y| {
            image::Rgb(f(x, y, img.get_pixel(x, y).0))
        })
    }

    fn lin8(v: u8) -> f32 {
        crate::raster::colour::srgb_to_linear(v as f32 / 255.0)
    }

    fn enc8(v: f32) -> u8 {
        (crate::raster::colour::linear_to_srgb(v.clamp(0.0, 1.0)) * 255.0).round() as u8
    }

    /// One defect per pixel check: the clean output passes each check, the defect makes its
    /// own check fail (or warn, for the advisory checks).
    #[test]
    fn every_pixel_check_flags_its_defect() {
        let (img, lm, alpha, spec) = clean();
        let (w, h) = img.dimensions();
        let clean_rules = quality_rules(&img, &lm, &alpha, &spec);
        let em = lm.eye_mid();
        let fw = lm.face_width();
        let mut seed = 12345u32;
        let mut rnd = move || {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            ((seed >> 16) % 1000) as f32 / 1000.0
        };
        let noise: Vec<f32> = (0..w * h * 3).map(|_| (rnd() - 0.5) * 40.0).collect();
        let bg_noise: Vec<f32> = (0..w * h).map(|_| (rnd() - 0.5) * 60.0).collect();
        let on_bg = |x: u32, y: u32| 1.0 - alpha.at(x, y);
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 10)
            .encode_image(&img)
            .unwrap();
        let q10 = image::load_from_memory(&jpeg).unwrap().to_rgb8();
        let skin = skin_mask(&Face::new(&lm), &alpha, w, h);
        let mut oval = vec![0u8; (w * h) as usize];
        fill_polygon(&Face::new(&lm).pts(&FACE_OVAL), w, h, &mut oval, 1);
        let mut eyes = vec![0u8; (w * h) as usize];
        for ring in &EYE_RINGS {
            fill_polygon(&scaled(&Face::new(&lm).pts(ring), 2.0), w, h, &mut eyes, 1);
        }
        // light falling from x1.5 at one cheek to x0.5 at the other, in the direction that
        // adds to the photo's own light (the other direction evens it out)
        let side = |k: f32| {
            [1.0f32, -1.0]
                .iter()
                .map(|&sign| {
                    map(&img, |x, _, p| {
                        let t = ((x as f32 + 0.5 - em.x) / (0.5 * fw)).clamp(-1.0, 1.0) * sign;
                        p.map(|v| enc8(lin8(v) * (1.0 + k * t)))
                    })
                })
                .max_by(|a, b| {
                    let v = |i: &RgbImage| {
                        code(&quality_rules(i, &lm, &alpha, &spec), "lighting.balance")
                            .value
                            .unwrap_or(0.0)
                    };
                    v(a).total_cmp(&v(b))
                })
                .unwrap()
        };
        let side_light = side(0.5);
        // the OFIQ histogram intersection needs a stronger one (x0.3..x1.7)
        let side_light_strong = side(0.7);
        let cases: Vec<(&str, RgbImage, Status)> = vec![
            (
                "lighting.highlights",
                map(&img, |_, _, p| p.map(|v| enc8(lin8(v) * 0.3))),
                Status::Fail,
            ),
            (
                "lighting.face_luminance",
                map(&img, |_, _, p| p.map(|v| v / 4)),
                Status::Fail,
            ),
            (
                "lighting.underexposure",
                map(&img, |_, _, p| p.map(|v| v / 8)),
                Status::Fail,
            ),
            (
                "lighting.clipping",
                map(&img, |_, _, p| p.map(|v| enc8(lin8(v) * 2.5))),
                Status::Fail,
            ),
            (
                "lighting.overexposure",
                map(&img, |_, _, p| p.map(|v| enc8(lin8(v) * 6.0))),
                Status::Fail,
            ),
            ("lighting.balance", side_light.clone(), Status::Fail),
            ("lighting.uniformity", side_light_strong, Status::Warn),
            (
                "lighting.dynamic_range",
                map(&img, |x, y, p| {
                    if oval[(y * w + x) as usize] == 1 {
                        [150, 120, 100]
                    } else {
                        p
                    }
                }),
                Status::Fail,
            ),
            (
                "color.cast",
                map(&img, |_, _, p| [p[2], p[1], p[0]]),
                Status::Fail,
            ),
            (
                "image.noise",
                map(&img, |x, y, p| {
                    let i = 3 * (y * w + x) as usize;
                    std::array::from_fn(|c| {
                        (p[c] as f32 + noise[i + c]).round().clamp(0.0, 255.0) as u8
                    })
                }),
                Status::Fail,
            ),
            ("image.compression", q10, Status::Fail),
            (
                "background.uniformity",
                map(&img, |x, y, p| {
                    let n = bg_noise[(y * w + x) as usize] * on_bg(x, y);
                    p.map(|v| (v as f32 + n).round().clamp(0.0, 255.0) as u8)
                }),
                Status::Fail,
            ),
            (
                "background.shadow",
                map(&img, |x, y, p| {
                    let k = if x < w / 3 { 0.5 * on_bg(x, y) } else { 0.0 };
                    p.map(|v| enc8(lin8(v) * (1.0 - k)))
                }),
                Status::Fail,
            ),
            (
                "glasses.glare",
                map(&img, |x, y, p| {
                    if eyes[(y * w + x) as usize] == 1 && (x + y) % 3 == 0 {
                        [255, 255, 255]
                    } else {
                        p
                    }
                }),
                Status::Warn,
            ),
            (
                "hair.eyebrows_visible",
                map(&img, |x, y, p| {
                    let (dx, dy) = (x as f32 - em.x, y as f32 - em.y);
                    if dx.abs() < 0.5 * fw && dy < -0.05 * fw && dy > -0.45 * fw {
                        [30, 25, 20]
                    } else {
                        p
                    }
                }),
                Status::Warn,
            ),
        ];
        let _ = skin;
        for (c, bad, want) in cases {
            assert_eq!(code(&clean_rules, c).status, Status::Pass, "clean {c}");
            let r = quality_rules(&bad, &lm, &alpha, &spec);
            assert_eq!(code(&r, c).status, want, "{c}: {:?}", code(&r, c));
        }
    }

    /// ears.visible on a shared portrait whose ears show (the fixture's ear touches the edge).
    #[test]
    fn hidden_ears_warn() {
        let Some(shared) = crate::nn::tests::shared_dir() else {
            return;
        };
        let spec = crate::spec::presets::get("cn-id-card").unwrap();
        let bytes = std::fs::read(shared.join("data/portraits/bush_official_2003.jpg")).unwrap();
        let out = crate::process(&bytes, &spec, &crate::Options::default()).unwrap();
        let img = crate::decode::decode(&out.jpeg, &Default::default())
            .unwrap()
            .image;
        let (lm, alpha) = measure(&img);
        assert_eq!(
            code(&quality_rules(&img, &lm, &alpha, &spec), "ears.visible").status,
            Status::Pass
        );
        let (em, fw) = (lm.eye_mid(), lm.face_width());
        let hidden = map(&img, |x, y, p| {
            let dx = (x as f32 - em.x).abs();
            if dx > 0.45 * fw && (y as f32) > em.y - 0.2 * fw && (y as f32) < lm.chin().y {
                [40, 35, 30]
            } else {
                p
            }
        });
        assert_eq!(
            code(&quality_rules(&hidden, &lm, &alpha, &spec), "ears.visible").status,
            Status::Warn
        );
    }

    /// The landmark-based checks: each passes on the clean landmarks and fails (or warns) when
    /// the landmarks are moved into the defect.
    #[test]
    fn every_landmark_check_flags_its_defect() {
        let (img, lm, alpha, spec) = clean();
        let us = crate::spec::presets::get("us-visa").unwrap();
        let f = Face::new(&lm);
        let c = f.eye_mid;
        let run = |l: &Landmarks, s: &Spec| quality_rules(&img, l, &alpha, s);
        let clean_rules = run(&lm, &spec);
        let transform = |k: f32, rot_deg: f32, dx: f32, dy: f32| {
            let mut o = lm.clone();
            let (sn, cs) = rot_deg.to_radians().sin_cos();
            for p in o.points.iter_mut() {
                let (x, y) = (p[0] - c.x, p[1] - c.y);
                p[0] = c.x + k * (cs * x - sn * y) + dx;
                p[1] = c.y + k * (sn * x + cs * y) + dy;
            }
            o
        };
        let mut closed = lm.clone();
        for pairs in &EYE_PAIRS {
            for &(a, b) in pairs {
                closed.points[b] = closed.points[a];
            }
        }
        let mut open = lm.clone();
        for &(_, b) in &MOUTH_PAIRS {
            open.points[b][1] += 0.2 * f.t;
        }
        let mut bowed = lm.clone();
        for p in bowed.points.iter_mut() {
            // 25 degrees about the horizontal axis through the eyes
            let (s, co) = 25f32.to_radians().sin_cos();
            let (dy, dz) = (p[1] - c.y, p[2]);
            p[1] = c.y + co * dy - s * dz;
            p[2] = s * dy + co * dz;
        }
        let (w, h) = img.dimensions();
        let cases: Vec<(&str, Landmarks, &Spec, Status)> = vec![
            (
                "pose.roll",
                transform(1.0, 5.0, 0.0, 0.0),
                &spec,
                Status::Warn,
            ),
            (
                "pose.roll",
                transform(1.0, 12.0, 0.0, 0.0),
                &spec,
                Status::Fail,
            ),
            ("pose.pitch", bowed, &spec, Status::Fail),
            ("expression.eyes_open", closed, &spec, Status::Fail),
            ("expression.mouth_closed", open.clone(), &spec, Status::Warn),
            ("expression.mouth_closed", open, &us, Status::Fail),
            (
                "crop.leftward",
                transform(1.0, 0.0, -(lm.right_eye().x - 0.5 * f.ied), 0.0),
                &spec,
                Status::Warn,
            ),
            (
                "crop.rightward",
                transform(1.0, 0.0, w as f32 - 0.5 * f.ied - lm.left_eye().x, 0.0),
                &spec,
                Status::Warn,
            ),
            (
                "crop.margin_above",
                transform(1.0, 0.0, 0.0, 0.4 * f.t - c.y),
                &spec,
                Status::Warn,
            ),
            (
                "crop.margin_below",
                transform(1.0, 0.0, 0.0, h as f32 - 0.8 * f.t - c.y),
                &spec,
                Status::Warn,
            ),
            (
                "crop.head_size",
                transform(0.3, 0.0, 0.0, 0.0),
                &spec,
                Status::Warn,
            ),
        ];
        // the fixture speaks with an open mouth: the passing input for mouth_closed has the
        // lower inner lip moved onto the upper one
        let mut shut = lm.clone();
        for &(a, b) in &MOUTH_PAIRS {
            shut.points[b] = shut.points[a];
        }
        assert_eq!(
            code(&run(&shut, &us), "expression.mouth_closed").status,
            Status::Pass
        );
        for (code_, l, s, want) in cases {
            if code_ != "expression.mouth_closed" {
                assert_eq!(
                    code(&clean_rules, code_).status,
                    Status::Pass,
                    "clean {code_}"
                );
            }
            let r = run(&l, s);
            assert_eq!(
                code(&r, code_).status,
                want,
                "{code_}: {:?}",
                code(&r, code_)
            );
        }
    }
}
