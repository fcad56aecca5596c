//! Tests of the spec schema, the validator and the built-in catalogue.

use std::collections::HashSet;

use super::*;

const CUSTOM: &str = include_str!("../../../../fixtures/specs/custom-example.json");
const BROKEN: &str = include_str!("../../../../fixtures/specs/broken-min-gt-max.json");

/// The `field` of an `InvalidSpec` error, or a panic.
fn field_of(r: Result<Spec>) -> String {
    match r {
        Err(Error::InvalidSpec { field, .. }) => field,
        other => panic!("expected InvalidSpec, got {other:?}"),
    }
}

/// Edits the custom example as a JSON value and parses the result.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Spec> {
    let mut v: serde_json::Value = serde_json::from_str(CUSTOM).unwrap();
    edit(&mut v);
    Spec::from_json(&serde_json::to_string_pretty(&v).unwrap())
}

#[test]
fn presets_parse_strictly_and_validate() {
    let specs: Vec<Spec> =
        serde_json::from_str(presets::PRESETS_JSON).expect("presets.json must parse");
    assert!(specs.len() >= 25, "only {} presets", specs.len());
    let mut ids = HashSet::new();
    for s in &specs {
        if let Err(e) = s.validate() {
            panic!("preset {} is invalid: {e}", s.id);
        }
        assert!(ids.insert(s.id.clone()), "duplicate id {}", s.id);
        assert!(!s.source.refs.is_empty(), "{} has no refs", s.id);
        assert_ne!(s.source.grade, Grade::Custom, "{} is graded custom", s.id);
    }
    // `all()` must see the same list (it would silently be empty on a parse error).
    assert_eq!(presets::all().len(), specs.len());
}

#[test]
fn required_presets_exist() {
    for id in [
        "cn-id-card",
        "cn-residence-permit",
        "cn-social-security",
        "cn-exit-entry",
        "cn-passport-390",
        "cn-passport-consular",
        "cn-driver-license",
        "cn-1inch",
        "cn-1inch-small",
        "cn-1inch-large",
        "cn-2inch",
        "cn-2inch-small",
        "cn-2inch-large",
        "cn-id-card-print-300",
        "cn-exam-civil-service",
        "cn-exam-postgraduate",
        "cn-exam-ncre",
        "cn-exam-cet",
        "cn-exam-teacher",
        "cn-exam-putonghua",
        "cn-exam-medical",
        "us-visa",
        "us-passport",
        "uk-passport",
        "schengen",
        "jp-passport",
        "kr-passport",
        "in-evisa",
        "ca-passport",
    ] {
        presets::get(id).unwrap_or_else(|e| panic!("{id}: {e}"));
    }
    assert!(matches!(presets::get("nope"), Err(Error::UnknownSpec(_))));
}

#[test]
fn key_numbers() {
    let id = presets::get("cn-id-card").unwrap();
    assert_eq!((id.pixels.width, id.pixels.height, id.dpi), (358, 441, 350));
    assert_eq!(id.rank(GeometryRule::EyeLineFromBottom), 0);
    assert!(id.rank(GeometryRule::EyeLineFromBottom) < id.rank(GeometryRule::CrownMargin));
    let fw = id.rule_px(GeometryRule::FaceWidth, 358, 441).unwrap();
    assert_eq!((fw.min, fw.max, fw.target), (193.0, 221.0, 207.0));
    assert_eq!(id.byte_window(), (Some(14 * 1024), Some(20 * 1024)));

    let ee = presets::get("cn-exit-entry").unwrap();
    let r = ee.pixels.range.as_ref().unwrap();
    assert_eq!(
        (r.min_width, r.max_width, r.min_height, r.max_height),
        (354, 480, 472, 640)
    );
    assert_eq!(ee.dpi_range, Some([300, 600]));
    let ie = ee.rule_px(GeometryRule::InterEye, 354, 472).unwrap();
    assert!((ie.min - 0.23 * 354.0).abs() < 1e-9 && (ie.max - 0.33 * 354.0).abs() < 1e-9);

    let us = presets::get("us-visa").unwrap();
    assert_eq!(us.source.grade, Grade::Official);
    assert_eq!(us.policy.glasses, Glasses::Forbidden);
    assert_eq!(us.file_size_kb.unwrap().max, Some(240.0));

    let ky = presets::get("cn-exam-postgraduate").unwrap();
    assert_eq!(ky.pose.max_yaw, 10.0);
    assert_eq!(presets::get("cn-1inch").unwrap().pose, Pose::default());
}

