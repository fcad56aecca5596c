//! Document photo specifications: the [`Spec`] type, its JSON schema, validation and the
//! built-in catalogue ([`presets`]).
//!
//! A spec is data. The built-in presets are written in the same JSON schema that custom specs
//! use (`presets.json`, embedded at build time), so every rule a preset expresses can also be
//! expressed by a host.
//!
//! Lengths in geometry rules are given as a [`Limit`] with a unit: output pixels, millimetres
//! (converted with the spec's DPI) or a fraction of the image width (horizontal rules) or
//! height (vertical rules).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub mod presets;
#[cfg(test)]
mod tests;
mod validate;
pub(crate) use validate::MAX_OUTPUT_PIXELS;

/// Names of a spec in Chinese and English.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Names {
    /// Chinese name, e.g. "居民身份证".
    pub zh: String,
    /// English name, e.g. "Resident ID card (China)".
    pub en: String,
}

/// Physical print size in millimetres.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SizeMm {
    /// Width in mm.
    pub width: f64,
    /// Height in mm.
    pub height: f64,
}

/// Pixel size of the output. `width`/`height` is what `make` produces by default; `range`, if
/// present, is what the authority accepts (`check` tests against the range).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pixels {
    /// Default output width in pixels.
    pub width: u32,
    /// Default output height in pixels.
    pub height: u32,
    /// Accepted range, when the authority accepts more than one size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<PixelRange>,
}

/// A range of accepted pixel sizes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PixelRange {
    /// Minimum width.
    pub min_width: u32,
    /// Maximum width.
    pub max_width: u32,
    /// Minimum height.
    pub min_height: u32,
    /// Maximum height.
    pub max_height: u32,
    /// Required width / height, if any (e.g. 0.75 for 3:4, 1.0 for square).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aspect: Option<f64>,
}

/// File format of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Baseline JPEG (JFIF), 24-bit sRGB.
    Jpeg,
}

/// File size window in KB (1 KB = 1024 bytes). Either bound may be absent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbWindow {
    /// Smallest accepted size in KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest accepted size in KB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

/// An sRGB colour with a name. Serialised as `{"name": "white", "hex": "#FFFFFF"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NamedColor {
    /// Name used on the command line and in the API ("white", "blue", "light-grey"...).
    pub name: String,
    /// `#RRGGBB`.
    pub hex: String,
}

impl NamedColor {
    /// The colour as 8-bit sRGB.
    pub fn rgb(&self) -> Result<[u8; 3]> {
        parse_hex(&self.hex).ok_or_else(|| Error::InvalidSpec {
            field: "background".into(),
            reason: format!("`{}` is not a #RRGGBB colour", self.hex),
        })
    }
}

/// Parses `#RRGGBB` (or `RRGGBB`) into sRGB bytes.
pub fn parse_hex(s: &str) -> Option<[u8; 3]> {
    let s = s.strip_prefix('#').unwrap_or(s);
    if s.len() != 6 || !s.is_ascii() {
        return None;
    }
    let b = |i: usize| u8::from_str_radix(&s[i..i + 2], 16).ok();
    Some([b(0)?, b(2)?, b(4)?])
}

/// Background colours the spec allows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Background {
    /// Name of the default colour; must be one of `allowed`.
    pub default: String,
    /// Allowed colours.
    pub allowed: Vec<NamedColor>,
}

impl Background {
    /// Looks up an allowed colour by name (case-insensitive) or by `#RRGGBB` value.
    pub fn find(&self, name_or_hex: &str) -> Option<&NamedColor> {
        let wanted_hex = parse_hex(name_or_hex);
        self.allowed.iter().find(|c| {
            c.name.eq_ignore_ascii_case(name_or_hex)
                || (wanted_hex.is_some() && parse_hex(&c.hex) == wanted_hex)
        })
    }

    /// The default colour.
    pub fn default_color(&self) -> Result<&NamedColor> {
        self.find(&self.default).ok_or_else(|| Error::InvalidSpec {
            field: "background.default".into(),
            reason: format!("`{}` is not in background.allowed", self.default),
        })
    }
}

/// Unit of a [`Limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Output pixels.
    #[default]
    Px,
    /// Millimetres on the print (converted with the spec's DPI).
    Mm,
    /// Fraction of the image width (horizontal rules) or height (vertical rules).
    Fraction,
}

/// A closed range with a unit. A missing bound means unbounded on that side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limit {
    /// Lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Preferred value when making a photo (defaults to the middle of the range).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Unit of min, max and target.
    #[serde(default)]
    pub unit: Unit,
}

