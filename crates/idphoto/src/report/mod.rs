//! The compliance report: every rule of a spec with the value measured on the image, its
//! limits, a status, and a message in Chinese and English that tells a person what to do.

mod messages;

use serde::{Deserialize, Serialize};

/// Version of the report's JSON schema. Bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// Outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The rule holds.
    Pass,
    /// The rule does not hold: the photo would be rejected.
    Fail,
    /// The rule does not hold, but the spec lets a higher-precedence rule win (for example GA
    /// 461: the eye line wins over the hair-top margin, and tall hair may be cropped).
    Waived,
    /// Advisory: worth a look, not a reason for rejection by itself.
    Warn,
}

/// One rule's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    /// Stable code, e.g. `geometry.face_width`, `file.kb_window`, `pose.roll`.
    pub code: String,
    /// Outcome.
    pub status: Status,
    /// Measured value, if the rule measures one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    /// Lower limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Unit of value, min and max (`px`, `kb`, `dpi`, `deg`, ...).
    pub unit: String,
    /// What to do, in Chinese.
    pub message_zh: String,
    /// What to do, in English.
    pub message_en: String,
}

impl RuleResult {
    /// A rule measured against a range.
    pub fn range(
        code: &str,
        value: f64,
        min: Option<f64>,
        max: Option<f64>,
        unit: &str,
    ) -> RuleResult {
        let ok = min.is_none_or(|m| value >= m - 1e-9) && max.is_none_or(|m| value <= m + 1e-9);
        let (zh, en) = message(code, ok, value, min, max);
        RuleResult {
            code: code.to_string(),
            status: if ok { Status::Pass } else { Status::Fail },
            value: Some(round2(value)),
            min: min.filter(|v| v.is_finite()).map(round2),
            max: max.filter(|v| v.is_finite()).map(round2),
            unit: unit.to_string(),
            message_zh: zh,
            message_en: en,
        }
    }

    /// A yes/no rule.
    pub fn flag(code: &str, ok: bool, zh: &str, en: &str) -> RuleResult {
        RuleResult {
            code: code.to_string(),
            status: if ok { Status::Pass } else { Status::Fail },
            value: None,
            min: None,
            max: None,
            unit: String::new(),
            message_zh: if ok { "符合要求".into() } else { zh.into() },
            message_en: if ok { "OK".into() } else { en.into() },
        }
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// A note that is not a rule (for example "the face was upscaled by 1.12x").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    /// Stable code.
    pub code: String,
    /// Chinese text.
    pub message_zh: String,
    /// English text.
    pub message_en: String,
}

impl Notice {
    /// New notice.
    pub fn new(code: &str, zh: impl Into<String>, en: impl Into<String>) -> Notice {
        Notice {
            code: code.into(),
            message_zh: zh.into(),
            message_en: en.into(),
        }
    }
}

/// The full report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Spec id the image was checked against.
    pub spec_id: String,
    /// True when no rule has status `fail`.
    pub passed: bool,
    /// Every rule.
    pub rules: Vec<RuleResult>,
    /// Notices.
    pub notices: Vec<Notice>,
}

impl Report {
    /// Builds a report and computes `passed`.
    pub fn new(spec_id: &str, rules: Vec<RuleResult>, notices: Vec<Notice>) -> Report {
        let passed = rules.iter().all(|r| r.status != Status::Fail);
        Report {
            schema_version: SCHEMA_VERSION,
            spec_id: spec_id.into(),
            passed,
            rules,
            notices,
        }
    }

    /// The failing rules.
    pub fn failures(&self) -> impl Iterator<Item = &RuleResult> {
        self.rules.iter().filter(|r| r.status == Status::Fail)
    }

    /// A rule by code.
    pub fn rule(&self, code: &str) -> Option<&RuleResult> {
        self.rules.iter().find(|r| r.code == code)
    }

