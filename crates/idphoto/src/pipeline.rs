//! The end-to-end pipeline: [`process`] turns a photo into a compliant ID photo, [`check`]
//! validates any photo against a spec.

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
use std::time::Instant;
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
use web_time::Instant;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::decode::{self, Limits};
use crate::detect::{self, detect_faces, DetectOptions, Face};
use crate::encode;
use crate::error::{Error, Result};
use crate::geometry::{self, Head, Placement, PxRule};
use crate::landmarks::{self, Landmarks};
use crate::matte::{self, SegmentFit};
use crate::raster::{resize_rgb, warp_rgb, Affine, Plane, Point};
use crate::report::{Notice, Report, RuleResult, Status};
use crate::spec::{GeometryRule, Spec};
use crate::validate;

/// Default largest upscale of the face allowed by [`process`]: 1.25x. Beyond it the photo is
/// refused with [`Error::FaceTooSmall`]; between 1.0 and 1.25 the report carries a notice.
pub const DEFAULT_MAX_UPSCALE: f64 = 1.25;

/// A face given by the host instead of the built-in detector (for example from WeChat's face
/// detection in a mini-program). Coordinates are in the displayed (EXIF-rotated) photo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FaceHint {
    /// Face box: left, top, width, height in pixels.
    pub bbox: [f32; 4],
    /// The subject's right eye (image left), if known.
    pub right_eye: Option<Point>,
    /// The subject's left eye (image right), if known.
    pub left_eye: Option<Point>,
}

/// Options for [`process`].
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Background colour: a name or `#RRGGBB` the spec allows; `None` = the spec's default.
    pub background: Option<String>,
    /// Largest face upscale allowed (default [`DEFAULT_MAX_UPSCALE`]).
    pub max_upscale: f64,
    /// Decoder limits.
    pub limits: Limits,
    /// Host-supplied face instead of detection.
    pub face: Option<FaceHint>,
    /// Output size for specs that accept a range (must be inside the range); `None` = default.
    pub size: Option<(u32, u32)>,
    /// Segmentation runs for the person mask (default [`SegmentFit::Ensemble`], the best
    /// edges; [`SegmentFit::Single`] saves about 15 ms on one core).
    pub segmentation: SegmentFit,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            background: None,
            max_upscale: DEFAULT_MAX_UPSCALE,
            limits: Limits::default(),
            face: None,
            size: None,
            segmentation: SegmentFit::default(),
        }
    }
}

/// Time spent in each stage, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Decoding, orientation and colour conversion.
    pub decode_ms: f64,
    /// Face detection and landmarks.
    pub detect_ms: f64,
    /// Person segmentation.
    pub segment_ms: f64,
    /// Matte refinement and compositing.
    pub refine_ms: f64,
    /// Crop solve and the resize to the output size.
    pub crop_resize_ms: f64,
    /// JPEG encoding to the size window.
    pub encode_ms: f64,
    /// Re-checking the output.
    pub check_ms: f64,
    /// How many times the output was rendered, encoded and checked (more than one when the
    /// re-check moved the crown).
    pub passes: u32,
}

/// Result of [`process`].
#[derive(Debug, Clone)]
pub struct Output {
    /// The encoded JPEG.
    pub jpeg: Vec<u8>,
    /// Output width.
    pub width: u32,
    /// Output height.
    pub height: u32,
    /// JPEG quality used.
    pub quality: u8,
    /// Compliance report measured again on the encoded output.
    pub report: Report,
    /// Per-stage times.
    pub timings: Timings,
    /// The photo was decoded at 1/`source_reduction` of its size (1, 2, 4 or 8; see
    /// [`process`]).
    pub source_reduction: u32,
}

/// Ratio (eye line - crown) / (chin - eye line) of an average head with hair, used when the
/// person mask cannot give the crown.
pub const CROWN_FALLBACK_RATIO: f32 = 1.0;

/// A face is "comparable" to the main face, and so counts for the more-than-one-face error,
/// when it is at least this fraction of the main face's width.
pub const COMPARABLE_FACE_FRACTION: f32 = 0.5;

/// Minimum FaceMesh face-presence score for a detection to count as a face.
pub const MIN_PRESENCE: f32 = 0.9;

/// Detections scoring below this are confirmed with [`detect::confirm`] before they count
/// as faces; the faces of the shared portraits score 0.83-0.97 in the pyramid.
pub const CONFIRM_BELOW: f32 = 0.8;

/// Minimum [`detect::confirm`] score of a face that needs confirming (real faces 0.78 and
/// above on the shared photos, other detections 0.64 and below).
pub const MIN_CONFIRM: f32 = 0.7;

