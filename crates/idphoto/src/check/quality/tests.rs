//! Tests of [`quality_rules`](super::quality_rules) as a whole: a compliant output passes
//! every check, and each defect injected into its pixels or landmarks makes its own check fail
//! (or warn).

use image::RgbImage;

use super::expression::{eyes_open, mouth_opening};
use super::limits::{MAX_MOUTH_OPEN, MIN_EYES_OPEN};
use super::pose::pose_rules;
use super::quality_rules;
use super::region::{fill_polygon, scaled, Face, EYE_PAIRS, EYE_RINGS, FACE_OVAL, MOUTH_PAIRS};
use crate::face::detect::{detect_faces, DetectOptions};
use crate::face::landmarks::Landmarks;
use crate::raster::Plane;
use crate::report::{RuleResult, Status};
use crate::spec::Spec;

/// A compliant cn-id-card output of the repository's fixture photo, its landmarks and matte.
fn clean() -> (RgbImage, Landmarks, Plane, Spec) {
    let (_, img, spec) = crate::test_support::compliant_output("cn-id-card");
    let (lm, alpha) = measure(&img);
    (img, lm, alpha, spec)
}

fn measure(img: &RgbImage) -> (Landmarks, Plane) {
    let nets = crate::nn::tests::nets();
    let faces = detect_faces(nets, img, &DetectOptions::default()).unwrap();
    let lm = crate::face::landmarks::landmarks_refined(nets, img, &faces[0]).unwrap();
    (lm, crate::matte::person_matte(nets, img).unwrap())
}

fn code<'a>(rules: &'a [RuleResult], c: &str) -> &'a RuleResult {
    rules.iter().find(|r| r.code == c).unwrap()
}

#[test]
fn clean_output_passes_and_defects_fail() {
    let (img, lm, alpha, spec) = clean();
    let rules = quality_rules(&img, &lm, &alpha, &spec);
    for c in [
        "pose.roll",
        "expression.eyes_open",
        "background.color",
        "background.uniformity",
        "background.shadow",
        "lighting.overexposure",
        "lighting.underexposure",
        "lighting.dynamic_range",
        "image.sharpness",
        "image.compression",
        "image.noise",
        "color.cast",
        "glasses.glare",
        "hair.eyebrows_visible",
        "crop.leftward",
        "crop.rightward",
        "crop.margin_above",
        "crop.margin_below",
        "crop.head_size",
    ] {
        assert_eq!(
            code(&rules, c).status,
            Status::Pass,
            "{c}: {:?}",
            code(&rules, c)
        );
    }
    // tinted background, in linear light
    let tinted = RgbImage::from_fn(img.width(), img.height(), |x, y| {
        let p = img.get_pixel(x, y);
        let b = 1.0 - alpha.at(x, y);
        image::Rgb([p[0], p[1], (p[2] as f32 * (1.0 - 0.25 * b)) as u8])
    });
    let r = quality_rules(&tinted, &lm, &alpha, &spec);
    assert_eq!(code(&r, "background.color").status, Status::Fail);
    // a closed-eye and an open-mouth face: move the lids and lips together / apart
    let mut closed = lm.clone();
    for pairs in &EYE_PAIRS {
        for &(a, b) in pairs {
            closed.points[b] = closed.points[a];
        }
    }
    assert!(eyes_open(&closed) < MIN_EYES_OPEN);
    let mut open = lm.clone();
    let t = Face::new(&lm).t;
    for &(_, b) in &MOUTH_PAIRS {
        open.points[b][1] += 0.2 * t;
    }
    assert!(mouth_opening(&open) > MAX_MOUTH_OPEN);
    // a tilted head warns, a turned head fails
    let mut spec2 = spec.clone();
    spec2.pose.max_roll = 8.0;
    let mut turned = lm.clone();
    let c = Face::new(&lm).eye_mid;
    for p in turned.points.iter_mut() {
        // turn 20 degrees further about the vertical axis through the eye midpoint
        let (s, co) = (-20f32).to_radians().sin_cos();
        let (dx, dz) = (p[0] - c.x, p[2]);
        p[0] = c.x + co * dx - s * dz;
        p[2] = s * dx + co * dz;
    }
    let pr = pose_rules(&turned, &spec2);
    assert_eq!(code(&pr, "pose.yaw").status, Status::Fail, "{:?}", pr);
    // a blurred image fails sharpness; a dark one fails luminance
    let dark = RgbImage::from_fn(img.width(), img.height(), |x, y| {
        image::Rgb(img.get_pixel(x, y).0.map(|v| v / 4))
    });
    let r = quality_rules(&dark, &lm, &alpha, &spec);
    assert_eq!(code(&r, "lighting.face_luminance").status, Status::Fail);
    let mut blurred = img.clone();
    for _ in 0..6 {
        blurred = image::imageops::blur(&blurred, 1.5);
    }
    let r = quality_rules(&blurred, &lm, &alpha, &spec);
    assert_eq!(code(&r, "image.sharpness").status, Status::Fail);
}

