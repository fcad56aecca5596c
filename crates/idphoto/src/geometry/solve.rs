//! Head geometry and the crop solver: finds the scale and offset that place a head on the
//! output canvas so that the spec's rules hold, following the spec's precedence when two
//! rules cannot both hold.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::raster::Point;
use crate::spec::{GeometryRule, Limit, PxRange, Spec, Unit};

/// Measurements of one head in some frame where the eyes are level.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Head {
    /// Midpoint between the eye centres.
    pub eye_mid: Point,
    /// Distance between the eye centres.
    pub inter_eye: f32,
    /// Face width at the ear roots.
    pub face_width: f32,
    /// y of the chin.
    pub chin_y: f32,
    /// y of the crown (top of the hair).
    pub crown_y: f32,
}

impl Head {
    /// Crown to chin.
    pub fn head_height(&self) -> f32 {
        self.chin_y - self.crown_y
    }
}

/// A rule as it applies to an output of a given size, in output pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PxRule {
    /// Which rule.
    pub rule: GeometryRule,
    /// Range in output px.
    pub range: PxRange,
    /// Precedence (lower wins).
    pub rank: usize,
    /// True when the spec does not state this rule and the library adds it (centring).
    pub implied: bool,
}

/// The rules of `spec` for an output of `w` x `h`, plus an implied centring rule
/// (eye midpoint within 5 % of the width from the centre) when the spec has no eye_mid_x.
pub fn px_rules(spec: &Spec, w: u32, h: u32) -> Vec<PxRule> {
    let mut rules: Vec<PxRule> = GeometryRule::ALL
        .iter()
        .filter_map(|&r| {
            spec.rule_px(r, w, h).map(|range| PxRule {
                rule: r,
                range,
                rank: spec.rank(r),
                implied: false,
            })
        })
        .collect();
    if spec.geometry.eye_mid_x.is_none() {
        let l = Limit {
            min: Some(0.45),
            max: Some(0.55),
            target: Some(0.5),
            unit: Unit::Fraction,
        };
        rules.push(PxRule {
            rule: GeometryRule::EyeMidX,
            range: l.to_px(w as f64, spec.dpi as f64),
            rank: spec.rank(GeometryRule::EyeMidX),
            implied: true,
        });
    }
    rules
}

/// Value of a rule for a head already in output pixels on a `w` x `h` canvas.
pub fn measure(rule: GeometryRule, head: &Head, w: u32, h: u32) -> f64 {
    let h = h as f64;
    let _ = w;
    let ey = head.eye_mid.y as f64;
    match rule {
        GeometryRule::HeadHeight => head.head_height() as f64,
        GeometryRule::FaceWidth => head.face_width as f64,
        GeometryRule::CrownMargin => head.crown_y as f64,
        GeometryRule::ChinMargin => h - head.chin_y as f64,
        GeometryRule::EyeLineFromTop => ey,
        GeometryRule::EyeLineFromBottom => h - ey,
        GeometryRule::EyeMidX => head.eye_mid.x as f64,
        GeometryRule::InterEye => head.inter_eye as f64,
    }
}

/// A placement: output = scale * (source - origin).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// Output pixels per source pixel.
    pub scale: f64,
    /// Source x shown at the output's left edge.
    pub ox: f64,
    /// Source y shown at the output's top edge.
    pub oy: f64,
}

impl Placement {
    /// The head mapped to output pixels.
    pub fn apply(&self, head: &Head) -> Head {
        let s = self.scale as f32;
        let (ox, oy) = (self.ox as f32, self.oy as f32);
        Head {
            eye_mid: Point::new(s * (head.eye_mid.x - ox), s * (head.eye_mid.y - oy)),
            inter_eye: s * head.inter_eye,
            face_width: s * head.face_width,
            chin_y: s * (head.chin_y - oy),
            crown_y: s * (head.crown_y - oy),
        }
    }
}

/// Result of [`solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The chosen placement.
    pub placement: Placement,
    /// Rules the placement cannot satisfy (conflicts resolved by precedence).
    pub violated: Vec<GeometryRule>,
}

fn rule_scale_measure(rule: GeometryRule, head: &Head) -> Option<f64> {
    match rule {
        GeometryRule::HeadHeight => Some(head.head_height() as f64),
        GeometryRule::FaceWidth => Some(head.face_width as f64),
        GeometryRule::InterEye => Some(head.inter_eye as f64),
        _ => None,
    }
}

