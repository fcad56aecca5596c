//! Damaged-JPEG corpus: `cargo run --release -p idphoto-benches --bin damage-eval
//! [-- --seeds N] [--check] [--decoders]`.
//!
//! 1. Clean files: every JPEG under `fixtures/` and `../shared/data` must decode, and neither
//!    they nor the library's own outputs (cn-id-card and us-visa from the shared portraits)
//!    may fail the `image.damage` rule.
//! 2. Damaged files, from the shared portraits, the 1 MP bench photo and the fixture photos:
//!    `N` seeds (default 5) of k = 1..=20 bytes of the compressed data (from the first scan to
//!    the end-of-image marker) replaced by other values, and the file cut at every 5 % of its
//!    length, with and without an end-of-image marker appended.
//! 3. Each damaged file is decoded by `idphoto` (strict) and by `image` (lenient, what a viewer
//!    shows). It counts as visibly changed when the lenient decode fails or has an 8x8 block
//!    whose mean absolute difference from the clean decode is above [`VISIBLE`] levels. For
//!    the ones `idphoto` decodes, the `image.damage` rule runs on the pixels; with `--check`,
//!    the whole `idphoto::check` for cn-id-card runs too, and a rule that fails on the damaged
//!    file but not on the clean one counts as "other rule".
//! 4. Prints a Markdown table per damage kind: visibly changed files, refused
//!    (`decode_failed`), failing `image.damage`, failing any rule of `check` (with `--check`),
//!    and undetected. `--decoders` adds what jpeg-decoder and zune-jpeg's strict mode
//!    refuse on their own. With `DAMAGE_DUMP=dir`, each missed file is saved there (the whole
//!    photo, and its most changed area next to the clean one).

mod engine;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use idphoto::internals::{damage_rule, decode};
use idphoto::Status;
use image::RgbImage;

/// Mean absolute difference (levels, over an 8x8 block and its 3 channels) above which a
/// damaged decode counts as visibly changed.
const VISIBLE: f64 = 16.0;

fn shared() -> PathBuf {
    std::env::var_os("IDPHOTO_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// xorshift64*: reproducible damage without a dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn jpegs_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            jpegs_under(&p, out);
        } else if p
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("jpg") || e.eq_ignore_ascii_case("jpeg"))
        {
            out.push(p);
        }
    }
}

/// Offsets of the compressed data: after the first scan header, up to the last EOI.
fn data_range(b: &[u8]) -> Option<(usize, usize)> {
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA])?;
    let len = usize::from(u16::from_be_bytes([b[sos + 2], b[sos + 3]]));
    let end = b.windows(2).rposition(|w| w == [0xFF, 0xD9])?;
    (sos + 2 + len < end).then_some((sos + 2 + len, end))
}

/// One damaged file and its kind.
struct Damaged {
    kind: &'static str,
    bytes: Vec<u8>,
}

fn damaged_versions(clean: &[u8], seeds: u64, salt: u64) -> Vec<Damaged> {
    let mut out = Vec::new();
    let Some((a, z)) = data_range(clean) else {
        return out;
    };
    for k in 1..=20usize {
        for seed in 0..seeds {
            let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (salt << 32) ^ (k as u64) << 8 ^ seed);
            let mut b = clean.to_vec();
            for _ in 0..k {
                let i = a + rng.below(z - a);
                b[i] ^= 1 + rng.below(255) as u8;
            }
            let kind = match k {
                1 => "1 byte changed",
                2..=5 => "2-5 bytes changed",
                _ => "6-20 bytes changed",
            };
            out.push(Damaged { kind, bytes: b });
        }
    }
    for pct in (5..100).step_by(5) {
        let cut = clean.len() * pct / 100;
        out.push(Damaged {
            kind: "cut (no EOI)",
            bytes: clean[..cut].to_vec(),
        });
        let mut b = clean[..cut].to_vec();
        b.extend_from_slice(&[0xFF, 0xD9]);
        out.push(Damaged {
            kind: "cut + EOI",
            bytes: b,
        });
    }
    out
}

/// Largest mean absolute difference of an 8x8 block between two images of one size.
fn worst_block(a: &RgbImage, b: &RgbImage) -> f64 {
    let (w, h) = a.dimensions();
    let mut worst = 0f64;
    for by in (0..h).step_by(8) {
        for bx in (0..w).step_by(8) {
            let (mut s, mut n) = (0u64, 0u64);
            for y in by..(by + 8).min(h) {
                for x in bx..(bx + 8).min(w) {
                    let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
                    s += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
                    n += 3;
                }
            }
            worst = worst.max(s as f64 / n as f64);
        }
    }
    worst
}

/// How much a viewer's decode differs from the clean photo: the largest mean absolute
/// difference of an 8x8 block (infinite when it does not decode or has another size).
fn change(bytes: &[u8], clean: &RgbImage) -> f64 {
    match image::load_from_memory(bytes) {
        Ok(img) if img.width() == clean.width() && img.height() == clean.height() => {
            worst_block(&img.to_rgb8(), clean)
        }
        _ => f64::INFINITY,
    }
}

