//! Evaluation of `idphoto::check`:
//! `cargo run --release -p idphoto-benches --bin check-eval [-- --spec ID ...] [--verbose]`.
//!
//! 1. Makes compliant outputs with `idphoto::process` from the shared portraits
//!    (`../shared/data/portraits`: bush_official_2003.jpg, obama.jpg, obama1.jpg, 32bit.png and
//!    roll/*) for cn-id-card and us-visa.
//! 2. Injects defects into each output (darker and brighter exposure, a light gradient across
//!    the face from x0.5 at one cheek to x1.5 at the other in the direction of the photo's own
//!    light, blur, JPEG quality 10, the head shifted, scaled up and down so that the head's
//!    size ends 8 % beyond the spec's limit, rotated 6 degrees, background tinted, background
//!    textured, noise), re-encodes each into the spec's KB window with the library's encoder,
//!    and runs `idphoto::check`.
//! 3. Prints a Markdown table: for each defect, how often its own check fired (fail or warn;
//!    fail only in brackets) and which other checks fired; the clean outputs that fail, split
//!    into faults of the source photo ([`SOURCE_FAULTS`], true positives) and false alarms;
//!    the roll accuracy on `roll/` against `roll_gt.csv`; and the time per check.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use idphoto::report::{Report, Status};
use image::RgbImage;

