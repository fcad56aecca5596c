//! The face-box entry: a host (for example a mini-program that ran WeChat's face detection)
//! passes its own face box and eye points instead of running the built-in detector.

use idphoto::spec::presets;
use idphoto::Point;
use idphoto::{check, process, Error, FaceHint, Options};

fn fixture() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/photos/obama.jpg"
    ))
    .unwrap()
}

#[test]
fn host_face_box_makes_a_compliant_photo() {
    let spec = presets::get("cn-id-card").unwrap();
    // box and eyes as a host detector would give them for fixtures/photos/obama.jpg
    let hint = FaceHint {
        bbox: [358.0, 143.0, 272.0, 272.0],
        right_eye: Some(Point::new(443.0, 215.0)),
        left_eye: Some(Point::new(548.0, 214.0)),
    };
    let out = process(
        &fixture(),
        &spec,
        &Options {
            face: Some(hint),
            ..Default::default()
        },
    )
    .unwrap();
    let rep = check(&out.jpeg, &spec).unwrap();
    // the crop and the file comply; the fixture's own expression and pose are measured by the
    // quality rules and are not this test's business
    let bad: Vec<_> = rep
        .failures()
        .filter(|r| r.code.starts_with("geometry.") || r.code.starts_with("file."))
        .collect();
    assert!(bad.is_empty(), "{}", rep.to_table());
}

#[test]
fn face_box_outside_the_photo_is_an_invalid_option() {
    let spec = presets::get("cn-id-card").unwrap();
    let hint = FaceHint {
        bbox: [5000.0, 5000.0, 100.0, 100.0],
        right_eye: None,
        left_eye: None,
    };
    match process(
        &fixture(),
        &spec,
        &Options {
            face: Some(hint),
            ..Default::default()
        },
    ) {
        Err(Error::InvalidOption { option, .. }) => assert_eq!(option, "face"),
        other => panic!("{:?}", other.map(|o| o.report.passed)),
    }
}

#[test]
fn background_not_allowed_by_the_spec_is_refused() {
    let spec = presets::get("cn-id-card").unwrap();
    match process(
        &fixture(),
        &spec,
        &Options {
            background: Some("red".into()),
            ..Default::default()
        },
    ) {
        Err(Error::InvalidOption { option, reason }) => {
            assert_eq!(option, "background");
            assert!(reason.contains("white"), "{reason}");
        }
        other => panic!("{:?}", other.map(|o| o.report.passed)),
    }
}
