//! Sure regions of the refinement grid and what the background is like: the cells surely
//! person or surely background (away from the contour), the background's smooth local colour,
//! how cluttered it is, whether it is a plain wall, and which holes of the person stay open
//! because they show the background.

use super::box_filter::box_mean;
use super::cells::Grid;
use super::options::RefineOptions;
use super::push_pull::push_pull;
use super::subject::solid_person_with;
use crate::raster::Plane;

/// The sure regions of `keep_p` (the solid person as a plane of the grid): cells whose
/// `r_in` neighbourhood is all person (sure foreground) and cells whose `r_out` neighbourhood
/// has no person (sure background).
pub(super) fn sure_regions(keep_p: &Plane, r_in: usize, r_out: usize) -> (Vec<bool>, Vec<bool>) {
    let near_in = box_mean(keep_p, r_in);
    let near_out = box_mean(keep_p, r_out);
    let sure_fg: Vec<bool> = near_in.data.iter().map(|&v| v > 1.0 - 1e-4).collect();
    let sure_bg: Vec<bool> = near_out.data.iter().map(|&v| v < 1e-4).collect();
    (sure_fg, sure_bg)
}

/// Background statistics: the local smooth colour (masked box mean of the sure background
/// cells over ~3 mask pixels).
pub(super) struct Background {
    /// Box means of the sure background cells' colour (three planes) and of their coverage.
    means: Vec<Plane>,
}

impl Background {
    /// The statistics of the cells `sure_bg` (colours in `cells`).
    pub(super) fn new(cells: &[f32], sure_bg: &[bool], g: &Grid) -> Background {
        let r_bg = (3.0 * g.cu).round().max(2.0) as usize;
        let mut bg_planes: Vec<Plane> = (0..4)
            .map(|_| Plane::filled(g.lw as u32, g.lh as u32, 0.0))
            .collect();
        for j in 0..g.ln {
            if sure_bg[j] {
                for c in 0..3 {
                    bg_planes[c].data[j] = cells[j * 4 + c];
                }
                bg_planes[3].data[j] = 1.0;
            }
        }
        Background {
            means: bg_planes.iter().map(|p| box_mean(p, r_bg)).collect(),
        }
    }

    /// Share of sure background cells near cell `j`.
    pub(super) fn coverage(&self, j: usize) -> f32 {
        self.means[3].data[j]
    }

    /// The smooth background colour at cell `j`.
    pub(super) fn smooth(&self, j: usize) -> [f32; 3] {
        let s = 1.0 / self.means[3].data[j].max(1e-6);
        [
            self.means[0].data[j] * s,
            self.means[1].data[j] * s,
            self.means[2].data[j] * s,
        ]
    }
}

/// What the background cells say about the background.
pub(super) struct Survey {
    /// Share of background cells near the person that differ clearly from the smooth colour.
    pub clutter: f32,
    /// The background is a near-uniform wall.
    pub plain: bool,
    /// Sum of the background cells' mean colours.
    sum: [f64; 3],
    /// Number of background cells.
    bg_count: usize,
}

impl Survey {
    /// The mean colour of the background cells (sRGB).
    pub(super) fn wall(&self) -> [u8; 3] {
        let (sum, bg_count) = (self.sum, self.bg_count);
        sum.map(|s| (s / bg_count as f64 * 255.0).round().clamp(0.0, 255.0) as u8)
    }
}

/// Clutter of the background cells within a few band widths (`3 r_out`) of the person
/// (`keep_p`), and whether the background is a plain wall.
pub(super) fn survey(
    cells: &[f32],
    sure_bg: &[bool],
    bg: &Background,
    keep_p: &Plane,
    r_out: usize,
    g: &Grid,
) -> Survey {
    let near_person = box_mean(keep_p, r_out * 3);
    let (mut dev_n, mut dev_big, mut sum, mut bg_count) = (0usize, 0usize, [0f64; 3], 0usize);
    let mut dev_sum = 0f64;
    for j in 0..g.ln {
        if !sure_bg[j] || bg.coverage(j) < 1e-3 {
            continue;
        }
        bg_count += 1;
        let m = bg.smooth(j);
        let c = &cells[j * 4..j * 4 + 4];
        // deviation of the cell mean from the smooth colour, plus the texture inside the cell
        let inner = (c[3] - (c[0] * c[0] + c[1] * c[1] + c[2] * c[2])).max(0.0);
        let d: f32 = ((0..3).map(|k| (c[k] - m[k]).powi(2)).sum::<f32>() + inner).sqrt();
        for k in 0..3 {
            sum[k] += c[k] as f64;
        }
        if near_person.data[j] > 1e-4 {
            dev_n += 1;
            dev_sum += d as f64;
            if d > 0.06 {
                dev_big += 1;
            }
        }
    }
    let clutter = if dev_n > 0 {
        dev_big as f32 / dev_n as f32
    } else {
        1.0
    };
    let plain = bg_count * 10 >= g.ln && clutter < 0.05 && dev_sum / (dev_n.max(1) as f64) < 0.025;
    Survey {
        clutter,
        plain,
        sum,
        bg_count,
    }
}

