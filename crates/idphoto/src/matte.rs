//! Person mask and its refinement: the selfie-segmentation model's 256x256 probability map,
//! upsampled to the working resolution with a colour-guided fast guided filter
//! (He and Sun 2015, arXiv 1505.00996) so that the matte's edges follow the photo.

use image::RgbImage;

use crate::error::Result;
use crate::models;
use crate::raster::{downscale_to, Plane};

/// Side of the segmentation model's square input.
pub const SEG_SIZE: u32 = 256;

/// Runs the segmentation model on `img` (resized, not cropped, to 256x256) and returns the
/// person probability at 256x256.
pub fn segment(img: &RgbImage) -> Result<(Plane, RgbImage)> {
    let small = downscale_to(img, SEG_SIZE, SEG_SIZE)?;
    let input: Vec<f32> = small.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
    let out = models::segmenter()?.run(input)?;
    let data = out.into_iter().next().unwrap_or_default();
    Ok((
        Plane {
            width: SEG_SIZE,
            height: SEG_SIZE,
            data,
        },
        small,
    ))
}

/// Box mean with radius `r` (window (2r+1)^2, clipped at the borders) via running sums.
pub fn box_mean(p: &Plane, r: usize) -> Plane {
    let (w, h) = (p.width as usize, p.height as usize);
    let mut tmp = vec![0f32; w * h];
    // horizontal pass
    for y in 0..h {
        let row = &p.data[y * w..(y + 1) * w];
        let mut acc: f32 = row[..=r.min(w - 1)].iter().sum();
        let mut cnt = r.min(w - 1) + 1;
        for x in 0..w {
            tmp[y * w + x] = acc / cnt as f32;
            let add = x + r + 1;
            if add < w {
                acc += row[add];
                cnt += 1;
            }
            if x >= r {
                acc -= row[x - r];
                cnt -= 1;
            }
        }
    }
    // vertical pass
    let mut out = vec![0f32; w * h];
    let mut acc = vec![0f32; w];
    let mut cnt = 0usize;
    for y in 0..=r.min(h - 1) {
        for x in 0..w {
            acc[x] += tmp[y * w + x];
        }
        cnt += 1;
    }
    for y in 0..h {
        for x in 0..w {
            out[y * w + x] = acc[x] / cnt as f32;
        }
        let add = y + r + 1;
        if add < h {
            for x in 0..w {
                acc[x] += tmp[add * w + x];
            }
            cnt += 1;
        }
        if y >= r {
            for x in 0..w {
                acc[x] -= tmp[(y - r) * w + x];
            }
            cnt -= 1;
        }
    }
    Plane {
        width: p.width,
        height: p.height,
        data: out,
    }
}

fn channels(img: &RgbImage) -> [Plane; 3] {
    let (w, h) = img.dimensions();
    let mut c = [
        Plane::filled(w, h, 0.0),
        Plane::filled(w, h, 0.0),
        Plane::filled(w, h, 0.0),
    ];
    for (i, px) in img.as_raw().chunks_exact(3).enumerate() {
        for k in 0..3 {
            c[k].data[i] = px[k] as f32 / 255.0;
        }
    }
    c
}

/// Colour guided filter coefficients: for each pixel, `q = a . I + b` fitted to `p` in a
/// (2r+1)^2 window with regulariser `eps`. Returns (a_r, a_g, a_b, b), box-averaged.
pub fn guided_coefficients(guide: &RgbImage, p: &Plane, r: usize, eps: f32) -> [Plane; 4] {
    let i = channels(guide);
    let n = p.data.len();
    let mean_i: Vec<Plane> = i.iter().map(|c| box_mean(c, r)).collect();
    let mean_p = box_mean(p, r);
    let prod = |a: &Plane, b: &Plane| Plane {
        width: a.width,
        height: a.height,
        data: a.data.iter().zip(&b.data).map(|(x, y)| x * y).collect(),
    };
    let cov_ip: Vec<Plane> = i.iter().map(|c| box_mean(&prod(c, p), r)).collect();
    let mut var = Vec::with_capacity(6);
    for (a, b) in [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)] {
        var.push(box_mean(&prod(&i[a], &i[b]), r));
    }
    let (w, h) = (p.width, p.height);
    let mut out = [
        Plane::filled(w, h, 0.0),
        Plane::filled(w, h, 0.0),
        Plane::filled(w, h, 0.0),
        Plane::filled(w, h, 0.0),
    ];
    for k in 0..n {
        let mi = [mean_i[0].data[k], mean_i[1].data[k], mean_i[2].data[k]];
        let mp = mean_p.data[k];
        let c = [
            cov_ip[0].data[k] - mi[0] * mp,
            cov_ip[1].data[k] - mi[1] * mp,
            cov_ip[2].data[k] - mi[2] * mp,
        ];
        let s00 = var[0].data[k] - mi[0] * mi[0] + eps;
        let s01 = var[1].data[k] - mi[0] * mi[1];
        let s02 = var[2].data[k] - mi[0] * mi[2];
        let s11 = var[3].data[k] - mi[1] * mi[1] + eps;
        let s12 = var[4].data[k] - mi[1] * mi[2];
        let s22 = var[5].data[k] - mi[2] * mi[2] + eps;
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
        out[0].data[k] = a0;
        out[1].data[k] = a1;
        out[2].data[k] = a2;
        out[3].data[k] = mp - a0 * mi[0] - a1 * mi[1] - a2 * mi[2];
    }
    out.map(|c| box_mean(&c, r))
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

/// Person matte of `img` at its own resolution: segmentation, then guided upsampling.
pub fn person_matte(img: &RgbImage) -> Result<Plane> {
    let (mask, small) = segment(img)?;
    // a second pass of the filter at full resolution sharpens the edge to the photo
    let coarse = guided_upsample(img, &small, &mask, 4, 1e-3)?;
    Ok(coarse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_of_constant_and_step() {
        let p = Plane::filled(9, 7, 2.0);
        assert!(box_mean(&p, 2).data.iter().all(|v| (v - 2.0).abs() < 1e-5));
        let mut s = Plane::filled(10, 1, 0.0);
        for x in 5..10 {
            s.data[x] = 1.0;
        }
        let m = box_mean(&s, 1);
        assert!((m.data[4] - 1.0 / 3.0).abs() < 1e-5);
        assert!((m.data[5] - 2.0 / 3.0).abs() < 1e-5);
        assert!((m.data[0]).abs() < 1e-6 && (m.data[9] - 1.0).abs() < 1e-6);
    }

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
