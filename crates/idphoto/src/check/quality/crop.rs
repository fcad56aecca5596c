//! OFIQ CropOfTheFaceImage (leftward, rightward, above and below the eyes) and HeadSize, as
//! advisory rules: the spec's own geometry rules decide.

use super::limits::{
    HEAD_SIZE_RANGE, OFIQ_MIN_MARGIN_ABOVE, OFIQ_MIN_MARGIN_BELOW, OFIQ_MIN_SIDE_CROP,
};
use super::region::Face;
use super::results::advisory;
use crate::report::RuleResult;

/// The crop and head-size rules of `face` in a `w` x `h` image.
pub(super) fn crop_rules(face: &Face, w: u32, h: u32) -> Vec<RuleResult> {
    let lm = face.lm;
    let (re, le) = (lm.right_eye(), lm.left_eye());
    let t = face.t as f64;
    let ied = face.ied.max(1.0) as f64;
    let em = face.eye_mid;
    vec![
        advisory(
            "crop.leftward",
            re.x as f64 / ied,
            Some(OFIQ_MIN_SIDE_CROP),
            None,
            "ratio",
        ),
        advisory(
            "crop.rightward",
            (w as f64 - le.x as f64) / ied,
            Some(OFIQ_MIN_SIDE_CROP),
            None,
            "ratio",
        ),
        advisory(
            "crop.margin_above",
            em.y as f64 / t,
            Some(OFIQ_MIN_MARGIN_ABOVE),
            None,
            "ratio",
        ),
        advisory(
            "crop.margin_below",
            (h as f64 - em.y as f64) / t,
            Some(OFIQ_MIN_MARGIN_BELOW),
            None,
            "ratio",
        ),
        advisory(
            "crop.head_size",
            t / h as f64,
            Some(HEAD_SIZE_RANGE.0),
            Some(HEAD_SIZE_RANGE.1),
            "ratio",
        ),
    ]
}
