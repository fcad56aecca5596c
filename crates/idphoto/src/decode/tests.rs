//! Tests of the whole decode path: real files from `../shared/data` (orientations, formats,
//! timing), robustness of [`decode`] and [`inspect`] together on bad input, and ICC
//! conversion seen through [`decode`].

use super::icc::IccStatus;
use super::test_util::{
    box_reduce, mean_abs_error, png_bytes, png_chunk, read, shared_data, test_image,
};
use super::*;
use crate::error::Error;
use image::{ImageBuffer, ImageEncoder, Luma, LumaA, Rgb, RgbImage};
use moxcms::ColorProfile;
use std::time::Instant;

#[test]
fn exif_orientations_match_reference() {
    let Some(dir) = shared_data() else { return };
    let reference = decode(&read(&dir, "orientation/hopper.jpg"), &Limits::default()).unwrap();
    assert_eq!(reference.orientation, 1);
    assert_eq!(reference.image.dimensions(), (128, 128));
    for n in 2..=8u8 {
        for ext in ["jpg", "webp"] {
            let name = format!("orientation/hopper_orientation_{n}.{ext}");
            let d = decode(&read(&dir, &name), &Limits::default()).unwrap();
            assert_eq!(d.orientation, n, "{name}");
            let mae = mean_abs_error(&d.image, &reference.image);
            eprintln!("{name}: mean abs error {mae:.2}");
            assert!(mae < 5.0, "{name}: mean abs error {mae:.2} >= 5");
        }
    }
    // A 2x1 image stored with orientation 8 displays as 1x2.
    let d = decode(
        &read(&dir, "orientation/orientation_rectangle.jpg"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!((d.orientation, d.image.dimensions()), (8, (1, 2)));
}

#[test]
fn other_real_files() {
    let Some(dir) = shared_data() else { return };
    let l = Limits::default();
    // Corrupt EXIF block: orientation 1, not an error. Its compressed data is corrupt too (a
    // run of coefficients past the end of block 17; decoders show stripes of garbage), so
    // the pixels are refused.
    let bytes = read(&dir, "orientation/hopper_bad_exif.jpg");
    let info = inspect(&bytes).unwrap();
    assert_eq!((info.orientation, info.width, info.height), (1, 500, 500));
    match decode(&bytes, &l) {
        Err(Error::Decode(m)) => assert!(m.contains("past the end of a block"), "{m}"),
        other => panic!("{other:?}"),
    }
    // Grey JPEG expands to R = G = B.
    let d = decode(&read(&dir, "orientation/hopper_gray.jpg"), &l).unwrap();
    assert!(d.image.pixels().all(|p| p[0] == p[1] && p[1] == p[2]));
    let d = decode(&read(&dir, "orientation/hopper_16bit_qtables.jpg"), &l).unwrap();
    assert_eq!(d.image.dimensions(), (128, 128));
    let d = decode(&read(&dir, "orientation/hopper.png"), &l).unwrap();
    assert_eq!(
        (d.format, d.image.dimensions()),
        (SourceFormat::Png, (128, 128))
    );
    // RGBA portrait (fully opaque): flattened to RGB, colours kept.
    let bytes = read(&dir, "portraits/32bit.png");
    let d = decode(&bytes, &l).unwrap();
    assert!(d.had_alpha);
    assert_eq!(d.image.dimensions(), (626, 1200));
    let rgba = image::load_from_memory(&bytes).unwrap().into_rgba8();
    assert_eq!(rgba.get_pixel(300, 600)[3], 255);
    let p = rgba.get_pixel(300, 600);
    assert_eq!(d.image.get_pixel(300, 600).0, [p[0], p[1], p[2]]);
    // Formats we do not take, named.
    for (file, name) in [
        ("hopper.gif", "GIF"),
        ("hopper.tif", "TIFF"),
        ("hopper.iccprofile.tif", "TIFF"),
        ("hopper.bmp", "BMP"),
        ("hopper.heif", "HEIF"),
        ("hopper.avif", "AVIF"),
        ("hopper_256x256.ico", "ICO"),
        ("hopper_16bit.pgm", "PNM"),
    ] {
        match decode(&read(&dir, &format!("orientation/{file}")), &l) {
            Err(Error::UnsupportedFormat(s)) => assert!(s.contains(name), "{file}: {s}"),
            other => panic!("{file}: {other:?}"),
        }
    }
}

#[test]
fn decode_time_12mp_phone_photo() {
    let Some(dir) = shared_data() else { return };
    let bytes = read(&dir, "bench/phone12mp_exif6.jpg");
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let d = decode(&bytes, &Limits::default()).unwrap();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        assert_eq!(d.orientation, 6);
        assert_eq!(d.image.dimensions(), (3000, 4000));
    }
    let t = Instant::now();
    let i = inspect(&bytes).unwrap();
    let inspect_ms = t.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(i.orientation, 6);
    eprintln!(
        "timing: decode phone12mp_exif6.jpg (12 MP, orientation 6): best of 3 {best:.1} ms \
         (release only meaningful); inspect {inspect_ms:.2} ms"
    );
}

#[test]
fn random_bytes_are_unsupported() {
    let mut x = 0x1234_5678u32;
    let bytes: Vec<u8> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    assert!(matches!(
        decode(&bytes, &Limits::default()),
        Err(Error::UnsupportedFormat(_))
    ));
    assert!(matches!(
        decode(&[], &Limits::default()),
        Err(Error::UnsupportedFormat(_))
    ));
    assert!(matches!(inspect(&bytes), Err(Error::UnsupportedFormat(_))));
}

/// JPEG magic followed by garbage must not panic.
#[test]
fn garbage_after_magic_does_not_panic() {
    let mut x = 42u32;
    for len in [3usize, 4, 10, 100, 1000] {
        for prefix in [
            &[0xFFu8, 0xD8, 0xFF][..],
            b"\x89PNG\r\n\x1a\n",
            b"RIFF\0\0\0\0WEBP",
        ] {
            let mut bytes = prefix.to_vec();
            bytes.extend((0..len).map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            }));
            let r = decode(&bytes, &Limits::default());
            assert!(r.is_err(), "{len}");
            let _ = inspect(&bytes);
        }
    }
}