fn map(img: &RgbImage, f: impl Fn(u32, u32, [u8; 3]) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        image::Rgb(f(x, y, img.get_pixel(x, y).0))
    })
}

fn lin8(v: u8) -> f32 {
    crate::raster::colour::srgb_to_linear(v as f32 / 255.0)
}

fn enc8(v: f32) -> u8 {
    (crate::raster::colour::linear_to_srgb(v.clamp(0.0, 1.0)) * 255.0).round() as u8
}

/// One defect per pixel check: the clean output passes each check, the defect makes its
/// own check fail (or warn, for the advisory checks).
#[test]
fn every_pixel_check_flags_its_defect() {
    let (img, lm, alpha, spec) = clean();
    let clean_rules = quality_rules(&img, &lm, &alpha, &spec);
    let mut cases = lighting_defects(&img, &lm, &alpha, &spec);
    cases.extend(image_background_advisory_defects(&img, &lm, &alpha));
    for (c, bad, want) in cases {
        assert_eq!(code(&clean_rules, c).status, Status::Pass, "clean {c}");
        let r = quality_rules(&bad, &lm, &alpha, &spec);
        assert_eq!(code(&r, c).status, want, "{c}: {:?}", code(&r, c));
    }
}

/// `img` lit from one side: light falling from x(1 + k) at one cheek to x(1 - k) at the other,
/// in the direction that adds to the photo's own light (the other direction evens it out).
fn side_light(img: &RgbImage, lm: &Landmarks, alpha: &Plane, spec: &Spec, k: f32) -> RgbImage {
    let em = lm.eye_mid();
    let fw = lm.face_width();
    [1.0f32, -1.0]
        .iter()
        .map(|&sign| {
            map(img, |x, _, p| {
                let t = ((x as f32 + 0.5 - em.x) / (0.5 * fw)).clamp(-1.0, 1.0) * sign;
                p.map(|v| enc8(lin8(v) * (1.0 + k * t)))
            })
        })
        .max_by(|a, b| {
            let v = |i: &RgbImage| {
                code(&quality_rules(i, lm, alpha, spec), "lighting.balance")
                    .value
                    .unwrap_or(0.0)
            };
            v(a).total_cmp(&v(b))
        })
        .unwrap()
}

/// The lighting and colour defects of `img`: (rule code, defective image, expected status).
fn lighting_defects(
    img: &RgbImage,
    lm: &Landmarks,
    alpha: &Plane,
    spec: &Spec,
) -> Vec<(&'static str, RgbImage, Status)> {
    let (w, h) = img.dimensions();
    let mut oval = vec![0u8; (w * h) as usize];
    fill_polygon(&Face::new(lm).pts(&FACE_OVAL), w, h, &mut oval, 1);
    // light falling from x1.5 at one cheek to x0.5 at the other
    let side_light_weak = side_light(img, lm, alpha, spec, 0.5);
    // the OFIQ histogram intersection needs a stronger one (x0.3..x1.7)
    let side_light_strong = side_light(img, lm, alpha, spec, 0.7);
    vec![
        (
            "lighting.highlights",
            map(img, |_, _, p| p.map(|v| enc8(lin8(v) * 0.3))),
            Status::Fail,
        ),
        (
            "lighting.face_luminance",
            map(img, |_, _, p| p.map(|v| v / 4)),
            Status::Fail,
        ),
        (
            "lighting.underexposure",
            map(img, |_, _, p| p.map(|v| v / 8)),
            Status::Fail,
        ),
        (
            "lighting.clipping",
            map(img, |_, _, p| p.map(|v| enc8(lin8(v) * 2.5))),
            Status::Fail,
        ),
        (
            "lighting.overexposure",
            map(img, |_, _, p| p.map(|v| enc8(lin8(v) * 6.0))),
            Status::Fail,
        ),
        ("lighting.balance", side_light_weak, Status::Fail),
        ("lighting.uniformity", side_light_strong, Status::Warn),
        (
            "lighting.dynamic_range",
            map(img, |x, y, p| {
                if oval[(y * w + x) as usize] == 1 {
                    [150, 120, 100]
                } else {
                    p
                }
            }),
            Status::Fail,
        ),
        (
            "color.cast",
            map(img, |_, _, p| [p[2], p[1], p[0]]),
            Status::Fail,
        ),
    ]
}

