//! Helpers building the [`RuleResult`]s of the quality checks: a status change with its own
//! message, an advisory range rule (a failure only warns), and a rule that could not be
//! measured.

use crate::report::{RuleResult, Status};

/// `r` with `status`; when that makes it a warning, the warning says `zh` / `en` (unless they are
/// empty).
pub(super) fn with_status(mut r: RuleResult, status: Status, zh: &str, en: &str) -> RuleResult {
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
pub(super) fn advisory(
    code: &str,
    v: f64,
    min: Option<f64>,
    max: Option<f64>,
    unit: &str,
) -> RuleResult {
    let r = RuleResult::range(code, v, min, max, unit);
    if r.status == Status::Fail {
        with_status(r, Status::Warn, "", "")
    } else {
        r
    }
}

/// A rule that could not be measured: a warning saying `zh` / `en`.
pub(super) fn unmeasured(code: &str, zh: &str, en: &str) -> RuleResult {
    let mut r = RuleResult::flag(code, false, zh, en);
    r.status = Status::Warn;
    r
}