/// Whether a detection `face` with landmarks `lm` counts as a face: the landmark model's
/// presence, and for a weak detection the detector's second opinion ([`detect::confirm`]).
pub(crate) fn is_face(img: &RgbImage, face: &Face, lm: &Landmarks) -> Result<bool> {
    if lm.presence < MIN_PRESENCE {
        return Ok(false);
    }
    Ok(face.score >= CONFIRM_BELOW || detect::confirm(img, lm)? >= MIN_CONFIRM)
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// A JPEG is decoded at a reduced size (in the DCT domain: faster, and a fraction of the
/// memory) when its short side, so reduced, is still this many times the face width the spec
/// needs, i.e. when a face filling a fifth of the photo's short side would not need
/// upscaling. If the face found is smaller than that, the photo is decoded again at the
/// size the face needs.
pub const REDUCED_DECODE_FACE_FRACTION: f64 = 0.2;

/// Largest scale (output px per input px) accepted from a reduced decode: below 1 so that the
/// crown corrections of the later passes never turn it into an upscale.
const REDUCED_MAX_SCALE: f64 = 0.95;

/// Makes an ID photo from encoded image bytes (JPEG, PNG, WebP).
///
/// Large JPEGs (phone photos) are decoded at 1/2, 1/4 or 1/8 of their size when the face
/// still has at least the pixels the output needs (see [`REDUCED_DECODE_FACE_FRACTION`]);
/// the output never depends on more than that: a face that would need upscaling at the
/// reduced size is taken from a finer decode.
pub fn process(bytes: &[u8], spec: &Spec, opts: &Options) -> Result<Output> {
    spec.validate()?;
    let (out_w, out_h) = output_size(spec, opts)?;
    let mut reduction = initial_reduction(bytes, spec, out_w, out_h, opts);
    let mut decode_ms = 0.0;
    loop {
        let t = Instant::now();
        let decoded = decode::decode_reduced(bytes, &opts.limits, reduction)?;
        decode_ms += ms(t);
        let r = decoded.reduction;
        let scaled;
        let o = if r > 1 {
            scaled = scale_options(opts, r);
            &scaled
        } else {
            opts
        };
        match make(&decoded.image, spec, o, r) {
            Ok(Made::Done(mut out)) => {
                out.timings.decode_ms = decode_ms;
                out.source_reduction = r;
                return Ok(*out);
            }
            // the face needs more pixels than the reduced decode has
            Ok(Made::NeedsScale(scale)) => reduction = finer_reduction(r, scale),
            // small faces may only be found, or measured, at full size
            Err(Error::NoFace | Error::FaceTooSmall { .. }) if r > 1 => reduction = 1,
            Err(e) => return Err(e),
        }
    }
}

/// The reduction (1, 2, 4 or 8) to decode `bytes` at first: the largest that keeps a face
/// of [`REDUCED_DECODE_FACE_FRACTION`] of the short side at least as wide as the spec needs.
fn initial_reduction(bytes: &[u8], spec: &Spec, out_w: u32, out_h: u32, opts: &Options) -> u32 {
    let Some((w, h)) = decode::jpeg_frame_size(bytes) else {
        return 1;
    };
    let rules = geometry::px_rules(spec, out_w, out_h);
    let needed = match &opts.face {
        // a host's face box: its width is known, so reduce as far as it allows
        Some(hint) => {
            let k = f64::from(hint.bbox[2]) / f64::from(needed_face_px(&rules)).max(1.0);
            return [8u32, 4, 2]
                .into_iter()
                .find(|&r| k >= f64::from(r))
                .unwrap_or(1);
        }
        None => f64::from(needed_face_px(&rules)),
    };
    let face = f64::from(w.min(h)) * REDUCED_DECODE_FACE_FRACTION;
    [8u32, 4, 2]
        .into_iter()
        .find(|&r| face / f64::from(r) >= needed)
        .unwrap_or(1)
}

/// The reduction to decode at when the face needed `scale` (output px per px) at reduction
/// `r`: the largest one at which no upscaling is needed.
fn finer_reduction(r: u32, scale: f64) -> u32 {
    [4u32, 2]
        .into_iter()
        .find(|&f| f < r && scale * f64::from(f) / f64::from(r) <= REDUCED_MAX_SCALE)
        .unwrap_or(1)
}

/// `opts` with the host's face given in the coordinates of a photo reduced `r` times.
fn scale_options(opts: &Options, r: u32) -> Options {
    let k = 1.0 / r as f32;
    let mut o = opts.clone();
    if let Some(h) = &mut o.face {
        h.bbox = h.bbox.map(|v| v * k);
        h.right_eye = h.right_eye.map(|p| Point::new(p.x * k, p.y * k));
        h.left_eye = h.left_eye.map(|p| Point::new(p.x * k, p.y * k));
    }
    o
}

/// What [`make`] did.
enum Made {
    /// The photo.
    Done(Box<Output>),
    /// Not made: the face needs this upscale (output px per input px, above 1) and the input
    /// was a reduced decode.
    NeedsScale(f64),
}

/// The output size: the spec's default, or `opts.size` if the spec's range accepts it.
fn output_size(spec: &Spec, opts: &Options) -> Result<(u32, u32)> {
    let Some((w, h)) = opts.size else {
        return Ok((spec.pixels.width, spec.pixels.height));
    };
    let ok = match &spec.pixels.range {
        None => (w, h) == (spec.pixels.width, spec.pixels.height),
        Some(r) => {
            (r.min_width..=r.max_width).contains(&w)
                && (r.min_height..=r.max_height).contains(&h)
                && r.aspect
                    .is_none_or(|a| ((w as f64 / h as f64) - a).abs() < 0.01)
        }
    };
    if ok {
        Ok((w, h))
    } else {
        Err(Error::InvalidOption {
            option: "size".into(),
            reason: format!("{w}x{h} is not a size spec {} accepts", spec.id),
        })
    }
}

fn background_rgb(spec: &Spec, opts: &Options) -> Result<[u8; 3]> {
    match &opts.background {
        None => spec.background.default_color()?.rgb(),
        Some(name) => {
            let allowed: Vec<&str> = spec
                .background
                .allowed
                .iter()
                .map(|c| c.name.as_str())
                .collect();
            spec.background
                .find(name)
                .ok_or_else(|| Error::InvalidOption {
                    option: "background".into(),
                    reason: format!(
                        "`{name}` is not allowed by {}; allowed: {}",
                        spec.id,
                        allowed.join(", ")
                    ),
                })?
                .rgb()
        }
    }
}

/// Source face width (px) at which the spec needs no upscaling, estimated with average head
/// proportions.
fn needed_face_px(rules: &[PxRule]) -> f32 {
    let unit = Head {
        eye_mid: Point::new(0.0, 0.0),
        inter_eye: 1.0 / 2.4,
        face_width: 1.0,
        chin_y: 0.8,
        crown_y: -0.8,
    };
    let k = geometry::min_scale(rules, &unit) as f32;
    if k.is_finite() && k > 0.0 {
        k
    } else {
        100.0
    }
}

/// Finds the one face to use; errors for none or several comparable faces. Detected faces get
/// the landmarks `check` measures with ([`landmarks::landmarks_fast`]: one model pass when the
/// crop predicted from the detector's box holds, as it does on ID portraits); a host's face box
/// is of unknown proportions and gets the two passes of [`landmarks::landmarks_refined`].
fn find_face(
    img: &RgbImage,
    rules: &[PxRule],
    opts: &Options,
    notices: &mut Vec<Notice>,
) -> Result<(Face, Landmarks)> {
    if let Some(h) = opts.face {
        let face = face_from_hint(img, &h)?;
        let lm = landmarks::landmarks_refined(img, &face)?;
        if lm.presence < MIN_PRESENCE {
            return Err(Error::NoFace);
        }
        return Ok((face, lm));
    }
    let needed = needed_face_px(rules) / opts.max_upscale.max(1.0) as f32;
    let det_opts = DetectOptions {
        enough_face_px: needed,
        min_face_px: (needed * 0.35).max(32.0),
        ..DetectOptions::default()
    };
    let faces = detect_faces(img, &det_opts)?;
    let mut verified: Vec<(Face, Landmarks)> = Vec::new();
    let mut small = 0;
    for f in faces {
        if let Some((main, _)) = verified.first() {
            if f.w < main.w * COMPARABLE_FACE_FRACTION {
                small += 1;
                continue;
            }
        }
        let lm = landmarks::landmarks_fast(img, &f, MIN_PRESENCE)?;
        if is_face(img, &f, &lm)? {
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
fn check_face_inside(img: &RgbImage, lm: &Landmarks) -> Result<()> {
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

fn rotate(p: Point, c: Point, angle: f32) -> Point {
    let (s, co) = angle.sin_cos();
    let (dx, dy) = (p.x - c.x, p.y - c.y);
    Point::new(c.x + co * dx - s * dy, c.y + s * dx + co * dy)
}

/// Map from a frame with origin (x0, y0) in the levelled frame and `scale` frame px per
/// levelled px, to source coordinates (levelled = source rotated by -theta about `c`).
fn frame_to_source(x0: f64, y0: f64, scale: f64, theta: f32, c: Point) -> Affine {
    let (s, co) = theta.sin_cos();
    let k = (1.0 / scale) as f32;
    // L = (x0, y0) + k * (u, v); S = c + R(theta) (L - c)
    let (lx, ly) = (x0 as f32 - c.x, y0 as f32 - c.y);
    Affine {
        m: [
            co * k,
            -s * k,
            c.x + co * lx - s * ly,
            s * k,
            co * k,
            c.y + s * lx + co * ly,
        ],
    }
}

/// Finds the crown (top of the hair) in a matte: scanning up from the eye line in the head's
/// central columns. Returns the y (matte px) and whether the scan hit the matte's top row.
pub fn find_crown(alpha: &Plane, eye_mid: Point, face_width: f32) -> Option<(f32, bool)> {
    let (w, h) = (alpha.width as i64, alpha.height as i64);
    let x0 = ((eye_mid.x - 0.3 * face_width).round() as i64).clamp(0, w - 1);
    let x1 = ((eye_mid.x + 0.3 * face_width).round() as i64).clamp(0, w - 1);
    let ey = (eye_mid.y.round() as i64).clamp(0, h - 1);
    let mut tops = Vec::new();
    let mut hit_top = false;
    for x in x0..=x1 {
        if alpha.at(x as u32, ey as u32) < 0.5 {
            continue;
        }
        let mut y = ey;
        let mut gap = 0;
        let mut last_in = ey;
        while y > 0 {
            y -= 1;
            if alpha.at(x as u32, y as u32) >= 0.5 {
                last_in = y;
                gap = 0;
            } else {
                gap += 1;
                if gap > 2 {
                    break;
                }
            }
        }
        if last_in == 0 {
            hit_top = true;
        }
        // sub-pixel: where alpha crosses 0.5 between last_in - 1 and last_in
        let a_in = alpha.at(x as u32, last_in as u32);
        let top = if last_in > 0 {
            let a_out = alpha.at(x as u32, (last_in - 1) as u32);
            let f = ((a_in - 0.5) / (a_in - a_out).max(1e-3)).clamp(0.0, 1.0);
            last_in as f32 - f + 0.5
        } else {
            0.0
        };
        tops.push(top);
    }
    if tops.len() < 3 {
        return None;
    }
    tops.sort_by(|a, b| a.total_cmp(b));
    // ignore the topmost 2 % of columns (a stray hair)
    let k = tops.len() / 50;
    Some((tops[k], hit_top))
}

/// Makes an ID photo from decoded pixels (sRGB, orientation already applied).
pub fn process_image(img: &RgbImage, spec: &Spec, opts: &Options) -> Result<Output> {
    match make(img, spec, opts, 1)? {
        Made::Done(out) => Ok(*out),
        Made::NeedsScale(_) => Err(Error::Internal("upscale refused on a full decode".into())),
    }
}

/// Makes the photo from `img`, decoded at 1/`reduction` of the photo's size; when reduced,
/// returns [`Made::NeedsScale`] instead of upscaling.
fn make(img: &RgbImage, spec: &Spec, opts: &Options, reduction: u32) -> Result<Made> {
    let reduced = reduction > 1;
    if !(opts.max_upscale.is_finite() && opts.max_upscale >= 0.1) {
        return Err(Error::InvalidOption {
            option: "max_upscale".into(),
            reason: "must be a number >= 0.1".into(),
        });
    }
    let mut timings = Timings::default();
    let (out_w, out_h) = output_size(spec, opts)?;
    let bg = background_rgb(spec, opts)?;
    let rules = geometry::px_rules(spec, out_w, out_h);
    let mut notices = Vec::new();

    // 1. the face and its landmarks
    let t = Instant::now();
    let (_face, lm) = find_face(img, &rules, opts, &mut notices)?;
    check_face_inside(img, &lm)?;
    timings.detect_ms = ms(t);

    // 2. levelled frame: rotate about the eye midpoint so the eyes are level
    let roll = lm.roll_deg();
    let theta = if roll.abs() > 1.0 {
        roll.to_radians()
    } else {
        0.0
    };
    let c = lm.eye_mid();
    let to_l = |p: Point| rotate(p, c, -theta);
    let chin_y = to_l(lm.chin()).y;
    let mut head = Head {
        eye_mid: c,
        inter_eye: lm.inter_eye(),
        face_width: lm.face_width(),
        chin_y,
        crown_y: c.y - CROWN_FALLBACK_RATIO * (chin_y - c.y),
    };
    if theta != 0.0 {
        notices.push(Notice::new(
            "pose.levelled",
            format!("头部倾斜 {roll:.1}°, 已自动校正"),
            format!("head tilted by {roll:.1} degrees: levelled"),
        ));
    }

    // 3. preliminary placement (landmark crown) and the upscale limit
    if reduced {
        let free = geometry::solve(&rules, &head, out_w, out_h, f64::INFINITY);
        if free.placement.scale > REDUCED_MAX_SCALE {
            return Ok(Made::NeedsScale(free.placement.scale));
        }
    }
    let prelim = solve_limited(&rules, &head, out_w, out_h, opts.max_upscale)?;

    // 4. working region around the output, at about the output's scale
    let t = Instant::now();
    let s0 = prelim.scale;
    let (vw, vh) = (out_w as f64 / s0, out_h as f64 / s0);
    let (x0, y0) = (prelim.ox - 0.12 * vw, prelim.oy - 0.30 * vh);
    let (rw, rh) = (vw * 1.24, vh * 1.40);
    // the matte is made at the output's scale, or at the photo's own when the face is
    // enlarged: upsampling the photo first would add pixels but no detail
    let ws = s0.min(1.0);
    let ww = ((rw * ws).round() as u32).max(16);
    let wh = ((rh * ws).round() as u32).max(16);
    let map_w = frame_to_source(x0, y0, ws, theta, c);
    // a levelled head is rotated once at about source resolution for every render pass;
    // when the working region has that same scale (the face is enlarged), that rotation is
    // the working image too
    let levelled = if theta != 0.0 {
        Some(Levelled::new(img, (x0, y0, rw, rh), s0, theta, c)?)
    } else {
        None
    };
    let shared = levelled
        .as_ref()
        .filter(|lv| lv.scale == ws && lv.img.width() >= ww && lv.img.height() >= wh);
    let owned;
    let work = match shared {
        Some(lv) => &lv.img,
        None => {
            owned = warp_rgb(img, &map_w, ww, wh)?;
            &owned
        }
    };
    let (ww, wh) = work.dimensions();
    let (mut mask, small) = matte::segment_with(work, opts.segmentation)?;
    // only the subject: the eye midpoint in the mask's pixels
    let eye_m = (
        ((c.x as f64 - x0) * ws * mask.width as f64 / ww as f64) as f32,
        ((c.y as f64 - y0) * ws * mask.height as f64 / wh as f64) as f32,
    );
    let face_m = (head.face_width as f64 * ws * mask.width as f64 / ww as f64) as f32;
    matte::keep_subject(&mut mask, eye_m, face_m);
    timings.segment_ms = ms(t);
    let t = Instant::now();
    let (alpha_w, matte_info) = matte::refine_with_info(work, &mask, &small, &Default::default())?;
    notices.extend(matte_info.notices());

    // 5. crown from the matte
    let to_w = |p: Point| {
        Point::new(
            ((p.x as f64 - x0) * ws) as f32,
            ((p.y as f64 - y0) * ws) as f32,
        )
    };
    let eye_w = to_w(head.eye_mid);
    let fallback_crown = head.crown_y;
    match find_crown(&alpha_w, eye_w, head.face_width * ws as f32) {
        Some((crown_w, hit_top)) => {
            let crown_l = (y0 + crown_w as f64 / ws) as f32;
            let ratio = (head.eye_mid.y - crown_l) / (head.chin_y - head.eye_mid.y).max(1.0);
            let top_src = map_w.apply(Point::new(eye_w.x, 0.5));
            if hit_top && top_src.y < 0.0 {
                return Err(Error::FaceCut { edge: "top".into() });
            }
            if (0.7..=1.9).contains(&ratio) && !hit_top {
                head.crown_y = crown_l;
            } else {
                notices.push(Notice::new(
                    "geometry.crown_estimated",
                    "无法准确检测头顶位置, 已按脸部比例估计",
                    "the top of the hair could not be found reliably; estimated from face proportions",
                ));
            }
        }
        None => notices.push(Notice::new(
            "geometry.crown_estimated",
            "无法准确检测头顶位置, 已按脸部比例估计",
            "the top of the hair could not be found reliably; estimated from face proportions",
        )),
    }
    let _ = fallback_crown;
    timings.refine_ms = ms(t);

    // 6-10. final placement, render, composite, encode, check. `check` measures the crown on
    // the encoded result with its own matte; when a crown rule fails there, the placement is
    // corrected by the difference and the photo made again (at most twice).
    let mut pass = 0;
    let (enc, mut report, place) = loop {
        let t = Instant::now();
        let place = solve_limited(&rules, &head, out_w, out_h, opts.max_upscale)?;
        let (rgb, alpha) = render_with_alpha(
            img,
            levelled.as_ref(),
            &alpha_w,
            &place,
            theta,
            c,
            (x0, y0, ws),
            &head,
            out_w,
            out_h,
            &mut notices,
        )?;
        timings.crop_resize_ms += ms(t);
        let t = Instant::now();
        let composed = crate::matte::composite_with_foreground(&rgb, &alpha, bg);
        timings.refine_ms += ms(t);
        let t = Instant::now();
        let enc = encode::encode_jpeg(&composed, spec.dpi, spec.byte_window())?;
        timings.encode_ms += ms(t);
        let t = Instant::now();
        let report = check(&enc.bytes, spec)?;
        timings.check_ms += ms(t);
        pass += 1;
        timings.passes = pass;
        let planned = place.apply(&head);
        let measured_crown = measured_crown_y(&report, planned.chin_y);
        let crown_failed = report.rules.iter().any(|r| {
            r.status == Status::Fail
                && matches!(
                    r.code.as_str(),
                    "geometry.crown_margin" | "geometry.head_height"
                )
        });
        match measured_crown {
            // also when it passes but lies more than 3 px from where it was aimed: a margin
            // at the edge of its range is one re-encode away from failing
            Some(y)
                if ((pass == 1 && (y - planned.crown_y).abs() > 3.0)
                    || (pass <= 2 && crown_failed))
                    && (y - planned.crown_y).abs() < 0.25 * out_h as f32 =>
            {
                head.crown_y += (y - planned.crown_y) / place.scale as f32;
            }
            _ => break (enc, report, place),
        }
    };
    if place.scale > 1.0 + 1e-6 {
        notices.push(Notice::new(
            "face.upscaled",
            format!("人脸分辨率偏低, 已放大 {:.2} 倍 (上限 {:.2})", place.scale, opts.max_upscale),
            format!("the face was upscaled {:.2}x (limit {:.2}x): a sharper photo gives a better result", place.scale, opts.max_upscale),
        ));
    }
    // how far the face was enlarged from the photo's own pixels (OFIQ has no measure; the
    // hard limit is `max_upscale`, beyond which the photo is refused)
    let mut res = RuleResult::range(
        "face.source_resolution",
        place.scale / f64::from(reduction),
        None,
        Some(1.0),
        "ratio",
    );
    if res.status == Status::Fail {
        res.status = Status::Warn;
    }
    report.rules.push(res);
    report.notices.extend(notices);
    Ok(Made::Done(Box::new(Output {
        width: out_w,
        height: out_h,
        quality: enc.quality,
        jpeg: enc.bytes,
        report,
        timings,
        source_reduction: 1,
    })))
}

/// The crown's y in output pixels as `check` measured it: from the crown margin, or from the
/// head height and the (planned) chin.
fn measured_crown_y(report: &Report, chin_y: f32) -> Option<f32> {
    if let Some(v) = report.rule("geometry.crown_margin").and_then(|r| r.value) {
        return Some(v as f32);
    }
    report
        .rule("geometry.head_height")
        .and_then(|r| r.value)
        .map(|hh| chin_y - hh as f32)
}

/// Renders colour and alpha for a placement. Pixels outside the photo become background above
/// the chin (an error if the person continues there) and extended clothing below it.
#[allow(clippy::too_many_arguments)]
fn render_with_alpha(
    img: &RgbImage,
    levelled: Option<&Levelled>,
    alpha_w: &Plane,
    place: &Placement,
    theta: f32,
    c: Point,
    work: (f64, f64, f64),
    head: &Head,
    out_w: u32,
    out_h: u32,
    notices: &mut Vec<Notice>,
) -> Result<(RgbImage, Plane)> {
    let (x0, y0, s0) = work;
    let rgb = render(img, levelled, place, theta, c, out_w, out_h)?;
    // output px -> working px
    let k = (s0 / place.scale) as f32;
    let map_ow = Affine {
        m: [
            k,
            0.0,
            ((place.ox - x0) * s0) as f32,
            0.0,
            k,
            ((place.oy - y0) * s0) as f32,
        ],
    };
    let mut alpha = alpha_w.warp(&map_ow, out_w, out_h);
    // output px -> source, to know which pixels lie outside the photo
    let map_os = frame_to_source(place.ox, place.oy, place.scale, theta, c);
    let chin_out = (place.scale * (head.chin_y as f64 - place.oy)) as f32;
    let (sw, sh) = (img.width() as f32, img.height() as f32);
    let mut extended_body = false;
    // the output's pixel centres map to a parallelogram: when its corners lie in the photo,
    // every pixel does
    let inside = |u: f32, v: f32| {
        let p = map_os.apply(Point::new(u, v));
        p.x >= 0.0 && p.y >= 0.0 && p.x <= sw && p.y <= sh
    };
    let (last_u, last_v) = (out_w as f32 - 0.5, out_h as f32 - 0.5);
    let all_inside =
        inside(0.5, 0.5) && inside(last_u, 0.5) && inside(0.5, last_v) && inside(last_u, last_v);
    if !all_inside {
        for v in 0..out_h {
            for u in 0..out_w {
                let p = map_os.apply(Point::new(u as f32 + 0.5, v as f32 + 0.5));
                if !(p.x < 0.0 || p.y < 0.0 || p.x > sw || p.y > sh) {
                    continue;
                }
                let i = (v * out_w + u) as usize;
                if (v as f32) < chin_out {
                    if alpha.data[i] > 0.5 {
                        let edge = if p.y < 0.0 {
                            "top"
                        } else if p.x < 0.0 {
                            "left"
                        } else {
                            "right"
                        };
                        return Err(Error::FaceCut { edge: edge.into() });
                    }
                    alpha.data[i] = 0.0;
                } else if alpha.data[i] > 0.5 {
                    extended_body = true;
                }
            }
        }
    }
    if extended_body && !notices.iter().any(|n| n.code == "crop.body_extended") {
        notices.push(Notice::new(
            "crop.body_extended",
            "照片下方或两侧空间不足, 衣服部分已延伸填充",
            "the photo ends above the required frame: clothing at the edge was extended",
        ));
    }
    Ok((rgb, alpha))
}

/// Solves the placement, refusing faces that would need more than `max_upscale`.
fn solve_limited(
    rules: &[PxRule],
    head: &Head,
    w: u32,
    h: u32,
    max_upscale: f64,
) -> Result<Placement> {
    let free = geometry::solve(rules, head, w, h, f64::INFINITY);
    if free.placement.scale <= max_upscale {
        return Ok(free.placement);
    }
    let limited = geometry::solve(rules, head, w, h, max_upscale);
    let newly_broken = limited
        .violated
        .iter()
        .any(|r| geometry::is_scale_rule(*r) && !free.violated.contains(r));
    if newly_broken {
        // smallest scale meeting the scale rules the free solution meets
        let kept: Vec<PxRule> = rules
            .iter()
            .filter(|r| !free.violated.contains(&r.rule))
            .cloned()
            .collect();
        let s_need = geometry::min_scale(&kept, head).max(1e-6);
        return Err(Error::FaceTooSmall {
            face_px: head.face_width,
            min_face_px: (head.face_width as f64 * s_need / max_upscale) as f32,
        });
    }
    Ok(limited.placement)
}

/// Renders the output's colour pixels: one Lanczos resize from the source (after an exact
/// rotation at source resolution when the eyes must be levelled).
fn render(
    img: &RgbImage,
    levelled: Option<&Levelled>,
    p: &Placement,
    theta: f32,
    c: Point,
    w: u32,
    h: u32,
) -> Result<RgbImage> {
    let (vw, vh) = (w as f64 / p.scale, h as f64 / p.scale);
    if let Some(lv) = levelled {
        let (cx, cy) = ((p.ox - lv.bx) * lv.scale, (p.oy - lv.by) * lv.scale);
        let (cw, ch) = (vw * lv.scale, vh * lv.scale);
        if cx >= 0.0
            && cy >= 0.0
            && cx + cw <= lv.img.width() as f64
            && cy + ch <= lv.img.height() as f64
        {
            return resize_rgb(&lv.img, (cx, cy, cw, ch), w, h);
        }
    }
    // integer box in the levelled frame around the crop, with room for the filter
    let pad = 4.0;
    let bx = (p.ox - pad).floor();
    let by = (p.oy - pad).floor();
    let bw = ((p.ox + vw + pad).ceil() - bx).max(1.0) as u32;
    let bh = ((p.oy + vh + pad).ceil() - by).max(1.0) as u32;
    let inside = theta == 0.0
        && bx >= 0.0
        && by >= 0.0
        && bx + bw as f64 <= img.width() as f64
        && by + bh as f64 <= img.height() as f64;
    if inside {
        return resize_rgb(img, (p.ox, p.oy, vw, vh), w, h);
    }
    let region = if theta == 0.0 {
        // copy with edge clamping (no resampling)
        let (iw, ih) = (img.width() as i64, img.height() as i64);
        RgbImage::from_fn(bw, bh, |x, y| {
            let sx = (bx as i64 + x as i64).clamp(0, iw - 1) as u32;
            let sy = (by as i64 + y as i64).clamp(0, ih - 1) as u32;
            *img.get_pixel(sx, sy)
        })
    } else {
        let map = frame_to_source(bx, by, 1.0, theta, c);
        warp_rgb(img, &map, bw, bh)?
    };
    resize_rgb(&region, (p.ox - bx, p.oy - by, vw, vh), w, h)
}

/// The working region rotated once into the levelled frame, for heads that must be levelled:
/// every render pass crops from it. Sampled at source resolution, or lower when that would
/// exceed 4 MP (then the final resize still shrinks by at least 2x).
pub(crate) struct Levelled {
    img: RgbImage,
    /// Levelled-frame coordinates of the image's top-left corner.
    bx: f64,
    by: f64,
    /// Pixels of `img` per levelled-frame pixel.
    scale: f64,
}

impl Levelled {
    fn new(
        src: &RgbImage,
        region: (f64, f64, f64, f64),
        out_scale: f64,
        theta: f32,
        c: Point,
    ) -> Result<Levelled> {
        let (x0, y0, rw, rh) = region;
        let scale = (4.0e6 / (rw * rh)).sqrt().max(2.0 * out_scale).min(1.0);
        let w = ((rw * scale).ceil() as u32).max(1);
        let h = ((rh * scale).ceil() as u32).max(1);
        let map = frame_to_source(x0, y0, scale, theta, c);
        let img = warp_rgb(src, &map, w, h)?;
        Ok(Levelled {
            img,
            bx: x0,
            by: y0,
            scale,
        })
    }
}

/// Checks encoded image bytes against a spec: file rules, then every geometric rule measured
/// on the image.
pub fn check(bytes: &[u8], spec: &Spec) -> Result<Report> {
    spec.validate()?;
    let info = decode::inspect(bytes)?;
    let decoded = decode::decode(bytes, &Limits::default())?;
    validate::check_decoded(&decoded.image, spec, Some((&info, bytes.len())))
}

/// Status of geometric rules that fail: `waived` when even the best placement of this head
/// cannot meet them together with higher-precedence rules.
pub(crate) fn waive(results: &mut [RuleResult], rules: &[PxRule], head: &Head, w: u32, h: u32) {
    let best = geometry::solve(rules, head, w, h, f64::INFINITY);
    for r in results.iter_mut() {
        if r.status != Status::Fail {
            continue;
        }
        let Some(rule) = GeometryRule::ALL
            .iter()
            .find(|g| r.code == format!("geometry.{}", g.name()))
        else {
            continue;
        };
        if best.violated.contains(rule) {
            r.status = Status::Waived;
            r.message_en = format!(
                "{} (waived: cannot hold together with higher-precedence rules for this head)",
                r.message_en
            );
            r.message_zh = format!("{} (按规格优先级豁免)", r.message_zh);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::presets;

    /// obama1.jpg: the White House facade behind the speaker gives a weak detection that the
    /// landmark model may accept (its presence moves with the crop); the detector's second
    /// opinion rejects it and keeps the speaker.
    #[test]
    fn a_facade_is_not_a_second_face() {
        let Some(shared) = crate::models::tests::shared_dir() else {
            return;
        };
        let img = image::open(shared.join("data/portraits/obama1.jpg"))
            .unwrap()
            .to_rgb8();
        let faces = detect_faces(&img, &DetectOptions::default()).unwrap();
        let mut kept = Vec::new();
        for f in &faces {
            let lm = landmarks::landmarks_refined(&img, f).unwrap();
            let c = detect::confirm(&img, &lm).unwrap();
            eprintln!(
                "{:?} presence {} confirm {c}",
                (f.x, f.w, f.score),
                lm.presence
            );
            if is_face(&img, f, &lm).unwrap() {
                kept.push(f.x);
            }
        }
        assert!(
            faces.len() >= 2,
            "the facade is no longer detected: {faces:?}"
        );
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert!(kept[0] < 700.0, "the speaker is at x ~500: {kept:?}");
    }

    /// The start of a baseline JPEG with a `w`x`h` frame header (enough for the header parse).
    fn jpeg_header(w: u16, h: u16) -> Vec<u8> {
        let mut b = vec![0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x11, 0x08];
        b.extend_from_slice(&h.to_be_bytes());
        b.extend_from_slice(&w.to_be_bytes());
        b.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        b.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 3, 1, 0, 2, 0x11, 3, 0x11]);
        b
    }

    #[test]
    fn reduction_keeps_the_face_pixels_the_spec_needs() {
        let spec = presets::get("cn-id-card").unwrap();
        let (w, h) = (spec.pixels.width, spec.pixels.height);
        let o = Options::default();
        // about 207 px of face needed: a fifth of 3000 px is 600, so half size is enough
        assert_eq!(
            initial_reduction(&jpeg_header(4000, 3000), &spec, w, h, &o),
            2
        );
        assert_eq!(
            initial_reduction(&jpeg_header(8000, 6000), &spec, w, h, &o),
            4
        );
        assert_eq!(
            initial_reduction(&jpeg_header(1200, 900), &spec, w, h, &o),
            1
        );
        // PNG and unreadable headers: full size
        assert_eq!(initial_reduction(b"\x89PNG\r\n\x1a\n", &spec, w, h, &o), 1);
        // a host face box of 900 px allows a quarter
        let hint = Options {
            face: Some(FaceHint {
                bbox: [100.0, 100.0, 900.0, 900.0],
                right_eye: None,
                left_eye: None,
            }),
            ..Options::default()
        };
        assert_eq!(
            initial_reduction(&jpeg_header(4000, 3000), &spec, w, h, &hint),
            4
        );
        // the next decode is the largest reduction where no upscaling is needed
        assert_eq!(finer_reduction(8, 1.5), 4);
        assert_eq!(finer_reduction(8, 3.0), 2);
        assert_eq!(finer_reduction(4, 1.2), 2);
        assert_eq!(finer_reduction(2, 1.2), 1);
        assert_eq!(finer_reduction(8, 20.0), 1);
        let s = scale_options(&hint, 4);
        assert_eq!(s.face.unwrap().bbox, [25.0, 25.0, 225.0, 225.0]);
    }

    #[test]
    fn source_resolution_warns_when_the_face_was_upscaled() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let full = image::open(dir.join("obama.jpg")).unwrap().to_rgb8();
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options {
            max_upscale: 3.0,
            ..Options::default()
        };
        let rule = |img: &RgbImage| {
            let out = process_image(img, &spec, &o).unwrap();
            out.report.rule("face.source_resolution").unwrap().clone()
        };
        let r = rule(&full);
        assert_eq!(r.status, Status::Pass, "{r:?}");
        assert!(r.value.unwrap() < 1.0);
        let small = image::imageops::resize(
            &full,
            full.width() * 2 / 5,
            full.height() * 2 / 5,
            image::imageops::FilterType::Triangle,
        );
        let r = rule(&small);
        assert_eq!(r.status, Status::Warn, "{r:?}");
        assert!(r.value.unwrap() > 1.0, "{r:?}");
    }

    #[test]
    fn small_face_in_a_large_photo_is_decoded_finer() {
        // the fixture portrait at the bottom of a 3600x4800 canvas: a fifth of the short side
        // at half size would be enough, but this face is not, so the photo is decoded again
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let small = image::open(dir.join("obama.jpg")).unwrap().to_rgb8();
        let fill = *small.get_pixel(0, 0);
        let mut canvas = RgbImage::from_pixel(3600, 4800, fill);
        image::imageops::replace(&mut canvas, &small, 1345, i64::from(4800 - small.height()));
        let bytes = encode::encode_jpeg(&canvas, 72, (None, None))
            .unwrap()
            .bytes;
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options::default();
        assert_eq!(initial_reduction(&bytes, &spec, 358, 441, &o), 2);
        let out = process(&bytes, &spec, &o).unwrap();
        assert_eq!(out.source_reduction, 1);
        let full = process_image(&canvas, &spec, &o).unwrap();
        for r in &out.report.rules {
            if r.code.starts_with("geometry.") {
                let f = full.report.rule(&r.code).unwrap();
                assert_eq!(r.status, f.status, "{r:?} / {f:?}");
                assert!(
                    (r.value.unwrap() - f.value.unwrap()).abs() < 1.0,
                    "{r:?} / {f:?}"
                );
            }
        }
    }

    #[test]
    fn reduced_decode_gives_the_same_photo() {
        let Some(shared) = crate::models::tests::shared_dir() else {
            return;
        };
        let bytes = std::fs::read(shared.join("data/bench/phone12mp_exif6.jpg")).unwrap();
        let spec = presets::get("cn-id-card").unwrap();
        let o = Options::default();
        let reduced = process(&bytes, &spec, &o).unwrap();
        assert_eq!(reduced.source_reduction, 2);
        let full_img = decode::decode(&bytes, &Limits::default()).unwrap().image;
        let full = process_image(&full_img, &spec, &o).unwrap();
        // the subject looks up and aside (pose fails in both): the rules the pipeline
        // controls must pass
        for r in &reduced.report.rules {
            if ["geometry.", "file.", "background."]
                .iter()
                .any(|p| r.code.starts_with(p))
            {
                assert!(
                    matches!(r.status, Status::Pass | Status::Waived | Status::Warn),
                    "{r:?}"
                );
            }
        }
        for code in [
            "geometry.crown_margin",
            "geometry.face_width",
            "geometry.eye_line_from_bottom",
        ] {
            let v = |r: &Report| r.rule(code).and_then(|r| r.value);
            let (a, b) = (v(&reduced.report), v(&full.report));
            assert!(
                matches!((a, b), (Some(a), Some(b)) if (a - b).abs() <= 3.0),
                "{code}: reduced {a:?}, full {b:?}"
            );
        }
        let (a, b) = (
            image::load_from_memory(&reduced.jpeg).unwrap().to_rgb8(),
            image::load_from_memory(&full.jpeg).unwrap().to_rgb8(),
        );
        let diff: f64 = a
            .as_raw()
            .iter()
            .zip(b.as_raw())
            .map(|(x, y)| (f64::from(*x) - f64::from(*y)).abs())
            .sum::<f64>()
            / a.as_raw().len() as f64;
        assert!(diff < 6.0, "mean abs difference {diff:.2}");
    }
}
