//! [`Engine`]: the networks, loaded once and shared by threads, and the two things it does.

use std::sync::OnceLock;

use crate::decode::RawImage;
use crate::error::{Error, Result};
use crate::nn::{Models, Networks};
use crate::options::Options;
use crate::pipeline::{self, Output};
use crate::report::Report;
use crate::spec::Spec;

/// The face detector, the landmark model and the two segmentation networks, loaded once, with
/// the plans made for each input size they have seen.
///
/// Create one and share it: an `Engine` is `Send + Sync`, and [`process`](Engine::process)
/// and [`check`](Engine::check) take `&self`, so any number of threads may use one engine at
/// once. Dropping it frees the networks (about 60 MB with their plans).
///
/// ```
/// # fn main() -> idphoto::Result<()> {
/// let engine = idphoto::Engine::new()?;
/// let spec = idphoto::spec::presets::get("cn-id-card")?;
/// let photo = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/photos/obama.jpg"))
///     .expect("fixture");
/// let out = engine.process(&photo, &spec, &idphoto::Options::default())?;
/// assert_eq!((out.width, out.height), (358, 441));
/// let report = engine.check(&out.jpeg, &spec)?;
/// assert_eq!(report.passed, out.report.passed);
/// # Ok(())
/// # }
/// ```
pub struct Engine {
    nets: Networks,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with the networks embedded in the library. Reads them now (a bad model is an
    /// error here, not at the first photo); the plans of the input sizes photos need are made
    /// on first use (10-30 ms each), or now with [`warm_up`](Engine::warm_up).
    pub fn new() -> Result<Engine> {
        Engine::from_models(Models::builtin())
    }

    /// An engine with model files supplied by the host (for example a WeChat mini-program
    /// that ships the models as separate files): the same four networks converted as the
    /// embedded ones are (the `.idnn` files, or [`Models::from_onnx`]). An unreadable or
    /// unexpected model is [`Error::Model`] naming it.
    pub fn from_models(models: Models) -> Result<Engine> {
        Ok(Engine {
            nets: Networks::new(models)?,
        })
    }

    /// Makes the network plans for the input sizes most photos need now, so that the first
    /// photo is not slower than the next.
    pub fn warm_up(&self) -> Result<()> {
        self.nets.warm_up()
    }

    /// Makes an ID photo from encoded image bytes (JPEG, PNG, WebP) for `spec`, and checks it
    /// again: [`Output::report`] is the compliance report of the encoded output.
    ///
    /// Large JPEGs (phone photos) are decoded at 1/2, 1/4 or 1/8 of their size when the face
    /// still has at least the pixels the output needs; a face that would need upscaling at
    /// the reduced size is taken from a finer decode.
    pub fn process(&self, bytes: &[u8], spec: &Spec, opts: &Options) -> Result<Output> {
        pipeline::process(&self.nets, bytes, spec, opts)
    }

    /// [`process`](Engine::process) for raw pixels handed over by a capture SDK or a host
    /// program instead of an encoded file (no EXIF orientation or colour profile: the pixels
    /// are taken as upright sRGB). `opts.limits.max_pixels` applies to their size.
    pub fn process_raw(&self, image: &RawImage<'_>, spec: &Spec, opts: &Options) -> Result<Output> {
        spec.validate()?;
        let img = image.to_rgb(&opts.limits)?;
        pipeline::process_image(&self.nets, &img, spec, opts)
    }

    /// Checks encoded image bytes against `spec`: the file rules, then every rule measured on
    /// the image (face count, head geometry, pose, expression, lighting, background, image).
    pub fn check(&self, bytes: &[u8], spec: &Spec) -> Result<Report> {
        pipeline::check(&self.nets, bytes, spec)
    }

    /// The networks, for the crate's own benches ([`crate::internals`]).
    #[doc(hidden)]
    pub fn networks(&self) -> &Networks {
        &self.nets
    }
}

/// The engine behind the free functions [`process`](crate::process) and
/// [`check`](crate::check), created on first use and kept for the life of the process.
pub(crate) fn default_engine() -> Result<&'static Engine> {
    static ENGINE: OnceLock<std::result::Result<Engine, Error>> = OnceLock::new();
    ENGINE
        .get_or_init(Engine::new)
        .as_ref()
        .map_err(Clone::clone)
}