/// An average head (crown to chin 1.52 x the face width, face width 2.45 x the inter-eye
/// distance, eyes at 52 % of the head height below the crown) can be placed so that every
/// geometric rule of every preset holds at once.
#[test]
fn presets_are_makeable_for_an_average_head() {
    const HEAD_PER_FACE: f64 = 1.52;
    const FACE_PER_EYES: f64 = 2.45;
    const EYE_DEPTH: f64 = 0.52;
    for s in presets::all() {
        let (w, h) = (s.pixels.width, s.pixels.height);
        let hf = h as f64;
        let ok = (200..1000).any(|i| {
            let head = hf * i as f64 / 1000.0;
            (0..400).any(|j| {
                let crown = hf * j as f64 / 1000.0;
                let eye_y = crown + EYE_DEPTH * head;
                GeometryRule::ALL.iter().all(|&r| {
                    let Some(range) = s.rule_px(r, w, h) else {
                        return true;
                    };
                    let v = match r {
                        GeometryRule::HeadHeight => head,
                        GeometryRule::FaceWidth => head / HEAD_PER_FACE,
                        GeometryRule::InterEye => head / HEAD_PER_FACE / FACE_PER_EYES,
                        GeometryRule::CrownMargin => crown,
                        GeometryRule::ChinMargin => hf - crown - head,
                        GeometryRule::EyeLineFromTop => eye_y,
                        GeometryRule::EyeLineFromBottom => hf - eye_y,
                        GeometryRule::EyeMidX => w as f64 / 2.0,
                    };
                    range.contains(v)
                })
            })
        });
        assert!(
            ok,
            "{}: no placement of an average head meets every rule",
            s.id
        );
    }
}

#[test]
fn presets_round_trip() {
    for s in presets::all() {
        assert_eq!(&Spec::from_json(&s.to_json()).unwrap(), s, "{}", s.id);
    }
}

#[test]
fn custom_spec_round_trips() {
    let spec = Spec::from_json(CUSTOM).unwrap();
    assert_eq!(spec.source.grade, Grade::Custom);
    assert_eq!(spec.background.default_color().unwrap().hex, "#DCDCDC");
    let again = Spec::from_json(&spec.to_json()).unwrap();
    assert_eq!(again, spec);
}

#[test]
fn broken_fixture_names_the_field() {
    assert_eq!(
        field_of(Spec::from_json(BROKEN)),
        "geometry.head_height.min"
    );
}

#[test]
fn serde_errors_name_the_field() {
    // missing fields, at the top level and nested
    let f = field_of(edited(|v| {
        v.as_object_mut().unwrap().remove("dpi");
    }));
    assert_eq!(f, "dpi");
    let f = field_of(edited(|v| {
        v["name"].as_object_mut().unwrap().remove("en");
    }));
    assert_eq!(f, "name.en");
    let f = field_of(edited(|v| {
        v["background"]["allowed"][1]
            .as_object_mut()
            .unwrap()
            .remove("hex");
    }));
    assert_eq!(f, "background.allowed[1].hex");
    // unknown fields
    let f = field_of(edited(|v| v["geometry"]["head_size"] = 3.into()));
    assert_eq!(f, "geometry.head_size");
    let f = field_of(edited(|v| {
        v["geometry"]["head_height"]["targt"] = 0.7.into()
    }));
    assert_eq!(f, "geometry.head_height.targt");
    let f = field_of(edited(|v| v["colour"] = "red".into()));
    assert_eq!(f, "colour");
    // wrong types
    let f = field_of(edited(|v| v["pixels"]["width"] = "abc".into()));
    assert_eq!(f, "pixels.width");
    let f = field_of(edited(|v| v["dpi"] = serde_json::json!({"x": 1})));
    assert_eq!(f, "dpi");
    let f = field_of(edited(|v| v["priority"][1] = 5.into()));
    assert_eq!(f, "priority[1]");
    // unknown enum variants
    let f = field_of(edited(|v| {
        v["geometry"]["head_height"]["unit"] = "cm".into()
    }));
    assert_eq!(f, "geometry.head_height.unit");
    let f = field_of(edited(|v| v["format"] = "png".into()));
    assert_eq!(f, "format");
    // compact JSON on one line
    let compact = r#"{"id":"x","pixels":{"width":"abc"}}"#;
    assert_eq!(field_of(Spec::from_json(compact)), "pixels.width");
    // syntax error
    assert!(matches!(
        Spec::from_json("{\"id\": "),
        Err(Error::InvalidSpec { .. })
    ));
}

