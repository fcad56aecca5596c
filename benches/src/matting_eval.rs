//! Matting evaluation: `cargo run --release -p idphoto-benches --bin matting-eval`.
//!
//! Reads `../shared/data/matting` (or `$IDPHOTO_SHARED/data/matting`) and prints a Markdown
//! table: the raw 256x256 mask upsampled bilinearly (baseline) against `matte::refine`
//! (ours), with SAD, MSE, gradient and connectivity errors over the whole image and the
//! contour band; background invariance over five synthetic backgrounds; colour fringe after
//! replacing a saturated blue background with white; timing on a 1000x1300 crop. Writes a
//! contact sheet to `target/matting-eval/contact-sheet.png`.
//!
//! Other modes: `--sweep` (p3m errors of a few `RefineOptions` variants, on the halves of
//! odd and even photos too; `IDPHOTO_FIT=flip` with flip test-time augmentation; with
//! `IDPHOTO_DUMP=DIR`, per-photo band SAD and the mattes as PNG), `--time N` (only the
//! timing, median and minimum of N runs), `--alpha IN OUT` (the refined alpha of one photo).
//! `FRINGE_DIAG=1` prints the fringe of every photo (the table shows the mean).

mod engine;

mod matting_metrics;

use std::path::{Path, PathBuf};
use std::time::Instant;

use idphoto::internals as matte;
use idphoto::internals::{
    composite, composite_linear, linear_to_srgb, resize_rgb, srgb_to_linear, Plane, RefineOptions,
};
use image::{GrayImage, RgbImage};
use matting_metrics::{contour_band, errors_in, Errors};

use engine::engine;

/// Contour band half-width at the evaluation scale (long side about 1200 px).
const BAND_RADIUS: usize = 10;
/// The segmentation runs of "ours": the pipeline's default.
const FIT: matte::SegmentFit = matte::SegmentFit::Ensemble;

/// A portrait window (aspect 0.72, like the pipeline's working region for cn-id-card) of the
/// full height, centred on the head: the reference alpha's centre of mass in the top quarter
/// of the person.
fn portrait_crop(photo: &RgbImage, gt: &Plane) -> (RgbImage, Plane) {
    let (w, h) = (gt.width, gt.height);
    let top = (0..h)
        .find(|&y| (0..w).any(|x| gt.data[(y * w + x) as usize] > 0.5))
        .unwrap_or(0);
    let (mut sx, mut n) = (0f64, 0f64);
    for y in top..(top + h / 4).min(h) {
        for x in 0..w {
            let a = gt.data[(y * w + x) as usize] as f64;
            sx += a * x as f64;
            n += a;
        }
    }
    let cx = if n > 0.0 { sx / n } else { w as f64 / 2.0 };
    let cw = ((h as f64 * 0.72) as u32).min(w);
    let x0 = (cx - cw as f64 / 2.0).clamp(0.0, (w - cw) as f64) as u32;
    let crop = image::imageops::crop_imm(photo, x0, 0, cw, h).to_image();
    let mut g = Plane::filled(cw, h, 0.0);
    for y in 0..h {
        let src = (y * w + x0) as usize;
        g.data[(y * cw) as usize..][..cw as usize].copy_from_slice(&gt.data[src..][..cw as usize]);
    }
    (crop, g)
}
/// Long side the p3m photos are brought to.
const LONG_SIDE: u32 = 1200;