#[test]
fn huge_png_header_refused_without_allocating() {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&20000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    png.extend(png_chunk(b"IHDR", &ihdr));
    png.extend(png_chunk(
        b"IDAT",
        &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    png.extend(png_chunk(b"IEND", &[]));
    let t = Instant::now();
    match decode(&png, &Limits::default()) {
        Err(Error::TooManyPixels {
            width: 20000,
            height: 20000,
            pixels: 400_000_000,
            limit: 100_000_000,
        }) => {}
        other => panic!("{other:?}"),
    }
    assert!(t.elapsed().as_millis() < 100, "{:?}", t.elapsed());
    // inspect() reads the header only.
    let i = inspect(&png).unwrap();
    assert_eq!((i.width, i.height), (20000, 20000));
}

#[test]
fn grey_and_grey_alpha_png() {
    let img: ImageBuffer<Luma<u8>, Vec<u8>> = ImageBuffer::from_fn(256, 1, |x, _| Luma([x as u8]));
    let d = decode(&png_bytes(&img), &Limits::default()).unwrap();
    assert_eq!(
        (d.bits_per_channel, d.had_alpha, d.icc.clone()),
        (8, false, IccStatus::None)
    );
    for x in 0..256u32 {
        assert_eq!(d.image.get_pixel(x, 0).0, [x as u8; 3]);
    }
    let img: ImageBuffer<LumaA<u8>, Vec<u8>> =
        ImageBuffer::from_fn(3, 1, |x, _| LumaA([40, [0, 255, 128][x as usize]]));
    let d = decode(&png_bytes(&img), &Limits::default()).unwrap();
    assert!(d.had_alpha);
    // Transparent becomes white; opaque keeps its value; half blends toward white.
    assert_eq!(d.image.get_pixel(0, 0).0, [255; 3]);
    assert_eq!(d.image.get_pixel(1, 0).0, [40; 3]);
    let half = (40 * 128 + 255 * 127 + 127) / 255;
    assert_eq!(d.image.get_pixel(2, 0).0, [half as u8; 3]);
    let i = inspect(&png_bytes(&img)).unwrap();
    assert_eq!((i.channels, i.bits_per_channel), (2, 8));
}

fn srgb_encode(l: f64) -> f64 {
    let l = l.clamp(0.0, 1.0);
    if l <= 0.003_130_8 {
        12.92 * l
    } else {
        1.055 * l.powf(1.0 / 2.4) - 0.055
    }
}

fn srgb_decode(v: f64) -> f64 {
    if v <= 0.040_45 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Display P3 -> sRGB by the textbook route: linearise, 3x3 matrix, clip, encode.
fn p3_to_srgb_reference(c: [u8; 3]) -> [u8; 3] {
    const M: [[f64; 3]; 3] = [
        [1.224_940_1, -0.224_940_4, 0.0],
        [-0.042_056_9, 1.042_057_1, 0.0],
        [-0.019_637_6, -0.078_636_1, 1.098_273_5],
    ];
    let lin = c.map(|v| srgb_decode(f64::from(v) / 255.0));
    let mut out = [0u8; 3];
    for (o, row) in out.iter_mut().zip(M) {
        let l = row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2];
        *o = (srgb_encode(l) * 255.0).round() as u8;
    }
    out
}

#[test]
fn display_p3_icc_is_converted_to_srgb() {
    let colours: [[u8; 3]; 6] = [
        [255, 0, 0],
        [230, 40, 40],
        [0, 200, 0],
        [40, 90, 220],
        [128, 128, 128],
        [255, 255, 255],
    ];
    let img = RgbImage::from_fn(colours.len() as u32, 1, |x, _| Rgb(colours[x as usize]));
    let p3 = ColorProfile::new_display_p3().encode().unwrap();
    let mut with_icc = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut with_icc);
    enc.set_icc_profile(p3).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();

    let plain = decode(&png_bytes(&img), &Limits::default()).unwrap();
    assert_eq!(plain.icc, IccStatus::None);
    assert_eq!(plain.image, img);

    let d = decode(&with_icc, &Limits::default()).unwrap();
    assert_eq!(d.icc, IccStatus::Converted);
    for (x, &c) in colours.iter().enumerate() {
        let got = d.image.get_pixel(x as u32, 0).0;
        let want = p3_to_srgb_reference(c);
        eprintln!("P3 {c:?} -> sRGB {got:?} (reference {want:?})");
        for k in 0..3 {
            assert!(
                got[k].abs_diff(want[k]) <= 2,
                "P3 {c:?}: got {got:?}, want {want:?}"
            );
        }
    }
    // The saturated red really moved: green clipped to 0, red pushed up.
    let red = d.image.get_pixel(1, 0).0;
    assert!(red[0] > 245 && red[1] <= 2, "{red:?}");

    let i = inspect(&with_icc).unwrap();
    assert_eq!((i.has_icc, i.icc_is_srgb), (true, Some(false)));

    // An embedded sRGB profile is recognised and leaves pixels untouched.
    let mut srgb_icc = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut srgb_icc);
    enc.set_icc_profile(ColorProfile::new_srgb().encode().unwrap())
        .unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgb8,
    )
    .unwrap();
    let d = decode(&srgb_icc, &Limits::default()).unwrap();
    assert_eq!(d.icc, IccStatus::Srgb);
    assert_eq!(d.image, img);
    assert_eq!(inspect(&srgb_icc).unwrap().icc_is_srgb, Some(true));
}

