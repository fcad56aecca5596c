//! The `idphoto` command: make an ID photo from a phone photo, check a photo against a spec, and
//! list the built-in specs.
//!
//! Exit codes: 0 the photo complies, 1 the photo was made/checked but does not comply,
//! 2 error (one line `error[<code>]: <message>` on stderr), 64 usage error.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

mod output;
use idphoto::spec::presets;
use idphoto::SegmentFit;
use idphoto::{FaceHint, Options, Report, Spec};
use output::{check_writable, read_limited, same_file, Staged, Target};

/// Exit code: the photo complies with the spec.
const EXIT_OK: u8 = 0;
/// Exit code: the photo was made or checked, but does not comply.
const EXIT_NONCOMPLIANT: u8 = 1;
/// Exit code: an error (bad input, unknown spec, I/O...).
const EXIT_ERROR: u8 = 2;
/// Exit code: the command line is malformed (BSD `EX_USAGE`).
const EXIT_USAGE: u8 = 64;

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   the photo complies with the spec (specs: success)
  1   the photo was made or checked but does not comply; stderr names the failing rules
  2   error; stderr has one line `error[<code>]: <message>` (codes are listed in README.md)
  64  usage error (unknown flag, malformed value)";

const TOP_AFTER_HELP: &str = "\
Examples:
  idphoto make selfie.jpg --spec cn-id-card -o id.jpg
  idphoto check id.jpg --spec cn-id-card
  idphoto specs
  idphoto specs show us-passport

Exit codes:
  0   the photo complies with the spec (specs: success)
  1   the photo was made or checked but does not comply; stderr names the failing rules
  2   error; stderr has one line `error[<code>]: <message>` (codes are listed in README.md)
  64  usage error (unknown flag, malformed value)";

const MAKE_AFTER_HELP: &str = "\
Examples:
  idphoto make selfie.jpg --spec cn-id-card -o id.jpg
  idphoto make selfie.jpg --spec my-badge.json --background corporate-blue --json report.json
  idphoto make selfie.jpg --spec cn-id-card --face-box 310,220,260,260 --json -";

const CHECK_AFTER_HELP: &str = "\
Examples:
  idphoto check id.jpg --spec cn-id-card
  idphoto check id.jpg --spec my-badge.json --json > report.json";

/// Make and check official ID photos (China ID card, passports, visas).
#[derive(Debug, Parser)]
#[command(name = "idphoto", version, after_help = TOP_AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Make an ID photo from a photo: crop, replace the background, resize and encode to the
    /// spec, then check the result.
    #[command(after_help = format!("{MAKE_AFTER_HELP}\n\n{EXIT_CODES_HELP}"))]
    Make(MakeArgs),
    /// Check a photo against a spec and print the compliance report.
    #[command(after_help = format!("{CHECK_AFTER_HELP}\n\n{EXIT_CODES_HELP}"))]
    Check(CheckArgs),
    /// List the built-in specs, or show one as JSON (`specs show ID`).
    Specs(SpecsArgs),
}