/// True for rules that only depend on the scale.
pub fn is_scale_rule(rule: GeometryRule) -> bool {
    matches!(
        rule,
        GeometryRule::HeadHeight | GeometryRule::FaceWidth | GeometryRule::InterEye
    )
}

/// Cost of a placement: violations weighted lexicographically by precedence, then distance
/// from the targets.
fn cost(rules: &[PxRule], head: &Head, p: &Placement, w: u32, h: u32) -> f64 {
    let out = p.apply(head);
    let max_rank = rules.iter().map(|r| r.rank).max().unwrap_or(0);
    let mut c = 0.0;
    for r in rules {
        let v = measure(r.rule, &out, w, h);
        let viol = if v < r.range.min {
            r.range.min - v
        } else if v > r.range.max {
            v - r.range.max
        } else {
            0.0
        };
        let weight = 8f64.powi((max_rank - r.rank) as i32 + 1);
        let span = if r.range.max.is_finite() && r.range.min.is_finite() {
            (r.range.max - r.range.min).max(1.0)
        } else {
            (w.max(h) as f64) * 0.1
        };
        c += weight * 1000.0 * (viol + if viol > 0.0 { 1.0 } else { 0.0 });
        if r.range.target.is_finite() {
            c += (v - r.range.target).abs() / span;
        }
    }
    c
}

/// Finds the placement of `head` on a `w` x `h` output that best meets `rules`, with the scale
/// at most `max_scale`.
pub fn solve(rules: &[PxRule], head: &Head, w: u32, h: u32, max_scale: f64) -> Solution {
    // candidate scales: every bound and target of the scale rules, plus a sweep
    let mut scales: Vec<f64> = Vec::new();
    for r in rules {
        if let Some(m) = rule_scale_measure(r.rule, head) {
            if m > 0.0 {
                for v in [r.range.min, r.range.max, r.range.target] {
                    if v.is_finite() && v > 0.0 {
                        scales.push(v / m);
                    }
                }
            }
        }
    }
    if scales.is_empty() {
        // no scale rule: fall back to a head height of 2/3 of the output height
        scales.push(h as f64 * 0.66 / head.head_height().max(1.0) as f64);
    }
    let lo = scales.iter().cloned().fold(f64::MAX, f64::min) * 0.8;
    let hi = scales.iter().cloned().fold(f64::MIN, f64::max) * 1.2;
    for i in 0..=96 {
        scales.push(lo + (hi - lo) * i as f64 / 96.0);
    }
    let mut best: Option<(f64, Placement)> = None;
    for &s0 in &scales {
        let s = s0.min(max_scale).max(1e-6);
        // horizontal: eye midpoint at the target of the eye_mid_x rule
        let ox_candidates: Vec<f64> = rules
            .iter()
            .filter(|r| r.rule == GeometryRule::EyeMidX)
            .flat_map(|r| [r.range.target, r.range.min, r.range.max])
            .filter(|v| v.is_finite())
            .map(|t| head.eye_mid.x as f64 - t / s)
            .collect();
        let ox_candidates = if ox_candidates.is_empty() {
            vec![head.eye_mid.x as f64 - w as f64 / (2.0 * s)]
        } else {
            ox_candidates
        };
        // vertical: every bound and target of every vertical rule
        let mut oy_candidates = Vec::new();
        for r in rules {
            let y_src = match r.rule {
                GeometryRule::CrownMargin => head.crown_y as f64,
                GeometryRule::ChinMargin
                | GeometryRule::EyeLineFromBottom
                | GeometryRule::EyeLineFromTop => {
                    if r.rule == GeometryRule::ChinMargin {
                        head.chin_y as f64
                    } else {
                        head.eye_mid.y as f64
                    }
                }
                _ => continue,
            };
            let from_bottom = matches!(
                r.rule,
                GeometryRule::ChinMargin | GeometryRule::EyeLineFromBottom
            );
            for v in [r.range.min, r.range.max, r.range.target] {
                if !v.is_finite() {
                    continue;
                }
                let out_y = if from_bottom { h as f64 - v } else { v };
                oy_candidates.push(y_src - out_y / s);
            }
        }
        if oy_candidates.is_empty() {
            oy_candidates.push(head.eye_mid.y as f64 - h as f64 * 0.45 / s);
        }
        for &ox in &ox_candidates {
            for &oy in &oy_candidates {
                let p = Placement { scale: s, ox, oy };
                let c = cost(rules, head, &p, w, h);
                if best.map(|(bc, _)| c < bc).unwrap_or(true) {
                    best = Some((c, p));
                }
            }
        }
    }
    let placement = best.map(|(_, p)| p).unwrap_or(Placement {
        scale: 1.0,
        ox: 0.0,
        oy: 0.0,
    });
    let out = placement.apply(head);
    let violated = rules
        .iter()
        .filter(|r| !r.range.contains(measure(r.rule, &out, w, h)))
        .map(|r| r.rule)
        .collect();
    Solution {
        placement,
        violated,
    }
}