/// [`Engine::process`] with an engine created on first use and kept for the life of the
/// process.
pub fn process(bytes: &[u8], spec: &Spec, opts: &Options) -> Result<Output> {
    default_engine()?.process(bytes, spec, opts)
}

/// [`Engine::check`] with an engine created on first use and kept for the life of the
/// process.
pub fn check(bytes: &[u8], spec: &Spec) -> Result<Report> {
    default_engine()?.check(bytes, spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::presets;

    const _: fn() = || {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Engine>();
    };

    /// Models supplied by the host as owned bytes load like the embedded ones; a broken one
    /// is a model error naming it, at creation.
    #[test]
    fn engine_from_host_models() {
        let builtin = Models::builtin();
        let owned = Models {
            face_detection: builtin.face_detection.to_vec().into(),
            face_landmark: builtin.face_landmark.to_vec().into(),
            selfie_segmentation: builtin.selfie_segmentation.to_vec().into(),
            selfie_segmentation_landscape: builtin.selfie_segmentation_landscape.to_vec().into(),
        };
        assert!(Engine::from_models(owned).is_ok());
        let broken = Models {
            face_landmark: b"not a model".to_vec().into(),
            ..Models::builtin()
        };
        match Engine::from_models(broken) {
            Err(Error::Model(m)) => assert!(m.starts_with("face_landmark"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    /// Raw pixels in any channel order and with padded rows make the same photo as the
    /// decoded file's pixels.
    #[test]
    fn raw_pixels_make_the_same_photo() {
        use crate::decode::PixelFormat;
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures/photos/obama.jpg");
        let bytes = std::fs::read(path).unwrap();
        let img = crate::decode::decode(&bytes, &Default::default())
            .unwrap()
            .image;
        let engine = Engine::new().unwrap();
        let spec = presets::get("cn-id-card").unwrap();
        let opts = Options::default();
        let want = pipeline::process_image(engine.networks(), &img, &spec, &opts)
            .unwrap()
            .jpeg;
        let (w, h) = img.dimensions();
        let stride = w as usize * 4 + 12;
        let mut bgra = vec![7u8; stride * h as usize];
        for (y, row) in img.as_raw().chunks_exact(w as usize * 3).enumerate() {
            for (x, px) in row.chunks_exact(3).enumerate() {
                let at = y * stride + x * 4;
                bgra[at..at + 4].copy_from_slice(&[px[2], px[1], px[0], 255]);
            }
        }
        let raw = RawImage {
            data: &bgra,
            width: w,
            height: h,
            stride,
            format: PixelFormat::Bgra,
        };
        let out = engine.process_raw(&raw, &spec, &opts).unwrap();
        assert!(out.jpeg == want, "raw BGRA pixels gave another photo");
    }

    /// One engine shared by four threads: every output is byte-identical to the same photo
    /// made on one thread.
    #[test]
    fn one_engine_shared_by_four_threads_gives_identical_outputs() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/photos");
        let photos: Vec<Vec<u8>> = ["obama.jpg", "biden.jpg", "obama2.jpg"]
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect();
        let specs = ["cn-id-card", "us-visa"].map(|id| presets::get(id).unwrap());
        let engine = Engine::new().unwrap();
        let opts = Options::default();
        let jobs: Vec<(usize, usize)> = (0..photos.len())
            .flat_map(|p| (0..specs.len()).map(move |s| (p, s)))
            .collect();
        let single: Vec<Vec<u8>> = jobs
            .iter()
            .map(|&(p, s)| engine.process(&photos[p], &specs[s], &opts).unwrap().jpeg)
            .collect();
        let shared: Vec<Vec<Vec<u8>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let (engine, photos, specs, jobs, opts) =
                        (&engine, &photos, &specs, &jobs, &opts);
                    scope.spawn(move || {
                        // each thread starts at another job, so that they overlap
                        (0..jobs.len())
                            .map(|k| {
                                let (p, s) = jobs[(k + t) % jobs.len()];
                                engine.process(&photos[p], &specs[s], opts).unwrap().jpeg
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for (t, outs) in shared.iter().enumerate() {
            for (k, out) in outs.iter().enumerate() {
                let j = (k + t) % jobs.len();
                assert!(out == &single[j], "thread {t}, job {:?} differs", jobs[j]);
            }
        }
    }
}
