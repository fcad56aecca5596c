//! The colour-guided filter (He, Sun and Tang) and its fast variant (He and Sun 2015, arXiv
//! 1505.00996): coefficients fitted at low resolution, applied to the full-resolution guide.

use image::RgbImage;

use super::box_filter::box_mean_streamed;
use crate::error::Result;
use crate::raster::Plane;

/// Colour guided filter coefficients: for each pixel, `q = a . I + b` fitted to `p` in a
/// (2r+1)^2 window with regulariser `eps`. Returns (a_r, a_g, a_b, b), box-averaged; zeros
/// when `guide` and `p` differ in size (the callers check sizes first).
pub fn guided_coefficients(guide: &RgbImage, p: &Plane, r: usize, eps: f32) -> [Plane; 4] {
    let (w, h) = (p.width, p.height);
    let n = p.data.len();
    let mut out: [Plane; 4] = std::array::from_fn(|_| Plane::filled(w, h, 0.0));
    if guide.dimensions() != (w, h) || n != (w * h) as usize || n == 0 {
        return out;
    }
    let (wu, hu) = (w as usize, h as usize);
    let raw = guide.as_raw();
    // per pixel: I (3), p, I * p (3), the six products I_a * I_b; one box mean for all
    const K: usize = 13;
    let products = |y: usize, row: &mut [f32]| {
        let px = raw[y * wu * 3..(y + 1) * wu * 3].chunks_exact(3);
        for ((px, &pv), o) in px
            .zip(&p.data[y * wu..(y + 1) * wu])
            .zip(row.chunks_exact_mut(K))
        {
            let i = [
                px[0] as f32 / 255.0,
                px[1] as f32 / 255.0,
                px[2] as f32 / 255.0,
            ];
            o.copy_from_slice(&[
                i[0],
                i[1],
                i[2],
                pv,
                i[0] * pv,
                i[1] * pv,
                i[2] * pv,
                i[0] * i[0],
                i[0] * i[1],
                i[0] * i[2],
                i[1] * i[1],
                i[1] * i[2],
                i[2] * i[2],
            ]);
        }
    };
    // the coefficients (a_r, a_g, a_b, b) of each pixel, interleaved
    let mut coef = vec![0f32; n * 4];
    let solve = |y: usize, means: &[f32]| {
        let row = &mut coef[y * wu * 4..(y + 1) * wu * 4];
        for (m, out) in means.chunks_exact(K).zip(row.chunks_exact_mut(4)) {
            let mi = [m[0], m[1], m[2]];
            let mp = m[3];
            let c = [m[4] - mi[0] * mp, m[5] - mi[1] * mp, m[6] - mi[2] * mp];
            let s00 = m[7] - mi[0] * mi[0] + eps;
            let s01 = m[8] - mi[0] * mi[1];
            let s02 = m[9] - mi[0] * mi[2];
            let s11 = m[10] - mi[1] * mi[1] + eps;
            let s12 = m[11] - mi[1] * mi[2];
            let s22 = m[12] - mi[2] * mi[2] + eps;
            // inverse of the symmetric 3x3 matrix
            let i00 = s11 * s22 - s12 * s12;
            let i01 = s02 * s12 - s01 * s22;
            let i02 = s01 * s12 - s02 * s11;
            let i11 = s00 * s22 - s02 * s02;
            let i12 = s01 * s02 - s00 * s12;
            let i22 = s00 * s11 - s01 * s01;
            let det = s00 * i00 + s01 * i01 + s02 * i02;
            let inv = if det.abs() > 1e-12 { 1.0 / det } else { 0.0 };
            let a0 = (i00 * c[0] + i01 * c[1] + i02 * c[2]) * inv;
            let a1 = (i01 * c[0] + i11 * c[1] + i12 * c[2]) * inv;
            let a2 = (i02 * c[0] + i12 * c[1] + i22 * c[2]) * inv;
            out.copy_from_slice(&[a0, a1, a2, mp - a0 * mi[0] - a1 * mi[1] - a2 * mi[2]]);
        }
    };
    box_mean_streamed::<K>((wu, hu, r), products, solve);
    // the coefficients box-averaged, into four planes
    let rw = wu * 4;
    box_mean_streamed::<4>(
        (wu, hu, r),
        |y, row| row.copy_from_slice(&coef[y * rw..(y + 1) * rw]),
        |y, means| {
            for (x, m) in means.chunks_exact(4).enumerate() {
                for (k, plane) in out.iter_mut().enumerate() {
                    plane.data[y * wu + x] = m[k];
                }
            }
        },
    );
    out
}

/// Fast guided filter upsampling: coefficients computed at low resolution (`guide_low`, `p`
/// of the same size), bilinearly upsampled and applied to the full-resolution `guide`.
pub fn guided_upsample(
    guide: &RgbImage,
    guide_low: &RgbImage,
    p: &Plane,
    r: usize,
    eps: f32,
) -> Result<Plane> {
    let coef = guided_coefficients(guide_low, p, r, eps);
    let (w, h) = guide.dimensions();
    let up: Vec<Plane> = coef.iter().map(|c| c.resize(w, h)).collect::<Result<_>>()?;
    let mut out = Plane::filled(w, h, 0.0);
    for (k, px) in guide.as_raw().chunks_exact(3).enumerate() {
        let v = up[0].data[k] * px[0] as f32 / 255.0
            + up[1].data[k] * px[1] as f32 / 255.0
            + up[2].data[k] * px[2] as f32 / 255.0
            + up[3].data[k];
        out.data[k] = v.clamp(0.0, 1.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guided_filter_follows_guide_edge() {
        // guide: sharp vertical edge at x = 40; mask: blurry ramp around x = 40
        let guide = RgbImage::from_fn(80, 40, |x, _| {
            if x < 40 {
                image::Rgb([20, 20, 200])
            } else {
                image::Rgb([230, 200, 180])
            }
        });
        let mut p = Plane::filled(80, 40, 0.0);
        for y in 0..40 {
            for x in 0..80 {
                p.data[(y * 80 + x) as usize] = ((x as f32 - 35.0) / 10.0).clamp(0.0, 1.0);
            }
        }
        let q = guided_upsample(&guide, &guide, &p, 6, 1e-4).unwrap();
        // the filtered matte is near-binary on both sides of the guide's edge
        assert!(q.at(36, 20) < 0.2, "{}", q.at(36, 20));
        assert!(q.at(44, 20) > 0.8, "{}", q.at(44, 20));
    }
}
