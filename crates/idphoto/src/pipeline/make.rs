//! Making the photo from decoded pixels: the face, the levelled frame, the matte of a working
//! region, the crown, then render, composite, encode and re-check until the crown measured on
//! the output is where it was aimed.

use image::RgbImage;

use super::{ms, Instant, Made, Output, Timings, REDUCED_MAX_SCALE};
use crate::encode::{self, Encoded};
use crate::error::{Error, Result};
use crate::face::{check_face_inside, find_face, upside_down, Landmarks};
use crate::geometry::{
    self, find_crown, needed_face_px, solve_limited, Head, Placement, PxRule, CROWN_FALLBACK_RATIO,
};
use crate::matte;
use crate::nn::Networks;
use crate::options::{background_rgb, output_size, Options};
use crate::raster::{warp_rgb, Affine, Plane, Point};
use crate::render::{frame_to_source, render_with_alpha, rotate, Levelled};
use crate::report::{Notice, Report, RuleResult, Status};
use crate::spec::Spec;

/// What one photo is made for: the photo, the spec and options, and what follows from them.
struct Job<'a> {
    nets: &'a Networks,
    img: &'a RgbImage,
    spec: &'a Spec,
    opts: &'a Options,
    rules: Vec<PxRule>,
    out_w: u32,
    out_h: u32,
    /// Background colour.
    bg: [u8; 3],
}

/// The region around the output that the matte is made of, in the levelled frame.
struct Work {
    /// Levelled-frame origin of the region.
    x0: f64,
    y0: f64,
    /// Working pixels per levelled pixel.
    ws: f64,
    /// Working pixels -> source pixels.
    map: Affine,
    /// The region rotated once at about source resolution, for a head that is levelled.
    levelled: Option<Levelled>,
    /// Roll correction (radians) about the eye midpoint `c`.
    theta: f32,
    c: Point,
}

/// Makes the photo from `img`, decoded at 1/`reduction` of the photo's size; when reduced,
/// returns [`Made::NeedsScale`] instead of upscaling. A photo turned upside down (its face
/// upside down, or no face found until it is turned) is made turned by 180 degrees, with the
/// notice `face.upside_down`; a host's face box is taken as it is.
pub(super) fn make(
    nets: &Networks,
    img: &RgbImage,
    spec: &Spec,
    opts: &Options,
    reduction: u32,
) -> Result<Made> {
    let turned = || image::imageops::rotate180(img);
    match make_as_is(nets, img, spec, opts, reduction, false) {
        Err(Error::NoFace) if opts.face.is_none() => {
            make_as_is(nets, &turned(), spec, opts, reduction, true)?.ok_or(Error::NoFace)
        }
        Ok(None) => make_as_is(nets, &turned(), spec, opts, reduction, true)?.ok_or(Error::NoFace),
        made => made?.ok_or(Error::NoFace),
    }
}

/// [`make`] of `img` as it is, `None` if its face is upside down; `turned` says it was turned
/// by 180 degrees already.
fn make_as_is(
    nets: &Networks,
    img: &RgbImage,
    spec: &Spec,
    opts: &Options,
    reduction: u32,
    turned: bool,
) -> Result<Option<Made>> {
    opts.validate()?;
    let mut timings = Timings::default();
    let (out_w, out_h) = output_size(spec, opts)?;
    let job = Job {
        nets,
        img,
        spec,
        opts,
        rules: geometry::px_rules(spec, out_w, out_h),
        out_w,
        out_h,
        bg: background_rgb(spec, opts)?,
    };
    let mut notices = Vec::new();

    // 1. the face and its landmarks
    let t = Instant::now();
    let needed = needed_face_px(&job.rules) / opts.max_upscale.max(1.0) as f32;
    let (_face, lm) = find_face(nets, img, opts.face.as_ref(), needed, &mut notices)?;
    if opts.face.is_none() && upside_down(nets, img, &lm)? {
        return Ok(None);
    }
    if turned {
        notices.push(Notice::new(
            "face.upside_down",
            "照片上下颠倒, 已旋转 180 度",
            "the photo was upside down: it was turned by 180 degrees",
        ));
    }
    check_face_inside(img, &lm)?;
    timings.detect_ms = ms(t);

    // 2. levelled frame: rotate about the eye midpoint so the eyes are level
    let (theta, mut head) = levelled_head(&lm, &mut notices);

    // 3. preliminary placement (landmark crown) and the upscale limit
    if reduction > 1 {
        let free = geometry::solve(&job.rules, &head, out_w, out_h, f64::INFINITY);
        if free.placement.scale > REDUCED_MAX_SCALE {
            return Ok(Some(Made::NeedsScale(free.placement.scale)));
        }
    }
    let prelim = solve_limited(&job.rules, &head, out_w, out_h, opts.max_upscale)?;

    // 4. working region around the output, at about the output's scale, and its matte
    let t = Instant::now();
    let (work, ww, wh) = work_region(&job, &prelim, theta, head.eye_mid)?;
    let alpha_w = work_matte(&job, &work, (ww, wh), &head, t, &mut timings, &mut notices)?;

    // 5. crown from the matte
    let t = Instant::now();
    crown_from_matte(&alpha_w, &work, &mut head, &mut notices)?;
    timings.refine_ms += ms(t);

    // 6-10. final placement, render, composite, encode, check
    let (enc, mut report, place) =
        render_until_crown_holds(&job, &work, &alpha_w, &mut head, &mut timings, &mut notices)?;
    finish_report(&mut report, &place, opts.max_upscale, reduction, notices);
    Ok(Some(Made::Done(Box::new(Output {
        width: out_w,
        height: out_h,
        quality: enc.quality,
        jpeg: enc.bytes,
        report,
        timings,
        source_reduction: 1,
    }))))
}