fn shared() -> PathBuf {
    std::env::var_os("IDPHOTO_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

const INPUTS: [&str; 10] = [
    "bush_official_2003.jpg",
    "obama.jpg",
    "obama1.jpg",
    "32bit.png",
    "roll/generic_guy.jpg",
    "roll/generic_guy_rotated_5.png",
    "roll/generic_guy_rotated_10.png",
    "roll/generic_guy_rotated_15.png",
    "roll/generic_guy_rotated_20.png",
    "roll/generic_guy_rotated_neg10.png",
];

/// Faults of the source photos that survive into the compliant outputs and that a reviewer would
/// reject: a check that fails for them is right, not a false alarm (file, code, fault).
const SOURCE_FAULTS: [(&str, &str, &str); 4] = [
    ("obama1.jpg", "pose.yaw", "head turned to the side"),
    ("32bit.png", "pose.yaw", "head turned to the side"),
    (
        "32bit.png",
        "expression.mouth_closed",
        "speaking, mouth open",
    ),
    (
        "obama.jpg",
        "expression.mouth_closed",
        "open smile showing the teeth",
    ),
];

/// A defect and the check codes that count as "its own".
struct Defect {
    name: &'static str,
    own: &'static [&'static str],
}

const DEFECTS: [Defect; 12] = [
    Defect {
        name: "darker (-1.7 EV)",
        own: &[
            "lighting.face_luminance",
            "lighting.underexposure",
            "lighting.highlights",
        ],
    },
    Defect {
        name: "brighter (+1.3 EV)",
        own: &[
            "lighting.face_luminance",
            "lighting.overexposure",
            "lighting.clipping",
        ],
    },
    Defect {
        name: "light gradient across the face (x0.5..x1.5, with the photo's own light)",
        own: &["lighting.balance", "lighting.uniformity"],
    },
    Defect {
        name: "blur (gaussian sigma 2 px @358)",
        own: &["image.sharpness"],
    },
    Defect {
        name: "JPEG quality 10",
        own: &["image.compression"],
    },
    Defect {
        name: "head shifted 10% W",
        own: &["geometry.eye_mid_x"],
    },
    Defect {
        name: "scaled up (8 % beyond the spec's scale limit)",
        own: &[
            "geometry.head_height",
            "geometry.face_width",
            "geometry.inter_eye",
        ],
    },
    Defect {
        name: "scaled down (8 % beyond the spec's scale limit)",
        own: &[
            "geometry.head_height",
            "geometry.face_width",
            "geometry.inter_eye",
        ],
    },
    Defect {
        name: "rotated 6 deg",
        own: &["pose.roll"],
    },
    Defect {
        name: "background tinted",
        own: &["background.color"],
    },
    Defect {
        name: "background textured",
        own: &["background.uniformity"],
    },
    Defect {
        name: "noise (sigma 10)",
        own: &["image.noise"],
    },
];

fn fired(r: &Report, code: &str) -> (bool, bool) {
    match r.rule(code).map(|x| x.status) {
        Some(Status::Fail) => (true, true),
        Some(Status::Warn) => (true, false),
        _ => (false, false),
    }
}

fn lin(v: u8) -> f32 {
    idphoto::raster::colour::srgb_to_linear(v as f32 / 255.0)
}
fn enc(v: f32) -> u8 {
    (idphoto::raster::colour::linear_to_srgb(v) * 255.0).round() as u8
}

/// Tiny deterministic RNG (xorshift64*).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn gauss(&mut self) -> f64 {
        let (u, v) = (self.next().max(1e-12), self.next());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn map_pixels(img: &RgbImage, f: impl Fn(u32, u32, [u8; 3]) -> [u8; 3]) -> RgbImage {
    RgbImage::from_fn(img.width(), img.height(), |x, y| {
        image::Rgb(f(x, y, img.get_pixel(x, y).0))
    })
}

/// Resamples with an inverse map (output -> source), bilinear, edges replicated.
fn warp(img: &RgbImage, inv: impl Fn(f32, f32) -> (f32, f32)) -> RgbImage {
    let (w, h) = img.dimensions();
    RgbImage::from_fn(w, h, |x, y| {
        let (sx, sy) = inv(x as f32 + 0.5, y as f32 + 0.5);
        let p = idphoto::raster::bilinear_rgb(
            img,
            (sx - 0.5).clamp(0.0, w as f32 - 1.0),
            (sy - 0.5).clamp(0.0, h as f32 - 1.0),
        );
        image::Rgb(p.map(|v| v.round().clamp(0.0, 255.0) as u8))
    })
}

fn gaussian_blur(img: &RgbImage, sigma: f32) -> RgbImage {
    let r = (3.0 * sigma).ceil() as i64;
    let k: Vec<f32> = (-r..=r)
        .map(|i| (-(i * i) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let s: f32 = k.iter().sum();
    let k: Vec<f32> = k.iter().map(|v| v / s).collect();
    let (w, h) = (img.width() as i64, img.height() as i64);
    let pass = |src: &RgbImage, horiz: bool| {
        RgbImage::from_fn(w as u32, h as u32, |x, y| {
            let mut acc = [0f32; 3];
            for (j, kv) in k.iter().enumerate() {
                let o = j as i64 - r;
                let (sx, sy) = if horiz {
                    ((x as i64 + o).clamp(0, w - 1), y as i64)
                } else {
                    (x as i64, (y as i64 + o).clamp(0, h - 1))
                };
                let p = src.get_pixel(sx as u32, sy as u32);
                for c in 0..3 {
                    acc[c] += kv * p[c] as f32;
                }
            }
            image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8))
        })
    };
    pass(&pass(img, true), false)
}

fn jpeg_q(img: &RgbImage, q: u8) -> RgbImage {
    let mut out = Vec::new();
    let enc = jpeg_encoder::Encoder::new(&mut out, q);
    enc.encode(
        img.as_raw(),
        img.width() as u16,
        img.height() as u16,
        jpeg_encoder::ColorType::Rgb,
    )
    .expect("jpeg encode");
    decode(&out)
}

/// What the injections need to know about the clean output.
struct Ctx {
    /// Eye midpoint x and face width (px).
    eye_x: f32,
    face_w: f32,
    /// +1 when the right half of the face is the brighter one, else -1.
    light_sign: f32,
    /// Scale factors that put the head 8 % beyond the spec's scale limits.
    scale_up: f32,
    scale_down: f32,
}

/// Face geometry and which side of the face is lit more, from the clean output.
fn face_ctx(img: &RgbImage, alpha: &idphoto::raster::Plane) -> Option<(f32, f32, f32)> {
    let faces = idphoto::detect::detect_faces(img, &Default::default()).ok()?;
    let lm = idphoto::landmarks::landmarks_refined(img, faces.first()?).ok()?;
    let em = lm.eye_mid();
    let (fw, chin) = (lm.face_width(), lm.chin().y);
    let (mut l, mut r) = ((0f64, 0usize), (0f64, 0usize));
    for y in em.y.max(0.0) as u32..(chin.min(img.height() as f32) as u32) {
        for x in
            (em.x - fw / 2.0).max(0.0) as u32..((em.x + fw / 2.0).min(img.width() as f32) as u32)
        {
            if alpha.at(x, y) < 0.5 {
                continue;
            }
            let p = img.get_pixel(x, y).0;
            let v = (lin(p[0]) + lin(p[1]) + lin(p[2])) as f64;
            if (x as f32) < em.x {
                l = (l.0 + v, l.1 + 1);
            } else {
                r = (r.0 + v, r.1 + 1);
            }
        }
    }
    let sign = if r.0 / r.1.max(1) as f64 >= l.0 / l.1.max(1) as f64 {
        1.0
    } else {
        -1.0
    };
    Some((em.x, fw, sign))
}

/// Scale factors that put the head's size 8 % beyond the spec's limits: the smallest factor
/// that breaks an upper limit of a scale rule (head height, face width, inter-eye distance)
/// and the largest that breaks a lower one, from the values measured on the clean output.
fn scale_factors(rep: &Report) -> (f32, f32) {
    let (mut up, mut down) = (f64::MAX, f64::MIN);
    for c in [
        "geometry.head_height",
        "geometry.face_width",
        "geometry.inter_eye",
    ] {
        let Some(r) = rep.rule(c) else { continue };
        let Some(v) = r.value.filter(|v| *v > 0.0) else {
            continue;
        };
        if let Some(mx) = r.max {
            up = up.min(mx / v * 1.08);
        }
        if let Some(mn) = r.min {
            down = down.max(mn / v / 1.08);
        }
    }
    (
        if up == f64::MAX { 1.15 } else { up as f32 },
        if down == f64::MIN { 0.85 } else { down as f32 },
    )
}

fn inject(
    i: usize,
    k: usize,
    img: &RgbImage,
    alpha: &idphoto::raster::Plane,
    ctx: &Ctx,
) -> RgbImage {
    let (w, h) = img.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    let sign = if (i + k).is_multiple_of(2) { 1.0 } else { -1.0 };
    let a = |x: u32, y: u32| alpha.at(x, y);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (((i as u64) << 8) | k as u64));
    match k {
        0 => map_pixels(img, |_, _, p| p.map(|v| enc(lin(v) * 0.3))),
        1 => map_pixels(img, |_, _, p| p.map(|v| enc(lin(v) * 2.5))),
        2 => map_pixels(img, |x, y, p| {
            // x0.5 at one cheek to x1.5 at the other, brightening the side the photo's own
            // light already favours (a gradient against it would even the light out)
            let t = ((x as f32 + 0.5 - ctx.eye_x) / (0.5 * ctx.face_w)).clamp(-1.0, 1.0)
                * ctx.light_sign;
            let f = 1.0 + 0.5 * t * a(x, y);
            p.map(|v| enc(lin(v) * f))
        }),
        3 => gaussian_blur(img, 2.0 * w as f32 / 358.0),
        4 => jpeg_q(img, 10),
        5 => {
            let dx = 0.1 * w as f32 * sign;
            warp(img, |x, y| (x - dx, y))
        }
        6 | 7 => {
            let s = if k == 6 { ctx.scale_up } else { ctx.scale_down };
            warp(img, |x, y| (cx + (x - cx) / s, cy + (y - cy) / s))
        }
        8 => {
            let (sn, cs) = (6f32 * sign).to_radians().sin_cos();
            warp(img, |x, y| {
                let (dx, dy) = (x - cx, y - cy);
                (cx + cs * dx + sn * dy, cy - sn * dx + cs * dy)
            })
        }
        9 => {
            let tints = [[205u8, 222, 250], [250, 238, 200], [212, 212, 212]];
            let t = tints[i % 3];
            map_pixels(img, |x, y, p| {
                let b = 1.0 - a(x, y);
                let mut o = [0u8; 3];
                for c in 0..3 {
                    o[c] = enc(lin(p[c]) * (1.0 - b) + lin(t[c]) * b);
                }
                o
            })
        }
        10 => {
            // value noise on a 6 px lattice, amplitude +-14 levels, on the background
            let g = 6u32;
            let (gw, gh) = (w / g + 2, h / g + 2);
            let lattice: Vec<f32> = (0..gw * gh)
                .map(|_| (rng.next() as f32 - 0.5) * 28.0)
                .collect();
            map_pixels(img, |x, y, p| {
                let (fx, fy) = (x as f32 / g as f32, y as f32 / g as f32);
                let (x0, y0) = (fx as u32, fy as u32);
                let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
                let at = |xx: u32, yy: u32| lattice[(yy * gw + xx) as usize];
                let v = (at(x0, y0) * (1.0 - tx) + at(x0 + 1, y0) * tx) * (1.0 - ty)
                    + (at(x0, y0 + 1) * (1.0 - tx) + at(x0 + 1, y0 + 1) * tx) * ty;
                let b = 1.0 - a(x, y);
                p.map(|c| (c as f32 + v * b).round().clamp(0.0, 255.0) as u8)
            })
        }
        _ => add_noise(img, 10.0, (i * 131 + k) as u64),
    }
}

