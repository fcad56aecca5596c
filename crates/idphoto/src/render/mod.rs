//! Rendering the output: the photo cropped, levelled and resized to the output size in one
//! resampling, and the matte warped to the same pixels.

mod frame;
mod levelled;

use image::RgbImage;

use crate::error::{Error, Result};
use crate::geometry::{Head, Placement};
use crate::raster::{resize_rgb, warp_rgb, Affine, Plane, Point};
use crate::report::Notice;
pub(crate) use frame::{frame_to_source, rotate};
pub(crate) use levelled::Levelled;

/// Renders colour and alpha for a placement. Pixels outside the photo become background above
/// the chin (an error if the person continues there) and extended clothing below it.
#[allow(clippy::too_many_arguments)]
pub(crate) fn render_with_alpha(
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