/// The roll correction (radians; 0 below 1 degree) and the head measured in the levelled
/// frame, with the crown estimated from face proportions until the matte gives it.
fn levelled_head(lm: &Landmarks, notices: &mut Vec<Notice>) -> (f32, Head) {
    let roll = lm.roll_deg();
    let theta = if roll.abs() > 1.0 {
        roll.to_radians()
    } else {
        0.0
    };
    let c = lm.eye_mid();
    let to_l = |p: Point| rotate(p, c, -theta);
    let chin_y = to_l(lm.chin()).y;
    let head = Head {
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
    (theta, head)
}

/// The working region around the preliminary placement's output (wider, and taller above the
/// head), and its size in working pixels.
fn work_region(job: &Job, prelim: &Placement, theta: f32, c: Point) -> Result<(Work, u32, u32)> {
    let s0 = prelim.scale;
    let (vw, vh) = (job.out_w as f64 / s0, job.out_h as f64 / s0);
    let (x0, y0) = (prelim.ox - 0.12 * vw, prelim.oy - 0.30 * vh);
    let (rw, rh) = (vw * 1.24, vh * 1.40);
    // the matte is made at the output's scale, or at the photo's own when the face is
    // enlarged: upsampling the photo first would add pixels but no detail
    let ws = s0.min(1.0);
    let ww = ((rw * ws).round() as u32).max(16);
    let wh = ((rh * ws).round() as u32).max(16);
    let map = frame_to_source(x0, y0, ws, theta, c);
    // a levelled head is rotated once at about source resolution for every render pass;
    // when the working region has that same scale (the face is enlarged), that rotation is
    // the working image too
    let levelled = if theta != 0.0 {
        Some(Levelled::new(job.img, (x0, y0, rw, rh), s0, theta, c)?)
    } else {
        None
    };
    let work = Work {
        x0,
        y0,
        ws,
        map,
        levelled,
        theta,
        c,
    };
    Ok((work, ww, wh))
}

/// The refined matte of the working region: segmentation, only the subject kept, refined.
/// Records the segmentation time from `t` and the refinement time.
#[allow(clippy::too_many_arguments)]
fn work_matte(
    job: &Job,
    work: &Work,
    (ww, wh): (u32, u32),
    head: &Head,
    t: Instant,
    timings: &mut Timings,
    notices: &mut Vec<Notice>,
) -> Result<Plane> {
    let shared = work
        .levelled
        .as_ref()
        .filter(|lv| lv.scale == work.ws && lv.img.width() >= ww && lv.img.height() >= wh);
    let owned;
    let img = match shared {
        Some(lv) => &lv.img,
        None => {
            owned = warp_rgb(job.img, &work.map, ww, wh)?;
            &owned
        }
    };
    let (ww, wh) = img.dimensions();
    let (mut mask, small) = matte::segment_with(job.nets, img, job.opts.segmentation)?;
    // only the subject: the eye midpoint in the mask's pixels
    let (c, ws) = (work.c, work.ws);
    let eye_m = (
        ((c.x as f64 - work.x0) * ws * mask.width as f64 / ww as f64) as f32,
        ((c.y as f64 - work.y0) * ws * mask.height as f64 / wh as f64) as f32,
    );
    let face_m = (head.face_width as f64 * ws * mask.width as f64 / ww as f64) as f32;
    matte::keep_subject(&mut mask, eye_m, face_m);
    timings.segment_ms = ms(t);
    let t = Instant::now();
    let (alpha_w, matte_info) = matte::refine_with_info(img, &mask, &small, &Default::default())?;
    notices.extend(matte_info.notices());
    timings.refine_ms += ms(t);
    Ok(alpha_w)
}

/// Sets the head's crown from the matte when it is plausible (else keeps the estimate and
/// says so); a crown cut by the photo's top edge is [`Error::FaceCut`].
fn crown_from_matte(
    alpha_w: &Plane,
    work: &Work,
    head: &mut Head,
    notices: &mut Vec<Notice>,
) -> Result<()> {
    let ws = work.ws;
    let to_w = |p: Point| {
        Point::new(
            ((p.x as f64 - work.x0) * ws) as f32,
            ((p.y as f64 - work.y0) * ws) as f32,
        )
    };
    let eye_w = to_w(head.eye_mid);
    let estimated = || {
        Notice::new(
            "geometry.crown_estimated",
            "无法准确检测头顶位置, 已按脸部比例估计",
            "the top of the hair could not be found reliably; estimated from face proportions",
        )
    };
    match find_crown(alpha_w, eye_w, head.face_width * ws as f32) {
        Some((crown_w, hit_top)) => {
            let crown_l = (work.y0 + crown_w as f64 / ws) as f32;
            let ratio = (head.eye_mid.y - crown_l) / (head.chin_y - head.eye_mid.y).max(1.0);
            let top_src = work.map.apply(Point::new(eye_w.x, 0.5));
            if hit_top && top_src.y < 0.0 {
                return Err(Error::FaceCut { edge: "top".into() });
            }
            if (0.7..=1.9).contains(&ratio) && !hit_top {
                head.crown_y = crown_l;
            } else {
                notices.push(estimated());
            }
        }
        None => notices.push(estimated()),
    }
    Ok(())
}

/// Places, renders, composites, encodes and checks the photo. `check` measures the crown on
/// the encoded result with its own matte; when a crown rule fails there (or, on the first
/// pass, the crown lies more than 3 px from where it was aimed), the placement is corrected
/// by the difference and the photo made again (at most twice).
fn render_until_crown_holds(
    job: &Job,
    work: &Work,
    alpha_w: &Plane,
    head: &mut Head,
    timings: &mut Timings,
    notices: &mut Vec<Notice>,
) -> Result<(Encoded, Report, Placement)> {
    let (out_w, out_h) = (job.out_w, job.out_h);
    let mut pass = 0;
    loop {
        let t = Instant::now();
        let place = solve_limited(&job.rules, head, out_w, out_h, job.opts.max_upscale)?;
        let (rgb, alpha) = render_with_alpha(
            job.img,
            work.levelled.as_ref(),
            alpha_w,
            &place,
            work.theta,
            work.c,
            (work.x0, work.y0, work.ws),
            head,
            out_w,
            out_h,
            notices,
        )?;
        timings.crop_resize_ms += ms(t);
        let t = Instant::now();
        let composed = matte::composite_with_foreground(&rgb, &alpha, job.bg);
        timings.refine_ms += ms(t);
        let t = Instant::now();
        let enc = encode::encode_jpeg(&composed, job.spec.dpi, job.spec.byte_window())?;
        timings.encode_ms += ms(t);
        let t = Instant::now();
        let report = super::check(job.nets, &enc.bytes, job.spec)?;
        timings.check_ms += ms(t);
        pass += 1;
        timings.passes = pass;
        let planned = place.apply(head);
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
            _ => return Ok((enc, report, place)),
        }
    }
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

/// Adds what only `process` knows to the re-check's report: how far the face was enlarged
/// (a notice, and the `face.source_resolution` rule) and the notices of the making.
fn finish_report(
    report: &mut Report,
    place: &Placement,
    max_upscale: f64,
    reduction: u32,
    notices: Vec<Notice>,
) {
    let mut notices = notices;
    if place.scale > 1.0 + 1e-6 {
        notices.push(Notice::new(
            "face.upscaled",
            format!("人脸分辨率偏低, 已放大 {:.2} 倍 (上限 {:.2})", place.scale, max_upscale),
            format!("the face was upscaled {:.2}x (limit {:.2}x): a sharper photo gives a better result", place.scale, max_upscale),
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
}