/// A [`Limit`] converted to output pixels.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PxRange {
    /// Lower bound in output px (or -inf).
    pub min: f64,
    /// Upper bound in output px (or +inf).
    pub max: f64,
    /// Preferred value in output px.
    pub target: f64,
}

impl PxRange {
    /// True when `v` lies in the range (inclusive).
    pub fn contains(&self, v: f64) -> bool {
        v >= self.min && v <= self.max
    }
}

impl Limit {
    /// Converts to output pixels. `extent` is the image width for horizontal rules and the
    /// height for vertical rules.
    pub fn to_px(&self, extent: f64, dpi: f64) -> PxRange {
        let conv = |v: f64| match self.unit {
            Unit::Px => v,
            Unit::Mm => v / 25.4 * dpi,
            Unit::Fraction => v * extent,
        };
        let min = self.min.map(conv).unwrap_or(f64::NEG_INFINITY);
        let max = self.max.map(conv).unwrap_or(f64::INFINITY);
        let target = match self.target {
            Some(t) => conv(t),
            None => match (min.is_finite(), max.is_finite()) {
                (true, true) => (min + max) / 2.0,
                (true, false) => min,
                (false, true) => max,
                (false, false) => f64::NAN,
            },
        };
        PxRange { min, max, target }
    }
}

/// Geometric rules, measured on the output image. All optional.
///
/// Definitions: the *crown* is the top of the hair; the *chin* is the lowest point of the chin;
/// the *eye line* is the line through the two eye centres; *face width* is the width of the face
/// at the ear roots (cheek to cheek).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Geometry {
    /// Crown to chin (vertical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_height: Option<Limit>,
    /// Face width at the ear roots (horizontal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub face_width: Option<Limit>,
    /// Crown to the top edge (vertical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crown_margin: Option<Limit>,
    /// Chin to the bottom edge (vertical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chin_margin: Option<Limit>,
    /// Eye line measured from the top edge (vertical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye_line_from_top: Option<Limit>,
    /// Eye line measured from the bottom edge (vertical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye_line_from_bottom: Option<Limit>,
    /// x of the midpoint between the eyes, from the left edge (horizontal). When absent the
    /// face is centred, with a tolerance of 5 % of the width.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eye_mid_x: Option<Limit>,
    /// Distance between the eye centres (horizontal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inter_eye: Option<Limit>,
}

/// Names of the geometric rules, used by [`Spec::priority`] and in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GeometryRule {
    /// [`Geometry::head_height`].
    HeadHeight,
    /// [`Geometry::face_width`].
    FaceWidth,
    /// [`Geometry::crown_margin`].
    CrownMargin,
    /// [`Geometry::chin_margin`].
    ChinMargin,
    /// [`Geometry::eye_line_from_top`].
    EyeLineFromTop,
    /// [`Geometry::eye_line_from_bottom`].
    EyeLineFromBottom,
    /// [`Geometry::eye_mid_x`].
    EyeMidX,
    /// [`Geometry::inter_eye`].
    InterEye,
}

impl GeometryRule {
    /// All rules in a fixed order.
    pub const ALL: [GeometryRule; 8] = [
        GeometryRule::HeadHeight,
        GeometryRule::FaceWidth,
        GeometryRule::CrownMargin,
        GeometryRule::ChinMargin,
        GeometryRule::EyeLineFromTop,
        GeometryRule::EyeLineFromBottom,
        GeometryRule::EyeMidX,
        GeometryRule::InterEye,
    ];

    /// snake_case name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            GeometryRule::HeadHeight => "head_height",
            GeometryRule::FaceWidth => "face_width",
            GeometryRule::CrownMargin => "crown_margin",
            GeometryRule::ChinMargin => "chin_margin",
            GeometryRule::EyeLineFromTop => "eye_line_from_top",
            GeometryRule::EyeLineFromBottom => "eye_line_from_bottom",
            GeometryRule::EyeMidX => "eye_mid_x",
            GeometryRule::InterEye => "inter_eye",
        }
    }

    /// True for rules measured along the x axis (fractions refer to the width).
    pub fn is_horizontal(self) -> bool {
        matches!(
            self,
            GeometryRule::FaceWidth | GeometryRule::EyeMidX | GeometryRule::InterEye
        )
    }
}

