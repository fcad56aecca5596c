//! Face detection recall and false detections on `../shared/data/detection` (dlib's example
//! photos with hand-labelled boxes), with the detector's default options.
//!
//! `cargo run --release -p idphoto-benches --bin detect-eval` prints, per photo, the labelled
//! faces found, missed (with their width) and the detections matching no label, then the
//! totals. A label counts as found when a detection overlaps it with IoU >= 0.3 (dlib's boxes
//! are tighter than BlazeFace's). Labels narrower than the search's smallest face
//! (`DetectOptions::default().min_face_px`) are reported separately: the pipeline never needs
//! them.

use std::path::PathBuf;
use std::time::Instant;

use idphoto::internals::{detect_faces, DetectOptions, Face};

fn shared() -> PathBuf {
    std::env::var_os("IDPHOTO_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn iou(f: &Face, b: [f32; 4]) -> f32 {
    let x0 = f.x.max(b[0]);
    let y0 = f.y.max(b[1]);
    let x1 = (f.x + f.w).min(b[0] + b[2]);
    let y1 = (f.y + f.h).min(b[1] + b[3]);
    let inter = (x1 - x0).max(0.0) * (y1 - y0).max(0.0);
    inter / (f.w * f.h + b[2] * b[3] - inter)
}

fn main() {
    let root = shared().join("data/detection");
    let Ok(text) = std::fs::read_to_string(root.join("faces.json")) else {
        println!("skipped: {} not found", root.display());
        return;
    };
    let json: serde_json::Value = match serde_json::from_str(&text) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("faces.json: {e}");
            std::process::exit(2);
        }
    };
    let engine = idphoto::Engine::new().expect("models");
    engine.warm_up().expect("models");
    let nets = engine.networks();
    let opts = DetectOptions::default();
    let (mut found, mut missed, mut small, mut extra, mut found_small) = (0, 0, 0, 0, 0);
    let mut ms = Vec::new();
    let images = json["images"].as_array().cloned().unwrap_or_default();
    for im in &images {
        let file = im["file"].as_str().unwrap_or_default();
        let img = match image::open(root.join(file)) {
            Ok(i) => i.to_rgb8(),
            Err(e) => {
                eprintln!("{file}: {e}");
                continue;
            }
        };
        let t = Instant::now();
        let faces = detect_faces(nets, &img, &opts).expect("detection");
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let labels: Vec<[f32; 4]> = im["faces"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter(|f| !f["ignore"].as_bool().unwrap_or(false))
            .filter_map(|f| {
                let b = f["box_xywh"].as_array()?;
                let v: Vec<f32> = b
                    .iter()
                    .filter_map(|x| x.as_f64())
                    .map(|x| x as f32)
                    .collect();
                (v.len() == 4).then(|| [v[0], v[1], v[2], v[3]])
            })
            .collect();
        let mut used = vec![false; faces.len()];
        let mut line = Vec::new();
        for b in &labels {
            let hit = faces
                .iter()
                .enumerate()
                .filter(|(i, f)| !used[*i] && iou(f, *b) >= 0.3)
                .max_by(|a, c| iou(a.1, *b).total_cmp(&iou(c.1, *b)));
            match hit {
                Some((i, _)) => {
                    used[i] = true;
                    if b[2] >= opts.min_face_px {
                        found += 1;
                    } else {
                        found_small += 1;
                    }
                }
                None if b[2] < opts.min_face_px => {
                    small += 1;
                    line.push(format!("small {}px", b[2]));
                }
                None => {
                    missed += 1;
                    line.push(format!("MISSED {}px", b[2]));
                }
            }
        }
        let unmatched: Vec<String> = faces
            .iter()
            .zip(&used)
            .filter(|(_, u)| !**u)
            .map(|(f, _)| format!("{:.0}px@{:.2}", f.w, f.score))
            .collect();
        extra += unmatched.len();
        println!(
            "{file}: {} labels, {} detections{}{}",
            labels.len(),
            faces.len(),
            if line.is_empty() {
                String::new()
            } else {
                format!("; {}", line.join(", "))
            },
            if unmatched.is_empty() {
                String::new()
            } else {
                format!("; unmatched {}", unmatched.join(" "))
            }
        );
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "found {found} of {} labelled faces >= {} px, {found_small} of {} smaller ones; {extra} \
         detections match no label; median detection time {:.1} ms",
        found + missed,
        opts.min_face_px,
        found_small + small,
        ms.get(ms.len() / 2).copied().unwrap_or(0.0)
    );
}
