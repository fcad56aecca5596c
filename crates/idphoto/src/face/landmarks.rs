//! Face landmarks with the FaceMesh model (468 points), and the measurements derived from
//! them: eye centres, chin, cheek-to-cheek face width, roll, a rough yaw and pitch.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use super::detect::Face;
use crate::error::Result;
use crate::nn::Networks;
use crate::raster::{warp_rgb_f32, Affine, Point};

const INPUT: u32 = 192;

/// FaceMesh indices of the subject's right eye contour (image left).
const RIGHT_EYE: [usize; 16] = [
    33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246,
];
/// FaceMesh indices of the subject's left eye contour (image right).
const LEFT_EYE: [usize; 16] = [
    263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466,
];
/// Lowest chin point.
pub const CHIN: usize = 152;
/// Top of the face contour (forehead, at the hairline in most faces).
pub const FOREHEAD: usize = 10;
/// Face contour at the subject's right ear root (image left).
pub const RIGHT_CHEEK: usize = 234;
/// Face contour at the subject's left ear root (image right).
pub const LEFT_CHEEK: usize = 454;
/// Nose tip.
pub const NOSE_TIP: usize = 1;

/// 468 landmarks of one face in image pixels, with derived measurements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Landmarks {
    /// x, y in image pixels; z in the same scale, relative depth (smaller = nearer).
    pub points: Vec<[f32; 3]>,
    /// Face-presence probability from the model (0..1).
    pub presence: f32,
}

impl Landmarks {
    /// A landmark as a 2-D point.
    pub fn pt(&self, i: usize) -> Point {
        Point::new(self.points[i][0], self.points[i][1])
    }

    fn mean(&self, idx: &[usize]) -> Point {
        let n = idx.len() as f32;
        let (sx, sy) = idx.iter().fold((0.0, 0.0), |(a, b), &i| {
            (a + self.points[i][0], b + self.points[i][1])
        });
        Point::new(sx / n, sy / n)
    }

    /// Centre of the subject's right eye (image left).
    pub fn right_eye(&self) -> Point {
        self.mean(&RIGHT_EYE)
    }
    /// Centre of the subject's left eye (image right).
    pub fn left_eye(&self) -> Point {
        self.mean(&LEFT_EYE)
    }
    /// Midpoint between the eye centres.
    pub fn eye_mid(&self) -> Point {
        self.right_eye().mid(self.left_eye())
    }
    /// Distance between eye centres.
    pub fn inter_eye(&self) -> f32 {
        self.right_eye().dist(self.left_eye())
    }
    /// Roll in degrees: positive when the subject's left eye (image right) is lower, i.e. the
    /// head is turned clockwise in the image.
    pub fn roll_deg(&self) -> f32 {
        let (r, l) = (self.right_eye(), self.left_eye());
        (l.y - r.y).atan2(l.x - r.x).to_degrees()
    }
    /// Chin point.
    pub fn chin(&self) -> Point {
        self.pt(CHIN)
    }
    /// Face width at the ear roots (cheek to cheek), measured along the eye line.
    pub fn face_width(&self) -> f32 {
        let (r, l) = (self.right_eye(), self.left_eye());
        let d = l.dist(r).max(1e-3);
        let (ux, uy) = ((l.x - r.x) / d, (l.y - r.y) / d);
        let a = self.pt(RIGHT_CHEEK);
        let b = self.pt(LEFT_CHEEK);
        ((b.x - a.x) * ux + (b.y - a.y) * uy).abs()
    }
    /// Yaw in degrees, estimated from the nose tip's position between the cheeks
    /// (positive: the subject turns to their left, nose towards image right).
    pub fn yaw_deg(&self) -> f32 {
        let a = self.pt(RIGHT_CHEEK);
        let b = self.pt(LEFT_CHEEK);
        let n = self.pt(NOSE_TIP);
        let half = (b.x - a.x) / 2.0;
        if half.abs() < 1e-3 {
            return 0.0;
        }
        let t = ((n.x - (a.x + b.x) / 2.0) / half).clamp(-1.0, 1.0);
        // the nose tip stands about 0.6 half-widths in front of the cheek line
        (t / 0.6).clamp(-1.0, 1.0).asin().to_degrees()
    }
}