impl Geometry {
    /// The limit of one rule, if the spec sets it.
    pub fn get(&self, rule: GeometryRule) -> Option<&Limit> {
        match rule {
            GeometryRule::HeadHeight => self.head_height.as_ref(),
            GeometryRule::FaceWidth => self.face_width.as_ref(),
            GeometryRule::CrownMargin => self.crown_margin.as_ref(),
            GeometryRule::ChinMargin => self.chin_margin.as_ref(),
            GeometryRule::EyeLineFromTop => self.eye_line_from_top.as_ref(),
            GeometryRule::EyeLineFromBottom => self.eye_line_from_bottom.as_ref(),
            GeometryRule::EyeMidX => self.eye_mid_x.as_ref(),
            GeometryRule::InterEye => self.inter_eye.as_ref(),
        }
    }
}

/// Pose limits in degrees (absolute values). Missing fields take the ISO defaults.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Pose {
    /// Maximum |yaw|.
    pub max_yaw: f64,
    /// Maximum |pitch|.
    pub max_pitch: f64,
    /// Maximum |roll| of the output (after levelling).
    pub max_roll: f64,
}

impl Default for Pose {
    /// ISO/IEC 19794-5: yaw and pitch within 5 degrees, roll within 8.
    fn default() -> Self {
        Pose {
            max_yaw: 5.0,
            max_pitch: 5.0,
            max_roll: 8.0,
        }
    }
}

/// Glasses policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Glasses {
    /// Allowed without glare or tint.
    #[default]
    Allowed,
    /// Worn if habitually worn (China ID card, GA 461-2004).
    IfHabitual,
    /// Not permitted (US visa, 考研).
    Forbidden,
}

/// Non-geometric policy flags.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Glasses policy.
    #[serde(default)]
    pub glasses: Glasses,
    /// Both ears must be visible.
    #[serde(default)]
    pub ears_visible: bool,
    /// A neutral expression with the mouth closed is required (an open smile fails instead of
    /// warning).
    #[serde(default)]
    pub neutral_expression: bool,
}

/// How well a spec's numbers are verified (see `shared/reference/specs.md`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// The cited page is itself an official publication.
    Official,
    /// A government rule quoted by several secondary pages.
    Secondary,
    /// A convention of tools and studios, not a rule.
    ToolConvention,
    /// Custom spec supplied by the host.
    Custom,
}

/// Where a spec's numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// Verification grade.
    pub grade: Grade,
    /// Citations: standard names and URLs.
    pub refs: Vec<String>,
    /// Date the sources were read (YYYY-MM-DD).
    pub as_of: String,
    /// Free-text notes (caveats, unverified parts).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub notes: String,
}

/// A document photo specification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Stable id, kebab-case (`cn-id-card`).
    pub id: String,
    /// Names.
    pub name: Names,
    /// Physical print size, if the spec has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_mm: Option<SizeMm>,
    /// Pixel size.
    pub pixels: Pixels,
    /// DPI written into the file (JFIF density).
    pub dpi: u32,
    /// Accepted DPI range for `check`, if wider than `dpi` alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpi_range: Option<[u32; 2]>,
    /// File format.
    pub format: Format,
    /// File size window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size_kb: Option<KbWindow>,
    /// Background colours.
    pub background: Background,
    /// Head geometry.
    #[serde(default)]
    pub geometry: Geometry,
    /// Rules in order of precedence: when two rules cannot both be met, the earlier one in this
    /// list wins and the later one is reported as waived. Rules not listed come last.
    #[serde(default)]
    pub priority: Vec<GeometryRule>,
    /// Pose limits.
    #[serde(default)]
    pub pose: Pose,
    /// Policy flags.
    #[serde(default)]
    pub policy: Policy,
    /// Provenance of the numbers.
    pub source: Source,
}

impl Spec {
    /// A spec given as a preset id (`cn-id-card`) or as a JSON spec document (its first
    /// non-blank character is `{`): what bindings and command lines accept.
    pub fn from_id_or_json(spec: &str) -> Result<Spec> {
        let spec = spec.strip_prefix('\u{feff}').unwrap_or(spec);
        if spec.trim_start().starts_with('{') {
            Spec::from_json(spec)
        } else {
            presets::get(spec.trim())
        }
    }

    /// Parses and validates a spec from JSON. Errors name the offending field.
    pub fn from_json(json: &str) -> Result<Spec> {
        // a UTF-8 byte-order mark (as Windows editors write) is not part of the document
        let json = json.strip_prefix('\u{feff}').unwrap_or(json);
        let spec: Spec = serde_json::from_str(json).map_err(|e| json_error(json, &e))?;
        spec.validate()?;
        Ok(spec)
    }

