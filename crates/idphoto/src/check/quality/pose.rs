//! Head pose: yaw, pitch and roll from the 3-D landmarks, and the pose rules against the spec.

use super::limits::{PITCH_OFFSET_DEG, POSE_FAIL_FACTOR, ROLL_WARN_DEG};
use super::region::{PITCH_PAIRS, YAW_PAIRS};
use super::results::with_status;
use crate::face::landmarks::Landmarks;
use crate::report::{RuleResult, Status};
use crate::spec::Spec;

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
