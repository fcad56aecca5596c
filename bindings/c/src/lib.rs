//! The C ABI of idphoto: opaque engine and result handles, integer status codes, a
//! thread-local last error. A thin layer: every image operation is the core crate's.
//!
//! No Rust panic crosses this boundary: every entry point runs inside `catch_unwind` and turns
//! a panic into [`IDPHOTO_ERR_PANIC`].

#![allow(clippy::missing_safety_doc)] // the safety rules are the header's, per function

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use idphoto::{Engine, Options, PixelFormat, RawImage, Spec};

/// Success.
pub const IDPHOTO_OK: c_int = 0;
/// An argument the library cannot use: a NULL pointer where one is needed, a string that is
/// not UTF-8, a length or size that overflows, an unknown pixel format.
pub const IDPHOTO_ERR_INVALID_ARGUMENT: c_int = 100;
/// The library panicked (a bug: please report it with the input). Nothing was returned; the
/// engine may still be used.
pub const IDPHOTO_ERR_PANIC: c_int = 101;
/// The version of this ABI, also the number in the shared library's soname
/// (`libidphoto.so.1`). It changes only when an existing function changes incompatibly.
pub const IDPHOTO_ABI_VERSION: u32 = 1;

/// Pixel format of `idphoto_process_pixels`: red, green, blue (3 bytes).
pub const IDPHOTO_PIXEL_RGB: u32 = 0;
/// Red, green, blue, alpha (4 bytes, straight alpha; transparent areas become white).
pub const IDPHOTO_PIXEL_RGBA: u32 = 1;
/// Blue, green, red (3 bytes: Windows bitmaps, OpenCV).
pub const IDPHOTO_PIXEL_BGR: u32 = 2;
/// Blue, green, red, alpha (4 bytes, straight alpha).
pub const IDPHOTO_PIXEL_BGRA: u32 = 3;

/// An engine: the loaded networks. Create it once (`idphoto_engine_new`) and share it; any
/// number of threads may use one engine at once.
pub struct IdphotoEngine {
    engine: Engine,
}

/// What `idphoto_process` or `idphoto_check` returned: the JPEG (process only), the report,
/// the image size and the verdict. Owned by the caller, freed with `idphoto_result_free`.
pub struct IdphotoResult {
    jpeg: Option<Vec<u8>>,
    report_json: CString,
    width: u32,
    height: u32,
    passed: bool,
}

/// Why a call failed: its status code, the library's string code and a message.
struct Failure {
    status: c_int,
    code: &'static str,
    message: String,
}

impl Failure {
    fn invalid(message: impl Into<String>) -> Failure {
        Failure {
            status: IDPHOTO_ERR_INVALID_ARGUMENT,
            code: "invalid_argument",
            message: message.into(),
        }
    }
}

impl From<idphoto::Error> for Failure {
    fn from(e: idphoto::Error) -> Failure {
        Failure {
            status: e.numeric_code(),
            code: e.code(),
            message: e.to_string(),
        }
    }
}

thread_local! {
    /// This thread's last failure: its message and string code ("" when the last call
    /// succeeded).
    static LAST_ERROR: RefCell<(CString, CString)> = RefCell::new((CString::default(), CString::default()));
}

fn set_last_error(code: &str, message: &str) {
    // a message with an interior NUL loses what follows it
    let c = |s: &str| CString::new(s.split('\0').next().unwrap_or_default()).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = (c(message), c(code)));
}

/// Runs `f` with panics caught: its status, and the thread's last error set accordingly.
fn guard(f: impl FnOnce() -> Result<c_int, Failure>) -> c_int {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(status)) => {
            set_last_error("", "");
            status
        }
        Ok(Err(fail)) => {
            set_last_error(fail.code, &fail.message);
            fail.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            set_last_error("panic", &format!("internal error (panic): {what}"));
            IDPHOTO_ERR_PANIC
        }
    }
}

