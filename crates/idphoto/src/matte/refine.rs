//! Refinement of the segmentation mask into an alpha matte at the photo's resolution: the
//! steps in order (each in its own file of this folder), on a grid of cells about a mask
//! pixel wide (`Grid`).

use image::RgbImage;

use super::band::{drop_detached, feather_band};
use super::cells::{cell_alpha, cell_coefficients, cell_means, Grid};
use super::colour_model::{band_params, BandSolve};
use super::options::{MatteInfo, RefineOptions};
use super::regions::{open_background_holes, plain_wall_regions, sure_regions, survey, Background};
use super::subject::solid_person;
use crate::error::{Error, Result};
use crate::raster::Plane;

/// Refines the segmentation model's 256x256 mask (`mask256`, computed on `small`, the image
/// resized to 256x256) to an alpha matte at the resolution of `img`.
///
/// 1. colour-guided fast guided filter (low-resolution coefficients, full-resolution guide);
/// 2. the person kept whole: detached blobs dropped, enclosed holes filled;
/// 3. inside an uncertain band around the contour, alpha from a local colour model: the
///    foreground and background colours near each pixel (pull-push fill from the sure
///    regions), alpha = projection of the pixel onto the line between them, trusted where
///    the two colours are well apart and the background is locally uniform, blended with the
///    guided filter's alpha elsewhere. A near-uniform background (white or grey wall) is
///    detected; its smooth colour is then used and the band reaches further out for hair.
///    Holes of the model's mask coloured like the background rather than like the person
///    around them stay open (gaps between arm and body, wall seen through hair); on a busy
///    background, faint alpha is clipped harder and band pixels not linked to the person by
///    a path of clear alpha are dropped (no remnants of background texture).
pub fn refine(
    img: &RgbImage,
    mask256: &Plane,
    small: &RgbImage,
    opts: &RefineOptions,
) -> Result<Plane> {
    Ok(refine_with_info(img, mask256, small, opts)?.0)
}

/// [`refine`], also returning what it learned about the background and the contour.
///
/// The sure regions, background statistics, colour models and the guided filter's
/// coefficients live on a grid of cells about a mask pixel wide (4x4 image pixels at 1200
/// px): only the band is solved per pixel, and only the band and its neighbourhood are
/// feathered.
pub fn refine_with_info(
    img: &RgbImage,
    mask256: &Plane,
    small: &RgbImage,
    opts: &RefineOptions,
) -> Result<(Plane, MatteInfo)> {
    check_sizes(img, mask256, small)?;
    let g = Grid::new(img.dimensions(), small.dimensions());
    let raw = img.as_raw();
    let cells = cell_means(raw, &g);
    let coef_c = cell_coefficients(small, mask256, opts, &g);
    let coarse_low = cell_alpha(&coef_c, &cells, &g);
    let mut keep = solid_person(&coarse_low);
    let keep_p = g.plane(&keep);
    let r_in = (opts.band_inner * g.cu).round().max(1.0) as usize;
    let r_out = (opts.band_outer * g.cu).round().max(1.0) as usize;
    let (mut sure_fg, mut sure_bg) = sure_regions(&keep_p, r_in, r_out);
    let bg = Background::new(&cells, &sure_bg, &g);
    let survey = survey(&cells, &sure_bg, &bg, &keep_p, r_out, &g);
    let plain = survey.plain;
    let mut info = MatteInfo {
        background_clutter: survey.clutter,
        ..Default::default()
    };
    if !plain {
        let open = open_background_holes(&cells, &sure_bg, &coarse_low, &keep, &g);
        if open != keep {
            keep = open;
            (sure_fg, sure_bg) = sure_regions(&g.plane(&keep), r_in, r_out);
        }
    } else {
        let wall = survey.wall();
        info.plain_background = Some(wall);
        keep = plain_wall_regions(
            &cells,
            &coarse_low,
            wall,
            opts,
            &g,
            &mut sure_fg,
            &mut sure_bg,
        );
    }
    let params = band_params(&cells, &coef_c, (&sure_fg, &sure_bg), &bg, plain, &g);
    let band_cell: Vec<bool> = (0..g.ln).map(|j| !sure_fg[j] && !sure_bg[j]).collect();
    let solve = BandSolve {
        params: &params,
        keep: &keep,
        sure_fg: &sure_fg,
        band_cell: &band_cell,
        plain,
        opts,
    };
    let (mut alpha, low) = solve.solve(raw, &g);
    info.low_contrast_clothing = if low.low_n > 0 {
        low.low_c as f32 / low.low_n as f32
    } else {
        0.0
    };
    // on a plain wall the colour model is reliable and islands are hair strands
    if !plain {
        drop_detached(&mut alpha, &keep, &band_cell, g.lw, g.f);
    }
    if opts.feather > 0.0 {
        let r = opts.feather.round().max(1.0) as usize;
        feather_band(&mut alpha, &band_cell, g.lw, g.lh, g.f, r);
    }
    Ok((alpha, info))
}