fn shared() -> PathBuf {
    std::env::var_os("IDPHOTO_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn load_rgb(p: &Path) -> RgbImage {
    image::open(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .to_rgb8()
}

fn load_alpha(p: &Path) -> Plane {
    let g: GrayImage = image::open(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .to_luma8();
    Plane {
        width: g.width(),
        height: g.height(),
        data: g.as_raw().iter().map(|&v| v as f32 / 255.0).collect(),
    }
}

fn fit_long_side(img: &RgbImage, alpha: &Plane) -> (RgbImage, Plane) {
    let (w, h) = img.dimensions();
    if w.max(h) <= 1300 {
        return (img.clone(), alpha.clone());
    }
    let s = LONG_SIDE as f64 / w.max(h) as f64;
    let (nw, nh) = ((w as f64 * s).round() as u32, (h as f64 * s).round() as u32);
    let img = resize_rgb(img, (0.0, 0.0, w as f64, h as f64), nw, nh).expect("resize");
    let a = alpha.resize(nw, nh).expect("resize alpha");
    (img, a)
}

/// Deterministic noise in -1..1.
fn noise(x: u32, y: u32, seed: u32) -> f32 {
    let mut v = x
        .wrapping_mul(374_761_393)
        .wrapping_add(y.wrapping_mul(668_265_263))
        .wrapping_add(seed.wrapping_mul(2_246_822_519));
    v = (v ^ (v >> 13)).wrapping_mul(1_274_126_177);
    v ^= v >> 16;
    (v & 0xffff) as f32 / 32767.5 - 1.0
}

/// The five test backgrounds at `w` x `h`.
fn backgrounds(w: u32, h: u32, busy: &RgbImage) -> Vec<(&'static str, RgbImage)> {
    let clamp = |v: f32| v.round().clamp(0.0, 255.0) as u8;
    let wall = |base: [f32; 3], grad: f32, seed: u32| {
        RgbImage::from_fn(w, h, |x, y| {
            let t = y as f32 / h as f32 - 0.5 + 0.3 * (x as f32 / w as f32 - 0.5);
            let n = 2.0 * noise(x, y, seed);
            image::Rgb(base.map(|b| clamp(b + grad * t + n)))
        })
    };
    let (bw, bh) = busy.dimensions();
    // cover-crop the busy photo
    let s = (w as f64 / bw as f64).max(h as f64 / bh as f64);
    let (cw, ch) = (w as f64 / s, h as f64 / s);
    let busy = resize_rgb(
        busy,
        ((bw as f64 - cw) / 2.0, (bh as f64 - ch) / 2.0, cw, ch),
        w,
        h,
    )
    .expect("resize busy");
    vec![
        ("white wall", wall([238.0, 238.0, 234.0], -14.0, 1)),
        ("grey wall", wall([150.0, 151.0, 155.0], -20.0, 2)),
        ("saturated blue", wall([20.0, 60.0, 230.0], 0.0, 3)),
        ("busy photo", busy),
        (
            "strong gradient",
            RgbImage::from_fn(w, h, |x, y| {
                let t = (x as f32 / w as f32 + y as f32 / h as f32) / 2.0;
                image::Rgb([
                    clamp(255.0 * (1.0 - t)),
                    clamp(40.0 + 180.0 * (1.0 - (2.0 * t - 1.0).abs())),
                    clamp(255.0 * t),
                ])
            }),
        ),
    ]
}

/// `photo * alpha + bg * (1 - alpha)` in linear light.
fn composite_onto(photo: &RgbImage, alpha: &Plane, bg: &RgbImage) -> RgbImage {
    let mut out = photo.clone();
    let (p, b) = (photo.as_raw(), bg.as_raw());
    for (k, px) in out.as_mut().chunks_exact_mut(3).enumerate() {
        let a = alpha.data[k];
        for c in 0..3 {
            let v = a * srgb_to_linear(p[k * 3 + c] as f32 / 255.0)
                + (1.0 - a) * srgb_to_linear(b[k * 3 + c] as f32 / 255.0);
            px[c] = (linear_to_srgb(v) * 255.0).round() as u8;
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Acc {
    whole: Errors,
    band: Errors,
    n: usize,
}

impl Acc {
    fn add(&mut self, pred: &Plane, gt: &Plane, band: &[bool]) {
        let e = errors_in(pred, gt, &[None, Some(band)]);
        for (dst, src) in [(&mut self.whole, e[0]), (&mut self.band, e[1])] {
            dst.sad += src.sad;
            dst.mse += src.mse;
            dst.grad += src.grad;
            dst.conn += src.conn;
        }
        self.n += 1;
    }
    fn row(&self, label: &str) -> String {
        let n = self.n.max(1) as f64;
        let f = |e: &Errors| {
            format!(
                "{:.2} | {:.4} | {:.2} | {:.2}",
                e.sad / n / 1000.0,
                e.mse / n,
                e.grad / n / 1000.0,
                e.conn / n / 1000.0
            )
        };
        format!("| {label} | {} | {} |", f(&self.whole), f(&self.band))
    }
}

fn pct(base: f64, ours: f64) -> String {
    format!("{:+.0} %", (ours / base - 1.0) * 100.0)
}

/// Mean over `band` of the blue chroma `B - (R + G) / 2` of `a` minus that of `b`, and the
/// mean of `B_a - B_b` (0..255 units).
fn blue_shift(a: &RgbImage, b: &RgbImage, band: &[bool]) -> (f64, f64) {
    let (mut s, mut d, mut n) = (0f64, 0f64, 0usize);
    for (k, (p, q)) in a
        .as_raw()
        .chunks_exact(3)
        .zip(b.as_raw().chunks_exact(3))
        .enumerate()
    {
        if !band[k] {
            continue;
        }
        let chroma = |v: &[u8]| v[2] as f64 - (v[0] as f64 + v[1] as f64) / 2.0;
        s += chroma(p) - chroma(q);
        d += p[2] as f64 - q[2] as f64;
        n += 1;
    }
    (s / n.max(1) as f64, d / n.max(1) as f64)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn synthetic_check(dir: &Path) {
    println!("### Metric and compositing check on matting/synthetic (exact ground truth)\n");
    let alpha = load_alpha(&dir.join("test_alpha.png"));
    let img = load_rgb(&dir.join("test.png"));
    let fg = load_rgb(&dir.join("test_foreground.png"));
    let bg = load_rgb(&dir.join("test_background.png"));
    let tri = load_alpha(&dir.join("test_trimap.png"));
    // compositing equation I = a F + (1 - a) B (8-bit values)
    let mut max_err = 0f32;
    for k in 0..alpha.data.len() {
        for c in 0..3 {
            let a = alpha.data[k];
            let v = a * fg.as_raw()[k * 3 + c] as f32 + (1.0 - a) * bg.as_raw()[k * 3 + c] as f32;
            max_err = max_err.max((v - img.as_raw()[k * 3 + c] as f32).abs());
        }
    }
    let zero = errors_in(&alpha, &alpha, &[None])[0];
    let e = errors_in(&tri, &alpha, &[None])[0];
    let direct_sad: f64 = tri
        .data
        .iter()
        .zip(&alpha.data)
        .map(|(a, b)| (*a as f64 - *b as f64).abs())
        .sum();
    // foreground estimation with the exact alpha, in the composite's own (sRGB) space
    let img_f: Vec<f32> = img.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
    let (f_est, _) = matte::estimate_fg_bg(&img_f, &alpha, &matte::MlOptions::default());
    let (mut e_est, mut e_naive, mut n) = (0f64, 0f64, 0usize);
    for k in 0..alpha.data.len() {
        if alpha.data[k] > 0.05 && alpha.data[k] < 0.95 {
            for c in 0..3 {
                let t = fg.as_raw()[k * 3 + c] as f64 / 255.0;
                e_est += (f_est[k * 3 + c] as f64 - t).abs();
                e_naive += (img_f[k * 3 + c] as f64 - t).abs();
            }
            n += 3;
        }
    }
    println!("| check | value |\n|---|---|");
    println!(
        "| max abs error of I = aF + (1-a)B (8-bit) | {max_err:.2} |\n\
         | alpha vs itself: SAD, MSE, grad, conn | {}, {}, {}, {} |\n\
         | trimap (0/0.5/1) vs alpha: SAD, MSE, grad, conn | {:.2}, {:.4}, {:.3}, {:.2} |\n\
         | SAD by direct sum (must equal) | {direct_sad:.2} |\n\
         | foreground error in 0.05<a<0.95, estimate_ml vs image colour (/255) | {:.2} vs {:.2} |\n",
        zero.sad,
        zero.mse,
        zero.grad,
        zero.conn,
        e.sad,
        e.mse,
        e.grad,
        e.conn,
        e_est / n.max(1) as f64 * 255.0,
        e_naive / n.max(1) as f64 * 255.0
    );
    assert!((e.sad - direct_sad).abs() < 1e-6 && zero.sad == 0.0 && zero.conn == 0.0);
}

/// The p3m photo names, sorted.
fn p3m_names(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root.join("p3m/original"))
        .expect("p3m")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".jpg"))
        .collect();
    names.sort();
    names
}

/// The 100x100 window around the top of the head (topmost alpha > 0.5 in the central half).
fn hair_window(alpha: &Plane) -> (u32, u32) {
    let (w, h) = (alpha.width, alpha.height);
    for y in 0..h {
        for x in w / 4..3 * w / 4 {
            if alpha.at(x, y) > 0.5 {
                let x0 = x.saturating_sub(50).min(w - 100);
                let y0 = y.saturating_sub(50).min(h - 100);
                return (x0, y0);
            }
        }
    }
    (w / 2 - 50, 0)
}

fn zoom(img: &RgbImage, (x0, y0): (u32, u32)) -> RgbImage {
    RgbImage::from_fn(400, 400, |x, y| *img.get_pixel(x0 + x / 4, y0 + y / 4))
}

fn fit_height(img: &RgbImage, h: u32) -> RgbImage {
    let w = (img.width() as f64 * h as f64 / img.height() as f64).round() as u32;
    resize_rgb(
        img,
        (0.0, 0.0, img.width() as f64, img.height() as f64),
        w,
        h,
    )
    .expect("resize")
}

#[allow(clippy::needless_range_loop)] // per-pixel loops over parallel arrays
fn main() {
    let root = shared().join("data/matting");
    if !root.join("p3m/original").is_dir() {
        println!("skipped: {} not found", root.display());
        return;
    }
    let out_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/matting-eval");
    std::fs::create_dir_all(&out_dir).expect("output folder");
    engine();
    let t_all = Instant::now();
    if std::env::args().any(|a| a == "--sweep") {
        sweep(&root);
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(k) = args.iter().position(|a| a == "--alpha") {
        // --alpha IN OUT: writes the refined alpha of one photo (for inspection)
        let (Some(src), Some(dst)) = (args.get(k + 1), args.get(k + 2)) else {
            eprintln!("usage: matting-eval --alpha IN.jpg OUT.png");
            return;
        };
        let photo = load_rgb(Path::new(src));
        let (mask, small) =
            matte::segment_with(engine().networks(), &photo, FIT).expect("segmentation");
        let (a, info) = matte::refine_with_info(&photo, &mask, &small, &RefineOptions::default())
            .expect("refine");
        eprintln!("{info:?}");
        let g = GrayImage::from_raw(
            a.width,
            a.height,
            a.data.iter().map(|v| (v * 255.0).round() as u8).collect(),
        )
        .expect("gray");
        g.save(dst).expect("save");
        return;
    }
    let runs_arg = std::env::args()
        .skip_while(|a| a != "--time")
        .nth(1)
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(runs) = runs_arg {
        timing(&root, &p3m_names(&root), runs);
        return;
    }

    synthetic_check(&root.join("synthetic"));

    let names = p3m_names(&root);
    let busy = load_rgb(&shared().join("data/detection/images/dogs.jpg"));
    let opts = RefineOptions::default();
    let feathers = [0.0f32, 1.0, 2.0];

    let mut p3m_base = Acc::default();
    let mut p3m_ours = Acc::default();
    let mut p3m_single = Acc::default();
    let (mut crop_base, mut crop_single, mut crop_ours) =
        (Acc::default(), Acc::default(), Acc::default());
    let mut split = [[0f64; 2]; 3];
    let mut p3m_feather = vec![Acc::default(); feathers.len()];
    let n_bg = 5;
    let mut inv_base = vec![Acc::default(); n_bg];
    let mut inv_ours = vec![Acc::default(); n_bg];
    let mut bg_names = Vec::new();
    let (mut var_base, mut var_ours) = ([0f64; 2], [0f64; 2]);
    let mut fringe = [(0f64, 0f64); 4];
    let mut sheet_rows = Vec::new();
    let mut plain_detected = vec![0usize; n_bg];
    let mut clutter_warned = vec![0usize; n_bg];
    let mut clothing_warned = vec![0usize; n_bg];

    for (idx, name) in names.iter().enumerate() {
        let stem = name.trim_end_matches(".jpg");
        let photo = load_rgb(&root.join("p3m/original").join(name));
        let gt = load_alpha(&root.join("p3m/alpha").join(format!("{stem}.png")));
        let (photo, gt) = fit_long_side(&photo, &gt);
        let (w, h) = photo.dimensions();
        let band = contour_band(&gt, BAND_RADIUS);

        // real photos against the reference mattes
        let (mask1, small1) = matte::segment(engine().networks(), &photo).expect("segmentation");
        let base = mask1.resize(w, h).expect("resize");
        let single = matte::refine(&photo, &mask1, &small1, &opts).expect("refine");
        let (mask, small) =
            matte::segment_with(engine().networks(), &photo, FIT).expect("segmentation");
        let ours = matte::refine(&photo, &mask, &small, &opts).expect("refine");
        p3m_base.add(&base, &gt, &band);
        p3m_single.add(&single, &gt, &band);
        p3m_ours.add(&ours, &gt, &band);
        for (k, a) in [&base, &single, &ours].into_iter().enumerate() {
            split[k][idx % 2] += errors_in(a, &gt, &[Some(&band)])[0].sad;
        }
        // a portrait crop around the person, like the pipeline's working region
        {
            let (photo, gt) = portrait_crop(&photo, &gt);
            let (w, h) = photo.dimensions();
            let band = contour_band(&gt, BAND_RADIUS);
            let (mask1, small1) =
                matte::segment(engine().networks(), &photo).expect("segmentation");
            crop_base.add(&mask1.resize(w, h).expect("resize"), &gt, &band);
            let single = matte::refine(&photo, &mask1, &small1, &opts).expect("refine");
            crop_single.add(&single, &gt, &band);
            let (mask, small) =
                matte::segment_with(engine().networks(), &photo, FIT).expect("segmentation");
            let ours = matte::refine(&photo, &mask, &small, &opts).expect("refine");
            crop_ours.add(&ours, &gt, &band);
        }
        for (acc, &f) in p3m_feather.iter_mut().zip(&feathers) {
            let o = RefineOptions { feather: f, ..opts };
            acc.add(
                &matte::refine(&photo, &mask, &small, &o).expect("refine"),
                &gt,
                &band,
            );
        }
        if idx < 3 {
            let white = [255u8, 255, 255];
            let after = composite_linear(&photo, &matte::estimate_ml(&photo, &ours), &ours, white);
            let naive = composite(&photo, &base, white);
            let win = hair_window(&gt);
            sheet_rows.push(vec![
                fit_height(&photo, 400),
                fit_height(&after, 400),
                zoom(&photo, win),
                zoom(&naive, win),
                zoom(&after, win),
            ]);
        }

        // background invariance
        let bgs = backgrounds(w, h, &busy);
        bg_names = bgs.iter().map(|(n, _)| *n).collect();
        let mut alphas_b = Vec::new();
        let mut alphas_o = Vec::new();
        for (k, (bg_name, bg)) in bgs.iter().enumerate() {
            let comp = composite_onto(&photo, &gt, bg);
            let (mask, _) = matte::segment(engine().networks(), &comp).expect("segmentation");
            let b = mask.resize(w, h).expect("resize");
            let (mask, small) =
                matte::segment_with(engine().networks(), &comp, FIT).expect("segmentation");
            let (o, info) = matte::refine_with_info(&comp, &mask, &small, &opts).expect("refine");
            if info.plain_background.is_some() {
                plain_detected[k] += 1;
            }
            if info.cluttered() {
                clutter_warned[k] += 1;
            }
            if info.clothing_like_background() {
                clothing_warned[k] += 1;
            }
            inv_base[k].add(&b, &gt, &band);
            inv_ours[k].add(&o, &gt, &band);
            if *bg_name == "saturated blue" {
                let white_bg = RgbImage::from_pixel(w, h, image::Rgb([255, 255, 255]));
                let reference = composite_onto(&photo, &gt, &white_bg);
                let white = [255u8, 255, 255];
                let naive_base = composite(&comp, &b, white);
                let naive_ours = composite(&comp, &o, white);
                let fg = matte::estimate_ml(&comp, &o);
                let full = composite_linear(&comp, &fg, &o, white);
                // the same with the reference alpha: what foreground estimation alone leaves
                let fg_gt = matte::estimate_ml(&comp, &gt);
                let with_gt = composite_linear(&comp, &fg_gt, &gt, white);
                for (slot, img) in [&naive_base, &naive_ours, &full, &with_gt]
                    .into_iter()
                    .enumerate()
                {
                    let (c, d) = blue_shift(img, &reference, &band);
                    if std::env::var_os("FRINGE_DIAG").is_some() {
                        eprintln!("fringe {name} slot {slot}: {c:.2}");
                    }
                    fringe[slot].0 += c;
                    fringe[slot].1 += d;
                }
                if idx == 0 {
                    let win = hair_window(&gt);
                    sheet_rows.push(vec![
                        fit_height(&comp, 400),
                        fit_height(&full, 400),
                        zoom(&comp, win),
                        zoom(&composite(&comp, &b, white), win),
                        zoom(&full, win),
                    ]);
                }
            }
            alphas_b.push(b);
            alphas_o.push(o);
        }
        // per-pixel standard deviation across the backgrounds, mean over image and band
        for (alphas, acc) in [(&alphas_b, &mut var_base), (&alphas_o, &mut var_ours)] {
            let (mut s_all, mut s_band, mut n_band) = (0f64, 0f64, 0usize);
            for i in 0..(w * h) as usize {
                let m = alphas.iter().map(|a| a.data[i] as f64).sum::<f64>() / n_bg as f64;
                let v = alphas
                    .iter()
                    .map(|a| (a.data[i] as f64 - m).powi(2))
                    .sum::<f64>()
                    / n_bg as f64;
                let sd = v.sqrt();
                s_all += sd;
                if band[i] {
                    s_band += sd;
                    n_band += 1;
                }
            }
            acc[0] += s_all / (w * h) as f64;
            acc[1] += s_band / n_band.max(1) as f64;
        }
        eprintln!(
            "{name}: {w}x{h} done ({:.1} s)",
            t_all.elapsed().as_secs_f64()
        );
    }
    let n = names.len().max(1) as f64;

    println!(
        "### Alpha errors (mean per image; SAD, gradient and connectivity errors / 1000; \
         band = {BAND_RADIUS} px around the reference contour)\n"
    );
    println!("| case | SAD | MSE | Grad | Conn | band SAD | band MSE | band Grad | band Conn |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "{}",
        p3m_base.row("p3m vs reference, baseline (bilinear mask)")
    );
    println!(
        "{}",
        p3m_single.row("p3m vs reference, ours with one segmentation run (`Single`)")
    );
    println!(
        "{}",
        p3m_ours.row("p3m vs reference, **ours** (`Ensemble`, the default)")
    );
    println!(
        "{}",
        crop_base.row("p3m portrait crops, baseline (bilinear mask)")
    );
    println!(
        "{}",
        crop_single.row("p3m portrait crops, ours with one run (`Single`)")
    );
    println!(
        "{}",
        crop_ours.row("p3m portrait crops, **ours** (`Ensemble`)")
    );
    for (k, name) in bg_names.iter().enumerate() {
        println!("{}", inv_base[k].row(&format!("{name}, baseline")));
        println!("{}", inv_ours[k].row(&format!("{name}, **ours**")));
    }
    for (acc, f) in p3m_feather.iter().zip(&feathers) {
        println!("{}", acc.row(&format!("p3m, ours with feather {f} px")));
    }
    let bs = p3m_base.band.sad;
    let os = p3m_ours.band.sad;
    println!(
        "\np3m contour-band SAD: **ours {}** against the baseline (target <= -30 %); with one \
         segmentation run {}. Portrait crops (aspect 0.72, full height, centred on the head): \
         ours {}, one run {}. Split halves (photos 1, 3, 5, 7 / 2, 4, 6, 8 sorted): ours {} / \
         {}, one run {} / {}.",
        pct(bs, os),
        pct(bs, p3m_single.band.sad),
        pct(crop_base.band.sad, crop_ours.band.sad),
        pct(crop_base.band.sad, crop_single.band.sad),
        pct(split[0][0], split[2][0]),
        pct(split[0][1], split[2][1]),
        pct(split[0][0], split[1][0]),
        pct(split[0][1], split[1][1]),
    );
    for (k, name) in bg_names.iter().enumerate() {
        if name.contains("wall") {
            println!(
                "{name}: alpha MSE ours {:.4} (target <= 0.005), baseline {:.4}; plain wall detected on {}/{}",
                inv_ours[k].whole.mse / n,
                inv_base[k].whole.mse / n,
                plain_detected[k],
                names.len()
            );
        }
    }
    println!("\n| background | plain wall detected | \"cluttered\" warning | \"clothing like background\" warning |\n|---|---|---|---|");
    for (k, name) in bg_names.iter().enumerate() {
        println!(
            "| {name} | {}/{} | {}/{} | {}/{} |",
            plain_detected[k],
            names.len(),
            clutter_warned[k],
            names.len(),
            clothing_warned[k],
            names.len()
        );
    }
    println!(
        "\n### Background invariance: per-pixel std of alpha across the {n_bg} backgrounds\n\n\
         | method | whole image | contour band |\n|---|---|---|\n\
         | baseline | {:.4} | {:.4} |\n| **ours** | {:.4} | {:.4} |",
        var_base[0] / n,
        var_base[1] / n,
        var_ours[0] / n,
        var_ours[1] / n
    );
    println!(
        "\n### Fringe: saturated blue replaced by white, edge band against the same person \
         composited on white (0..255 units, target <= 3)\n\n\
         | method | blue chroma shift B-(R+G)/2 | mean B shift |\n|---|---|---|\n\
         | baseline: bilinear mask, plain composite | {:.2} | {:.2} |\n\
         | our alpha, plain composite | {:.2} | {:.2} |\n\
         | **ours: our alpha + foreground estimation** | {:.2} | {:.2} |\n\
         | (diagnostic) reference alpha + foreground estimation | {:.2} | {:.2} |",
        fringe[0].0 / n,
        fringe[0].1 / n,
        fringe[1].0 / n,
        fringe[1].1 / n,
        fringe[2].0 / n,
        fringe[2].1 / n,
        fringe[3].0 / n,
        fringe[3].1 / n
    );

    timing(&root, &names, 5);

    // contact sheet: before | after | 4x zoom: before, baseline, ours
    let widths: Vec<u32> = (0..5)
        .map(|c| sheet_rows.iter().map(|r| r[c].width()).max().unwrap_or(0) + 8)
        .collect();
    let total_w: u32 = widths.iter().sum();
    let mut sheet = RgbImage::from_pixel(
        total_w,
        408 * sheet_rows.len() as u32,
        image::Rgb([90, 90, 90]),
    );
    for (r, row) in sheet_rows.iter().enumerate() {
        let mut x = 0;
        for (c, tile) in row.iter().enumerate() {
            image::imageops::replace(&mut sheet, tile, x as i64, (r * 408) as i64);
            x += widths[c];
        }
    }
    let path = out_dir.join("contact-sheet.png");
    sheet.save(&path).expect("write contact sheet");
    println!(
        "\nContact sheet (columns: before, after on white, 4x zoom on the hair edge: before, \
         baseline, ours; second row: the first photo composited on saturated blue): {}",
        path.canonicalize().unwrap_or(path.clone()).display()
    );
    eprintln!("total {:.1} s", t_all.elapsed().as_secs_f64());
}

/// Timing of refinement plus foreground estimation on a 1000x1300 crop (one core): median
/// and minimum of `runs` runs.
fn timing(root: &Path, names: &[String], runs: usize) {
    let opts = RefineOptions::default();
    let tall = names
        .iter()
        .map(|n| load_rgb(&root.join("p3m/original").join(n)))
        .find(|im| im.width() >= 1000 && im.height() >= 1300);
    let Some(im) = tall else {
        println!("\nno photo of at least 1000x1300 for the timing");
        return;
    };
    let x0 = (im.width() - 1000) / 2;
    let crop = image::imageops::crop_imm(&im, x0, 0, 1000, 1300).to_image();
    let mut seg_ms = Vec::new();
    for fit in [matte::SegmentFit::Single, FIT] {
        let mut t = Vec::new();
        for _ in 0..runs.max(1) {
            let t0 = Instant::now();
            std::hint::black_box(
                matte::segment_with(engine().networks(), &crop, fit).expect("segmentation"),
            );
            t.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        seg_ms.push(median(t));
    }
    let (mask, small) = matte::segment_with(engine().networks(), &crop, FIT).expect("segmentation");
    let (mut t_ref, mut t_fg) = (Vec::new(), Vec::new());
    let (mut c_ref, mut c_fg) = (Vec::new(), Vec::new());
    for _ in 0..runs.max(1) {
        let (t, c) = (Instant::now(), thread_cpu_ms());
        let a = matte::refine(&crop, &mask, &small, &opts).expect("refine");
        t_ref.push(t.elapsed().as_secs_f64() * 1000.0);
        let c1 = thread_cpu_ms();
        c_ref.push(c1 - c);
        let t = Instant::now();
        let f = matte::estimate_ml(&crop, &a);
        t_fg.push(t.elapsed().as_secs_f64() * 1000.0);
        c_fg.push(thread_cpu_ms() - c1);
        std::hint::black_box(f);
    }
    if c_ref.iter().chain(&c_fg).all(|v| v.is_finite()) {
        let tot: Vec<f64> = c_ref.iter().zip(&c_fg).map(|(a, b)| a + b).collect();
        let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
        eprintln!(
            "CPU time of the thread (excludes time preempted by other processes), median / \
             minimum: refine {:.1} / {:.1} ms, foreground {:.1} / {:.1} ms, total {:.1} / {:.1} ms",
            median(c_ref.clone()),
            min(&c_ref),
            median(c_fg.clone()),
            min(&c_fg),
            median(tot.clone()),
            min(&tot)
        );
    }
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let (rm, fm) = (min(&t_ref), min(&t_fg));
    let (r, f) = (median(t_ref), median(t_fg));
    println!(
        "\n### Timing on a 1000x1300 crop (one core, {runs} runs: median / minimum)\n\n\
         | refine | foreground estimation | total (target <= 60 ms) |\n|---|---|---|\n\
         | {r:.1} / {rm:.1} ms | {f:.1} / {fm:.1} ms | {:.1} / {:.1} ms |",
        r + f,
        rm + fm
    );
    println!(
        "\nSegmentation of the same crop (median): one run {:.1} ms, `{FIT:?}` {:.1} ms.",
        seg_ms[0], seg_ms[1]
    );
}

/// CPU time of the calling thread in ms (`/proc/thread-self/schedstat`, Linux), NaN elsewhere.
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |ns| ns / 1e6)
}

/// `--sweep`: band errors on p3m for a few option variants (for choosing the defaults).
fn sweep(root: &Path) {
    let names = p3m_names(root);
    let d = RefineOptions::default();
    let v = |label: &str, o: RefineOptions| (label.to_string(), o);
    let mut variants: Vec<(String, RefineOptions)> = vec![v("default", d)];
    for radius in [4usize, 6] {
        for spread in [0.5f32, 0.25] {
            for clip_busy in [0.15f32, 0.2] {
                variants.push(v(
                    &format!("radius {radius}, spread {spread}, clip_busy {clip_busy}"),
                    RefineOptions {
                        radius,
                        spread,
                        clip_busy,
                        ..d
                    },
                ));
            }
        }
    }
    let fit = match std::env::var("IDPHOTO_FIT") {
        Ok(v) => v.parse().expect("IDPHOTO_FIT"),
        Err(_) => FIT,
    };
    println!("segmentation: {fit:?}; split A = photos 1, 3, 5, 7 (sorted), B = 2, 4, 6, 8\n");
    let mut accs = vec![Acc::default(); variants.len() + 1];
    let mut split = vec![[0f64; 2]; variants.len() + 1];
    for (idx, name) in names.iter().enumerate() {
        let stem = name.trim_end_matches(".jpg");
        let photo = load_rgb(&root.join("p3m/original").join(name));
        let gt = load_alpha(&root.join("p3m/alpha").join(format!("{stem}.png")));
        let (photo, gt) = fit_long_side(&photo, &gt);
        let band = contour_band(&gt, BAND_RADIUS);
        let (mask, small) = matte::segment(engine().networks(), &photo).expect("segmentation");
        let base = mask.resize(photo.width(), photo.height()).expect("resize");
        accs[0].add(&base, &gt, &band);
        split[0][idx % 2] += errors_in(&base, &gt, &[Some(&band)])[0].sad;
        let (mask, small) = if fit == matte::SegmentFit::Single {
            (mask, small)
        } else {
            matte::segment_with(engine().networks(), &photo, fit).expect("segmentation")
        };
        let dump = std::env::var_os("IDPHOTO_DUMP").map(PathBuf::from);
        for (k, (_, o)) in variants.iter().enumerate() {
            let a = matte::refine(&photo, &mask, &small, o).expect("refine");
            if let (Some(dir), 0) = (&dump, k) {
                let e = errors_in(&a, &gt, &[Some(&band)])[0];
                let eb = errors_in(&base, &gt, &[Some(&band)])[0];
                eprintln!(
                    "{stem}: band SAD ours {:.2} baseline {:.2}",
                    e.sad / 1000.0,
                    eb.sad / 1000.0
                );
                for (tag, p) in [("ours", &a), ("base", &base)] {
                    let g = GrayImage::from_raw(
                        p.width,
                        p.height,
                        p.data.iter().map(|v| (v * 255.0).round() as u8).collect(),
                    )
                    .expect("gray");
                    g.save(dir.join(format!("{stem}_{tag}.png"))).expect("save");
                }
            }
            accs[k + 1].add(&a, &gt, &band);
            split[k + 1][idx % 2] += errors_in(&a, &gt, &[Some(&band)])[0].sad;
        }
    }
    println!("| case | SAD | MSE | Grad | Conn | band SAD | band MSE | band Grad | band Conn |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!("{}", accs[0].row("baseline"));
    for (k, (label, _)) in variants.iter().enumerate() {
        println!(
            "{}  {} (A {}, B {})",
            accs[k + 1].row(label),
            pct(accs[0].band.sad, accs[k + 1].band.sad),
            pct(split[0][0], split[k + 1][0]),
            pct(split[0][1], split[k + 1][1])
        );
    }
}
