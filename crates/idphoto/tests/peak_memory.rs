//! Peak heap memory of `check` on a large photo and of `make` for the largest output a spec
//! may ask for, counted by a global allocator. A test binary of its own (an integration test)
//! because the allocator counts the whole process: the two measurements run one at a time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use idphoto::internals::{decode, encode_jpeg};
use idphoto::spec::presets;
use idphoto::{Engine, Options};

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Peak heap (MB) while `f` runs.
fn peak_mb<T>(f: impl FnOnce() -> T) -> (T, f64) {
    PEAK.store(IN_USE.load(Ordering::Relaxed), Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) as f64 / 1e6)
}

/// The fixture portrait enlarged to `w` x `h` px, as a JPEG and as a PNG.
fn large_photo(w: u32, h: u32) -> (Vec<u8>, Vec<u8>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../fixtures/photos/obama.jpg"
    );
    let small = decode(&std::fs::read(path).unwrap(), &Default::default())
        .unwrap()
        .image;
    let big = image::imageops::resize(&small, w, h, image::imageops::FilterType::Triangle);
    let mut png = std::io::Cursor::new(Vec::new());
    big.write_to(&mut png, image::ImageFormat::Png).unwrap();
    let jpeg = encode_jpeg(&big, 300, (None, None)).unwrap().bytes;
    (jpeg, png.into_inner())
}

#[test]
fn check_of_a_48_mp_photo_stays_under_250_mb() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (jpeg, png) = large_photo(6000, 8000);
    let engine = Engine::new().unwrap();
    let spec = presets::get("cn-id-card").unwrap();
    // before the reduced decodes: about 1.1 GB each
    for (name, bytes) in [("JPEG", jpeg), ("PNG", png)] {
        let (report, mb) = peak_mb(|| engine.check(&bytes, &spec).unwrap());
        assert_eq!(
            report.rule("face.count").unwrap().value,
            Some(1.0),
            "{name}"
        );
        assert!(mb < 250.0, "check of a 48 MP {name}: peak heap {mb:.0} MB");
    }
}

#[test]
fn the_largest_accepted_output_stays_under_900_mb() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let (bytes, _) = large_photo(6000, 8000);
    let engine = Engine::new().unwrap();
    let spec = presets::get("cn-exam-postgraduate").unwrap();
    let opts = Options {
        size: Some((4320, 5760)),
        max_upscale: 40.0,
        ..Options::default()
    };
    let (out, mb) = peak_mb(|| engine.process(&bytes, &spec, &opts).unwrap());
    assert_eq!((out.width, out.height), (4320, 5760));
    assert!(mb < 900.0, "make of 4320x5760: peak heap {mb:.0} MB");
}