/// Runs the landmark model on a detected face. The crop is the detection box scaled by 1.5,
/// square, rotated so that the detector's eye keypoints are level (as MediaPipe does).
pub fn landmarks(nets: &Networks, img: &RgbImage, face: &Face) -> Result<Landmarks> {
    let (r, l) = (face.right_eye(), face.left_eye());
    let angle = (l.y - r.y).atan2(l.x - r.x);
    let side = face.w.max(face.h) * 1.5;
    landmarks_in_rect(nets, img, face.center(), side, angle)
}

/// Runs the landmark model on the square of `side` px centred at `center`, rotated by `angle`.
pub fn landmarks_in_rect(
    nets: &Networks,
    img: &RgbImage,
    center: Point,
    side: f32,
    angle: f32,
) -> Result<Landmarks> {
    let map = Affine::rect(center, (side, side), angle, (INPUT, INPUT));
    let input: Vec<f32> = warp_rgb_f32(img, &map, INPUT, INPUT)
        .into_iter()
        .map(|v| v / 255.0)
        .collect();
    let out = nets.landmarker().run(input)?;
    let scale = side / INPUT as f32;
    let points = out[0]
        .chunks_exact(3)
        .map(|c| {
            let p = map.apply(Point::new(c[0], c[1]));
            [p.x, p.y, c[2] * scale]
        })
        .collect();
    let presence = 1.0 / (1.0 + (-out[1][0]).exp());
    Ok(Landmarks { points, presence })
}

/// Runs the model twice: once on the detector's crop, then on a crop recentred on the first
/// landmarks (MediaPipe's tracking step), which is more accurate for chin and cheeks.
pub fn landmarks_refined(nets: &Networks, img: &RgbImage, face: &Face) -> Result<Landmarks> {
    let first = landmarks(nets, img, face)?;
    let (minx, maxx, miny, maxy) = first.points.iter().fold(
        (f32::MAX, f32::MIN, f32::MAX, f32::MIN),
        |(a, b, c, d), p| (a.min(p[0]), b.max(p[0]), c.min(p[1]), d.max(p[1])),
    );
    let center = Point::new((minx + maxx) / 2.0, (miny + maxy) / 2.0);
    let side = (maxx - minx).max(maxy - miny) * 1.5;
    let angle = first.roll_deg().to_radians();
    let second = landmarks_in_rect(nets, img, center, side, angle)?;
    Ok(if second.presence >= first.presence * 0.8 {
        second
    } else {
        first
    })
}

/// Side of the landmark crop over the detection box width, and the crop centre's offset below
/// the box centre (negative: above) in box widths, along the face's own axes: the crop that
/// [`landmarks_refined`]'s second pass chooses on the shared portraits (side 1.52-1.79,
/// offset -0.05 to 0.01 box widths).
const PREDICTED_SIDE: f32 = 1.6;
const PREDICTED_DY: f32 = -0.03;

/// The square crop (centre, side, angle in radians) that [`landmarks_refined`]'s second pass
/// would use after these landmarks.
fn refined_crop(lm: &Landmarks) -> (Point, f32, f32) {
    let (minx, maxx, miny, maxy) = lm.points.iter().fold(
        (f32::MAX, f32::MIN, f32::MAX, f32::MIN),
        |(a, b, c, d), p| (a.min(p[0]), b.max(p[0]), c.min(p[1]), d.max(p[1])),
    );
    let center = Point::new((minx + maxx) / 2.0, (miny + maxy) / 2.0);
    let side = (maxx - minx).max(maxy - miny) * 1.5;
    (center, side, lm.roll_deg().to_radians())
}