/// A NUL-terminated UTF-8 string argument.
unsafe fn str_arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// A buffer argument of `len` bytes.
unsafe fn bytes_arg<'a>(p: *const u8, len: usize, what: &str) -> Result<&'a [u8], Failure> {
    if p.is_null() {
        return Err(Failure::invalid(format!("{what} is NULL")));
    }
    if len > isize::MAX as usize {
        return Err(Failure::invalid(format!("{what}: length {len} overflows")));
    }
    Ok(std::slice::from_raw_parts(p, len))
}

unsafe fn engine_arg<'a>(engine: *const IdphotoEngine) -> Result<&'a Engine, Failure> {
    engine
        .as_ref()
        .map(|e| &e.engine)
        .ok_or_else(|| Failure::invalid("engine is NULL"))
}

unsafe fn options_arg(options_json: *const c_char) -> Result<Options, Failure> {
    if options_json.is_null() {
        return Ok(Options::default());
    }
    Ok(Options::from_json(str_arg(options_json, "options_json")?)?)
}

/// Clears `*out` (when `out` is not NULL) and runs `f`, storing its result there.
unsafe fn with_out(
    out: *mut *mut IdphotoResult,
    f: impl FnOnce() -> Result<IdphotoResult, Failure>,
) -> c_int {
    if !out.is_null() {
        *out = ptr::null_mut();
    }
    guard(|| {
        if out.is_null() {
            return Err(Failure::invalid("out is NULL"));
        }
        let result = f()?;
        *out = Box::into_raw(Box::new(result));
        Ok(IDPHOTO_OK)
    })
}

fn report_result(
    report: &idphoto::Report,
    jpeg: Option<Vec<u8>>,
    width: u32,
    height: u32,
) -> IdphotoResult {
    IdphotoResult {
        jpeg,
        report_json: CString::new(report.to_json()).unwrap_or_default(),
        width,
        height,
        passed: report.passed,
    }
}

/// The library's version, e.g. "0.1.0" (a static string).
#[no_mangle]
pub extern "C" fn idphoto_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The ABI version this library implements (`IDPHOTO_ABI_VERSION` of its header).
#[no_mangle]
pub extern "C" fn idphoto_abi_version() -> u32 {
    IDPHOTO_ABI_VERSION
}

/// A new engine with the built-in models (loads them: about 0.3-0.7 s). NULL on failure:
/// `idphoto_last_error()` says why. Free it with `idphoto_engine_free`.
#[no_mangle]
pub extern "C" fn idphoto_engine_new() -> *mut IdphotoEngine {
    let mut engine = ptr::null_mut();
    guard(|| {
        let e = Engine::new()?;
        engine = Box::into_raw(Box::new(IdphotoEngine { engine: e }));
        Ok(IDPHOTO_OK)
    });
    engine
}

/// Frees an engine and its networks. NULL is a no-op. No other thread may be using it.
#[no_mangle]
pub unsafe extern "C" fn idphoto_engine_free(engine: *mut IdphotoEngine) {
    if !engine.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(engine))));
    }
}

/// Makes an ID photo from an encoded photo (`photo`, `len` bytes: JPEG, PNG or WebP) for
/// `spec`: a preset id ("cn-id-card") or a JSON spec document (first non-blank character
/// `{`). `options_json` is NULL or a JSON object with the fields of the Rust `Options`
/// (`background`, `max_upscale`, `size`, `face`, `limits`, `segmentation`); an unknown field
/// is an error. On success `*out` holds the JPEG and the report of the photo as made.
/// Returns 0 or a status code; on failure `*out` is NULL.
#[no_mangle]
pub unsafe extern "C" fn idphoto_process(
    engine: *const IdphotoEngine,
    photo: *const u8,
    len: usize,
    spec: *const c_char,
    options_json: *const c_char,
    out: *mut *mut IdphotoResult,
) -> c_int {
    with_out(out, || {
        let engine = engine_arg(engine)?;
        let photo = bytes_arg(photo, len, "photo")?;
        let spec = Spec::from_id_or_json(str_arg(spec, "spec")?)?;
        let opts = options_arg(options_json)?;
        let made = engine.process(photo, &spec, &opts)?;
        Ok(report_result(
            &made.report,
            Some(made.jpeg),
            made.width,
            made.height,
        ))
    })
}