#[test]
fn unparseable_icc_is_reported_not_fatal() {
    let img = test_image(8, 8);
    let mut bytes = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut bytes);
    enc.set_icc_profile(b"this is not an ICC profile at all, just some text....".to_vec())
        .unwrap();
    enc.write_image(img.as_raw(), 8, 8, image::ExtendedColorType::Rgb8)
        .unwrap();
    let d = decode(&bytes, &Limits::default()).unwrap();
    assert!(matches!(d.icc, IccStatus::Unsupported(_)), "{:?}", d.icc);
    assert_eq!(d.image, img);
}

#[test]
fn reduced_decode_applies_orientation() {
    let Some(dir) = shared_data() else { return };
    let reference = decode(&read(&dir, "orientation/hopper.jpg"), &Limits::default()).unwrap();
    let reference = box_reduce(&reference.image, 4);
    for n in 2..=8u8 {
        let name = format!("orientation/hopper_orientation_{n}.jpg");
        let d = decode_reduced(&read(&dir, &name), &Limits::default(), 4).unwrap();
        assert_eq!((d.orientation, d.reduction), (n, 4), "{name}");
        let mae = mean_abs_error(&d.image, &reference);
        assert!(mae < 6.0, "{name}: mean abs error {mae:.2}");
    }
    let bytes = read(&dir, "bench/phone12mp_exif6.jpg");
    let d = decode_reduced(&bytes, &Limits::default(), 8).unwrap();
    assert_eq!(d.image.dimensions(), (375, 500));
    assert_eq!(jpeg_frame_size(&bytes), Some((4000, 3000)));
}