/// Landmarks with one model pass when one is enough: the first pass runs on the crop that the
/// refinement step of [`landmarks_refined`] typically converges to, predicted from the
/// detection box; a second pass runs only when the crop implied by the first landmarks differs
/// from the one used (centre by more than 6 % of the side, side by more than 12 %, angle by
/// more than 3 degrees) or the first pass's presence is below `min_presence`. Within those
/// limits a second pass moves the landmarks no more than the model's own noise: on the
/// 358x441 outputs of the shared portraits and the 1 MP benchmark photo (whose crop was off by
/// 4.6 % and 9.6 %), face width by up to 2.8 px, chin and eyes by up to 1.9 px, as much as
/// between two crops that agree within 1.6 %.
pub fn landmarks_fast(
    nets: &Networks,
    img: &RgbImage,
    face: &Face,
    min_presence: f32,
) -> Result<Landmarks> {
    let (r, l) = (face.right_eye(), face.left_eye());
    let angle = (l.y - r.y).atan2(l.x - r.x);
    let (s, c) = angle.sin_cos();
    let dy = PREDICTED_DY * face.w;
    let center = Point::new(face.center().x - s * dy, face.center().y + c * dy);
    let side = PREDICTED_SIDE * face.w.max(face.h);
    let first = landmarks_in_rect(nets, img, center, side, angle)?;
    let (c2, side2, angle2) = refined_crop(&first);
    let converged = c2.dist(center) <= 0.06 * side
        && (side2 / side - 1.0).abs() <= 0.12
        && (angle2 - angle).abs().to_degrees() <= 3.0;
    if converged && first.presence >= min_presence {
        return Ok(first);
    }
    let second = landmarks_in_rect(nets, img, c2, side2, angle2)?;
    Ok(if second.presence >= first.presence * 0.8 {
        second
    } else {
        first
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::{detect_faces, DetectOptions};
    use crate::nn::tests::shared_dir;

    #[test]
    fn roll_is_measured_on_known_tilts() {
        let Some(shared) = shared_dir() else { return };
        let dir = shared.join("data/portraits/roll");
        for (name, truth) in [
            ("generic_guy.jpg", 0.0),
            ("generic_guy_rotated_5.png", 5.0),
            ("generic_guy_rotated_10.png", 10.0),
            ("generic_guy_rotated_15.png", 15.0),
            ("generic_guy_rotated_20.png", 20.0),
            ("generic_guy_rotated_neg10.png", -10.0),
        ] {
            let img = image::open(dir.join(name)).unwrap().to_rgb8();
            let faces =
                detect_faces(crate::nn::tests::nets(), &img, &DetectOptions::default()).unwrap();
            assert!(!faces.is_empty(), "{name}: no face");
            let lm = landmarks_refined(crate::nn::tests::nets(), &img, &faces[0]).unwrap();
            let roll = lm.roll_deg();
            eprintln!(
                "{name}: roll {roll:.2} truth {truth} presence {:.3} face width {:.0}",
                lm.presence,
                lm.face_width()
            );
            assert!((roll - truth).abs() < 1.5, "{name}: {roll} vs {truth}");
        }
    }

    #[test]
    fn landmarks_on_portrait() {
        let Some(shared) = shared_dir() else { return };
        let img = image::open(shared.join("data/portraits/obama.jpg"))
            .unwrap()
            .to_rgb8();
        let faces =
            detect_faces(crate::nn::tests::nets(), &img, &DetectOptions::default()).unwrap();
        let lm = landmarks_refined(crate::nn::tests::nets(), &img, &faces[0]).unwrap();
        eprintln!(
            "presence {:.3} eyes {:?} {:?} chin {:?} width {:.0} ied {:.0} roll {:.1} yaw {:.1}",
            lm.presence,
            lm.right_eye(),
            lm.left_eye(),
            lm.chin(),
            lm.face_width(),
            lm.inter_eye(),
            lm.roll_deg(),
            lm.yaw_deg()
        );
        assert!(lm.presence > 0.9);
        assert!(lm.chin().y > lm.eye_mid().y + lm.inter_eye());
        let ratio = lm.face_width() / lm.inter_eye();
        assert!((1.8..3.0).contains(&ratio), "face width / IED = {ratio}");
    }
}