fn add_noise(img: &RgbImage, sigma: f64, seed: u64) -> RgbImage {
    let mut rng = Rng(seed | 1);
    let mut out = img.clone();
    for v in out.iter_mut() {
        *v = (*v as f64 + sigma * rng.gauss()).round().clamp(0.0, 255.0) as u8;
    }
    out
}

fn decode(bytes: &[u8]) -> RgbImage {
    idphoto::decode::decode(bytes, &Default::default())
        .expect("decode")
        .image
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let verbose = args.iter().any(|a| a == "--verbose");
    let dump: Option<String> = args
        .windows(2)
        .find(|w| w[0] == "--dump")
        .map(|w| w[1].clone());
    let mut specs: Vec<String> = args
        .windows(2)
        .filter(|w| w[0] == "--spec")
        .map(|w| w[1].clone())
        .collect();
    if specs.is_empty() {
        specs = vec!["cn-id-card".into(), "us-visa".into()];
    }
    let dir = shared().join("data/portraits");
    if !dir.is_dir() {
        eprintln!("shared portraits not found at {}", dir.display());
        std::process::exit(2);
    }
    idphoto::models::warm_up().expect("models");

    // per defect: (cases, own fired, own failed, other codes fired -> count)
    let mut stats: Vec<(usize, usize, usize, BTreeMap<String, usize>)> = (0..DEFECTS.len())
        .map(|_| (0, 0, 0, BTreeMap::new()))
        .collect();
    let mut clean_n = 0usize;
    let mut clean_fail = 0usize;
    let mut clean_source_fault = 0usize;
    let mut clean_false_alarm = 0usize;
    let mut false_alarms: Vec<String> = Vec::new();
    let mut cn_times = Vec::new();
    let mut defect_times = Vec::new();
    let mut scales: Vec<String> = Vec::new();
    let mut clean_fired: BTreeMap<String, usize> = BTreeMap::new();
    let mut clean_values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut times = Vec::new();
    let mut quality_times = Vec::new();
    let mut skipped = Vec::new();

    for spec_id in &specs {
        let spec = idphoto::spec::presets::get(spec_id).expect("spec");
        for (i, name) in INPUTS.iter().enumerate() {
            let bytes = std::fs::read(dir.join(name)).expect("read");
            let out = match idphoto::process(&bytes, &spec, &idphoto::Options::default()) {
                Ok(o) => o,
                Err(e) => {
                    skipped.push(format!("{spec_id}/{name}: {e}"));
                    continue;
                }
            };
            // the clean output
            let t = Instant::now();
            let rep = idphoto::check(&out.jpeg, &spec).expect("check");
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            clean_n += 1;
            if spec_id == "cn-id-card" {
                cn_times.push(*times.last().unwrap_or(&f64::NAN));
            }
            if !rep.passed {
                clean_fail += 1;
                let unexplained: Vec<&str> = rep
                    .failures()
                    .map(|r| r.code.as_str())
                    .filter(|c| !SOURCE_FAULTS.iter().any(|f| f.0 == *name && f.1 == *c))
                    .collect();
                if unexplained.is_empty() {
                    clean_source_fault += 1;
                } else {
                    clean_false_alarm += 1;
                    false_alarms.push(format!("{spec_id}/{name}: {}", unexplained.join(", ")));
                }
            }
            for r in &rep.rules {
                if let Some(v) = r.value {
                    clean_values.entry(r.code.clone()).or_default().push(v);
                }
                if matches!(r.status, Status::Fail | Status::Warn) {
                    *clean_fired
                        .entry(format!("{} ({:?})", r.code, r.status))
                        .or_default() += 1;
                    if verbose {
                        eprintln!(
                            "clean {spec_id}/{name}: {} {:?} {:?}",
                            r.code, r.status, r.value
                        );
                    }
                }
            }
            let img = decode(&out.jpeg);
            if let Some(d) = &dump {
                let _ = std::fs::create_dir_all(d);
                let _ = std::fs::write(format!("{d}/{spec_id}_{i}_clean.jpg"), &out.jpeg);
            }
            let alpha = idphoto::matte::person_matte(&img).expect("matte");
            // time of the quality rules alone (landmarks from a fresh detection)
            if let Ok(faces) = idphoto::detect::detect_faces(&img, &Default::default()) {
                if let Some(f) = faces.first() {
                    let lm = idphoto::landmarks::landmarks_refined(&img, f).expect("lm");
                    let t = Instant::now();
                    let _ = idphoto::check::quality::quality_rules(&img, &lm, &alpha, &spec);
                    quality_times.push(t.elapsed().as_secs_f64() * 1000.0);
                }
            }
            let (scale_up, scale_down) = scale_factors(&rep);
            let (eye_x, face_w, light_sign) = face_ctx(&img, &alpha).unwrap_or((
                img.width() as f32 / 2.0,
                0.5 * img.width() as f32,
                1.0,
            ));
            let ctx = Ctx {
                eye_x,
                face_w,
                light_sign,
                scale_up,
                scale_down,
            };
            scales.push(format!("{spec_id} x{scale_up:.2} / x{scale_down:.2}"));
            for (k, d) in DEFECTS.iter().enumerate() {
                let bad = inject(i, k, &img, &alpha, &ctx);
                let jpeg = match idphoto::encode::encode_jpeg(&bad, spec.dpi, spec.byte_window()) {
                    Ok(e) => e.bytes,
                    Err(_) => {
                        idphoto::encode::encode_jpeg(&bad, spec.dpi, (None, None))
                            .expect("encode")
                            .bytes
                    }
                };
                if let Some(d) = &dump {
                    let _ = std::fs::create_dir_all(d);
                    let _ = std::fs::write(format!("{d}/{spec_id}_{i}_{k}.jpg"), &jpeg);
                }
                let t = Instant::now();
                let checked = idphoto::check(&jpeg, &spec);
                defect_times.push(t.elapsed().as_secs_f64() * 1000.0);
                let rep = match checked {
                    Ok(r) => r,
                    Err(e) => {
                        skipped.push(format!("{spec_id}/{name}/{}: check error {e}", d.name));
                        continue;
                    }
                };
                let s = &mut stats[k];
                s.0 += 1;
                let mut own = (false, false);
                for c in d.own {
                    let f = fired(&rep, c);
                    own = (own.0 || f.0, own.1 || f.1);
                }
                if own.0 {
                    s.1 += 1;
                }
                if own.1 {
                    s.2 += 1;
                }
                if verbose {
                    let vals: Vec<String> = d
                        .own
                        .iter()
                        .filter_map(|c| {
                            rep.rule(c)
                                .map(|r| format!("{c}={:?}:{:?}", r.value, r.status))
                        })
                        .collect();
                    eprintln!("{spec_id}/{name} {}: {}", d.name, vals.join(" "));
                }
                for r in &rep.rules {
                    if matches!(r.status, Status::Fail | Status::Warn)
                        && !d.own.contains(&r.code.as_str())
                    {
                        *s.3.entry(r.code.clone()).or_default() += 1;
                    }
                }
            }
        }
    }

    println!("## check evaluation ({})\n", specs.join(", "));
    println!("| defect | cases | own check fired (fail) | other checks that fired (count) |");
    println!("|---|---|---|---|");
    for (d, s) in DEFECTS.iter().zip(&stats) {
        let pct = |n: usize| 100.0 * n as f64 / s.0.max(1) as f64;
        let others: Vec<String> = s.3.iter().map(|(c, n)| format!("{c} {n}")).collect();
        println!(
            "| {} | {} | {:.0} % ({:.0} %) | {} |",
            d.name,
            s.0,
            pct(s.1),
            pct(s.2),
            others.join(", ")
        );
    }
    println!("\nScale factors used (up / down): {}.", {
        scales.sort();
        scales.dedup();
        scales.join(", ")
    });
    let pct = |n: usize| 100.0 * n as f64 / clean_n.max(1) as f64;
    println!(
        "\nClean outputs: {clean_n}; reports failing: {clean_fail} ({:.1} %): {clean_source_fault} ({:.1} %) only for faults of the source photo (true positives: {}), {clean_false_alarm} ({:.1} %) false alarms{}.",
        pct(clean_fail),
        pct(clean_source_fault),
        SOURCE_FAULTS
            .iter()
            .map(|f| format!("{} {} = {}", f.0, f.1, f.2))
            .collect::<Vec<_>>()
            .join("; "),
        pct(clean_false_alarm),
        if false_alarms.is_empty() {
            String::new()
        } else {
            format!(" ({})", false_alarms.join("; "))
        }
    );
    let fired: Vec<String> = clean_fired
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!(
        "Checks that fired on clean outputs (fail or warn): {}",
        if fired.is_empty() {
            "none".into()
        } else {
            fired.join(", ")
        }
    );
    if verbose {
        for (c, v) in &clean_values {
            let mn = v.iter().cloned().fold(f64::MAX, f64::min);
            let mx = v.iter().cloned().fold(f64::MIN, f64::max);
            eprintln!(
                "clean {c}: min {mn:.3} median {:.3} max {mx:.3}",
                median(v.clone())
            );
        }
    }

    // roll accuracy on the known-roll portraits
    println!("\n| roll file | truth deg | measured deg | error |");
    println!("|---|---|---|---|");
    let gt = std::fs::read_to_string(dir.join("roll/roll_gt.csv")).unwrap_or_default();
    let spec = idphoto::spec::presets::get("cn-id-card").expect("spec");
    let mut worst = 0f64;
    for line in gt.lines().skip(1) {
        let mut f = line.split(',');
        let (Some(file), Some(truth)) = (f.next(), f.next()) else {
            continue;
        };
        let Ok(truth) = truth.parse::<f64>() else {
            continue;
        };
        let Ok(bytes) = std::fs::read(dir.join("roll").join(file)) else {
            continue;
        };
        let Ok(rep) = idphoto::check(&bytes, &spec) else {
            continue;
        };
        if let Some(v) = rep.rule("pose.roll").and_then(|r| r.value) {
            worst = worst.max((v - truth).abs());
            println!("| {file} | {truth} | {v:.2} | {:.2} |", (v - truth).abs());
        }
    }
    println!("\nWorst roll error: {worst:.2} deg (target <= 1.5).");
    let min = |v: &[f64]| v.iter().cloned().fold(f64::NAN, f64::min);
    println!(
        "\nTime per full check (decode + detect + landmarks + background + rules), one thread: clean cn-id-card 358x441 outputs median {:.1} ms (min {:.1}) of {}; all clean outputs median {:.1} ms; defect variants median {:.1} ms; quality rules alone median {:.2} ms.",
        median(cn_times.clone()),
        min(&cn_times),
        cn_times.len(),
        median(times),
        median(defect_times),
        median(quality_times)
    );
    for s in &skipped {
        println!("skipped: {s}");
    }
}