/// Saves a missed damaged decode: the whole photo and, side by side with the clean one, the
/// 96x96 px around its most changed 8x8 block.
fn dump(dir: &Path, img: &RgbImage, clean: &RgbImage) {
    let n = std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0) / 2;
    let (w, h) = img.dimensions();
    let (mut best, mut at) = (0f64, (0, 0));
    for by in (0..h.saturating_sub(7)).step_by(8) {
        for bx in (0..w.saturating_sub(7)).step_by(8) {
            let a = image::imageops::crop_imm(img, bx, by, 8, 8).to_image();
            let b = image::imageops::crop_imm(clean, bx, by, 8, 8).to_image();
            let d = worst_block(&a, &b);
            if d > best {
                (best, at) = (d, (bx, by));
            }
        }
    }
    let (x0, y0) = (
        at.0.saturating_sub(44).min(w - 96),
        at.1.saturating_sub(44).min(h - 96),
    );
    let mut pair = RgbImage::new(192, 96);
    image::imageops::replace(
        &mut pair,
        &image::imageops::crop_imm(img, x0, y0, 96, 96).to_image(),
        0,
        0,
    );
    image::imageops::replace(
        &mut pair,
        &image::imageops::crop_imm(clean, x0, y0, 96, 96).to_image(),
        96,
        0,
    );
    let pair = image::imageops::resize(&pair, 768, 384, image::imageops::FilterType::Nearest);
    let _ = pair.save(dir.join(format!("m{n:03}_pair_{best:.0}_at_{}_{}.png", at.0, at.1)));
    let _ = img.save(dir.join(format!("m{n:03}_full.png")));
}

fn damage_fails(img: &RgbImage) -> bool {
    damage_rule(img).status == Status::Fail
}

#[derive(Default)]
struct Row {
    total: usize,
    visible: usize,
    refused: usize,
    rule: usize,
    check: usize,
    missed: usize,
    invisible_refused: usize,
    jpeg_decoder: usize,
    zune_strict: usize,
    /// The change of each missed file.
    missed_changes: Vec<f64>,
}

/// Outcome of one damaged file, added to `row`.
fn evaluate(
    d: &Damaged,
    clean: &RgbImage,
    clean_fails: &BTreeSet<String>,
    args: &Args,
    row: &mut Row,
) {
    row.total += 1;
    let change = change(&d.bytes, clean);
    let visible = change > VISIBLE;
    let decoded = decode(&d.bytes, &Default::default());
    if !visible {
        row.invisible_refused += usize::from(decoded.is_err());
        return;
    }
    row.visible += 1;
    if args.decoders {
        let mut jd = jpeg_decoder::Decoder::new(std::io::Cursor::new(&d.bytes));
        row.jpeg_decoder += usize::from(jd.decode().is_err());
        let opts = zune_core::options::DecoderOptions::default().set_strict_mode(true);
        let mut zd = zune_jpeg::JpegDecoder::new_with_options(
            zune_core::bytestream::ZCursor::new(&d.bytes),
            opts,
        );
        row.zune_strict += usize::from(zd.decode().is_err());
    }
    let img = match decoded {
        Err(e) => {
            assert_eq!(e.code(), "decode_failed", "{e}");
            row.refused += 1;
            return;
        }
        Ok(d) => d.image,
    };
    let by_rule = damage_fails(&img);
    row.rule += usize::from(by_rule);
    let by_check = args.check && !new_failures(&d.bytes, clean_fails).is_empty();
    row.check += usize::from(by_check && !by_rule);
    let missed = !by_rule && !by_check;
    row.missed += usize::from(missed);
    if missed {
        row.missed_changes.push(change);
    }
    if let (true, Some(dir)) = (missed, std::env::var_os("DAMAGE_DUMP")) {
        if let Ok(lenient) = image::load_from_memory(&d.bytes) {
            dump(Path::new(&dir), &lenient.to_rgb8(), clean);
        }
    }
}

/// The rules of `check` (cn-id-card) that fail on `bytes` and not in `before`.
fn new_failures(bytes: &[u8], before: &BTreeSet<String>) -> BTreeSet<String> {
    let spec = idphoto::spec::presets::get("cn-id-card").unwrap();
    match engine::engine().check(bytes, &spec) {
        Ok(r) => r
            .failures()
            .map(|f| f.code.clone())
            .filter(|c| !before.contains(c))
            .collect(),
        Err(e) => BTreeSet::from([e.code().to_string()]),
    }
}

