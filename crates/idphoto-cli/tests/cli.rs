//! Command-line behaviour that does not need the image pipeline: spec listing, error lines,
//! exit codes and help text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn idphoto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idphoto"))
        .args(args)
        .output()
        .expect("the idphoto binary runs")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts stderr is exactly one line `error[<code>]: ...`.
fn assert_error_line(o: &Output, code: &str) {
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 1, "expected one stderr line, got: {err:?}");
    assert!(
        lines[0].starts_with(&format!("error[{code}]: ")),
        "expected error[{code}], got: {err:?}"
    );
}

#[test]
fn specs_lists_all_presets() {
    let o = idphoto(&["specs"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    let ids: Vec<&str> = out
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(ids.len() >= 25, "only {} presets listed", ids.len());
    assert!(ids.contains(&"cn-id-card"));
    let line = out
        .lines()
        .find(|l| l.starts_with("cn-id-card "))
        .expect("cn-id-card row");
    assert!(line.contains("居民身份证") && line.contains("358x441") && line.contains("350"));
}

#[test]
fn specs_show_prints_parseable_json() {
    let o = idphoto(&["specs", "show", "cn-id-card"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("valid JSON");
    assert_eq!(v["id"], "cn-id-card");
    assert_eq!(v["pixels"]["width"], 358);
    // The printed JSON is a valid custom spec, i.e. the same schema.
    let spec = idphoto::Spec::from_json(&stdout(&o)).expect("round-trips as a custom spec");
    assert_eq!(spec, idphoto::spec::presets::get("cn-id-card").unwrap());
}

#[test]
fn specs_show_accepts_a_custom_spec_file() {
    let path = repo_root().join("fixtures/specs/custom-example.json");
    let o = idphoto(&["specs", "show", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("acme-staff-badge"));
}

#[test]
fn specs_show_unknown_id_is_an_error() {
    let o = idphoto(&["specs", "show", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert_error_line(&o, "unknown_spec");
    assert!(stderr(&o).contains("nope"));
}

#[test]
fn check_unknown_spec_is_an_error() {
    let img = repo_root().join("fixtures/photos/obama.jpg");
    let o = idphoto(&["check", img.to_str().unwrap(), "--spec", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert_error_line(&o, "unknown_spec");
}

#[test]
fn check_non_image_is_a_one_line_error() {
    let dir = std::env::temp_dir().join(format!("idphoto-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("not-an-image.jpg");
    std::fs::write(&path, b"this is plain text, not a photo\n").unwrap();
    let o = idphoto(&["check", path.to_str().unwrap(), "--spec", "cn-id-card"]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("error[unsupported_format]: ") || err.starts_with("error[decode_failed]: "),
        "{err:?}"
    );
    assert_eq!(err.lines().count(), 1, "{err:?}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn make_on_non_image_is_a_one_line_error() {
    let cargo_toml = repo_root().join("Cargo.toml");
    let dir = temp_dir("non-image");
    let out = dir.join("never-written.jpg");
    let o = idphoto(&[
        "make",
        cargo_toml.to_str().unwrap(),
        "--spec",
        "cn-id-card",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_error_line(&o, "unsupported_format");
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "a file was written"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_input_file_is_an_io_error() {
    let o = idphoto(&["check", "/nonexistent/photo.jpg", "--spec", "cn-id-card"]);
    assert_eq!(o.status.code(), Some(2));
    assert_error_line(&o, "io_error");
}

#[test]
fn broken_spec_file_names_the_field() {
    let spec = repo_root().join("fixtures/specs/broken-min-gt-max.json");
    let img = repo_root().join("fixtures/photos/obama.jpg");
    let o = idphoto(&[
        "make",
        img.to_str().unwrap(),
        "--spec",
        spec.to_str().unwrap(),
        "-o",
        "/nonexistent-dir/never-written.jpg",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert_error_line(&o, "invalid_spec");
    assert!(
        stderr(&o).contains("geometry.head_height.min"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn usage_errors_exit_64() {
    let o = idphoto(&["make", "--bogus"]);
    assert_eq!(o.status.code(), Some(64));
    let o = idphoto(&["make", "a.jpg", "--spec", "cn-id-card", "--size", "12"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("--size"));
    let o = idphoto(&[
        "make",
        "a.jpg",
        "--spec",
        "cn-id-card",
        "--face-box",
        "1,2,3",
    ]);
    assert_eq!(o.status.code(), Some(64));
    let o = idphoto(&["check", "a.jpg"]);
    assert_eq!(o.status.code(), Some(64), "--spec is required");
    let o = idphoto(&[]);
    assert_eq!(o.status.code(), Some(64));
}

#[test]
fn make_help_documents_every_flag() {
    let o = idphoto(&["make", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for flag in [
        "--spec",
        "--output",
        "-o",
        "--background",
        "--json",
        "--max-upscale",
        "--size",
        "--face-box",
        "<INPUT>",
        "Examples:",
        "Exit codes:",
        "64",
    ] {
        assert!(help.contains(flag), "make --help lacks {flag}:\n{help}");
    }
}

#[test]
fn check_and_top_level_help() {
    let o = idphoto(&["check", "--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for flag in ["--spec", "--json", "<IMAGE>", "Exit codes:"] {
        assert!(help.contains(flag), "check --help lacks {flag}:\n{help}");
    }
    let o = idphoto(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    let help = stdout(&o);
    for cmd in ["make", "check", "specs", "Exit codes:"] {
        assert!(help.contains(cmd), "--help lacks {cmd}:\n{help}");
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("idphoto-cli-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn photo() -> String {
    repo_root()
        .join("fixtures/photos/obama.jpg")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn make_refuses_outputs_that_would_lose_a_file() {
    let dir = temp_dir("outputs");
    let old = dir.join("out.jpg");
    std::fs::write(&old, b"old photo").unwrap();
    let old_s = old.to_string_lossy().into_owned();
    // -o and --json naming the same file (also spelt differently)
    let same = dir.join(".").join("out.jpg").to_string_lossy().into_owned();
    for json in [old_s.as_str(), same.as_str()] {
        let o = idphoto(&[
            "make",
            &photo(),
            "--spec",
            "cn-id-card",
            "-o",
            &old_s,
            "--json",
            json,
        ]);
        assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
        assert_error_line(&o, "usage");
    }
    // both on stdout
    let o = idphoto(&[
        "make",
        &photo(),
        "--spec",
        "cn-id-card",
        "-o",
        "-",
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    // -o over the input, without --force
    let o = idphoto(&["make", &old_s, "--spec", "cn-id-card", "-o", &old_s]);
    assert_eq!(o.status.code(), Some(64), "{}", stderr(&o));
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(std::fs::read(&old).unwrap(), b"old photo");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn make_checks_output_directories_before_the_work() {
    let dir = temp_dir("dirs");
    let not_image = dir.join("notes.txt");
    std::fs::write(&not_image, b"not a photo").unwrap();
    let missing = dir
        .join("missing")
        .join("x.jpg")
        .to_string_lossy()
        .into_owned();
    let input = not_image.to_string_lossy().into_owned();
    // the output directory is refused before the input is even read
    let o = idphoto(&["make", &input, "--spec", "cn-id-card", "-o", &missing]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_error_line(&o, "io_error");
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    let ok_out = dir.join("x.jpg").to_string_lossy().into_owned();
    let o = idphoto(&[
        "make",
        &input,
        "--spec",
        "cn-id-card",
        "-o",
        &ok_out,
        "--json",
        &missing,
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("does not exist"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_endless_input_is_refused_without_reading_it_whole() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let start = std::time::Instant::now();
    let o = idphoto(&["check", "/dev/zero", "--spec", "cn-id-card"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_error_line(&o, "too_many_bytes");
    assert!(start.elapsed().as_secs() < 20, "took {:?}", start.elapsed());
}

#[test]
fn negative_and_too_small_values_get_the_real_message() {
    for args in [
        ["--face-box", "-5,-5,0,0"],
        ["--max-upscale", "-1"],
        ["--max-upscale", "0.05"],
        ["--max-upscale", "0"],
    ] {
        let o = idphoto(&["make", &photo(), "--spec", "cn-id-card", args[0], args[1]]);
        assert_eq!(o.status.code(), Some(64), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(!err.contains("unexpected argument"), "{args:?}: {err}");
        assert!(err.contains(args[1]), "{args:?}: {err}");
    }
}

#[test]
fn a_spec_file_with_a_byte_order_mark_is_read() {
    let dir = temp_dir("bom");
    let o = idphoto(&["specs", "show", "cn-id-card"]);
    let file = dir.join("bom-spec.json");
    let mut text = "\u{feff}".as_bytes().to_vec();
    text.extend_from_slice(&o.stdout);
    std::fs::write(&file, text).unwrap();
    let o = idphoto(&["specs", "show", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}
