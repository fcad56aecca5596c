//! Shared fixtures of the unit tests.

use image::RgbImage;

use crate::spec::Spec;

/// A compliant output of the repository's fixture photo `fixtures/photos/obama2.jpg` for
/// `spec_id`: the JPEG bytes, its decoded pixels and the spec.
pub(crate) fn compliant_output(spec_id: &str) -> (Vec<u8>, RgbImage, Spec) {
    let spec = crate::spec::presets::get(spec_id).unwrap();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/photos/obama2.jpg"
    );
    let bytes = std::fs::read(path).unwrap();
    let out = crate::process(&bytes, &spec, &crate::Options::default()).unwrap();
    let img = crate::decode::decode(&out.jpeg, &Default::default())
        .unwrap()
        .image;
    (out.jpeg, img, spec)
}

/// `n` values spread over -1..1, different for each `seed` (inputs of the operator tests).
pub(crate) fn values(n: usize, seed: u32) -> Vec<f32> {
    (0..n as u32)
        .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
        .collect()
}
