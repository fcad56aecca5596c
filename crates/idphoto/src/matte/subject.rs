//! The subject as connected regions of the mask: other people beside the subject removed
//! ([`keep_subject`]), and the person as one solid region with its holes filled
//! ([`solid_person`]).

use crate::raster::Plane;

/// The 4-connected neighbours of pixel `i` in a `w` x `h` grid.
fn neighbours4(i: usize, w: usize, h: usize) -> impl Iterator<Item = usize> {
    let (x, y) = (i % w, i / w);
    [
        (x > 0).then(|| i - 1),
        (x + 1 < w).then(|| i + 1),
        (y > 0).then(|| i - w),
        (y + 1 < h).then(|| i + w),
    ]
    .into_iter()
    .flatten()
}

/// Labels of 4-connected components of `on`; returns (labels, sizes) with label 0 = off.
fn components(on: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<usize>) {
    let mut label = vec![0u32; on.len()];
    let mut sizes = vec![0usize];
    let mut stack = Vec::new();
    for s in 0..on.len() {
        if !on[s] || label[s] != 0 {
            continue;
        }
        let l = sizes.len() as u32;
        let mut size = 0;
        label[s] = l;
        stack.push(s);
        while let Some(i) = stack.pop() {
            size += 1;
            for j in neighbours4(i, w, h) {
                if on[j] && label[j] == 0 {
                    label[j] = l;
                    stack.push(j);
                }
            }
        }
        sizes.push(size);
    }
    (label, sizes)
}

/// Mask value above which a pixel is surely a person in [`keep_subject`].
const CORE: f32 = 0.95;

/// Removes from the segmentation mask other people beside the subject's head. The mask's sure
/// regions (probability >= 0.95: every run of [`SegmentFit::Ensemble`](crate::matte::SegmentFit::Ensemble) agrees) are split into
/// connected cores; the core at `seed` (the subject's eye midpoint, in mask pixels) is the
/// subject. Another core is another person (a head in the crowd behind) when it is at least
/// 2 % of the subject's size, reaches above the eye line and has its centre more than one
/// `face_width` (mask pixels) to the side of the eyes: the subject's own shoulders start
/// below the chin and their hair is centred on the head. The pixels of the mask that are
/// closer, along the mask, to such a core than to any other are cleared, so a neighbour
/// touching the subject through a band of uncertain mask (the average of several runs
/// blurs such gaps) is cut off at that band. Returns how many pixels were cleared; the mask
/// is unchanged when `seed` is not inside a core or there is no other person.
pub fn keep_subject(mask: &mut Plane, seed: (f32, f32), face_width: f32) -> usize {
    let (w, h) = (mask.width as usize, mask.height as usize);
    if w == 0 || h == 0 || !(seed.0.is_finite() && seed.1.is_finite()) {
        return 0;
    }
    let (sx, sy) = (seed.0.round(), seed.1.round());
    if sx < 0.0 || sy < 0.0 || sx >= w as f32 || sy >= h as f32 {
        return 0;
    }
    let on: Vec<bool> = mask.data.iter().map(|&v| v >= CORE).collect();
    let (label, sizes) = components(&on, w, h);
    let subject = label[sy as usize * w + sx as usize];
    if subject == 0 {
        return 0;
    }
    let min_size = (sizes[subject as usize] / 50).max(1);
    // per core: sum of x, topmost row
    let mut sum_x = vec![0f64; sizes.len()];
    let mut top = vec![usize::MAX; sizes.len()];
    for (i, &l) in label.iter().enumerate() {
        sum_x[l as usize] += (i % w) as f64;
        top[l as usize] = top[l as usize].min(i / w);
    }
    let other_core: Vec<bool> = (0..sizes.len())
        .map(|l| {
            l != 0
                && l != subject as usize
                && sizes[l] >= min_size
                && (top[l] as f32) < sy
                && ((sum_x[l] / sizes[l] as f64) as f32 - sx).abs() > face_width
        })
        .collect();
    if !other_core.iter().any(|&o| o) {
        return 0;
    }
    let other = |l: u32| other_core[l as usize];
    // multi-source breadth-first growth of the cores through the rest of the mask
    let mut owner = label.clone();
    let mut queue: std::collections::VecDeque<usize> =
        (0..w * h).filter(|&i| owner[i] != 0).collect();
    while let Some(i) = queue.pop_front() {
        for j in neighbours4(i, w, h) {
            if owner[j] == 0 && mask.data[j] >= 0.1 {
                owner[j] = owner[i];
                queue.push_back(j);
            }
        }
    }
    let mut cleared = 0;
    for (v, &o) in mask.data.iter_mut().zip(&owner) {
        if other(o) {
            *v = 0.0;
            cleared += 1;
        }
    }
    cleared
}

/// The person as one solid region: the largest components of `alpha >= 0.5` (others kept
/// only when at least a fifth of the largest), with enclosed holes up to 3 % of the person's
/// area filled.
pub fn solid_person(alpha: &Plane) -> Vec<bool> {
    solid_person_with(alpha, |_| true)
}

