//! For every built-in preset, a real face placed at several positions of a large synthetic
//! canvas gives an output whose measured geometry meets the spec.

use idphoto::decode::Limits;
use idphoto::internals::decode;
use idphoto::spec::presets;
use idphoto::Status;
use idphoto::{process, Options};
use image::{imageops, Rgb, RgbImage};

fn encode_png(img: &RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn every_preset_from_a_face_anywhere_on_a_canvas() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/photos/obama.jpg"
    );
    let photo = decode(&std::fs::read(path).unwrap(), &Limits::default())
        .unwrap()
        .image;
    // obama.jpg's face is about 238 px wide; scale the photo so that the face suits the
    // largest preset without upscaling in the pipeline
    let mut failures = Vec::new();
    for spec in presets::all() {
        let need = spec.pixels.width.max(spec.pixels.height) as f64 / 441.0;
        let k = need.max(1.0);
        let (pw, ph) = (
            (photo.width() as f64 * k) as u32,
            (photo.height() as f64 * k) as u32,
        );
        let scaled = if k > 1.0 {
            imageops::resize(&photo, pw, ph, imageops::FilterType::CatmullRom)
        } else {
            photo.clone()
        };
        let (cw, ch) = (pw * 2 + 400, ph + 600);
        for (i, (fx, fy)) in [(0.0, 0.0), (1.0, 1.0), (0.5, 0.3)].into_iter().enumerate() {
            let mut canvas = RgbImage::from_pixel(cw, ch, Rgb([128, 130, 135]));
            let x = ((cw - pw) as f64 * fx) as i64;
            let y = ((ch - ph) as f64 * fy) as i64;
            imageops::overlay(&mut canvas, &scaled, x, y);
            let bytes = encode_png(&canvas);
            match process(&bytes, spec, &Options::default()) {
                Ok(out) => {
                    assert_eq!(
                        (out.width, out.height),
                        (spec.pixels.width, spec.pixels.height)
                    );
                    let bad: Vec<String> = out
                        .report
                        .rules
                        .iter()
                        .filter(|r| r.code.starts_with("geometry.") && r.status == Status::Fail)
                        .map(|r| format!("{} {:?}", r.code, r.value))
                        .collect();
                    if !bad.is_empty() {
                        failures.push(format!("{} position {i}: {}", spec.id, bad.join(", ")));
                    }
                }
                Err(e) => failures.push(format!("{} position {i}: {e}", spec.id)),
            }
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