    /// Serialises the spec to pretty JSON (the same schema `from_json` reads).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Checks every field for consistency. Errors name the offending field.
    pub fn validate(&self) -> Result<()> {
        validate::validate(self)
    }

    /// A geometry rule converted to output pixels for an output of `width` x `height`.
    pub fn rule_px(&self, rule: GeometryRule, width: u32, height: u32) -> Option<PxRange> {
        let extent = if rule.is_horizontal() { width } else { height } as f64;
        self.geometry
            .get(rule)
            .map(|l| l.to_px(extent, self.dpi as f64))
    }

    /// Precedence rank of a rule: lower wins. Rules absent from `priority` rank last.
    pub fn rank(&self, rule: GeometryRule) -> usize {
        self.priority
            .iter()
            .position(|r| *r == rule)
            .unwrap_or(self.priority.len())
    }

    /// The file-size window in bytes (min, max).
    pub fn byte_window(&self) -> (Option<usize>, Option<usize>) {
        match &self.file_size_kb {
            None => (None, None),
            Some(w) => (
                w.min.map(|k| (k * 1024.0).ceil() as usize),
                w.max.map(|k| (k * 1024.0).floor() as usize),
            ),
        }
    }
}

/// Turns a serde error into [`Error::InvalidSpec`], naming the field by its JSON path
/// (`pixels.width`, `geometry.face_width.min`, `background.allowed[0].hex`).
fn json_error(json: &str, e: &serde_json::Error) -> Error {
    Error::InvalidSpec {
        field: json_error_field(json, e),
        reason: e.to_string(),
    }
}

/// The JSON path (`a.b[2].c`) of the field a serde_json error is about, or `(document)`.
pub(crate) fn json_error_field(json: &str, e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let offset = byte_offset(json, e.line(), e.column());
    // serde names the field itself for "missing field `x`" and "unknown field `x`"; the path
    // of the object that holds it comes from the error position.
    let quoted = msg.split('`').nth(1).map(str::to_string);
    let field = if msg.starts_with("missing field") || msg.starts_with("unknown field") {
        let name = quoted.unwrap_or_default();
        // For a missing field serde stops after the closing `}`: step back inside the object.
        let before = json[..offset].trim_end();
        let at = if msg.starts_with("missing field") && before.ends_with('}') {
            before.len() - 1
        } else {
            offset
        };
        join_path(&json_path(json, at, false), &name)
    } else {
        json_path(json, offset, true)
    };
    if field.is_empty() {
        "(document)".to_string()
    } else {
        field
    }
}

/// Byte offset of serde_json's 1-based `line`/`column` (column counts bytes; 0 means "at the
/// newline that ends the previous line").
fn byte_offset(json: &str, line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut start = 0;
    for _ in 1..line {
        match json[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return json.len(),
        }
    }
    let mut off = (start + column).min(json.len());
    while !json.is_char_boundary(off) {
        off -= 1;
    }
    off
}

fn join_path(parent: &str, name: &str) -> String {
    match (parent.is_empty(), name.is_empty()) {
        (_, true) => parent.to_string(),
        (true, false) => name.to_string(),
        (false, false) => format!("{parent}.{name}"),
    }
}

/// JSON path of the value being read at byte `offset`, found by scanning the text before it.
/// With `with_key == false`, the key most recently read in the innermost object is left out
/// (that is, the path of the innermost container).
fn json_path(json: &str, offset: usize, with_key: bool) -> String {
    enum Frame {
        Object { key: Option<String>, want_key: bool },
        Array { index: usize },
    }
    let bytes = &json.as_bytes()[..offset.min(json.len())];
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { want_key, .. }) => *want_key = true,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            b':' => {
                if let Some(Frame::Object { want_key, .. }) = stack.last_mut() {
                    *want_key = false;
                }
            }
            b'"' => {
                let start = i + 1;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                if let Some(Frame::Object { key, want_key }) = stack.last_mut() {
                    if *want_key {
                        let end = i.min(bytes.len());
                        *key = Some(String::from_utf8_lossy(&bytes[start..end]).into_owned());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    let last = stack.len().saturating_sub(1);
    for (n, frame) in stack.iter().enumerate() {
        match frame {
            Frame::Object { key: Some(k), .. } if with_key || n != last => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Array { index } => path.push_str(&format!("[{index}]")),
            _ => {}
        }
    }
    path
}
