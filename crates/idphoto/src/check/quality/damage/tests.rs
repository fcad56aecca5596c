//! Tests of `image.damage`: synthetic damage of a fixture photo (a colour band shifted from a
//! block boundary on, a garbled block, repeated rows, a grey slab at the bottom) fails; the
//! clean fixture photos and the library's own outputs pass.

use super::*;
use crate::report::Status;

fn fixture(name: &str) -> RgbImage {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
    image::open(dir.join(name)).unwrap().to_rgb8()
}

fn fails(img: &RgbImage) -> bool {
    damage_rule(img).status == Status::Fail
}

#[test]
fn clean_photos_pass() {
    for f in [
        "obama.jpg",
        "obama2.jpg",
        "biden.jpg",
        "obama_partial_face.jpg",
    ] {
        let img = fixture(f);
        assert_eq!(damage_blocks(&img), 0, "{f}");
        assert_eq!(damage_rule(&img).status, Status::Pass);
    }
    let (_, out, _) = crate::test_support::compliant_output("cn-id-card");
    assert_eq!(damage_blocks(&out), 0);
    // flat images (a plain background) are not damage
    assert!(!fails(&RgbImage::from_pixel(
        200,
        200,
        image::Rgb([255, 255, 255])
    )));
}

#[test]
fn shifted_colour_band_fails() {
    // what a changed DC difference does: every block after (bx, by) in raster order is
    // shifted in colour
    let mut img = fixture("obama.jpg");
    let (w, h) = img.dimensions();
    let (bx, by) = (w / 16 * 8 / 2, h / 16 * 8);
    for (x, y, p) in img.enumerate_pixels_mut() {
        if y >= by + 8 || (y >= by && x >= bx) {
            p.0 = [p[0].saturating_add(40), p[1].saturating_sub(10), p[2]];
        }
    }
    assert!(fails(&img), "{:?}", damage_rule(&img));
}

#[test]
fn garbled_block_fails() {
    let mut img = fixture("obama.jpg");
    let (w, h) = img.dimensions();
    let (x0, y0) = (w / 16 * 8, h / 16 * 8);
    for y in y0..y0 + 8 {
        for x in x0..x0 + 8 {
            let v = if (x + y) % 2 == 0 { 250 } else { 10 };
            img.put_pixel(x, y, image::Rgb([v, 255 - v, v]));
        }
    }
    assert!(fails(&img), "{:?}", damage_rule(&img));
}

#[test]
fn repeated_rows_and_grey_slab_fail() {
    let clean = fixture("obama2.jpg");
    let (w, h) = clean.dimensions();
    let mut rep = clean.clone();
    let y0 = h / 2;
    for y in y0 + 1..y0 + 40 {
        for x in 0..w {
            rep.put_pixel(x, y, *clean.get_pixel(x, y0));
        }
    }
    assert!(fails(&rep), "{:?}", damage_rule(&rep));
    // the rest of the photo grey from a block row on: a decoder that ran out of data
    let mut slab = clean.clone();
    for y in (h / 16 * 8)..h {
        for x in 0..w {
            slab.put_pixel(x, y, image::Rgb([128, 128, 128]));
        }
    }
    assert!(fails(&slab), "{:?}", damage_rule(&slab));
}
