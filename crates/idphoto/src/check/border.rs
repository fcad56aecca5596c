//! The background of a photo with a plain border, found without the segmentation network:
//! a flood fill from the border through pixels close to the border's colour.

use image::RgbImage;

use crate::check::quality::{fill_polygon, FACE_OVAL};
use crate::face::landmarks::{Landmarks, FOREHEAD};
use crate::geometry::find_crown;
use crate::raster::Plane;

/// Largest Chebyshev distance (sRGB levels) from the border colour of a background pixel that
/// the border model accepts: a soft shadow or the texture of a wall stays within it, hair and
/// skin do not.
pub const BORDER_MAX_DIST: u8 = 40;
/// Largest step (sRGB levels, Chebyshev) between neighbouring background pixels: smooth light
/// falloff and JPEG noise are below it; the edge of the hair (even when blurred by
/// resampling) has larger steps.
pub const BORDER_MAX_STEP: u8 = 12;
/// Smallest fraction of the border strips within [`BORDER_MAX_DIST`] / 2 of their median
/// colour for the border model to be used.
pub const BORDER_MIN_UNIFORM: f64 = 0.97;

/// A person matte (1 person, 0 background) from the image border, without the segmentation
/// network, for photos whose background is one plain colour: the median colour of the top
/// strip and the side strips above the chin is the background colour, and the background is
/// what a flood fill from the border reaches through pixels within `BORDER_MAX_DIST` of that
/// colour and with steps of at most `BORDER_MAX_STEP`.
///
/// Returns `None` (use the segmentation network) when the border is not uniform, when the fill
/// enters the face, when something that is not background lies away from the head and
/// shoulders (a shadow, an object, a second person), or when no crown is found above the
/// forehead.
pub fn border_matte(img: &RgbImage, lm: &Landmarks) -> Option<Plane> {
    let (w, h) = img.dimensions();
    if w < 32 || h < 32 {
        return None;
    }
    let bg = border_colour(img, lm.chin().y)?;
    let bgm = flood_from_border(img, bg);
    if face_is_background(&bgm, lm, w, h) {
        return None;
    }
    let alpha = Plane {
        width: w,
        height: h,
        data: bgm
            .iter()
            .map(|&b| if b == 1 { 0.0 } else { 1.0 })
            .collect(),
    };
    // a crown above the forehead
    let crown = match find_crown(&alpha, lm.eye_mid(), lm.face_width()) {
        Some((y, _)) if y < lm.pt(FOREHEAD).y => y,
        _ => return None,
    };
    let (wu, hu) = (w as usize, h as usize);
    if stray_pixels(&bgm, lm, crown, wu, hu) * 400 > wu * hu {
        return None;
    }
    Some(alpha)
}

/// Chebyshev distance of pixel `i` of `raw` (RGB) from `bg`.
fn dist(raw: &[u8], i: usize, bg: [u8; 3]) -> u8 {
    (0..3)
        .map(|c| raw[3 * i + c].abs_diff(bg[c]))
        .max()
        .unwrap_or(0)
}

/// The median colour of the top strip and of the side strips above `chin_y`, if at least
/// [`BORDER_MIN_UNIFORM`] of those pixels lie within [`BORDER_MAX_DIST`] / 2 of it.
fn border_colour(img: &RgbImage, chin_y: f32) -> Option<[u8; 3]> {
    let (w, h) = img.dimensions();
    let (wu, hu) = (w as usize, h as usize);
    let raw = img.as_raw();
    let k = (h / 60).max(2) as usize;
    let side_rows = (chin_y.max(0.0) as usize).min(hu);
    // border samples: top strip, side strips above the chin
    let mut hist = [[0u32; 256]; 3];
    let mut samples: Vec<usize> = Vec::new();
    for y in 0..k {
        samples.extend((0..wu).map(|x| y * wu + x));
    }
    for y in k..side_rows {
        samples.extend((0..k).map(|x| y * wu + x));
        samples.extend((wu - k..wu).map(|x| y * wu + x));
    }
    for &i in &samples {
        for c in 0..3 {
            hist[c][raw[3 * i + c] as usize] += 1;
        }
    }
    let half = samples.len() as u32 / 2;
    let bg: [u8; 3] = std::array::from_fn(|c| {
        let mut acc = 0;
        for (v, &n) in hist[c].iter().enumerate() {
            acc += n;
            if acc > half {
                return v as u8;
            }
        }
        255
    });
    let uniform = samples
        .iter()
        .filter(|&&i| dist(raw, i, bg) <= BORDER_MAX_DIST / 2)
        .count();
    ((uniform as f64) >= BORDER_MIN_UNIFORM * samples.len() as f64).then_some(bg)
}

