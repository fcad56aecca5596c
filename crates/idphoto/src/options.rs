//! The options of [`Engine::process`](crate::Engine::process), also as JSON for bindings.

use serde::{Deserialize, Serialize};

use crate::decode::Limits;
use crate::error::{Error, Result};
use crate::face::FaceHint;
use crate::geometry::{needed_face_px, px_rules};
use crate::matte::SegmentFit;
use crate::spec::{parse_hex, Spec, MAX_OUTPUT_PIXELS};

/// Default largest upscale of the face allowed by [`Engine::process`](crate::Engine::process): 1.25x. Beyond it the photo is
/// refused with [`Error::FaceTooSmall`]; between 1.0 and 1.25 the report carries a notice.
pub const DEFAULT_MAX_UPSCALE: f64 = 1.25;

/// Options for [`Engine::process`](crate::Engine::process).
///
/// Bindings pass them as one JSON object ([`Options::from_json`]) with these field names;
/// absent fields take their defaults:
///
/// ```
/// let opts = idphoto::Options::from_json(
///     r#"{"background": "blue", "max_upscale": 1.5, "size": [354, 472],
///         "face": {"bbox": [10, 20, 200, 240]}, "segmentation": "single"}"#,
/// )?;
/// assert_eq!(opts.size, Some((354, 472)));
/// # Ok::<(), idphoto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Options {
    /// Background colour: a name or `#RRGGBB` the spec allows; `None` = the spec's default.
    pub background: Option<String>,
    /// Largest face upscale allowed (default [`DEFAULT_MAX_UPSCALE`]).
    pub max_upscale: f64,
    /// Decoder limits.
    pub limits: Limits,
    /// Host-supplied face instead of detection.
    pub face: Option<FaceHint>,
    /// Output size for specs that accept a range (must be inside the range); `None` = default.
    pub size: Option<(u32, u32)>,
    /// Segmentation runs for the person mask (default [`SegmentFit::Ensemble`], the best
    /// edges; [`SegmentFit::Single`] saves about 15 ms on one core).
    pub segmentation: SegmentFit,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            background: None,
            max_upscale: DEFAULT_MAX_UPSCALE,
            limits: Limits::default(),
            face: None,
            size: None,
            segmentation: SegmentFit::default(),
        }
    }
}

impl Options {
    /// Options from a JSON object with the fields of [`Options`] (absent ones take their
    /// defaults). An unknown field, or a value of the wrong type, is
    /// [`Error::InvalidOption`] naming the field (its JSON path, e.g. `face.bbox`).
    pub fn from_json(json: &str) -> Result<Options> {
        if !json.trim_start().starts_with('{') {
            return Err(Error::InvalidOption {
                option: "(document)".into(),
                reason: "options must be a JSON object".into(),
            });
        }
        let opts: Options = serde_json::from_str(json).map_err(|e| Error::InvalidOption {
            option: crate::spec::json_error_field(json, &e),
            reason: e.to_string(),
        })?;
        opts.validate()?;
        Ok(opts)
    }

    /// The options as a JSON object ([`Options::from_json`] reads it back).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Checks the values that need no spec: `max_upscale` is a number of at least 0.1.
    pub fn validate(&self) -> Result<()> {
        if !(self.max_upscale.is_finite() && self.max_upscale >= 0.1) {
            return Err(Error::InvalidOption {
                option: "max_upscale".into(),
                reason: "must be a number >= 0.1".into(),
            });
        }
        Ok(())
    }
}

