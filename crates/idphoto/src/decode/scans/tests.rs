//! Tests of the scan validator: intact files from the fixtures and the encoders (baseline,
//! progressive, with restart markers) pass; flipped bytes, cuts, broken restart markers and
//! missing progressive scans are refused, through [`validate_jpeg`] and through `decode`.

use super::*;
use crate::decode::{decode, decode_reduced, Limits};
use crate::error::Error;
use image::RgbImage;

fn fixture(name: &str) -> Vec<u8> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
    std::fs::read(dir.join(name)).unwrap()
}

/// A photo-like image: a fixture photo, so that the entropy-coded data is realistic.
fn photo() -> RgbImage {
    image::load_from_memory(&fixture("obama.jpg"))
        .unwrap()
        .to_rgb8()
}

fn encode(img: &RgbImage, progressive: bool, restart: Option<u16>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 85);
    enc.set_progressive(progressive);
    if let Some(r) = restart {
        enc.set_restart_interval(r);
    }
    enc.encode(
        img.as_raw(),
        img.width() as u16,
        img.height() as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .unwrap();
    out
}

/// Offset just after the first scan header.
fn scan_data(b: &[u8]) -> usize {
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    sos + 2 + usize::from(u16::from_be_bytes([b[sos + 2], b[sos + 3]]))
}

fn decode_error(b: &[u8]) -> String {
    for r in [1, 4] {
        match decode_reduced(b, &Limits::default(), r) {
            Err(Error::Decode(m)) => assert!(m.starts_with("JPEG: "), "{m}"),
            other => panic!("reduction {r}: {other:?}"),
        }
    }
    match decode(b, &Limits::default()) {
        Err(e) => {
            assert_eq!(e.code(), "decode_failed");
            e.to_string()
        }
        Ok(_) => panic!("decoded"),
    }
}

#[test]
fn intact_files_pass() {
    for f in [
        "obama.jpg",
        "obama2.jpg",
        "biden.jpg",
        "obama_partial_face.jpg",
    ] {
        assert_eq!(validate_jpeg(&fixture(f)), Ok(()), "{f}");
    }
    let img = photo();
    for (progressive, restart) in [
        (false, None),
        (true, None),
        (false, Some(3)),
        (true, Some(7)),
    ] {
        let b = encode(&img, progressive, restart);
        assert_eq!(validate_jpeg(&b), Ok(()), "{progressive} {restart:?}");
        assert!(decode(&b, &Limits::default()).is_ok());
    }
    let own = crate::encode::encode_jpeg(&img, 300, (None, None)).unwrap();
    assert_eq!(validate_jpeg(&own.bytes), Ok(()));
}

#[test]
fn changed_bytes_are_refused() {
    // three bytes in the middle of the compressed data: the damage the decoders showed as a
    // grey slab or a shifted colour band
    let clean = fixture("obama.jpg");
    let (a, z) = (scan_data(&clean), clean.len() - 2);
    let mut refused = 0;
    for seed in 0..20usize {
        let mut b = clean.clone();
        for k in 0..3 {
            let i = a + (seed * 7919 + k * 104_729) % (z - a);
            b[i] ^= 0x5A;
        }
        if validate_jpeg(&b).is_err() {
            refused += 1;
        }
    }
    // the rest resynchronise and decode with a few changed blocks (left to `image.damage`);
    // without the validator none is refused
    assert!(refused >= 12, "{refused} of 20 refused");
    // one whole run of bytes replaced: always refused, with what was wrong
    let mut b = clean.clone();
    let mid = (a + z) / 2;
    b[mid..mid + 64].fill(0x3C);
    let m = decode_error(&b);
    assert!(m.contains("JPEG"), "{m}");
}

#[test]
fn cuts_with_and_without_eoi_are_refused() {
    let img = photo();
    for progressive in [false, true] {
        let clean = encode(&img, progressive, None);
        for pct in [30, 50, 90] {
            let mut cut = clean[..clean.len() * pct / 100].to_vec();
            let m = decode_error(&cut);
            assert!(m.contains("end"), "{m}");
            cut.extend_from_slice(&[0xFF, 0xD9]);
            let m = decode_error(&cut);
            assert!(
                m.contains("ends before") || m.contains("premature"),
                "{progressive} {pct}: {m}"
            );
        }
    }
}

#[test]
fn restart_marker_faults_are_refused() {
    let b = encode(&photo(), false, Some(2));
    let a = scan_data(&b);
    let rst: Vec<usize> = (a..b.len() - 1)
        .filter(|&i| b[i] == 0xFF && (0xD0..=0xD7).contains(&b[i + 1]))
        .collect();
    assert!(rst.len() > 10);
    // out of sequence
    let mut bad = b.clone();
    bad[rst[5] + 1] = 0xD0 + ((bad[rst[5] + 1] - 0xD0 + 3) & 7);
    assert!(validate_jpeg(&bad).unwrap_err().contains("where RST"));
    // missing: the marker's two bytes removed
    let mut bad = b.clone();
    bad.drain(rst[5]..rst[5] + 2);
    assert!(validate_jpeg(&bad).is_err());
    decode_error(&bad);
}

#[test]
fn missing_progressive_scans_are_refused() {
    let b = encode(&photo(), true, None);
    // cut at the start of the last scan header and end the image there
    let last_sos = b.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap();
    let mut cut = b[..last_sos].to_vec();
    cut.extend_from_slice(&[0xFF, 0xD9]);
    let m = validate_jpeg(&cut).unwrap_err();
    assert!(m.contains("premature end of image"), "{m}");
    decode_error(&cut);
}
