//! Geometric rules a head cannot meet together with higher-precedence rules: `waived`.

use super::solve::{solve, Head, PxRule};
use crate::report::{RuleResult, Status};
use crate::spec::GeometryRule;

/// Status of geometric rules that fail: `waived` when even the best placement of this head
/// cannot meet them together with higher-precedence rules.
pub(crate) fn waive(results: &mut [RuleResult], rules: &[PxRule], head: &Head, w: u32, h: u32) {
    let best = solve(rules, head, w, h, f64::INFINITY);
    for r in results.iter_mut() {
        if r.status != Status::Fail {
            continue;
        }
        let Some(rule) = GeometryRule::ALL
            .iter()
            .find(|g| r.code == format!("geometry.{}", g.name()))
        else {
            continue;
        };
        if best.violated.contains(rule) {
            r.status = Status::Waived;
            r.message_en = format!(
                "{} (waived: cannot hold together with higher-precedence rules for this head)",
                r.message_en
            );
            r.message_zh = format!("{} (按规格优先级豁免)", r.message_zh);
        }
    }
}
