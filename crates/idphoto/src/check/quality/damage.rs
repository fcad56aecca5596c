//! `image.damage`: the visible signs of a damaged file in decoded pixels, for photos that
//! decode without an error (a PNG made from a broken JPEG, or JPEG damage the strict decode
//! cannot see, such as a changed coefficient whose Huffman code stays valid).
//!
//! Damage in JPEG data follows the 8x8 block grid: a changed DC difference shifts the colour
//! of every later block (a band whose top edge runs straight along a block boundary), a
//! garbled block has steps on all four of its borders, and decoders that give up repeat rows
//! or leave flat slabs. Measured on a grid of 8 px from the top left corner or from the far
//! edges (an EXIF rotation puts the grid there):
//!
//! * **seams**: runs of at least [`SEAM_RUN`] block borders along one horizontal grid line
//!   where the step across the border exceeds the steps beside it by [`STEP_EXCESS`];
//! * **broken blocks**: blocks with such a step on all four borders;
//! * **repeated rows**: at least [`REPEAT_ROWS`] consecutive identical rows that are not flat;
//! * **flat tail**: the last block rows all one exact colour under rows with detail.
//!
//! The value is the number of 8 px blocks in those findings; any finding fails.

use image::RgbImage;

use crate::report::RuleResult;

/// Mean step (sum over R, G, B, in levels) across a block border beyond twice the mean step
/// of the pixel pairs beside it, for the border to count as broken.
pub(crate) const STEP_EXCESS: f64 = 24.0;

/// Broken borders in a row along one horizontal grid line that make a seam (8 px each).
pub(crate) const SEAM_RUN: usize = 20;

/// Mean step across each of a block's four borders beyond twice the mean step just outside
/// it, for the block to count as garbled (its content does not continue its neighbours').
pub(crate) const BLOCK_EXCESS: f64 = 56.0;

/// Identical consecutive rows (with detail) that count as repeated.
pub(crate) const REPEAT_ROWS: usize = 8;

/// The `image.damage` rule of an image.
pub fn damage_rule(img: &RgbImage) -> RuleResult {
    RuleResult::range(
        "image.damage",
        damage_blocks(img) as f64,
        None,
        Some(0.0),
        "blocks",
    )
}

/// Blocks showing damage (see the module documentation), the largest over the grid origins.
pub fn damage_blocks(img: &RgbImage) -> usize {
    let (w, h) = img.dimensions();
    if w < 32 || h < 32 {
        return 0;
    }
    let mut origins = vec![(0, 0), (w % 8, 0), (0, h % 8), (w % 8, h % 8)];
    origins.dedup();
    let grid = origins
        .into_iter()
        .map(|(ox, oy)| Grid::new(img, ox as usize, oy as usize).findings())
        .max()
        .unwrap_or(0);
    grid + repeated_rows(img) + flat_tail(img)
}

/// Sum over the channels of |a - b|.
#[inline]
fn d3(a: &[u8], b: &[u8]) -> u32 {
    u32::from(a[0].abs_diff(b[0])) + u32::from(a[1].abs_diff(b[1])) + u32::from(a[2].abs_diff(b[2]))
}

/// One block border: the mean step across it and the mean steps of the pixel pairs just
/// before and just after it (sums over R, G, B).
#[derive(Clone, Copy, Default)]
struct Border {
    step: f32,
    before: f32,
    after: f32,
}

impl Border {
    fn new(step: u32, before: u32, after: u32) -> Border {
        Border {
            step: step as f32 / 8.0,
            before: before as f32 / 8.0,
            after: after as f32 / 8.0,
        }
    }

    /// A step well beyond the gradient on both sides, with alike texture on both sides (a
    /// colour shift keeps the texture; the edge of a border or a letterbox bar does not):
    /// part of a seam.
    fn broken(&self) -> bool {
        let alike = (self.before - self.after).abs() <= 6.0 + 0.5 * self.before.max(self.after);
        alike && f64::from(self.step - self.before - self.after) > STEP_EXCESS
    }

    /// A step well beyond the gradient on the side `outside_before` names.
    fn breaks_away(&self, outside_before: bool) -> bool {
        let out = if outside_before {
            self.before
        } else {
            self.after
        };
        f64::from(self.step - 2.0 * out) > BLOCK_EXCESS
    }
}

/// The block borders of one grid origin.
struct Grid {
    cols: usize,
    rows: usize,
    /// `top[r * cols + c]`: the top border of block (c, r) (r >= 1).
    top: Vec<Border>,
    /// `left[r * cols + c]`: the left border of block (c, r) (c >= 1).
    left: Vec<Border>,
}