    /// JSON text of the report.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// A plain-text table for terminals.
    pub fn to_table(&self) -> String {
        let mut s = format!(
            "spec {}: {}\n",
            self.spec_id,
            if self.passed { "PASS" } else { "FAIL" }
        );
        for r in &self.rules {
            let v = r.value.map(|v| format!("{v}")).unwrap_or_default();
            let lim = match (r.min, r.max) {
                (Some(a), Some(b)) => format!("[{a}, {b}]"),
                (Some(a), None) => format!(">= {a}"),
                (None, Some(b)) => format!("<= {b}"),
                (None, None) => String::new(),
            };
            let st = match r.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Waived => "waived",
                Status::Warn => "warn",
            };
            s.push_str(&format!(
                "  {st:<6} {:<28} {v:>9} {:<4} {lim:<18} {}\n",
                r.code,
                r.unit,
                if r.status == Status::Pass {
                    ""
                } else {
                    &r.message_en
                }
            ));
        }
        for n in &self.notices {
            s.push_str(&format!("  note   {:<28} {}\n", n.code, n.message_en));
        }
        s
    }
}

/// Message for a range rule: what is wrong and what to do.
fn message(code: &str, ok: bool, v: f64, min: Option<f64>, max: Option<f64>) -> (String, String) {
    if ok {
        return ("符合要求".into(), "OK".into());
    }
    let low = min.is_some_and(|m| v < m);
    let (zh, en) = messages::advice(code, low);
    // one decimal, more (up to three) while the value would print as one of its limits:
    // "measured 0.1, required <= 0.1" for 0.15 says nothing
    let limits = [min, max].into_iter().flatten().filter(|l| l.is_finite());
    let d = (1..=3)
        .find(|&d| {
            limits
                .clone()
                .all(|l| format!("{l:.d$}") != format!("{v:.d$}"))
        })
        .unwrap_or(3);
    let range = match (min, max) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => format!("{a:.d$}-{b:.d$}"),
        (Some(a), _) if a.is_finite() => format!(">= {a:.d$}"),
        (_, Some(b)) if b.is_finite() => format!("<= {b:.d$}"),
        _ => String::new(),
    };
    (
        format!("{zh} (测量值 {v:.d$}, 要求 {range})"),
        format!("{en} (measured {v:.d$}, required {range})"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_shows_enough_decimals_to_differ_from_the_limit() {
        let (zh, en) = message("expression.mouth_closed", false, 0.15, None, Some(0.1));
        assert!(en.ends_with("(measured 0.15, required <= 0.10)"), "{en}");
        assert!(zh.contains("测量值 0.15"), "{zh}");
        let (_, en) = message("pose.pitch", false, 5.63, Some(-5.0), Some(5.0));
        assert!(en.ends_with("(measured 5.6, required -5.0-5.0)"), "{en}");
        // equal to three decimals: three, no more
        let (_, en) = message("image.noise", false, 3.0001, None, Some(3.0));
        assert!(en.ends_with("(measured 3.000, required <= 3.000)"), "{en}");
    }

    #[test]
    fn every_quality_code_has_its_own_message() {
        for code in [
            "lighting.balance",
            "lighting.highlights",
            "lighting.clipping",
            "lighting.uniformity",
            "image.noise",
            "geometry.eye_mid_x",
            "face.count",
        ] {
            let r = RuleResult::range(code, 10.0, None, Some(1.0), "x");
            assert_eq!(r.status, Status::Fail);
            assert!(!r.message_en.starts_with("Out of range"), "{code}");
            assert!(!r.message_zh.starts_with("不符合要求"), "{code}");
        }
    }

    #[test]
    fn range_rule_pass_and_fail() {
        let r = RuleResult::range("geometry.face_width", 207.0, Some(193.0), Some(221.0), "px");
        assert_eq!(r.status, Status::Pass);
        let r = RuleResult::range("geometry.face_width", 150.0, Some(193.0), Some(221.0), "px");
        assert_eq!(r.status, Status::Fail);
        assert!(r.message_en.contains("narrow") && r.message_zh.contains("窄"));
        let rep = Report::new("x", vec![r], vec![]);
        assert!(!rep.passed);
        assert_eq!(rep.failures().count(), 1);
        let json = rep.to_json();
        let back: Report = serde_json::from_str(&json).unwrap();
        assert_eq!(back, rep);
    }
}
