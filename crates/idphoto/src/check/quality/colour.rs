//! Colour measures: BT.601 luma (OFIQ's luminance image), sRGB and linear RGB to CIE L*a*b*,
//! the CIEDE2000 colour difference, and OFIQ NaturalColour (the colour cast of the cheeks).

use image::RgbImage;

use super::limits::MAX_COLOUR_CAST;
use crate::raster::Plane;
use crate::report::RuleResult;

/// sRGB (0..255 per channel, may be fractional) to CIE L*a*b* (D65).
pub fn srgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    let lin = rgb.map(|c| crate::raster::colour::srgb_to_linear((c / 255.0) as f32) as f64);
    lin_to_lab(lin)
}

/// Linear RGB (0..1) to CIE L*a*b* (D65).
pub(super) fn lin_to_lab(lin: [f64; 3]) -> [f64; 3] {
    let x = 0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2];
    let y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    let z = 0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2];
    let f = |t: f64| {
        if t > 0.008856 {
            t.cbrt()
        } else {
            7.787 * t + 16.0 / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// CIEDE2000 colour difference (Sharma, Wu and Dalal 2005), kL = kC = kH = 1.
pub fn ciede2000(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (l1, a1, b1) = (a[0], a[1], a[2]);
    let (l2, a2, b2) = (b[0], b[1], b[2]);
    let c1 = (a1 * a1 + b1 * b1).sqrt();
    let c2 = (a2 * a2 + b2 * b2).sqrt();
    let cm = (c1 + c2) / 2.0;
    let g = 0.5 * (1.0 - (cm.powi(7) / (cm.powi(7) + 25f64.powi(7))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let c1p = (a1p * a1p + b1 * b1).sqrt();
    let c2p = (a2p * a2p + b2 * b2).sqrt();
    let hue = |bb: f64, aa: f64| {
        if bb == 0.0 && aa == 0.0 {
            0.0
        } else {
            let h = bb.atan2(aa).to_degrees();
            if h < 0.0 {
                h + 360.0
            } else {
                h
            }
        }
    };
    let h1p = hue(b1, a1p);
    let h2p = hue(b2, a2p);
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dhh = 2.0 * (c1p * c2p).sqrt() * (dh.to_radians() / 2.0).sin();
    let lm = (l1 + l2) / 2.0;
    let cmp = (c1p + c2p) / 2.0;
    let hm = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        (h1p + h2p) / 2.0
    } else if h1p + h2p < 360.0 {
        (h1p + h2p + 360.0) / 2.0
    } else {
        (h1p + h2p - 360.0) / 2.0
    };
    let t = 1.0 - 0.17 * (hm - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hm).to_radians().cos()
        + 0.32 * (3.0 * hm + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hm - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((hm - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (cmp.powi(7) / (cmp.powi(7) + 25f64.powi(7))).sqrt();
    let sl = 1.0 + 0.015 * (lm - 50.0).powi(2) / (20.0 + (lm - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cmp;
    let sh = 1.0 + 0.015 * cmp * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh))
        .sqrt()
}

/// BT.601 luma (OFIQ's luminance image), 0..255.
pub fn luma(img: &RgbImage) -> Plane {
    let (w, h) = img.dimensions();
    let data = img
        .as_raw()
        .chunks_exact(3)
        .map(|p| 0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32)
        .collect();
    Plane {
        width: w,
        height: h,
        data,
    }
}

/// OFIQ NaturalColour: the distance of the cheeks' mean a*, b* (from their mean linear RGB,
/// 0..1) from a* in 5..25, b* in 5..35; 100 when a* or b* is negative.
pub(super) fn colour_cast_rule(cheeks_linear: [f64; 3]) -> RuleResult {
    let lab = lin_to_lab(cheeks_linear);
    let (a, b) = (lab[1], lab[2]);
    let cast = if a >= 0.0 && b >= 0.0 {
        let da = (5.0 - a).max(a - 25.0).max(0.0);
        let db = (5.0 - b).max(b - 35.0).max(0.0);
        (da * da + db * db).sqrt()
    } else {
        100.0
    };
    RuleResult::range("color.cast", cast, None, Some(MAX_COLOUR_CAST), "dAB")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciede2000_reference_pairs() {
        // Sharma, Wu and Dalal (2005), table 1, pairs 1 and 7
        let d = ciede2000([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485]);
        assert!((d - 2.0425).abs() < 1e-3, "{d}");
        let d = ciede2000([50.0, 0.0, 0.0], [50.0, -1.0, 2.0]);
        assert!((d - 2.3669).abs() < 1e-3, "{d}");
        assert!(ciede2000(srgb_to_lab([255.0; 3]), srgb_to_lab([255.0; 3])) < 1e-9);
    }
}
