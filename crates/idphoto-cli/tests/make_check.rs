//! End-to-end CLI tests that need the real pipeline (`idphoto::process` / `idphoto::check`):
//! make an ID photo from a fixture, then check it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn idphoto(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_idphoto"))
        .args(args)
        .output()
        .expect("the idphoto binary runs")
}

fn fixture(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/photos")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("idphoto-make-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn show(o: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn make_then_check_cn_id_card() {
    let dir = temp_dir("cn");
    let out = dir.join("obama-id.jpg");
    let report = dir.join("report.json");
    let o = idphoto(&[
        "make",
        &fixture("obama.jpg"),
        "--spec",
        "cn-id-card",
        "-o",
        out.to_str().unwrap(),
        "--json",
        report.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("358x441") && first.contains("PASS"),
        "{first}"
    );

    let bytes = std::fs::read(&out).unwrap();
    assert!(bytes.starts_with(&[0xFF, 0xD8, 0xFF]));
    let kb = bytes.len() as f64 / 1024.0;
    assert!((14.0..=20.0).contains(&kb), "{kb:.1} KB");

    let rep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(rep["schema_version"], 1);
    assert_eq!(rep["passed"], true);

    let o = idphoto(&["check", out.to_str().unwrap(), "--spec", "cn-id-card"]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let o = idphoto(&[
        "check",
        out.to_str().unwrap(),
        "--spec",
        "cn-id-card",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rep["spec_id"], "cn-id-card");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn make_with_custom_spec_and_json_to_stdout() {
    let dir = temp_dir("custom");
    let out = dir.join("badge.jpg");
    let spec =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/specs/custom-example.json");
    let o = idphoto(&[
        "make",
        &fixture("obama2.jpg"),
        "--spec",
        spec.to_str().unwrap(),
        "--background",
        "corporate-blue",
        "-o",
        out.to_str().unwrap(),
        "--json",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let rep: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is only JSON");
    assert_eq!(rep["spec_id"], "acme-staff-badge");
    assert!(out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn original_photo_does_not_comply_exit_1() {
    // The untouched source photo is the wrong size for the spec: checked, not an error.
    let o = idphoto(&["check", &fixture("obama.jpg"), "--spec", "cn-id-card"]);
    assert_eq!(o.status.code(), Some(1), "{}", show(&o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("file.width") || err.contains("file.height"),
        "{err}"
    );
}

#[test]
fn cut_face_is_refused() {
    let dir = temp_dir("cut");
    let out = dir.join("never.jpg");
    let o = idphoto(&[
        "make",
        &fixture("obama_partial_face.jpg"),
        "--spec",
        "cn-id-card",
        "-o",
        out.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", show(&o));
    // Half the face is outside the photo: the detector either sees a cut face or none.
    assert!(
        err.starts_with("error[face_cut]") || err.starts_with("error[no_face]"),
        "{err}"
    );
    assert!(!out.exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn make_writes_the_photo_to_stdout() {
    let o = idphoto(&[
        "make",
        &fixture("obama.jpg"),
        "--spec",
        "cn-id-card",
        "-o",
        "-",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    assert!(o.stdout.starts_with(&[0xFF, 0xD8]), "stdout is not a JPEG");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("wrote stdout: 358x441 px"), "{err}");
    assert!(!Path::new("-").exists(), "a file named - was written");
}

#[cfg(unix)]
#[test]
fn the_default_output_name_keeps_a_non_utf8_input_name() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = temp_dir("non-utf8");
    // a name in GBK, as Chinese Windows systems write it: not UTF-8
    let name = OsStr::from_bytes(b"\xd5\xd5\xc6\xac.jpg");
    std::fs::copy(fixture("obama.jpg"), dir.join(name)).unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_idphoto"))
        .current_dir(&dir)
        .arg("make")
        .arg(name)
        .args(["--spec", "cn-id-card"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&o));
    let made = dir.join(OsStr::from_bytes(b"\xd5\xd5\xc6\xac-cn-id-card.jpg"));
    assert!(
        made.is_file(),
        "{:?}",
        std::fs::read_dir(&dir).unwrap().collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