/// The image, background and advisory defects of `img`: (rule code, defective image, expected
/// status).
fn image_background_advisory_defects(
    img: &RgbImage,
    lm: &Landmarks,
    alpha: &Plane,
) -> Vec<(&'static str, RgbImage, Status)> {
    let (w, h) = img.dimensions();
    let em = lm.eye_mid();
    let fw = lm.face_width();
    let mut seed = 12345u32;
    let mut rnd = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        ((seed >> 16) % 1000) as f32 / 1000.0
    };
    let noise: Vec<f32> = (0..w * h * 3).map(|_| (rnd() - 0.5) * 40.0).collect();
    let bg_noise: Vec<f32> = (0..w * h).map(|_| (rnd() - 0.5) * 60.0).collect();
    let on_bg = |x: u32, y: u32| 1.0 - alpha.at(x, y);
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 10)
        .encode_image(img)
        .unwrap();
    let q10 = image::load_from_memory(&jpeg).unwrap().to_rgb8();
    let mut eyes = vec![0u8; (w * h) as usize];
    for ring in &EYE_RINGS {
        fill_polygon(&scaled(&Face::new(lm).pts(ring), 2.0), w, h, &mut eyes, 1);
    }
    vec![
        (
            "image.noise",
            map(img, |x, y, p| {
                let i = 3 * (y * w + x) as usize;
                std::array::from_fn(|c| {
                    (p[c] as f32 + noise[i + c]).round().clamp(0.0, 255.0) as u8
                })
            }),
            Status::Fail,
        ),
        ("image.compression", q10, Status::Fail),
        (
            "background.uniformity",
            map(img, |x, y, p| {
                let n = bg_noise[(y * w + x) as usize] * on_bg(x, y);
                p.map(|v| (v as f32 + n).round().clamp(0.0, 255.0) as u8)
            }),
            Status::Fail,
        ),
        (
            "background.shadow",
            map(img, |x, y, p| {
                let k = if x < w / 3 { 0.5 * on_bg(x, y) } else { 0.0 };
                p.map(|v| enc8(lin8(v) * (1.0 - k)))
            }),
            Status::Fail,
        ),
        (
            "glasses.glare",
            map(img, |x, y, p| {
                if eyes[(y * w + x) as usize] == 1 && (x + y) % 3 == 0 {
                    [255, 255, 255]
                } else {
                    p
                }
            }),
            Status::Warn,
        ),
        (
            "hair.eyebrows_visible",
            map(img, |x, y, p| {
                let (dx, dy) = (x as f32 - em.x, y as f32 - em.y);
                if dx.abs() < 0.5 * fw && dy < -0.05 * fw && dy > -0.45 * fw {
                    [30, 25, 20]
                } else {
                    p
                }
            }),
            Status::Warn,
        ),
    ]
}

/// ears.visible on a shared portrait whose ears show (the fixture's ear touches the edge).
#[test]
fn hidden_ears_warn() {
    let Some(shared) = crate::nn::tests::shared_dir() else {
        return;
    };
    let spec = crate::spec::presets::get("cn-id-card").unwrap();
    let bytes = std::fs::read(shared.join("data/portraits/bush_official_2003.jpg")).unwrap();
    let out = crate::process(&bytes, &spec, &crate::Options::default()).unwrap();
    let img = crate::decode::decode(&out.jpeg, &Default::default())
        .unwrap()
        .image;
    let (lm, alpha) = measure(&img);
    assert_eq!(
        code(&quality_rules(&img, &lm, &alpha, &spec), "ears.visible").status,
        Status::Pass
    );
    let (em, fw) = (lm.eye_mid(), lm.face_width());
    let hidden = map(&img, |x, y, p| {
        let dx = (x as f32 - em.x).abs();
        if dx > 0.45 * fw && (y as f32) > em.y - 0.2 * fw && (y as f32) < lm.chin().y {
            [40, 35, 30]
        } else {
            p
        }
    });
    assert_eq!(
        code(&quality_rules(&hidden, &lm, &alpha, &spec), "ears.visible").status,
        Status::Warn
    );
}

