//! Median time of `Engine::process` called from Rust: `call-overhead PHOTO SPEC N`. The C
//! counterpart is `benches/c/call_overhead.c`; `benches/call-overhead.sh` runs both in
//! alternation, each pinned to one core.

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, photo, spec, runs] = args.as_slice() else {
        eprintln!("usage: call-overhead PHOTO SPEC N");
        std::process::exit(2);
    };
    let photo = std::fs::read(photo).expect("photo");
    let spec = idphoto::Spec::from_id_or_json(spec).expect("spec");
    let runs: usize = runs.parse().expect("N");
    let engine = idphoto::Engine::new().expect("engine");
    let opts = idphoto::Options::default();
    let mut ms = Vec::new();
    // two warm-up calls plan the networks' sizes, as in the C program
    for i in 0..runs + 2 {
        let t = Instant::now();
        let out = engine.process(&photo, &spec, &opts).expect("process");
        // what the C layer does with the result: the report as JSON
        std::hint::black_box(out.report.to_json());
        if i >= 2 {
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    ms.sort_by(f64::total_cmp);
    println!(
        "rust median {:.2} ms min {:.2} ms of {runs}",
        ms[runs / 2],
        ms[0]
    );
}