/// On a busy background: the solid person of `coarse_low` whose holes coloured like the
/// nearby background rather than like the person around them (background seen between arm
/// and body) stay open; others (dark clothing, hair) are filled. `keep` is the solid person
/// with all holes filled.
#[allow(clippy::needless_range_loop)] // several parallel per-cell arrays
pub(super) fn open_background_holes(
    cells: &[f32],
    sure_bg: &[bool],
    coarse_low: &Plane,
    keep: &[bool],
    g: &Grid,
) -> Vec<bool> {
    let (lw, lh, ln) = (g.lw, g.lh, g.ln);
    let mut data = vec![0f32; ln * 3];
    let mut wt = vec![0f32; ln];
    for j in 0..ln {
        if sure_bg[j] {
            data[j * 3..j * 3 + 3].copy_from_slice(&cells[j * 4..j * 4 + 3]);
            wt[j] = 1.0;
        }
    }
    let bg_fill = push_pull::<3>(&data, &wt, lw, lh);
    let cells_data = cells;
    let filled = keep;
    // cells already counted for the current hole: marked with the hole's number
    let stamp = std::cell::RefCell::new(vec![0u32; ln]);
    let hole_no = std::cell::Cell::new(0u32);
    solid_person_with(coarse_low, |members| {
        let n = members.len() as f32;
        let (mut hole, mut bg) = ([0f32; 3], [0f32; 3]);
        hole_no.set(hole_no.get() + 1);
        let id = hole_no.get();
        let mut member = stamp.borrow_mut();
        for &j in members {
            member[j] = id;
            for k in 0..3 {
                hole[k] += cells_data[j * 4 + k] / n;
                bg[k] += bg_fill[j * 3 + k] / n;
            }
        }
        // the person's colour in a ring of two cells around the hole
        let (mut ring, mut rn) = ([0f32; 3], 0f32);
        for &j in members {
            let (x, y) = (j % lw, j / lw);
            for ny in y.saturating_sub(2)..(y + 3).min(lh) {
                for nx in x.saturating_sub(2)..(x + 3).min(lw) {
                    let q = ny * lw + nx;
                    if member[q] != id && filled[q] {
                        member[q] = id; // count once
                        for k in 0..3 {
                            ring[k] += cells_data[q * 4 + k];
                        }
                        rn += 1.0;
                    }
                }
            }
        }
        let dist =
            |a: [f32; 3], b: [f32; 3]| (0..3).map(|k| (a[k] - b[k]).powi(2)).sum::<f32>().sqrt();
        rn == 0.0 || dist(hole, ring.map(|v| v / rn)) <= dist(hole, bg)
    })
}

/// On a plain wall of colour `wall`: the solid person of `coarse_low` whose holes coloured
/// like the wall (background seen through hair, between arm and body) stay open for the
/// colour model, others (dark clothing, hair) filled; and the sure regions widened, the
/// background's side by `band_outer_plain` (fine hair far from the model's contour is
/// recovered from the known wall colour), the person's by `band_inner_plain`.
pub(super) fn plain_wall_regions(
    cells: &[f32],
    coarse_low: &Plane,
    wall: [u8; 3],
    opts: &RefineOptions,
    g: &Grid,
    sure_fg: &mut [bool],
    sure_bg: &mut [bool],
) -> Vec<bool> {
    let wall = wall.map(|v| v as f32 / 255.0);
    let cells_data = cells;
    let keep = solid_person_with(coarse_low, |members| {
        let mut c = [0f32; 3];
        for &j in members {
            for k in 0..3 {
                c[k] += cells_data[j * 4 + k];
            }
        }
        let d: f32 = (0..3)
            .map(|k| (c[k] / members.len() as f32 - wall[k]).powi(2))
            .sum::<f32>()
            .sqrt();
        d > 0.12
    });
    let keep_p = g.plane(&keep);
    let r_far = ((opts.band_outer + opts.band_outer_plain) * g.cu).round() as usize;
    let near_far = box_mean(&keep_p, r_far);
    for (b, v) in sure_bg.iter_mut().zip(&near_far.data) {
        *b = *v < 1e-4;
    }
    let r_deep = ((opts.band_inner + opts.band_inner_plain) * g.cu).round() as usize;
    let near_deep = box_mean(&keep_p, r_deep);
    for (s, v) in sure_fg.iter_mut().zip(&near_deep.data) {
        *s = *v > 1.0 - 1e-4;
    }
    keep
}