/// `idphoto_process` for raw pixels from a capture SDK: `height` rows of `width` pixels in
/// `format` (`IDPHOTO_PIXEL_RGB`, `_RGBA`, `_BGR` or `_BGRA`), each row `stride` bytes after
/// the previous one; the buffer holds at least `stride * (height - 1) + width * bytes per
/// pixel` bytes. The pixels are taken as upright sRGB.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn idphoto_process_pixels(
    engine: *const IdphotoEngine,
    pixels: *const u8,
    width: u32,
    height: u32,
    stride: usize,
    format: u32,
    spec: *const c_char,
    options_json: *const c_char,
    out: *mut *mut IdphotoResult,
) -> c_int {
    with_out(out, || {
        let engine = engine_arg(engine)?;
        let format = match format {
            IDPHOTO_PIXEL_RGB => PixelFormat::Rgb,
            IDPHOTO_PIXEL_RGBA => PixelFormat::Rgba,
            IDPHOTO_PIXEL_BGR => PixelFormat::Bgr,
            IDPHOTO_PIXEL_BGRA => PixelFormat::Bgra,
            other => return Err(Failure::invalid(format!("unknown pixel format {other}"))),
        };
        let len = (height as usize)
            .checked_sub(1)
            .and_then(|rows| rows.checked_mul(stride))
            .and_then(|n| n.checked_add(width as usize * format.bytes_per_pixel()))
            .ok_or_else(|| Failure::invalid("width, height and stride overflow or are zero"))?;
        let data = bytes_arg(pixels, len, "pixels")?;
        let spec = Spec::from_id_or_json(str_arg(spec, "spec")?)?;
        let opts = options_arg(options_json)?;
        let raw = RawImage {
            data,
            width,
            height,
            stride,
            format,
        };
        let made = engine.process_raw(&raw, &spec, &opts)?;
        Ok(report_result(
            &made.report,
            Some(made.jpeg),
            made.width,
            made.height,
        ))
    })
}

/// Checks an image file (`image`, `len` bytes) against `spec` (a preset id or a JSON spec
/// document). On success `*out` holds the report; `idphoto_result_image` is NULL for it.
#[no_mangle]
pub unsafe extern "C" fn idphoto_check(
    engine: *const IdphotoEngine,
    image: *const u8,
    len: usize,
    spec: *const c_char,
    out: *mut *mut IdphotoResult,
) -> c_int {
    with_out(out, || {
        let engine = engine_arg(engine)?;
        let image = bytes_arg(image, len, "image")?;
        let spec = Spec::from_id_or_json(str_arg(spec, "spec")?)?;
        let report = engine.check(image, &spec)?;
        let info = idphoto::decode::inspect(image)?;
        Ok(report_result(
            &report,
            None,
            info.display_width,
            info.display_height,
        ))
    })
}

/// The JPEG of a result (NULL for a check, or for a NULL result); its length in `*len` when
/// `len` is not NULL. Valid until the result is freed.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_image(
    result: *const IdphotoResult,
    len: *mut usize,
) -> *const u8 {
    let jpeg = result.as_ref().and_then(|r| r.jpeg.as_deref());
    if let Some(len) = len.as_mut() {
        *len = jpeg.map_or(0, <[u8]>::len);
    }
    jpeg.map_or(ptr::null(), <[u8]>::as_ptr)
}

/// The compliance report as JSON (`schema_version`, `spec_id`, `passed`, `rules`,
/// `notices`; see the README). NULL for a NULL result. Valid until the result is freed.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_report_json(result: *const IdphotoResult) -> *const c_char {
    result
        .as_ref()
        .map_or(ptr::null(), |r| r.report_json.as_ptr())
}