/// The landmark-based checks: each passes on the clean landmarks and fails (or warns) when
/// the landmarks are moved into the defect.
#[test]
fn every_landmark_check_flags_its_defect() {
    let (img, lm, alpha, spec) = clean();
    let us = crate::spec::presets::get("us-visa").unwrap();
    let run = |l: &Landmarks, s: &Spec| quality_rules(&img, l, &alpha, s);
    let clean_rules = run(&lm, &spec);
    let cases = landmark_defects(&lm, img.dimensions(), &spec, &us);
    // the fixture speaks with an open mouth: the passing input for mouth_closed has the
    // lower inner lip moved onto the upper one
    let mut shut = lm.clone();
    for &(a, b) in &MOUTH_PAIRS {
        shut.points[b] = shut.points[a];
    }
    assert_eq!(
        code(&run(&shut, &us), "expression.mouth_closed").status,
        Status::Pass
    );
    for (code_, l, s, want) in cases {
        if code_ != "expression.mouth_closed" {
            assert_eq!(
                code(&clean_rules, code_).status,
                Status::Pass,
                "clean {code_}"
            );
        }
        let r = run(&l, s);
        assert_eq!(
            code(&r, code_).status,
            want,
            "{code_}: {:?}",
            code(&r, code_)
        );
    }
}

/// The landmark defects of the landmarks `lm` of a `w` x `h` image: (rule code, defective
/// landmarks, spec to check against, expected status).
fn landmark_defects<'s>(
    lm: &Landmarks,
    (w, h): (u32, u32),
    spec: &'s Spec,
    us: &'s Spec,
) -> Vec<(&'static str, Landmarks, &'s Spec, Status)> {
    let f = Face::new(lm);
    let c = f.eye_mid;
    let transform = |k: f32, rot_deg: f32, dx: f32, dy: f32| {
        let mut o = lm.clone();
        let (sn, cs) = rot_deg.to_radians().sin_cos();
        for p in o.points.iter_mut() {
            let (x, y) = (p[0] - c.x, p[1] - c.y);
            p[0] = c.x + k * (cs * x - sn * y) + dx;
            p[1] = c.y + k * (sn * x + cs * y) + dy;
        }
        o
    };
    let mut closed = lm.clone();
    for pairs in &EYE_PAIRS {
        for &(a, b) in pairs {
            closed.points[b] = closed.points[a];
        }
    }
    let mut open = lm.clone();
    for &(_, b) in &MOUTH_PAIRS {
        open.points[b][1] += 0.2 * f.t;
    }
    let mut bowed = lm.clone();
    for p in bowed.points.iter_mut() {
        // 25 degrees about the horizontal axis through the eyes
        let (s, co) = 25f32.to_radians().sin_cos();
        let (dy, dz) = (p[1] - c.y, p[2]);
        p[1] = c.y + co * dy - s * dz;
        p[2] = s * dy + co * dz;
    }
    vec![
        (
            "pose.roll",
            transform(1.0, 5.0, 0.0, 0.0),
            spec,
            Status::Warn,
        ),
        (
            "pose.roll",
            transform(1.0, 12.0, 0.0, 0.0),
            spec,
            Status::Fail,
        ),
        ("pose.pitch", bowed, spec, Status::Fail),
        ("expression.eyes_open", closed, spec, Status::Fail),
        ("expression.mouth_closed", open.clone(), spec, Status::Warn),
        ("expression.mouth_closed", open, us, Status::Fail),
        (
            "crop.leftward",
            transform(1.0, 0.0, -(lm.right_eye().x - 0.5 * f.ied), 0.0),
            spec,
            Status::Warn,
        ),
        (
            "crop.rightward",
            transform(1.0, 0.0, w as f32 - 0.5 * f.ied - lm.left_eye().x, 0.0),
            spec,
            Status::Warn,
        ),
        (
            "crop.margin_above",
            transform(1.0, 0.0, 0.0, 0.4 * f.t - c.y),
            spec,
            Status::Warn,
        ),
        (
            "crop.margin_below",
            transform(1.0, 0.0, 0.0, h as f32 - 0.8 * f.t - c.y),
            spec,
            Status::Warn,
        ),
        (
            "crop.head_size",
            transform(0.3, 0.0, 0.0, 0.0),
            spec,
            Status::Warn,
        ),
    ]
}
