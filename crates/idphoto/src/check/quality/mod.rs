//! Image-quality checks of a face photo, named after the OFIQ (ISO/IEC 29794-5) measures where
//! OFIQ has one: head pose, eyes open, mouth closed, crop of the face image, background
//! uniformity and colour, illumination uniformity, luminance, under- and over-exposure, dynamic
//! range, sharpness, compression artefacts, noise, natural colour, and advisory checks for
//! glasses glare, hair over the eyebrows and hidden ears.
//!
//! Every check returns a [`RuleResult`] with a stable code, the raw value, its limits and a
//! message saying what to do. Raw values follow OFIQ's definitions (not its 0-100 scores);
//! where this library departs from OFIQ (no face-parsing network, no aligned 616x616 face),
//! the function's documentation says how.
//!
//! Limits were chosen by measuring compliant outputs of `process` on the shared portraits and
//! injected defects of them (`cargo run --release -p idphoto-benches --bin check-eval`); each
//! constant's documentation gives the reason.
//!
//! The checks are grouped by family: `pose` (head pose), `expression` (eyes
//! open, mouth closed), `crop` (OFIQ crop of the face image, head size), `background`,
//! `lighting` (on the face), `image` (sharpness, compression, noise; `damage` for the signs of a damaged file, run
//! on every photo, with or without a face), `colour` (conversions
//! and natural colour), `advisory` (glasses glare, eyebrows, ears); `limits` holds the limits
//! and their reasons, `region` the landmark sets and face regions, `skin` the pass over the
//! skin pixels, `results` the helpers building rule results.

mod advisory;
mod background;
mod colour;
mod crop;
pub(crate) mod damage;
mod expression;
mod image;
mod lighting;
mod limits;
mod pose;
mod region;
mod results;
mod skin;

#[cfg(test)]
mod tests;

use ::image::RgbImage;

use crate::face::landmarks::Landmarks;
use crate::raster::Plane;
use crate::report::RuleResult;
use crate::spec::Spec;

pub use region::{fill_polygon, FACE_OVAL};

use background::{background_mask, background_rules};
use colour::luma;
use pose::pose_rules;

use self::image::image_rules;
use advisory::advisory_rules;
use colour::colour_cast_rule;
use crop::crop_rules;
use expression::expression_rules;
use lighting::{lighting_rules, lighting_unmeasured};
use region::{skin_mask, Face};
use skin::SkinSamples;

/// All quality rules for one face: pose, expression, OFIQ crop measures, background,
/// lighting, sharpness, compression, noise, colour, and the advisory checks.
pub fn quality_rules(
    img: &RgbImage,
    lm: &Landmarks,
    alpha: &Plane,
    spec: &Spec,
) -> Vec<RuleResult> {
    quality_rules_reduced(img, lm, alpha, spec, 1)
}

/// [`quality_rules`] of a JPEG decoded at 1/`reduction` of its size (1, 2 or 4), where its 8x8
/// blocks are 8/`reduction` px: the compression rule looks for block borders on that grid.
pub(crate) fn quality_rules_reduced(
    img: &RgbImage,
    lm: &Landmarks,
    alpha: &Plane,
    spec: &Spec,
    reduction: u32,
) -> Vec<RuleResult> {
    let (w, h) = img.dimensions();
    let y = luma(img);
    let face = Face::new(lm);
    let mut out = pose_rules(lm, spec);
    out.extend(expression_rules(lm, spec));
    // OFIQ crop of the face image and head size (advisory: the spec's geometry decides)
    out.extend(crop_rules(&face, w, h));

    let bg_mask = background_mask(alpha);
    out.extend(background_rules(img, &y, &bg_mask, spec));

    // lighting and natural colour on the skin
    let skin = skin_mask(&face, alpha, w, h);
    let samples = SkinSamples::gather(img, &y, &face, &skin);
    if samples.measurable() {
        out.extend(lighting_rules(img, &y, lm, alpha, &samples));
        out.push(colour_cast_rule(samples.cheeks_linear()));
    } else {
        out.push(lighting_unmeasured());
    }

    let block = (8 / reduction.clamp(1, 4)) as usize;
    out.extend(image_rules(&y, &face, &skin, &bg_mask, block));
    out.extend(advisory_rules(img, &y, &face, alpha, spec, &samples.all));
    out
}