/// Width in pixels of the photo made (process) or checked (check, as displayed); 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_width(result: *const IdphotoResult) -> u32 {
    result.as_ref().map_or(0, |r| r.width)
}

/// Height in pixels, as `idphoto_result_width`.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_height(result: *const IdphotoResult) -> u32 {
    result.as_ref().map_or(0, |r| r.height)
}

/// 1 when the photo complies with the spec (no rule failed), 0 when it does not or for NULL.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_passed(result: *const IdphotoResult) -> c_int {
    result.as_ref().map_or(0, |r| c_int::from(r.passed))
}

/// Frees a result. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn idphoto_result_free(result: *mut IdphotoResult) {
    if !result.is_null() {
        let _ = catch_unwind(AssertUnwindSafe(|| drop(Box::from_raw(result))));
    }
}

/// The calling thread's last error message, "" when its last call succeeded. Valid until the
/// thread's next call into the library.
#[no_mangle]
pub extern "C" fn idphoto_last_error() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().0.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// The string code of the calling thread's last error ("no_face", "unknown_spec",
/// "invalid_argument", "panic"...; the README's table), "" when its last call succeeded.
/// Valid until the thread's next call into the library.
#[no_mangle]
pub extern "C" fn idphoto_last_error_code() -> *const c_char {
    LAST_ERROR
        .try_with(|e| e.borrow().1.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// Every built-in spec as a JSON array of spec documents (ids, names in Chinese and English,
/// pixel sizes, DPI, file-size window, backgrounds, geometry, sources). A static string.
#[no_mangle]
pub extern "C" fn idphoto_specs_json() -> *const c_char {
    static JSON: std::sync::OnceLock<CString> = std::sync::OnceLock::new();
    JSON.get_or_init(|| CString::new(idphoto::spec::presets::all_json()).unwrap_or_default())
        .as_ptr()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed header is what cbindgen makes of this file. `IDPHOTO_BLESS=1` rewrites it.
    #[test]
    fn header_is_current() {
        let dir = env!("CARGO_MANIFEST_DIR");
        let config = cbindgen::Config::from_file(format!("{dir}/cbindgen.toml")).unwrap();
        let mut made = Vec::new();
        cbindgen::Builder::new()
            .with_crate(dir)
            .with_config(config)
            .generate()
            .expect("cbindgen")
            .write(&mut made);
        let path = format!("{dir}/include/idphoto.h");
        if std::env::var_os("IDPHOTO_BLESS").is_some() {
            std::fs::write(&path, &made).unwrap();
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == made,
            "include/idphoto.h is stale: run IDPHOTO_BLESS=1 cargo test -p idphoto-c --release header_is_current"
        );
    }

    #[test]
    fn abi_version_matches_the_soname() {
        let soname: u32 = include_str!("../abi-version").trim().parse().unwrap();
        assert_eq!(soname, IDPHOTO_ABI_VERSION);
    }

    #[test]
    fn errors_are_reported_per_thread_without_panics() {
        unsafe {
            let mut out = ptr::NonNull::<IdphotoResult>::dangling().as_ptr();
            let status = idphoto_check(ptr::null(), ptr::null(), 0, ptr::null(), &mut out);
            assert_eq!(status, IDPHOTO_ERR_INVALID_ARGUMENT);
            assert!(out.is_null());
            let msg = CStr::from_ptr(idphoto_last_error()).to_str().unwrap();
            assert_eq!(msg, "engine is NULL");
            std::thread::spawn(|| {
                let msg = CStr::from_ptr(idphoto_last_error()).to_str().unwrap();
                assert_eq!(msg, "");
            })
            .join()
            .unwrap();
        }
        assert_eq!(guard(|| panic!("boom")), IDPHOTO_ERR_PANIC);
        let code = unsafe { CStr::from_ptr(idphoto_last_error_code()) };
        assert_eq!(code.to_str().unwrap(), "panic");
    }
}