// Size: a table of cases, one broken field each.
#[test]
fn validation_errors_name_the_field() {
    use serde_json::json;
    type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("id", Box::new(|v| v["id"] = "".into())),
        ("id", Box::new(|v| v["id"] = "Bad_Id".into())),
        (
            "name",
            Box::new(|v| v["name"] = json!({"zh": "", "en": " "})),
        ),
        (
            "pixels.width",
            Box::new(|v| v["pixels"]["width"] = 0.into()),
        ),
        (
            "pixels.height",
            Box::new(|v| v["pixels"]["height"] = 20000.into()),
        ),
        (
            "pixels.range.min_width",
            Box::new(|v| v["pixels"]["range"]["min_width"] = 800.into()),
        ),
        (
            "pixels.range",
            Box::new(|v| v["pixels"]["range"]["min_height"] = 500.into()),
        ),
        (
            "pixels.range.aspect",
            Box::new(|v| v["pixels"]["range"]["aspect"] = 1.0.into()),
        ),
        ("dpi", Box::new(|v| v["dpi"] = 10.into())),
        (
            "dpi_range",
            Box::new(|v| v["dpi_range"] = json!([350, 600])),
        ),
        (
            "dpi_range",
            Box::new(|v| v["dpi_range"] = json!([600, 300])),
        ),
        (
            "physical_mm.width",
            Box::new(|v| v["physical_mm"]["width"] = 35.into()),
        ),
        (
            "file_size_kb",
            Box::new(|v| v["file_size_kb"] = json!({"min": 50, "max": 20})),
        ),
        (
            "file_size_kb.min",
            Box::new(|v| v["file_size_kb"]["min"] = 0.into()),
        ),
        (
            "background.allowed[2].hex",
            Box::new(|v| v["background"]["allowed"][2]["hex"] = "#12345G".into()),
        ),
        (
            "background.allowed[0].hex",
            Box::new(|v| v["background"]["allowed"][0]["hex"] = "FFFFFF".into()),
        ),
        (
            "background.allowed[1].name",
            Box::new(|v| v["background"]["allowed"][1]["name"] = "White".into()),
        ),
        (
            "background.allowed",
            Box::new(|v| v["background"]["allowed"] = json!([])),
        ),
        (
            "background.default",
            Box::new(|v| v["background"]["default"] = "red".into()),
        ),
        (
            "geometry.head_height.min",
            Box::new(|v| v["geometry"]["head_height"]["min"] = 0.8.into()),
        ),
        (
            "geometry.head_height.target",
            Box::new(|v| v["geometry"]["head_height"]["target"] = 0.9.into()),
        ),
        (
            "geometry.head_height.max",
            Box::new(|v| v["geometry"]["head_height"]["max"] = 1.5.into()),
        ),
        (
            "geometry.crown_margin.min",
            Box::new(|v| v["geometry"]["crown_margin"]["min"] = (-1).into()),
        ),
        (
            "geometry.eye_mid_x",
            Box::new(|v| v["geometry"]["eye_mid_x"] = json!({"unit": "fraction"})),
        ),
        (
            "geometry.crown_margin.min",
            Box::new(|v| v["geometry"]["crown_margin"] = json!({"min": 50, "unit": "mm"})),
        ),
        (
            "geometry",
            Box::new(|v| {
                v["geometry"].as_object_mut().unwrap().remove("head_height");
                v["priority"] = json!([]);
            }),
        ),
        (
            "geometry",
            Box::new(|v| {
                v["geometry"]
                    .as_object_mut()
                    .unwrap()
                    .remove("crown_margin");
                v["priority"] = json!([]);
            }),
        ),
        (
            "geometry",
            Box::new(|v| v["geometry"]["chin_margin"] = json!({"min": 0.4, "unit": "fraction"})),
        ),
        (
            "priority[2]",
            Box::new(|v| v["priority"] = json!(["head_height", "crown_margin", "head_height"])),
        ),
        (
            "priority[1]",
            Box::new(|v| v["priority"] = json!(["head_height", "inter_eye"])),
        ),
        (
            "pose.max_roll",
            Box::new(|v| v["pose"]["max_roll"] = 0.into()),
        ),
        (
            "pose.max_yaw",
            Box::new(|v| v["pose"]["max_yaw"] = 120.into()),
        ),
        (
            "source.as_of",
            Box::new(|v| v["source"]["as_of"] = "26.11.2026".into()),
        ),
    ];
    for (want, edit) in cases {
        assert_eq!(field_of(edited(edit)), want, "case {want}");
    }
}

#[test]
fn pose_fields_default_individually() {
    let spec = edited(|v| v["pose"] = serde_json::json!({"max_yaw": 10})).unwrap();
    assert_eq!(
        spec.pose,
        Pose {
            max_yaw: 10.0,
            ..Pose::default()
        }
    );
}

#[test]
fn a_byte_order_mark_before_the_json_is_accepted() {
    let json = presets::get("cn-id-card").unwrap().to_json();
    let with_bom = format!("\u{feff}{json}");
    assert_eq!(Spec::from_json(&with_bom).unwrap().id, "cn-id-card");
    assert_eq!(Spec::from_id_or_json(&with_bom).unwrap().id, "cn-id-card");
}

#[test]
fn a_default_size_beyond_the_output_limit_is_refused() {
    let set = |w: u32, h: u32| {
        edited(|v| {
            v["pixels"] = serde_json::json!({"width": w, "height": h});
            v.as_object_mut().unwrap().remove("physical_mm");
        })
    };
    assert!(set(5000, 5000).is_ok());
    assert_eq!(field_of(set(5001, 5000)), "pixels");
    assert_eq!(field_of(set(10000, 10000)), "pixels");
}
