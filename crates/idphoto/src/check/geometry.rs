//! The spec's geometry rules measured on a photo: the head from the landmarks and the crown
//! from a person matte.

use crate::face::Landmarks;
use crate::geometry::{self, find_crown, waive, Head, CROWN_FALLBACK_RATIO};
use crate::raster::{Plane, Point};
use crate::report::{Notice, RuleResult, Status};
use crate::spec::Spec;

/// Off-centre distance (fraction of the width) of the eye midpoint beyond which the implied
/// centring rule fails instead of warning. The specs say "centred" without a number (GA 461,
/// the US rules); the only stated numbers are the social-security card's 162-196 px of 358
/// (+-4.7 %) and ISO/IEC 19794-5's 45-55 %, which give the warning band; beyond +-8 % the face
/// is visibly off-centre.
pub const IMPLIED_CENTRING_FAIL: f64 = 0.08;

/// The spec's geometry rules measured on the head given by `lm` and the crown in `alpha`,
/// with the notices about the crown. `lm` and `alpha` are in the pixels of the decoded image,
/// which is the `w` x `h` file reduced `k` times (1 for a full-size decode); the rules are
/// measured in the file's pixels.
pub(crate) fn geometry_rules(
    spec: &Spec,
    (w, h): (u32, u32),
    k: f32,
    lm: &Landmarks,
    alpha: &Plane,
) -> (Vec<RuleResult>, Vec<Notice>) {
    let mut notices = Vec::new();
    let eye_mid = lm.eye_mid();
    let chin_y = lm.chin().y;
    let crown_y = match find_crown(alpha, eye_mid, lm.face_width()) {
        Some((y, false)) => y,
        Some((y, true)) => {
            notices.push(Notice::new(
                "geometry.crown_at_edge",
                "头发顶部触及图像上边缘",
                "the hair reaches the top edge of the image",
            ));
            y
        }
        None => {
            notices.push(Notice::new(
                "geometry.crown_estimated",
                "无法准确检测头顶位置, 已按脸部比例估计",
                "the top of the hair could not be found reliably; estimated from face proportions",
            ));
            eye_mid.y - CROWN_FALLBACK_RATIO * (chin_y - eye_mid.y)
        }
    };
    let head = Head {
        eye_mid: Point::new(eye_mid.x * k, eye_mid.y * k),
        inter_eye: lm.inter_eye() * k,
        face_width: lm.face_width() * k,
        chin_y: chin_y * k,
        crown_y: crown_y * k,
    };
    let px_rules = geometry::px_rules(spec, w, h);
    let mut geo = Vec::new();
    for r in &px_rules {
        let v = geometry::measure(r.rule, &head, w, h);
        let mut res = RuleResult::range(
            &format!("geometry.{}", r.rule.name()),
            v,
            Some(r.range.min).filter(|x| x.is_finite()),
            Some(r.range.max).filter(|x| x.is_finite()),
            "px",
        );
        if r.implied
            && res.status == Status::Fail
            && (v - r.range.target).abs() <= IMPLIED_CENTRING_FAIL * w as f64
        {
            res.status = Status::Warn;
        }
        geo.push(res);
    }
    waive(&mut geo, &px_rules, &head, w, h);
    (geo, notices)
}