/// An error unless `img` is not empty and `mask256` has the size of `small`.
fn check_sizes(img: &RgbImage, mask256: &Plane, small: &RgbImage) -> Result<()> {
    let (wu, hu) = img.dimensions();
    let (sw, sh) = small.dimensions();
    if wu == 0
        || hu == 0
        || mask256.width != sw
        || mask256.height != sh
        || mask256.data.len() != (sw * sh) as usize
        || sw == 0
        || sh == 0
    {
        return Err(Error::Internal(format!(
            "refine: image {wu}x{hu}, mask {}x{} ({} values), small image {sw}x{sh}",
            mask256.width,
            mask256.height,
            mask256.data.len()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::downscale_to;

    #[test]
    fn refine_recovers_soft_edge_on_plain_wall() {
        // grey wall, dark person with a soft 6 px edge; the "model mask" is a blurry,
        // shifted version of the truth at 64x64
        let (w, h) = (256u32, 256u32);
        let truth = |x: f32, y: f32| {
            let d = ((x - 128.0).powi(2) + (y - 150.0).powi(2)).sqrt() - 70.0;
            (0.5 - d / 6.0).clamp(0.0, 1.0)
        };
        let img = RgbImage::from_fn(w, h, |x, y| {
            let a = truth(x as f32, y as f32);
            image::Rgb(std::array::from_fn(|c| {
                let f = [60.0, 40.0, 30.0][c];
                (a * f + (1.0 - a) * 200.0).round() as u8
            }))
        });
        let small = downscale_to(&img, 64, 64).unwrap();
        let mut mask = Plane::filled(64, 64, 0.0);
        for y in 0..64 {
            for x in 0..64 {
                let d = ((x as f32 * 4.0 + 2.0 - 131.0).powi(2)
                    + (y as f32 * 4.0 + 2.0 - 150.0).powi(2))
                .sqrt()
                    - 70.0;
                mask.data[y * 64 + x] = (0.5 - d / 16.0).clamp(0.0, 1.0);
            }
        }
        let (alpha, info) =
            refine_with_info(&img, &mask, &small, &RefineOptions::default()).unwrap();
        assert!(info.plain_background.is_some(), "{info:?}");
        let mut err = 0f32;
        for y in 0..h {
            for x in 0..w {
                err += (alpha.at(x, y) - truth(x as f32, y as f32)).powi(2);
            }
        }
        let mse = err / (w * h) as f32;
        assert!(mse < 1e-3, "mse {mse}");
    }

    #[test]
    fn refine_rejects_mismatched_inputs() {
        let img = RgbImage::new(40, 30);
        let small = RgbImage::new(16, 16);
        let mask = Plane::filled(8, 8, 0.5);
        assert!(refine(&img, &mask, &small, &RefineOptions::default()).is_err());
        let empty = RgbImage::new(0, 0);
        let mask16 = Plane::filled(16, 16, 0.5);
        assert!(refine(&empty, &mask16, &small, &RefineOptions::default()).is_err());
    }
}
