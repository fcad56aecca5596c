//! Every built-in preset's file rules can be met: a real photo resized to the preset's pixel
//! size lands inside its KB window at its DPI, and `inspect` reads the result back.

use idphoto::decode::{inspect, Limits};
use idphoto::internals::decode;
use idphoto::internals::encode_jpeg;
use idphoto::internals::resize_rgb;
use idphoto::spec::presets;

#[test]
fn every_preset_lands_in_its_kb_window() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/photos/obama.jpg"
    );
    let photo = decode(&std::fs::read(path).unwrap(), &Limits::default())
        .unwrap()
        .image;
    let mut checked = 0;
    for spec in presets::all() {
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        // the central crop of the photo with the preset's aspect ratio
        let (pw, ph) = (photo.width() as f64, photo.height() as f64);
        let aspect = w as f64 / h as f64;
        let (cw, ch) = if pw / ph > aspect {
            (ph * aspect, ph)
        } else {
            (pw, pw / aspect)
        };
        let img = resize_rgb(&photo, ((pw - cw) / 2.0, (ph - ch) / 2.0, cw, ch), w, h).unwrap();
        let window = spec.byte_window();
        let enc =
            encode_jpeg(&img, spec.dpi, window).unwrap_or_else(|e| panic!("{}: {e}", spec.id));
        let len = enc.bytes.len();
        assert!(
            window.0.is_none_or(|m| len >= m) && window.1.is_none_or(|m| len <= m),
            "{}: {len} bytes outside {window:?}",
            spec.id
        );
        assert!(enc.encodes <= 8, "{}: {} encodes", spec.id, enc.encodes);
        let info = inspect(&enc.bytes).unwrap();
        assert_eq!((info.width, info.height), (w, h), "{}", spec.id);
        let dpi = info.density.expect("density written").x_dpi;
        assert!(
            (dpi - spec.dpi as f64).abs() < 0.5,
            "{}: {dpi} dpi",
            spec.id
        );
        checked += 1;
    }
    assert!(checked >= 25);
}
