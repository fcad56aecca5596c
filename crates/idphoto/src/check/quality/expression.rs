//! Expression: OFIQ EyesOpen and MouthClosed from the landmarks, and their rules.

use super::limits::{MAX_MOUTH_OPEN, MIN_EYES_OPEN};
use super::region::{Face, EYE_PAIRS, MOUTH_PAIRS};
use super::results::advisory;
use crate::face::landmarks::Landmarks;
use crate::report::RuleResult;
use crate::spec::Spec;

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

/// The eyes-open rule, and the mouth-closed rule (advisory unless the spec asks for a neutral
/// expression).
pub(super) fn expression_rules(lm: &Landmarks, spec: &Spec) -> Vec<RuleResult> {
    let eyes = RuleResult::range(
        "expression.eyes_open",
        eyes_open(lm),
        Some(MIN_EYES_OPEN),
        None,
        "ratio",
    );
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
    let mouth = if spec.policy.neutral_expression {
        mouth
    } else {
        advisory(
            "expression.mouth_closed",
            mouth_opening(lm),
            None,
            Some(MAX_MOUTH_OPEN),
            "ratio",
        )
    };
    vec![eyes, mouth]
}