struct Args {
    seeds: u64,
    check: bool,
    decoders: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        seeds: 5,
        check: false,
        decoders: false,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        match argv[i].as_str() {
            "--seeds" => {
                i += 1;
                a.seeds = argv[i].parse().expect("--seeds N");
            }
            "--check" => a.check = true,
            "--decoders" => a.decoders = true,
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    a
}

/// Every clean JPEG decodes and passes `image.damage`; the library's outputs pass it too.
fn clean_files() {
    let mut files = Vec::new();
    jpegs_under(&repo().join("fixtures"), &mut files);
    jpegs_under(&shared().join("data"), &mut files);
    let (mut refused, mut flagged) = (Vec::new(), Vec::new());
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        match decode(&bytes, &Default::default()) {
            Err(e) => refused.push(format!("{}: {e}", f.display())),
            Ok(d) if damage_fails(&d.image) => flagged.push(f.display().to_string()),
            Ok(_) => {}
        }
    }
    let mut outputs = 0;
    let mut portraits = Vec::new();
    jpegs_under(&shared().join("data/portraits"), &mut portraits);
    for p in &portraits {
        for spec in ["cn-id-card", "us-visa"] {
            let bytes = std::fs::read(p).unwrap();
            let spec = idphoto::spec::presets::get(spec).unwrap();
            let Ok(out) = engine::engine().process(&bytes, &spec, &Default::default()) else {
                continue;
            };
            outputs += 1;
            let img = decode(&out.jpeg, &Default::default()).unwrap().image;
            if damage_fails(&img) {
                flagged.push(format!("output of {} ({})", p.display(), spec.id));
            }
        }
    }
    println!(
        "clean: {} JPEG files, {} refused; {} + {outputs} own outputs, {} flagged by image.damage",
        files.len(),
        refused.len(),
        files.len(),
        flagged.len()
    );
    for l in refused.iter().chain(&flagged) {
        println!("  {l}");
    }
}

fn main() {
    let args = parse_args();
    if !shared().join("data/portraits").is_dir() {
        println!("skipped: no {}", shared().join("data/portraits").display());
        return;
    }
    clean_files();
    let mut sources = Vec::new();
    jpegs_under(&shared().join("data/portraits"), &mut sources);
    sources.push(shared().join("data/bench/photo1mp.jpg"));
    for f in ["biden.jpg", "obama2.jpg"] {
        sources.push(repo().join("fixtures/photos").join(f));
    }
    let mut rows: BTreeMap<&str, Row> = BTreeMap::new();
    for (si, src) in sources.iter().enumerate() {
        let clean = std::fs::read(src).unwrap();
        let clean_img = image::load_from_memory(&clean).unwrap().to_rgb8();
        let clean_fails = if args.check {
            new_failures(&clean, &BTreeSet::new())
        } else {
            BTreeSet::new()
        };
        for d in damaged_versions(&clean, args.seeds, si as u64) {
            evaluate(
                &d,
                &clean_img,
                &clean_fails,
                &args,
                rows.entry(d.kind).or_default(),
            );
        }
        eprintln!("{}: done", src.display());
    }
    print_table(&rows, &args);
}

fn print_table(rows: &BTreeMap<&str, Row>, args: &Args) {
    let pct = |n: usize, d: usize| 100.0 * n as f64 / d.max(1) as f64;
    println!(
        "\n| damage | files | visibly changed | refused | image.damage | other rule | caught | \
         missed | invisible, refused | jpeg-decoder | zune strict |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut all = Row::default();
    for r in rows.values() {
        all.total += r.total;
        all.visible += r.visible;
        all.refused += r.refused;
        all.rule += r.rule;
        all.check += r.check;
        all.missed += r.missed;
        all.invisible_refused += r.invisible_refused;
        all.jpeg_decoder += r.jpeg_decoder;
        all.zune_strict += r.zune_strict;
        all.missed_changes.extend(&r.missed_changes);
    }
    for (kind, r) in rows.iter().map(|(k, r)| (*k, r)).chain([("all", &all)]) {
        let caught = r.refused + r.rule + r.check;
        let opt = |on: bool, s: String| if on { s } else { "-".into() };
        println!(
            "| {kind} | {} | {} | {} | {} | {} | {:.1} % | {} | {}/{} | {} | {} |",
            r.total,
            r.visible,
            r.refused,
            r.rule,
            opt(args.check, r.check.to_string()),
            pct(caught, r.visible),
            r.missed,
            r.invisible_refused,
            r.total - r.visible,
            opt(
                args.decoders,
                format!("{:.1} %", pct(r.jpeg_decoder, r.visible))
            ),
            opt(
                args.decoders,
                format!("{:.1} %", pct(r.zune_strict, r.visible))
            ),
        );
    }
    all.missed_changes.sort_by(f64::total_cmp);
    let list: Vec<String> = all
        .missed_changes
        .iter()
        .map(|c| format!("{c:.0}"))
        .collect();
    println!(
        "\nchange of the missed files (largest 8x8 block mean difference, levels): {}",
        list.join(" ")
    );
}