/// The output size: the spec's default, or `opts.size` if the spec's range accepts it.
pub(crate) fn output_size(spec: &Spec, opts: &Options) -> Result<(u32, u32)> {
    let Some((w, h)) = opts.size else {
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        return match too_small(spec, w, h) {
            None => Ok((w, h)),
            Some(reason) => Err(Error::InvalidSpec {
                field: "pixels".into(),
                reason: format!("the default size {reason}"),
            }),
        };
    };
    let ok = match &spec.pixels.range {
        None => (w, h) == (spec.pixels.width, spec.pixels.height),
        Some(r) => {
            (r.min_width..=r.max_width).contains(&w)
                && (r.min_height..=r.max_height).contains(&h)
                && r.aspect
                    .is_none_or(|a| ((w as f64 / h as f64) - a).abs() < 0.01)
        }
    };
    let reason = if !ok {
        format!("{w}x{h} is not a size spec {} accepts", spec.id)
    } else if u64::from(w) * u64::from(h) > MAX_OUTPUT_PIXELS {
        format!("{w}x{h} is more than the {MAX_OUTPUT_PIXELS} pixels an output may have")
    } else if let Some(reason) = too_small(spec, w, h) {
        reason
    } else {
        return Ok((w, h));
    };
    Err(Error::InvalidOption {
        option: "size".into(),
        reason,
    })
}

/// Narrowest face (px) an output may hold: the face detector of `check` finds faces from 24
/// px, and landmarks on a face much smaller than this are not reliable.
pub(crate) const MIN_OUTPUT_FACE_PX: f32 = 32.0;

/// Why a `w` x `h` output of `spec` is too small to hold a face at the spec's geometry, if it
/// is: the smallest face the spec's rules allow at that size is under
/// [`MIN_OUTPUT_FACE_PX`], or the output is narrower than that face.
fn too_small(spec: &Spec, w: u32, h: u32) -> Option<String> {
    let face = needed_face_px(&px_rules(spec, w, h));
    if face >= MIN_OUTPUT_FACE_PX && w as f32 >= face && h as f32 >= face {
        return None;
    }
    Some(format!(
        "{w}x{h} is too small to hold a face: the spec's geometry gives it {face:.0} px, at least {MIN_OUTPUT_FACE_PX:.0} are needed, within the frame"
    ))
}