/// Smallest scale at which every scale rule (head height, face width, inter-eye distance)
/// can hold, ignoring precedence.
pub fn min_scale(rules: &[PxRule], head: &Head) -> f64 {
    rules
        .iter()
        .filter_map(|r| {
            let m = rule_scale_measure(r.rule, head)?;
            (r.range.min.is_finite() && m > 0.0).then(|| r.range.min / m)
        })
        .fold(0.0, f64::max)
}

/// Source face width (px) at which the spec needs no upscaling, estimated with average head
/// proportions.
pub(crate) fn needed_face_px(rules: &[PxRule]) -> f32 {
    let unit = Head {
        eye_mid: Point::new(0.0, 0.0),
        inter_eye: 1.0 / 2.4,
        face_width: 1.0,
        chin_y: 0.8,
        crown_y: -0.8,
    };
    let k = min_scale(rules, &unit) as f32;
    if k.is_finite() && k > 0.0 {
        k
    } else {
        100.0
    }
}

/// Solves the placement, refusing faces that would need more than `max_upscale`.
pub(crate) fn solve_limited(
    rules: &[PxRule],
    head: &Head,
    w: u32,
    h: u32,
    max_upscale: f64,
) -> Result<Placement> {
    let free = solve(rules, head, w, h, f64::INFINITY);
    if free.placement.scale <= max_upscale {
        return Ok(free.placement);
    }
    let limited = solve(rules, head, w, h, max_upscale);
    let newly_broken = limited
        .violated
        .iter()
        .any(|r| is_scale_rule(*r) && !free.violated.contains(r));
    if newly_broken {
        // smallest scale meeting the scale rules the free solution meets
        let kept: Vec<PxRule> = rules
            .iter()
            .filter(|r| !free.violated.contains(&r.rule))
            .cloned()
            .collect();
        let s_need = min_scale(&kept, head).max(1e-6);
        return Err(Error::FaceTooSmall {
            face_px: head.face_width,
            min_face_px: (head.face_width as f64 * s_need / max_upscale) as f32,
        });
    }
    Ok(limited.placement)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::presets;

    fn typical_head(face_width: f32) -> Head {
        // proportions of a real adult head
        let eye_y = 500.0;
        Head {
            eye_mid: Point::new(700.0, eye_y),
            inter_eye: face_width / 2.3,
            face_width,
            chin_y: eye_y + face_width * 0.78,
            crown_y: eye_y - face_width * 0.75,
        }
    }

    #[test]
    fn cn_id_card_placement_meets_all_rules() {
        let spec = presets::get("cn-id-card").unwrap();
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        let rules = px_rules(&spec, w, h);
        let head = typical_head(400.0);
        let sol = solve(&rules, &head, w, h, 1.0);
        let out = sol.placement.apply(&head);
        assert!(sol.violated.is_empty(), "{:?} {:?}", sol.violated, out);
        assert!((out.face_width - 207.0).abs() < 3.0, "{}", out.face_width);
    }

    #[test]
    fn eye_line_wins_over_crown_margin_for_tall_hair() {
        let spec = presets::get("cn-id-card").unwrap();
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        let rules = px_rules(&spec, w, h);
        let mut head = typical_head(400.0);
        head.crown_y -= 250.0; // very tall hair
        let sol = solve(&rules, &head, w, h, 1.0);
        let out = sol.placement.apply(&head);
        assert!(
            !sol.violated.contains(&GeometryRule::EyeLineFromBottom),
            "{out:?}"
        );
        assert!(sol.violated.contains(&GeometryRule::CrownMargin), "{out:?}");
    }

    #[test]
    fn scale_limit_shows_in_min_scale() {
        let spec = presets::get("cn-id-card").unwrap();
        let rules = px_rules(&spec, 358, 441);
        let head = typical_head(100.0);
        assert!(min_scale(&rules, &head) > 1.9);
    }
}