/// Flood fill from every border pixel close to `bg`: 1 where the fill reached (background),
/// 0 where it might have but did not, 2 where a pixel is too far from `bg` to be background.
fn flood_from_border(img: &RgbImage, bg: [u8; 3]) -> Vec<u8> {
    let (wu, hu) = (img.width() as usize, img.height() as usize);
    let raw = img.as_raw();
    let step = |a: usize, b: usize| -> u8 {
        (0..3)
            .map(|c| raw[3 * a + c].abs_diff(raw[3 * b + c]))
            .max()
            .unwrap_or(0)
    };
    // 0: may be background, 2: too far from its colour to be (1 once reached by the fill)
    let mut bgm: Vec<u8> = (0..wu * hu)
        .map(|i| {
            if dist(raw, i, bg) <= BORDER_MAX_DIST {
                0
            } else {
                2
            }
        })
        .collect();
    let mut stack: Vec<usize> = Vec::new();
    let seed = |i: usize, bgm: &mut Vec<u8>, stack: &mut Vec<usize>| {
        if bgm[i] == 0 && dist(raw, i, bg) <= BORDER_MAX_DIST / 2 {
            bgm[i] = 1;
            stack.push(i);
        }
    };
    for x in 0..wu {
        seed(x, &mut bgm, &mut stack);
        seed((hu - 1) * wu + x, &mut bgm, &mut stack);
    }
    for y in 0..hu {
        seed(y * wu, &mut bgm, &mut stack);
        seed(y * wu + wu - 1, &mut bgm, &mut stack);
    }
    while let Some(i) = stack.pop() {
        let (x, y) = (i % wu, i / wu);
        let mut visit = |j: usize| {
            if bgm[j] == 0 && step(i, j) <= BORDER_MAX_STEP {
                bgm[j] = 1;
                stack.push(j);
            }
        };
        if x > 0 {
            visit(i - 1);
        }
        if x + 1 < wu {
            visit(i + 1);
        }
        if y > 0 {
            visit(i - wu);
        }
        if y + 1 < hu {
            visit(i + wu);
        }
    }
    bgm
}

/// Whether the fill entered the face (more than 2 % of the face oval is background).
fn face_is_background(bgm: &[u8], lm: &Landmarks, w: u32, h: u32) -> bool {
    let mut face = vec![0u8; w as usize * h as usize];
    let oval: Vec<_> = FACE_OVAL.iter().map(|&i| lm.pt(i)).collect();
    fill_polygon(&oval, w, h, &mut face, 1);
    let face_px = face.iter().filter(|&&v| v == 1).count();
    let face_bg = face
        .iter()
        .zip(bgm)
        .filter(|(&f, &b)| f == 1 && b == 1)
        .count();
    face_px == 0 || face_bg * 50 > face_px
}

/// Pixels that are not background above the crown or beside the head above the chin.
fn stray_pixels(bgm: &[u8], lm: &Landmarks, crown: f32, wu: usize, hu: usize) -> usize {
    let eye_mid = lm.eye_mid();
    let chin_y = lm.chin().y;
    let (r, l) = (lm.right_eye(), lm.left_eye());
    let d = r.dist(l).max(1e-3);
    let (ux, uy) = ((l.x - r.x) / d, (l.y - r.y) / d);
    let reach = 1.0 * lm.face_width();
    let mut stray = 0usize;
    for y in 0..hu {
        for x in 0..wu {
            if bgm[y * wu + x] == 1 {
                continue;
            }
            let (dx, dy) = (x as f32 + 0.5 - eye_mid.x, y as f32 + 0.5 - eye_mid.y);
            let along = dx * ux + dy * uy;
            let down = -dx * uy + dy * ux;
            let above_crown = (y as f32) < crown - 2.0;
            let beside = down < chin_y - eye_mid.y && along.abs() > reach;
            if above_crown || beside {
                stray += 1;
            }
        }
    }
    stray
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::{landmarks, MIN_PRESENCE};
    use crate::matte;
    use crate::test_support::compliant_output as clean;

    #[test]
    fn border_matte_on_plain_and_busy_backgrounds() {
        // the fixture's output has an ear at the side edge and background remnants: the
        // network decides there
        let (_, img, _) = clean("cn-id-card");
        let faces =
            crate::face::detect_faces(crate::nn::tests::nets(), &img, &Default::default()).unwrap();
        let lm = landmarks::landmarks_fast(crate::nn::tests::nets(), &img, &faces[0], MIN_PRESENCE)
            .unwrap();
        assert!(border_matte(&img, &lm).is_none());
        // a clean output with a plain white border: the border model is used
        let Some(shared) = crate::nn::tests::shared_dir() else {
            return;
        };
        let spec = crate::spec::presets::get("cn-id-card").unwrap();
        let bytes = std::fs::read(shared.join("data/portraits/bush_official_2003.jpg")).unwrap();
        let out = crate::process(&bytes, &spec, &crate::Options::default()).unwrap();
        let img = crate::decode::decode(&out.jpeg, &Default::default())
            .unwrap()
            .image;
        let faces =
            crate::face::detect_faces(crate::nn::tests::nets(), &img, &Default::default()).unwrap();
        let lm = landmarks::landmarks_fast(crate::nn::tests::nets(), &img, &faces[0], MIN_PRESENCE)
            .unwrap();
        let alpha = border_matte(&img, &lm).expect("plain white background");
        // the crown agrees with the segmentation network's within 6 px (the network at 256 px
        // smooths away the tuft on top of this head, which the border model keeps)
        let net = matte::person_matte(crate::nn::tests::nets(), &img).unwrap();
        let (a, _) = find_crown(&alpha, lm.eye_mid(), lm.face_width()).unwrap();
        let (b, _) = find_crown(&net, lm.eye_mid(), lm.face_width()).unwrap();
        assert!((a - b).abs() <= 6.0, "border {a} network {b}");
        // a dark block beside the head (an object, a shadow): the network decides
        let mut busy = img.clone();
        for y in 20..120 {
            for x in 0..60 {
                busy.put_pixel(x, y, image::Rgb([90, 80, 70]));
            }
        }
        assert!(border_matte(&busy, &lm).is_none());
        // a noisy border: not uniform
        let mut seed = 7u32;
        let noisy = RgbImage::from_fn(img.width(), img.height(), |x, y| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let n = ((seed >> 16) % 61) as i32 - 30;
            let p = img.get_pixel(x, y).0;
            image::Rgb(p.map(|v| (v as i32 + n).clamp(0, 255) as u8))
        });
        assert!(border_matte(&noisy, &lm).is_none());
    }
}