/// The background colour: `opts.background` if the spec allows it, else the spec's default.
pub(crate) fn background_rgb(spec: &Spec, opts: &Options) -> Result<[u8; 3]> {
    match &opts.background {
        None => spec.background.default_color()?.rgb(),
        Some(name) if name.trim_start().starts_with('#') && parse_hex(name).is_none() => {
            Err(Error::InvalidOption {
                option: "background".into(),
                reason: format!("`{name}` is not a colour: write a name or #RRGGBB"),
            })
        }
        Some(name) => {
            let allowed: Vec<&str> = spec
                .background
                .allowed
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            spec.background
                .find(name)
                .ok_or_else(|| Error::InvalidOption {
                    option: "background".into(),
                    reason: format!(
                        "`{name}` is not allowed by {}; allowed: {}",
                        spec.id,
                        allowed.join(", ")
                    ),
                })?
                .rgb()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_json() {
        let o = Options::from_json(
            r#"{"background": "blue", "max_upscale": 1.5, "size": [354, 472],
                "face": {"bbox": [10, 20, 200, 240], "right_eye": {"x": 60, "y": 100}},
                "limits": {"max_pixels": 1000}, "segmentation": "flip"}"#,
        )
        .unwrap();
        assert_eq!(o.background.as_deref(), Some("blue"));
        assert_eq!(o.max_upscale, 1.5);
        assert_eq!(o.size, Some((354, 472)));
        let face = o.face.unwrap();
        assert_eq!(face.bbox, [10.0, 20.0, 200.0, 240.0]);
        assert_eq!(face.right_eye.map(|p| (p.x, p.y)), Some((60.0, 100.0)));
        assert_eq!(face.left_eye, None);
        assert_eq!(o.limits.max_pixels, 1000);
        assert_eq!(o.limits.max_bytes, Limits::default().max_bytes);
        assert_eq!(o.segmentation, SegmentFit::Flip);
        assert_eq!(Options::from_json("{}").unwrap(), Options::default());
        assert_eq!(Options::from_json(&o.to_json()).unwrap(), o);
    }

    fn refused(json: &str) -> (String, String) {
        match Options::from_json(json) {
            Err(Error::InvalidOption { option, reason }) => (option, reason),
            other => panic!("{json}: {other:?}"),
        }
    }

    #[test]
    fn unknown_or_malformed_fields_are_refused_by_name() {
        let (field, reason) = refused(r#"{"background": "white", "backgrund": "blue"}"#);
        assert_eq!(field, "backgrund");
        assert!(reason.contains("unknown field"), "{reason}");
        assert_eq!(
            refused(r#"{"face": {"bbox": [1, 2, 3, 4], "eyes": 2}}"#).0,
            "face.eyes"
        );
        assert_eq!(refused(r#"{"face": {"bbox": [1, 2, 3]}}"#).0, "face.bbox");
        assert_eq!(refused(r#"{"max_upscale": "big"}"#).0, "max_upscale");
        assert_eq!(refused(r#"{"max_upscale": 0}"#).0, "max_upscale");
        assert_eq!(refused(r#"{"segmentation": "double"}"#).0, "segmentation");
        assert_eq!(
            refused(r#"{"limits": {"max_pixel": 5}}"#).0,
            "limits.max_pixel"
        );
        assert_eq!(refused("[1, 2]").0, "(document)");
        assert_eq!(refused("{").0, "(document)");
    }

    #[test]
    fn a_background_that_is_not_a_colour_says_so() {
        let spec = crate::spec::presets::get("cn-id-card").unwrap();
        let bg = |b: &str| {
            let o = Options {
                background: Some(b.into()),
                ..Options::default()
            };
            background_rgb(&spec, &o)
        };
        match bg("#GGGGGG") {
            Err(Error::InvalidOption { option, reason }) => {
                assert_eq!(option, "background");
                assert!(reason.contains("not a colour"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
        match bg("#0000FF") {
            Err(Error::InvalidOption { reason, .. }) => assert!(reason.contains("not allowed")),
            other => panic!("{other:?}"),
        }
        assert_eq!(bg("#FFFFFF").unwrap(), [255, 255, 255]);
    }

    #[test]
    fn output_sizes_beyond_the_limit_or_too_small_for_a_face_are_refused() {
        let exam = crate::spec::presets::get("cn-exam-postgraduate").unwrap();
        let size = |w, h| {
            output_size(
                &exam,
                &Options {
                    size: Some((w, h)),
                    ..Options::default()
                },
            )
        };
        // the largest accepted output at the spec's aspect 0.75, and the default size
        assert_eq!(size(4320, 5760).unwrap(), (4320, 5760));
        assert!(u64::from(4320u32 * 5760) <= MAX_OUTPUT_PIXELS);
        assert_eq!(output_size(&exam, &Options::default()).unwrap(), (531, 709));
        // inside the spec's range, but more pixels than an output may have, or no face
        for (w, h) in [(7500, 10000), (4500, 6000), (3, 4), (30, 40), (60, 80)] {
            match size(w, h) {
                Err(Error::InvalidOption { option, reason }) => {
                    assert_eq!(option, "size", "{reason}")
                }
                other => panic!("{w}x{h}: {other:?}"),
            }
        }
        // the spec's smallest face at 75x100 is 37 px wide
        assert_eq!(size(75, 100).unwrap(), (75, 100));
        // a custom spec whose own size cannot hold a face
        let mut tiny = crate::spec::presets::get("cn-id-card").unwrap();
        tiny.pixels.width = 1;
        tiny.pixels.height = 1;
        tiny.physical_mm = None;
        match output_size(&tiny, &Options::default()) {
            Err(Error::InvalidSpec { field, .. }) => assert_eq!(field, "pixels"),
            other => panic!("{other:?}"),
        }
        // every preset's default size holds a face
        for spec in crate::spec::presets::all() {
            assert!(
                output_size(spec, &Options::default()).is_ok(),
                "{}",
                spec.id
            );
        }
    }
}
