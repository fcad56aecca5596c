//! The crown (top of the hair) of a head, found in a person matte.

use crate::raster::{Plane, Point};

/// Ratio (eye line - crown) / (chin - eye line) of an average head with hair, used when the
/// person mask cannot give the crown.
pub const CROWN_FALLBACK_RATIO: f32 = 1.0;

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