/// [`solid_person`], filling only the holes (given as pixel indices) that `fill` accepts.
pub fn solid_person_with(alpha: &Plane, fill: impl Fn(&[usize]) -> bool) -> Vec<bool> {
    let (w, h) = (alpha.width as usize, alpha.height as usize);
    let on: Vec<bool> = alpha.data.iter().map(|&v| v >= 0.5).collect();
    let (label, sizes) = components(&on, w, h);
    let largest = sizes.iter().skip(1).copied().max().unwrap_or(0);
    let keep_label: Vec<bool> = sizes
        .iter()
        .enumerate()
        .map(|(l, &s)| l > 0 && s * 5 >= largest && s > 0)
        .collect();
    let mut keep: Vec<bool> = label.iter().map(|&l| keep_label[l as usize]).collect();
    let area = keep.iter().filter(|&&k| k).count();
    // holes: components of the complement that do not touch the border
    let off: Vec<bool> = keep.iter().map(|&k| !k).collect();
    let (hl, hs) = components(&off, w, h);
    let mut touches = vec![false; hs.len()];
    for x in 0..w {
        touches[hl[x] as usize] = true;
        touches[hl[(h - 1) * w + x] as usize] = true;
    }
    for y in 0..h {
        touches[hl[y * w] as usize] = true;
        touches[hl[y * w + w - 1] as usize] = true;
    }
    let candidate: Vec<bool> = (0..hs.len())
        .map(|l| l > 0 && !touches[l] && hs[l] * 33 <= area)
        .collect();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); hs.len()];
    for (i, &l) in hl.iter().enumerate() {
        if candidate[l as usize] {
            members[l as usize].push(i);
        }
    }
    for m in members.iter().filter(|m| !m.is_empty()) {
        if fill(m) {
            for &i in m {
                keep[i] = true;
            }
        }
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solid_person_fills_holes_and_drops_blobs() {
        let mut a = Plane::filled(40, 40, 0.0);
        for y in 5..35 {
            for x in 5..25 {
                a.data[y * 40 + x] = 1.0;
            }
        }
        // hole in the body, and a detached blob
        a.data[20 * 40 + 15] = 0.0;
        a.data[20 * 40 + 35] = 1.0;
        let keep = solid_person(&a);
        assert!(keep[20 * 40 + 15]);
        assert!(!keep[20 * 40 + 35]);
        assert!(keep[6 * 40 + 6] && !keep[2 * 40 + 2]);
    }

    /// A 100x140 mask: the subject's head (disc at (50, 50), radius 20) on shoulders (rows
    /// from 80 down), optional extra discs, and an optional band of value `link` between.
    fn mask_with(extra: &[((f32, f32), f32, f32)]) -> Plane {
        let mut m = Plane::filled(100, 140, 0.0);
        for y in 0..140u32 {
            for x in 0..100u32 {
                let (fx, fy) = (x as f32, y as f32);
                let mut v: f32 = 0.0;
                if (fx - 50.0).hypot(fy - 50.0) < 20.0 || (y >= 80 && (15..85).contains(&x)) {
                    v = 1.0;
                }
                for &((cx, cy), r, val) in extra {
                    if (fx - cx).hypot(fy - cy) < r {
                        v = v.max(val);
                    }
                }
                m.data[(y * 100 + x) as usize] = v;
            }
        }
        m
    }

    #[test]
    fn another_head_beside_the_subject_is_removed() {
        // a neighbour's head at the right edge, joined to the subject's by uncertain mask
        let mut m = mask_with(&[((95.0, 45.0), 18.0, 1.0), ((75.0, 45.0), 8.0, 0.8)]);
        let cleared = keep_subject(&mut m, (50.0, 50.0), 35.0);
        assert!(cleared > 300, "{cleared}");
        assert_eq!(m.data[45 * 100 + 97], 0.0);
        assert_eq!(m.data[50 * 100 + 50], 1.0);
        assert_eq!(m.data[120 * 100 + 80], 1.0, "the subject's shoulder stays");
        // joined by sure mask, it is one person for the models: nothing to separate
        let mut joined = mask_with(&[((95.0, 45.0), 18.0, 1.0), ((75.0, 45.0), 8.0, 1.0)]);
        assert_eq!(keep_subject(&mut joined, (50.0, 50.0), 35.0), 0);
    }

    #[test]
    fn the_subjects_own_parts_are_kept() {
        // shoulders cut from the head by an uncertain neck, a bun above the head, hair
        // falling beside the face: none is another person
        let mut m = mask_with(&[((50.0, 75.0), 9.0, 0.9)]);
        for y in 68..80 {
            for x in 15..85 {
                let v = &mut m.data[y * 100 + x];
                if *v < 1.0 || (40..60).contains(&x) {
                    *v = v.min(0.9);
                }
            }
        }
        let mut bun = mask_with(&[((50.0, 20.0), 10.0, 1.0), ((50.0, 30.0), 3.0, 0.9)]);
        let mut hair = mask_with(&[((78.0, 60.0), 9.0, 1.0), ((70.0, 55.0), 5.0, 0.8)]);
        for (name, m) in [("neck", &mut m), ("bun", &mut bun), ("hair", &mut hair)] {
            let before = m.data.clone();
            assert_eq!(keep_subject(m, (50.0, 50.0), 35.0), 0, "{name}");
            assert_eq!(m.data, before);
        }
        // no subject at the seed, or a seed outside: unchanged
        let mut m = mask_with(&[((95.0, 45.0), 18.0, 1.0)]);
        assert_eq!(keep_subject(&mut m, (5.0, 5.0), 35.0), 0);
        assert_eq!(keep_subject(&mut m, (-5.0, 500.0), 35.0), 0);
        assert_eq!(keep_subject(&mut m, (f32::NAN, 5.0), 35.0), 0);
    }
}