impl Grid {
    fn new(img: &RgbImage, ox: usize, oy: usize) -> Grid {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let (cols, rows) = ((w - ox) / 8, (h - oy) / 8);
        let px = img.as_raw();
        let at = |x: usize, y: usize| &px[(y * w + x) * 3..(y * w + x) * 3 + 3];
        let mut top = vec![Border::default(); cols * rows];
        let mut left = vec![Border::default(); cols * rows];
        for r in 1..rows {
            let y = oy + 8 * r;
            for c in 0..cols {
                let (mut s, mut b, mut a) = (0, 0, 0);
                for x in ox + 8 * c..ox + 8 * c + 8 {
                    s += d3(at(x, y - 1), at(x, y));
                    b += d3(at(x, y - 2), at(x, y - 1));
                    a += d3(at(x, y), at(x, y + 1));
                }
                top[r * cols + c] = Border::new(s, b, a);
            }
        }
        for r in 0..rows {
            for c in 1..cols {
                let x = ox + 8 * c;
                let (mut s, mut b, mut a) = (0, 0, 0);
                for y in oy + 8 * r..oy + 8 * r + 8 {
                    s += d3(at(x - 1, y), at(x, y));
                    b += d3(at(x - 2, y), at(x - 1, y));
                    a += d3(at(x, y), at(x + 1, y));
                }
                left[r * cols + c] = Border::new(s, b, a);
            }
        }
        Grid {
            cols,
            rows,
            top,
            left,
        }
    }

    /// Blocks in seams plus garbled blocks.
    fn findings(&self) -> usize {
        let mut n = 0;
        for r in 1..self.rows {
            let mut run = 0;
            for c in 0..=self.cols {
                if c < self.cols && self.top[r * self.cols + c].broken() {
                    run += 1;
                } else {
                    if run >= SEAM_RUN {
                        n += run;
                    }
                    run = 0;
                }
            }
        }
        for r in 1..self.rows.saturating_sub(1) {
            for c in 1..self.cols.saturating_sub(1) {
                let i = r * self.cols + c;
                if self.top[i].breaks_away(true)
                    && self.top[i + self.cols].breaks_away(false)
                    && self.left[i].breaks_away(true)
                    && self.left[i + 1].breaks_away(false)
                {
                    n += 1;
                }
            }
        }
        n
    }
}

/// Runs of at least [`REPEAT_ROWS`] identical rows with detail, in blocks (rows / 8).
fn repeated_rows(img: &RgbImage) -> usize {
    let w = img.width() as usize * 3;
    let rows: Vec<&[u8]> = img.as_raw().chunks_exact(w).collect();
    let detailed = |r: &[u8]| {
        let s: u32 = r
            .chunks_exact(3)
            .zip(r.chunks_exact(3).skip(1))
            .map(|(a, b)| d3(a, b))
            .sum();
        f64::from(s) / (w / 3) as f64 > 6.0
    };
    let (mut n, mut run) = (0, 1);
    for i in 1..=rows.len() {
        if i < rows.len() && rows[i] == rows[i - 1] && detailed(rows[i]) {
            run += 1;
        } else {
            if run >= REPEAT_ROWS {
                n += run / 8;
            }
            run = 1;
        }
    }
    n
}

/// Blocks of a flat tail: at least two block rows at the bottom, all one exact colour
/// (within 1 level), under a block row with detail; 0 otherwise.
fn flat_tail(img: &RgbImage) -> usize {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let px = img.as_raw();
    let last = &px[(h - 1) * w * 3..(h - 1) * w * 3 + 3];
    let flat_row = |y: usize| {
        px[y * w * 3..(y + 1) * w * 3]
            .chunks_exact(3)
            .all(|p| d3(p, last) <= 1)
    };
    let mut y = h;
    while y > 0 && flat_row(y - 1) {
        y -= 1;
    }
    let flat = h - y;
    if flat < 16 || y < 8 {
        return 0;
    }
    let above = &px[(y - 8) * w * 3..y * w * 3];
    let detail: u32 = above
        .chunks_exact(3)
        .zip(above.chunks_exact(3).skip(1))
        .map(|(a, b)| d3(a, b))
        .sum();
    if f64::from(detail) / (8 * w) as f64 > 6.0 {
        flat / 8 * w.div_ceil(8)
    } else {
        0
    }
}

#[cfg(test)]
mod tests;