#[derive(Debug, Args)]
struct MakeArgs {
    /// The source photo (JPEG, PNG or WebP).
    input: PathBuf,
    /// Spec: a built-in preset id (see `idphoto specs`) or a path to a JSON spec file.
    #[arg(long, short = 's', value_name = "ID|FILE")]
    spec: String,
    /// Output JPEG path (`-` = stdout; the summary and table then go to stderr)
    /// [default: <input stem>-<spec id>.jpg in the current directory]. Written atomically: an
    /// error leaves an existing file untouched.
    #[arg(long, short = 'o', value_name = "OUT")]
    output: Option<PathBuf>,
    /// Allow -o to name the input photo (it is replaced by the ID photo).
    #[arg(long)]
    force: bool,
    /// Background colour: a name the spec allows (e.g. white, blue) or #RRGGBB
    /// [default: the spec's default colour].
    #[arg(long, value_name = "COLOR")]
    background: Option<String>,
    /// Write the compliance report as JSON to this file (`-` = stdout; the summary and table
    /// then go to stderr).
    #[arg(long, value_name = "REPORT")]
    json: Option<String>,
    /// Largest upscale of the face allowed; a smaller face is refused with face_too_small
    /// [default: 1.25].
    #[arg(long, value_name = "X", value_parser = parse_upscale, allow_hyphen_values = true)]
    max_upscale: Option<f64>,
    /// Output size in pixels, for specs that accept a range of sizes (must lie in the range).
    #[arg(long, value_name = "WxH", value_parser = parse_size)]
    size: Option<(u32, u32)>,
    /// Use this face box (pixels in the EXIF-rotated photo: left,top,width,height) instead of
    /// the built-in face detector.
    #[arg(long, value_name = "x,y,w,h", value_parser = parse_face_box, allow_hyphen_values = true)]
    face_box: Option<[f32; 4]>,
    /// Person segmentation: `ensemble` (three network runs at the photo's aspect, the best
    /// edges), `flip` (two runs) or `single` (one run, about 15 ms faster) [default: ensemble].
    #[arg(long, value_name = "RUNS", value_parser = parse_segmentation)]
    segmentation: Option<SegmentFit>,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// The photo to check (JPEG, PNG or WebP).
    image: PathBuf,
    /// Spec: a built-in preset id (see `idphoto specs`) or a path to a JSON spec file.
    #[arg(long, short = 's', value_name = "ID|FILE")]
    spec: String,
    /// Print the report as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
struct SpecsArgs {
    #[command(subcommand)]
    action: Option<SpecsAction>,
}

#[derive(Debug, Subcommand)]
enum SpecsAction {
    /// Print a spec as JSON: the same schema custom spec files use, so it is a good starting
    /// point for one.
    Show {
        /// A built-in preset id, or a JSON spec file to validate and print.
        #[arg(value_name = "ID|FILE")]
        id: String,
    },
}

/// An error that ends the command: exit code 2, or 64 for a usage error.
#[derive(Debug)]
struct Failure {
    code: &'static str,
    message: String,
    exit: u8,
}

impl From<idphoto::Error> for Failure {
    fn from(e: idphoto::Error) -> Self {
        Failure {
            code: e.code(),
            message: e.to_string(),
            exit: EXIT_ERROR,
        }
    }
}

/// A command line that parses but asks for something contradictory (exit 64).
fn usage_failure(message: impl Into<String>) -> Failure {
    Failure {
        code: "usage",
        message: message.into(),
        exit: EXIT_USAGE,
    }
}

fn io_failure(action: &str, path: &Path, e: std::io::Error) -> Failure {
    Failure {
        code: "io_error",
        message: format!("cannot {action} {}: {e}", path.display()),
        exit: EXIT_ERROR,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are "errors" that go to stdout and succeed.
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Make(a) => make(a),
        Command::Check(a) => check(a),
        Command::Specs(a) => specs(a),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            let one_line = f.message.replace(['\n', '\r'], " ");
            eprintln!("error[{}]: {}", f.code, one_line);
            ExitCode::from(f.exit)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Argument parsers (their errors are usage errors, exit 64).

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{s}` is not WIDTHxHEIGHT, e.g. 354x472"))?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("`{v}` is not a positive whole number of pixels"))
    };
    Ok((p(w)?, p(h)?))
}

fn parse_segmentation(s: &str) -> Result<SegmentFit, String> {
    s.parse()
}

fn parse_upscale(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.1 => Ok(v),
        _ => Err(format!("`{s}` is not a number of at least 0.1, e.g. 1.25")),
    }
}

fn parse_face_box(s: &str) -> Result<[f32; 4], String> {
    let parts: Vec<&str> = s.split(',').collect();
    if parts.len() != 4 {
        return Err(format!(
            "`{s}` is not x,y,w,h (four numbers separated by commas)"
        ));
    }
    let mut out = [0f32; 4];
    for (slot, p) in out.iter_mut().zip(&parts) {
        *slot = p
            .trim()
            .parse::<f32>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("`{p}` in `{s}` is not a number"))?;
    }
    if out[0] < 0.0 || out[1] < 0.0 || out[2] <= 0.0 || out[3] <= 0.0 {
        return Err(format!("`{s}`: x and y must be >= 0, width and height > 0"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Commands

/// Loads a spec from a preset id, or from a JSON file when the value ends in `.json` or names an
/// existing file.
fn load_spec(arg: &str) -> Result<Spec, Failure> {
    let path = Path::new(arg);
    if arg.to_ascii_lowercase().ends_with(".json") || path.is_file() {
        let text = std::fs::read_to_string(path).map_err(|e| io_failure("read spec", path, e))?;
        Ok(Spec::from_json(&text)?)
    } else {
        Ok(presets::get(arg)?)
    }
}

/// Reads the input photo, at most the decoder's byte limit (a larger or endless input is
/// refused without being read whole).
fn read_input(path: &Path) -> Result<Vec<u8>, Failure> {
    let limit = idphoto::decode::Limits::default().max_bytes;
    match read_limited(path, limit).map_err(|e| io_failure("read", path, e))? {
        Ok(bytes) => Ok(bytes),
        Err(limit) => Err(Failure {
            code: "too_many_bytes",
            message: format!(
                "{} is larger than the limit of {limit} bytes",
                path.display()
            ),
            exit: EXIT_ERROR,
        }),
    }
}

/// Where `make` writes the photo and the report, checked before any work: not both on
/// stdout, not the same file, not over the input unless forced, into directories that exist.
fn make_targets(a: &MakeArgs, spec_id: &str) -> Result<(Target, Option<Target>), Failure> {
    let photo = match &a.output {
        Some(p) => Target::parse(p),
        None => {
            // the input's own stem, byte for byte (it need not be UTF-8)
            let mut name = a
                .input
                .file_stem()
                .map(|s| s.to_os_string())
                .unwrap_or_else(|| "photo".into());
            name.push(format!("-{spec_id}.jpg"));
            Target::File(PathBuf::from(name))
        }
    };
    let report = a.json.as_deref().map(|j| Target::parse(Path::new(j)));
    match (&photo, &report) {
        (Target::Stdout, Some(Target::Stdout)) => {
            return Err(usage_failure(
                "-o - and --json - would both write to stdout",
            ))
        }
        (Target::File(p), Some(Target::File(r))) if same_file(p, r) => {
            return Err(usage_failure(format!(
                "-o and --json name the same file {}",
                p.display()
            )))
        }
        _ => {}
    }
    if let Target::File(p) = &photo {
        if same_file(p, &a.input) && !a.force {
            return Err(usage_failure(format!(
                "-o names the input photo {}; add --force to replace it",
                p.display()
            )));
        }
    }
    for t in [Some(&photo), report.as_ref()].into_iter().flatten() {
        if let Target::File(p) = t {
            check_writable(p).map_err(|message| Failure {
                code: "io_error",
                message,
                exit: EXIT_ERROR,
            })?;
        }
    }
    Ok((photo, report))
}

/// Prints the one-line non-compliance reason on stderr.
fn report_noncompliance(what: &Path, report: &Report) {
    let codes: Vec<&str> = report.failures().map(|r| r.code.as_str()).collect();
    let shown = codes.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    let more = if codes.len() > 3 {
        format!(" (+{} more)", codes.len() - 3)
    } else {
        String::new()
    };
    eprintln!(
        "idphoto: {} does not comply with {}: failing rules: {shown}{more}",
        what.display(),
        report.spec_id
    );
}

fn make(a: MakeArgs) -> Result<u8, Failure> {
    let spec = load_spec(&a.spec)?;
    let (photo_target, report_target) = make_targets(&a, &spec.id)?;
    let bytes = read_input(&a.input)?;
    // Refuse non-images before the pipeline (and its models) is touched.
    idphoto::decode::detect_format(&bytes)?;
    let mut opts = Options {
        background: a.background,
        size: a.size,
        ..Options::default()
    };
    if let Some(x) = a.max_upscale {
        opts.max_upscale = x;
    }
    if let Some(fit) = a.segmentation {
        opts.segmentation = fit;
    }
    if let Some(bbox) = a.face_box {
        opts.face = Some(FaceHint {
            bbox,
            right_eye: None,
            left_eye: None,
        });
    }

    let out = idphoto::Engine::new()?.process(&bytes, &spec, &opts)?;
    let shown_path = match &photo_target {
        Target::File(p) => p.clone(),
        Target::Stdout => PathBuf::from("-"),
    };
    write_outputs(&photo_target, report_target.as_ref(), &out)?;

    let summary = format!(
        "wrote {}: {}x{} px, {:.1} KB, JPEG quality {}, {}",
        if photo_target == Target::Stdout {
            "stdout".to_string()
        } else {
            shown_path.display().to_string()
        },
        out.width,
        out.height,
        out.jpeg.len() as f64 / 1024.0,
        out.quality,
        if out.report.passed { "PASS" } else { "FAIL" }
    );
    let table = out.report.to_table();
    let stdout_taken = photo_target == Target::Stdout || report_target == Some(Target::Stdout);
    if stdout_taken {
        eprintln!("{summary}");
        eprint!("{table}");
    } else {
        println!("{summary}");
        print!("{table}");
    }
    let _ = std::io::stdout().flush();

    if out.report.passed {
        Ok(EXIT_OK)
    } else {
        report_noncompliance(&shown_path, &out.report);
        Ok(EXIT_NONCOMPLIANT)
    }
}

/// Writes the photo and the report: files are staged beside their targets and renamed only
/// when both were written, so a failure leaves existing files untouched.
fn write_outputs(
    photo: &Target,
    report: Option<&Target>,
    out: &idphoto::Output,
) -> Result<(), Failure> {
    let json = out.report.to_json() + "\n";
    let mut staged = Vec::new();
    for (target, data, what) in [
        (Some(photo), out.jpeg.as_slice(), "write"),
        (report, json.as_bytes(), "write report"),
    ] {
        if let Some(Target::File(p)) = target {
            staged.push((
                Staged::write(p, data).map_err(|e| io_failure(what, p, e))?,
                p.clone(),
                what,
            ));
        }
    }
    for (s, p, what) in staged {
        s.commit().map_err(|e| io_failure(what, &p, e))?;
    }
    let mut stdout = std::io::stdout().lock();
    if *photo == Target::Stdout {
        stdout
            .write_all(&out.jpeg)
            .map_err(|e| io_failure("write", Path::new("stdout"), e))?;
    }
    if report == Some(&Target::Stdout) {
        stdout
            .write_all(json.as_bytes())
            .map_err(|e| io_failure("write report to", Path::new("stdout"), e))?;
    }
    stdout
        .flush()
        .map_err(|e| io_failure("write", Path::new("stdout"), e))
}

fn check(a: CheckArgs) -> Result<u8, Failure> {
    let spec = load_spec(&a.spec)?;
    let bytes = read_input(&a.image)?;
    // Refuse non-images before the pipeline (and its models) is touched.
    idphoto::decode::detect_format(&bytes)?;
    let report = idphoto::Engine::new()?.check(&bytes, &spec)?;
    if a.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    let _ = std::io::stdout().flush();
    if report.passed {
        Ok(EXIT_OK)
    } else {
        report_noncompliance(&a.image, &report);
        Ok(EXIT_NONCOMPLIANT)
    }
}

fn specs(a: SpecsArgs) -> Result<u8, Failure> {
    match a.action {
        Some(SpecsAction::Show { id }) => {
            let spec = load_spec(&id)?;
            println!("{}", spec.to_json());
        }
        None => print!("{}", specs_table(presets::all())),
    }
    Ok(EXIT_OK)
}

/// Terminal width of a string: East Asian wide characters count 2.
fn display_width(s: &str) -> usize {
    s.chars()
        .map(|c| {
            let u = c as u32;
            let wide = (0x1100..=0x115F).contains(&u)
                || (0x2E80..=0xA4CF).contains(&u)
                || (0xAC00..=0xD7A3).contains(&u)
                || (0xF900..=0xFAFF).contains(&u)
                || (0xFE30..=0xFE4F).contains(&u)
                || (0xFF00..=0xFF60).contains(&u)
                || (0xFFE0..=0xFFE6).contains(&u);
            if wide {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad(s: &str, width: usize) -> String {
    let w = display_width(s);
    format!("{s}{}", " ".repeat(width.saturating_sub(w)))
}

fn grade_name(spec: &Spec) -> String {
    serde_json::to_value(spec.source.grade)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn specs_table(all: &[Spec]) -> String {
    let header = ["id", "name (zh)", "name (en)", "px", "dpi", "grade"];
    let rows: Vec<[String; 6]> = all
        .iter()
        .map(|s| {
            [
                s.id.clone(),
                s.name.zh.clone(),
                s.name.en.clone(),
                format!("{}x{}", s.pixels.width, s.pixels.height),
                s.dpi.to_string(),
                grade_name(s),
            ]
        })
        .collect();
    let mut widths = header.map(display_width);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(display_width(c));
        }
    }
    let line = |cells: &[String]| {
        let mut l = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| pad(c, w))
            .collect::<Vec<_>>()
            .join("  ");
        l.truncate(l.trim_end().len());
        l.push('\n');
        l
    };
    let mut out = line(&header.map(String::from));
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(parse_size("354x472"), Ok((354, 472)));
        assert!(parse_size("354").is_err());
        assert!(parse_size("0x10").is_err());
        assert_eq!(parse_face_box("1,2,3,4"), Ok([1.0, 2.0, 3.0, 4.0]));
        assert!(parse_face_box("1,2,3").is_err());
        assert!(parse_face_box("1,2,-3,4").is_err());
        assert!(parse_upscale("0").is_err());
        assert!(parse_upscale("0.05").is_err());
        assert_eq!(parse_upscale("0.1"), Ok(0.1));
        assert!(parse_upscale("nan").is_err());
        assert_eq!(parse_upscale("1.5"), Ok(1.5));
        assert_eq!(parse_segmentation("single"), Ok(SegmentFit::Single));
        assert_eq!(parse_segmentation("ensemble"), Ok(SegmentFit::Ensemble));
        assert!(parse_segmentation("fast").is_err());
    }

    #[test]
    fn wide_chars_count_double() {
        assert_eq!(display_width("居民身份证"), 10);
        assert_eq!(display_width("abc"), 3);
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
