//! The compliance report: every rule of a spec with the value measured on the image, its
//! limits, a status, and a message in Chinese and English that tells a person what to do.

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
    let (zh, en): (&str, &str) = match (code, low) {
        ("geometry.head_height", true) => (
            "头部太小: 请靠近镜头或重新裁剪",
            "Head too small: move closer or crop tighter",
        ),
        ("geometry.head_height", false) => (
            "头部太大: 请离镜头远一些或重新裁剪",
            "Head too large: step back or crop wider",
        ),
        ("geometry.face_width", true) => (
            "脸部太窄: 请靠近镜头或重新裁剪",
            "Face too narrow in the frame: move closer or crop tighter",
        ),
        ("geometry.face_width", false) => (
            "脸部太宽: 请离镜头远一些或重新裁剪",
            "Face too wide in the frame: step back or crop wider",
        ),
        ("geometry.crown_margin", true) => (
            "头顶离上边缘太近: 请下移人像",
            "Top of the head too close to the top edge: move the head down",
        ),
        ("geometry.crown_margin", false) => (
            "头顶上方留白太多: 请上移人像",
            "Too much space above the head: move the head up",
        ),
        ("geometry.chin_margin", true) => ("下巴离下边缘太近", "Chin too close to the bottom edge"),
        ("geometry.chin_margin", false) => ("下巴下方留白太多", "Too much space below the chin"),
        ("geometry.eye_line_from_top", true) | ("geometry.eye_line_from_bottom", false) => (
            "眼睛位置太高: 请下移人像",
            "Eyes too high in the frame: move the head down",
        ),
        ("geometry.eye_line_from_top", false) | ("geometry.eye_line_from_bottom", true) => (
            "眼睛位置太低: 请上移人像",
            "Eyes too low in the frame: move the head up",
        ),
        ("geometry.eye_mid_x", true) => ("人像偏左: 请水平居中", "Face left of centre: centre it"),
        ("geometry.eye_mid_x", false) => {
            ("人像偏右: 请水平居中", "Face right of centre: centre it")
        }
        ("geometry.inter_eye", true) => (
            "两眼间距太小: 请靠近镜头",
            "Eyes too close together in the frame: move closer",
        ),
        ("geometry.inter_eye", false) => (
            "两眼间距太大: 请离镜头远一些",
            "Eyes too far apart in the frame: step back",
        ),
        ("file.width", _) | ("file.height", _) => (
            "像素尺寸不符合要求: 请按规格重新输出",
            "Pixel size does not match the spec: export again at the spec's size",
        ),
        ("file.dpi", _) => (
            "分辨率(DPI)不符合要求: 请按规格重新输出",
            "DPI does not match the spec: export again with the spec's DPI",
        ),
        ("file.kb_window", true) => (
            "文件太小: 请提高 JPEG 质量",
            "File too small: raise the JPEG quality",
        ),
        ("file.kb_window", false) => (
            "文件太大: 请降低 JPEG 质量",
            "File too large: lower the JPEG quality",
        ),
        ("pose.roll", _) => (
            "头部倾斜: 请保持头部端正, 双眼水平",
            "Head tilted: hold the head straight with the eyes level",
        ),
        ("pose.yaw", _) => (
            "脸部没有正对镜头: 请正视镜头",
            "Face turned sideways: look straight at the camera",
        ),
        ("background.color", _) => (
            "背景颜色不符合要求: 请更换为规定底色",
            "Background colour differs from the spec: replace the background",
        ),
        ("pose.pitch", false) => (
            "头部上仰: 请平视镜头",
            "Chin raised: look straight into the camera",
        ),
        ("pose.pitch", true) => (
            "头部低垂: 请平视镜头",
            "Head bowed: look straight into the camera",
        ),
        ("expression.eyes_open", _) => (
            "眼睛未睁开: 请睁大双眼",
            "Eyes not open: keep both eyes open",
        ),
        ("expression.mouth_closed", _) => (
            "嘴巴张开: 请闭上嘴, 保持自然表情",
            "Mouth open: close the mouth, neutral expression",
        ),
        ("crop.leftward", _) | ("crop.rightward", _) => (
            "脸部太靠近左右边缘: 请水平居中",
            "Face too close to a side edge: centre it",
        ),
        ("crop.margin_above", _) => ("头部上方空间不足", "Too little space above the eyes"),
        ("crop.margin_below", _) => ("下巴下方空间不足", "Too little space below the eyes"),
        ("crop.head_size", true) => ("头部太小", "Head too small in the frame"),
        ("crop.head_size", false) => ("头部太大", "Head too large in the frame"),
        ("background.uniformity", _) => (
            "背景不均匀或有纹理: 请在纯色墙前拍摄",
            "Background not plain: stand in front of a plain wall",
        ),
        ("background.shadow", _) => (
            "背景有阴影或明暗不均: 请离墙远一些并均匀照亮背景",
            "Shadow or uneven light on the background: step away from the wall, light it evenly",
        ),
        ("face.count", true) => (
            "未检测到人脸: 请使用正面、清晰的本人照片",
            "No face found: use a clear, frontal photo of yourself",
        ),
        ("face.count", false) => (
            "照片中有多张人脸: 照片中只能有本人",
            "More than one face: only you may be in the photo",
        ),
        ("lighting.balance", _) => (
            "脸部一侧明显偏暗 (阴阳脸): 请面向光源, 让光线均匀照亮两侧脸颊",
            "One side of the face is much darker: face the light so both cheeks are lit evenly",
        ),
        ("lighting.highlights", _) => (
            "照片曝光不足: 请在更明亮的光线下拍摄",
            "Photo underexposed: take it in brighter light",
        ),
        ("lighting.clipping", _) => (
            "脸部过曝, 细节丢失: 请避免强光直射或闪光灯",
            "Face overexposed, detail lost: avoid direct sun or flash",
        ),
        ("lighting.uniformity", _) => (
            "光线不均匀, 请面向窗户拍摄",
            "Uneven light on the face: face a window",
        ),
        ("lighting.face_luminance", true) | ("lighting.underexposure", _) => (
            "脸部太暗: 请在更明亮的光线下拍摄",
            "Face too dark: take the photo in brighter light",
        ),
        ("lighting.face_luminance", false) | ("lighting.overexposure", _) => (
            "脸部过曝: 请避免强光直射或闪光灯",
            "Face overexposed: avoid direct sun or flash",
        ),
        ("lighting.dynamic_range", _) => (
            "脸部层次太少: 请调整光线后重拍",
            "Too few tones on the face: retake with better light",
        ),
        ("image.sharpness", _) => (
            "照片模糊: 请对焦并保持相机稳定",
            "Photo blurred: focus and hold the camera still",
        ),
        ("image.compression", _) => (
            "压缩痕迹明显: 请使用原图或更高质量保存",
            "Heavy compression artefacts: use the original or save at higher quality",
        ),
        ("image.noise", _) => (
            "噪点太多: 请在更明亮的光线下拍摄",
            "Too much noise: take the photo in brighter light",
        ),
        ("color.cast", _) => (
            "肤色偏色: 请关闭滤镜, 在自然光下拍摄",
            "Unnatural skin colour: turn filters off, use daylight",
        ),
        ("glasses.glare", _) => (
            "眼镜反光: 请调整角度或摘下眼镜",
            "Glare on glasses: tilt them slightly or take them off",
        ),
        ("hair.eyebrows_visible", _) => (
            "头发可能遮挡眉毛: 请露出眉毛",
            "Hair may cover the eyebrows: keep them visible",
        ),
        ("ears.visible", _) => (
            "耳朵可能被遮挡: 请露出双耳",
            "Ears may be hidden: keep both ears visible",
        ),
        ("face.source_resolution", _) => (
            "原图人脸分辨率太低: 请使用更清晰的照片或靠近镜头",
            "Face resolution in the original too low: use a sharper photo or move closer",
        ),
        _ => ("不符合要求", "Out of range"),
    };
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
