//! Finding the one face of the photo: detection, landmarks, which detections are faces, and
//! a host's face box instead of the detector.

use image::RgbImage;

use super::detect::{detect_faces, DetectOptions, Face};
use super::hint::FaceHint;
use super::landmarks::{landmarks_fast, landmarks_refined, Landmarks};
use super::presence::{is_face, COMPARABLE_FACE_FRACTION, MIN_PRESENCE};
use crate::error::{Error, Result};
use crate::nn::Networks;
use crate::raster::Point;
use crate::report::Notice;

/// Finds the one face to use; errors for none or several comparable faces. Detected faces get
/// the landmarks `check` measures with ([`landmarks_fast`]: one model pass when the
/// crop predicted from the detector's box holds, as it does on ID portraits); a host's face box
/// is of unknown proportions and gets the two passes of [`landmarks_refined`].
///
/// `needed_px` is the face width (px) the output needs from the photo: detection looks at
/// the scales where such faces can be found.
pub(crate) fn find_face(
    nets: &Networks,
    img: &RgbImage,
    hint: Option<&FaceHint>,
    needed_px: f32,
    notices: &mut Vec<Notice>,
) -> Result<(Face, Landmarks)> {
    if let Some(h) = hint {
        let face = face_from_hint(img, h)?;
        let lm = landmarks_refined(nets, img, &face)?;
        if lm.presence < MIN_PRESENCE {
            return Err(Error::NoFace);
        }
        return Ok((face, lm));
    }
    let needed = needed_px;
    let det_opts = DetectOptions {
        enough_face_px: needed,
        min_face_px: (needed * 0.35).max(32.0),
        ..DetectOptions::default()
    };
    let faces = detect_faces(nets, img, &det_opts)?;
    let mut verified: Vec<(Face, Landmarks)> = Vec::new();
    let mut small = 0;
    for f in faces {
        if let Some((main, _)) = verified.first() {
            if f.w < main.w * COMPARABLE_FACE_FRACTION {
                small += 1;
                continue;
            }
        }
        let lm = landmarks_fast(nets, img, &f, MIN_PRESENCE)?;
        if is_face(nets, img, &f, &lm)? {
            verified.push((f, lm));
        }
    }
    if small > 0 {
        notices.push(Notice::new(
            "face.background_faces",
            format!("背景中有 {small} 张较小的人脸, 已忽略"),
            format!("{small} small face(s) in the background were ignored"),
        ));
    }
    match verified.len() {
        0 => Err(Error::NoFace),
        1 => Ok(verified.pop().ok_or(Error::NoFace)?),
        n => Err(Error::MultipleFaces { count: n }),
    }
}

fn face_from_hint(img: &RgbImage, h: &FaceHint) -> Result<Face> {
    let [x, y, w, hh] = h.bbox;
    let (iw, ih) = (img.width() as f32, img.height() as f32);
    if !(w > 4.0 && hh > 4.0 && x + w > 0.0 && y + hh > 0.0 && x < iw && y < ih)
        || [x, y, w, hh].iter().any(|v| !v.is_finite())
    {
        return Err(Error::InvalidOption {
            option: "face".into(),
            reason: format!(
                "face box {:?} is empty or outside the {}x{} photo",
                h.bbox, iw, ih
            ),
        });
    }
    let re = h.right_eye.unwrap_or(Point::new(x + 0.3 * w, y + 0.4 * hh));
    let le = h.left_eye.unwrap_or(Point::new(x + 0.7 * w, y + 0.4 * hh));
    let c = Point::new(x + w / 2.0, y + hh / 2.0);
    Ok(Face {
        x,
        y,
        w,
        h: hh,
        score: 1.0,
        keypoints: [
            re,
            le,
            c,
            Point::new(c.x, y + 0.75 * hh),
            Point::new(x, c.y),
            Point::new(x + w, c.y),
        ],
    })
}

/// Errors if the face outline leaves the photo.
pub(crate) fn check_face_inside(img: &RgbImage, lm: &Landmarks) -> Result<()> {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let tol = lm.face_width() * 0.02;
    let (mut minx, mut maxx, mut miny, mut maxy) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for p in &lm.points {
        minx = minx.min(p[0]);
        maxx = maxx.max(p[0]);
        miny = miny.min(p[1]);
        maxy = maxy.max(p[1]);
    }
    let edge = if minx < -tol {
        "left"
    } else if maxx > w + tol {
        "right"
    } else if miny < -tol {
        "top"
    } else if maxy > h + tol {
        "bottom"
    } else {
        return Ok(());
    };
    Err(Error::FaceCut { edge: edge.into() })
}
