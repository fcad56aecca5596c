//! Time of `idphoto::check` on compliant outputs, per stage, single thread:
//! `cargo run --release -p idphoto-benches --bin check-time [-- --runs N]`.
//!
//! Makes cn-id-card (358x441) and us-visa (600x600) outputs of the shared portraits, then
//! reports for each the minimum over N runs of: decode, detection, one and two landmark
//! passes, the segmentation matte, the quality rules and the full `check`.

use std::path::PathBuf;
use std::time::Instant;

fn shared() -> PathBuf {
    std::env::var_os("IDPHOTO_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn min_ms(runs: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::MAX, f64::min)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = args
        .windows(2)
        .find(|w| w[0] == "--runs")
        .and_then(|w| w[1].parse().ok())
        .unwrap_or(7);
    let dir = shared().join("data/portraits");
    if !dir.is_dir() {
        println!("skipped: shared portraits not found at {}", dir.display());
        return;
    }
    idphoto::models::warm_up().expect("models");
    println!("| spec | input | decode | detect | landmarks 1 pass | 2 passes | matte | quality rules | full check |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for spec_id in ["cn-id-card", "us-visa"] {
        let spec = idphoto::spec::presets::get(spec_id).expect("spec");
        for name in [
            "bush_official_2003.jpg",
            "obama.jpg",
            "roll/generic_guy.jpg",
        ] {
            let bytes = std::fs::read(dir.join(name)).expect("read");
            let Ok(out) = idphoto::process(&bytes, &spec, &idphoto::Options::default()) else {
                continue;
            };
            let jpeg = out.jpeg;
            let img = idphoto::decode::decode(&jpeg, &Default::default())
                .expect("decode")
                .image;
            let t_dec = min_ms(runs, || {
                let _ = idphoto::decode::decode(&jpeg, &Default::default());
            });
            let faces = idphoto::detect::detect_faces(&img, &Default::default()).expect("det");
            let Some(face) = faces.first() else { continue };
            let t_det = min_ms(runs, || {
                let _ = idphoto::detect::detect_faces(&img, &Default::default());
            });
            let t_lm1 = min_ms(runs, || {
                let _ = idphoto::landmarks::landmarks_fast(&img, face, 0.9);
            });
            let t_lm2 = min_ms(runs, || {
                let _ = idphoto::landmarks::landmarks_refined(&img, face);
            });
            let t_matte = min_ms(runs, || {
                let _ = idphoto::matte::person_matte(&img);
            });
            let lm = idphoto::landmarks::landmarks_refined(&img, face).expect("lm");
            let alpha = idphoto::matte::person_matte(&img).expect("matte");
            let fast = idphoto::validate::border_matte(&img, &lm).is_some();
            let t_bm = min_ms(runs, || {
                let _ = idphoto::validate::border_matte(&img, &lm);
            });
            let t_q = min_ms(runs, || {
                let _ = idphoto::check::quality::quality_rules(&img, &lm, &alpha, &spec);
            });
            let t_full = min_ms(runs, || {
                let _ = idphoto::check(&jpeg, &spec);
            });
            println!(
                "| {spec_id} | {name} | {t_dec:.1} | {t_det:.1} | {t_lm1:.1} | {t_lm2:.1} | {t_matte:.1} (border model {fast}: {t_bm:.1}) | {t_q:.1} | {t_full:.1} |"
            );
        }
    }
}
