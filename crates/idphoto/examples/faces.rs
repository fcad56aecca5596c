//! Prints the faces the detector finds in an image: `cargo run --release --example faces IMG`.
fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: faces IMAGE");
        std::process::exit(64);
    };
    let bytes = std::fs::read(&path).expect("readable file");
    let img = match idphoto::decode::decode(&bytes, &Default::default()) {
        Ok(d) => d.image,
        Err(e) => {
            eprintln!("error[{}]: {e}", e.code());
            std::process::exit(2);
        }
    };
    let opts = idphoto::detect::DetectOptions {
        threshold: 0.3,
        min_face_px: 24.0,
        ..Default::default()
    };
    for f in idphoto::detect::detect_faces(&img, &opts).unwrap_or_default() {
        let lm = idphoto::landmarks::landmarks_refined(&img, &f).ok();
        println!(
            "box {:.0},{:.0} {:.0}x{:.0} score {:.3} presence {:.3} landmark face width {:.0}",
            f.x,
            f.y,
            f.w,
            f.h,
            f.score,
            lm.as_ref().map(|l| l.presence).unwrap_or(-1.0),
            lm.as_ref().map(|l| l.face_width()).unwrap_or(-1.0)
        );
    }
}
