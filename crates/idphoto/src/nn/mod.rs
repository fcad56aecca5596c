//! The neural networks: the four built-in models (face detection, face landmarks, person
//! segmentation general and landscape), loaded with tract and run.
//!
//! [`Models`] holds the ONNX bytes of the four networks; `Networks` (crate-internal) loads
//! them, checks them and keeps the plans made from them. Each network is parsed and
//! optimised once per `Networks` value (60-100 ms each) and then shared; the plans of other
//! input sizes are made on first use and kept in the value, and freed with it.
//!
//! Files: `model.rs` (one loaded network and how it runs), `rewrite.rs` (the ONNX graph
//! rewrites done at load), `layout.rs` (NHWC / planar / transposed tensor layouts),
//! `proto.rs` (protobuf helpers), `builtin.rs` (the embedded bytes), `ops/` (the own tract
//! operators).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

mod builtin;
mod bundle;
mod layout;
mod model;
pub(crate) mod ops;
mod packed;
mod proto;
pub(crate) mod rewrite;
mod source;

pub(crate) use builtin::{
    FACE_DETECTION_ONNX, FACE_LANDMARK_ONNX, SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
    SELFIE_SEGMENTATION_ONNX,
};
pub(crate) use model::{Fit, Model};
use source::{Conversion, Source};

/// Model bytes (ONNX) of the four networks. [`Models::builtin`] gives the embedded ones.
#[derive(Clone)]
pub struct Models {
    /// BlazeFace short-range face detector, input 1x128x128x3 (NHWC).
    pub face_detection: Cow<'static, [u8]>,
    /// FaceMesh face landmark model, input 1x192x192x3.
    pub face_landmark: Cow<'static, [u8]>,
    /// Selfie (person) segmentation, input 1x256x256x3.
    pub selfie_segmentation: Cow<'static, [u8]>,
    /// Selfie segmentation, landscape variant, input 1x144x256x3.
    pub selfie_segmentation_landscape: Cow<'static, [u8]>,
}

impl Models {
    /// The networks embedded in the library (MediaPipe, Apache-2.0), borrowed, not copied.
    pub fn builtin() -> Models {
        Models {
            face_detection: Cow::Borrowed(FACE_DETECTION_ONNX),
            face_landmark: Cow::Borrowed(FACE_LANDMARK_ONNX),
            selfie_segmentation: Cow::Borrowed(SELFIE_SEGMENTATION_ONNX),
            selfie_segmentation_landscape: Cow::Borrowed(SELFIE_SEGMENTATION_LANDSCAPE_ONNX),
        }
    }
}

/// Prints the length of each model, not its bytes.
impl std::fmt::Debug for Models {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = |b: &Cow<'static, [u8]>| format!("{} bytes", b.len());
        f.debug_struct("Models")
            .field(
                "face_detection",
                &format_args!("{}", len(&self.face_detection)),
            )
            .field(
                "face_landmark",
                &format_args!("{}", len(&self.face_landmark)),
            )
            .field(
                "selfie_segmentation",
                &format_args!("{}", len(&self.selfie_segmentation)),
            )
            .field(
                "selfie_segmentation_landscape",
                &format_args!("{}", len(&self.selfie_segmentation_landscape)),
            )
            .finish()
    }
}

/// Largest side accepted by [`Networks::detector_at`].
pub(crate) const DETECTOR_MAX_SIDE: usize = 256;

/// Largest side accepted by [`Networks::segmenter_at`].
pub(crate) const SEG_MAX_SIDE: usize = 512;

/// One of the two person segmentation networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Segmenter {
    /// `selfie_segmentation` (exported for 256x256).
    General,
    /// `selfie_segmentation_landscape` (exported for 256x144).
    Landscape,
}

/// Which network a cached plan is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PlanKey {
    Detector,
    Segmenter(Segmenter),
}

/// The plans of other input sizes than the exported ones, by network and `w` x `h`.
type Plans = Mutex<HashMap<(PlanKey, usize, usize), Arc<Model>>>;

/// The networks prepared for any input size, by network and form.
type Sources = Mutex<HashMap<(PlanKey, bool), Arc<Source>>>;

/// The four networks, loaded from [`Models`], and the plans made from them for other input
/// sizes. A `Model`'s plan is immutable and thread-safe: one value serves every thread.
pub struct Networks {
    /// The bytes the plans of other sizes are made from.
    models: Models,
    /// The face detector at its exported size (input 1x128x128x3). This and the two
    /// segmenters at their exported sizes are kept as [`Networks::new`] checked them; the
    /// pipeline runs the plans of [`Networks::detector_at`] and [`Networks::segmenter_at`],
    /// the tests compare these with the reference runtime.
    #[cfg_attr(not(test), allow(dead_code))]
    detector: Model,
    /// The face landmark model (input 1x192x192x3).
    landmarker: Model,
    /// The person segmentation model at its exported size (input 1x256x256x3).
    #[cfg_attr(not(test), allow(dead_code))]
    segmenter: Model,
    /// The landscape person segmentation model at its exported size (input 1x144x256x3).
    #[cfg_attr(not(test), allow(dead_code))]
    segmenter_landscape: Model,
    /// Plans made on first use, see [`Networks::plan_cached`].
    plans: Plans,
    /// The networks the plans are made from, prepared on first use, see
    /// [`Networks::source`].
    sources: Sources,
}

// one value is shared by every thread of a process (and the engines that own one)
const _: () = {
    const fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<Networks>();
};

/// `error` of loading model `name`, its message prefixed with the name.
fn naming(name: &str, error: Error) -> Error {
    match error {
        Error::Model(m) => Error::Model(format!("{name}: {m}")),
        other => other,
    }
}

impl Networks {
    /// Loads the four networks at their exported sizes now (detector 128x128, landmarks
    /// 192x192, segmentation 256x256 and landscape 144x256), so that bad model bytes are an
    /// error here: [`Error::Model`] whose message names the model (e.g. "face_landmark: ...").
    /// Loading the segmentation networks at their exported sizes also checks that each
    /// `Resize` of their decoders is a 2x upsampling, which their plans at other sizes
    /// assume.
    pub(crate) fn new(models: Models) -> Result<Networks> {
        let load = |name: &str, bytes: &[u8], shape: [usize; 4]| {
            Model::load_with(bytes, shape, Fit::Exported).map_err(|e| naming(name, e))
        };
        let detector = load("face_detection", &models.face_detection, [1, 128, 128, 3])?;
        let landmarker = load("face_landmark", &models.face_landmark, [1, 192, 192, 3])?;
        let segmenter = load(
            "selfie_segmentation",
            &models.selfie_segmentation,
            [1, 256, 256, 3],
        )?;
        let segmenter_landscape = load(
            "selfie_segmentation_landscape",
            &models.selfie_segmentation_landscape,
            [1, 144, 256, 3],
        )?;
        Ok(Networks {
            models,
            detector,
            landmarker,
            segmenter,
            segmenter_landscape,
            plans: Plans::default(),
            sources: Sources::default(),
        })
    }

    /// The face detector planned for a `w` x `h` input (both multiples of 16, at most
    /// [`DETECTOR_MAX_SIDE`]; same weights, one anchor grid cell per 8 and 16 px): one run
    /// covers a pyramid level of up to 192x192 px that would take four 128 px tiles, and a
    /// photo's own aspect ratio costs less than its square. A portrait size runs the
    /// transposed network (see [`Model::run`] for the order of its anchors). Each size is
    /// planned once (about 60 ms) and kept.
    pub(crate) fn detector_at(&self, w: usize, h: usize) -> Result<Arc<Model>> {
        if w == 0 || h == 0 || w % 16 != 0 || h % 16 != 0 || w.max(h) > DETECTOR_MAX_SIDE {
            return Err(Error::Internal(format!(
                "detector input {w}x{h}: sides must be multiples of 16 up to {DETECTOR_MAX_SIDE}"
            )));
        }
        self.plan_cached(PlanKey::Detector, w, h, || {
            self.source(PlanKey::Detector, h > w)?.plan(h, w)
        })
    }

    /// The face landmark model (input 1x192x192x3).
    pub(crate) fn landmarker(&self) -> &Model {
        &self.landmarker
    }

    /// A segmentation network planned for a `w` x `h` input (both multiples of 32, at most
    /// [`SEG_MAX_SIDE`]): the networks are fully convolutional, and a photo seen at its own
    /// aspect ratio is segmented better than one squeezed into the exported shape
    /// (`matting-eval`). Each size is planned once (about 60 ms) and kept.
    ///
    /// The exported size was loaded first ([`Networks::new`]), where every `Resize` of the
    /// decoder had to prove to be a 2x upsampling; the other sizes then take each `Resize` as
    /// 2x.
    pub(crate) fn segmenter_at(&self, which: Segmenter, w: usize, h: usize) -> Result<Arc<Model>> {
        if w == 0 || h == 0 || w % 32 != 0 || h % 32 != 0 || w.max(h) > SEG_MAX_SIDE {
            return Err(Error::Internal(format!(
                "segmentation input {w}x{h}: sides must be multiples of 32 up to {SEG_MAX_SIDE}"
            )));
        }
        // a portrait input runs as the transposed network on the landscape transpose of the
        // image (faster)
        let key = PlanKey::Segmenter(which);
        self.plan_cached(key, w, h, || self.source(key, h > w)?.plan(h, w))
    }

    /// The network of `key` prepared for any input size (mirrored about the diagonal when
    /// `transposed`), made on first use (40-60 ms) and kept.
    fn source(&self, key: PlanKey, transposed: bool) -> Result<Arc<Source>> {
        let (bytes, size_free, name) = match key {
            PlanKey::Detector => (&self.models.face_detection, false, "face_detection"),
            PlanKey::Segmenter(Segmenter::General) => (
                &self.models.selfie_segmentation,
                true,
                "selfie_segmentation",
            ),
            PlanKey::Segmenter(Segmenter::Landscape) => (
                &self.models.selfie_segmentation_landscape,
                true,
                "selfie_segmentation_landscape",
            ),
        };
        let lock = || self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = lock().get(&(key, transposed)) {
            return Ok(s.clone());
        }
        let form = Conversion {
            size_free,
            transposed,
            fixed: None,
            multiple: if size_free { 32 } else { 16 },
        };
        // prepared outside the lock (slow); a concurrent duplicate is harmless
        let s = Arc::new(Source::from_onnx(bytes, form).map_err(|e| naming(name, e))?);
        Ok(lock().entry((key, transposed)).or_insert(s).clone())
    }

    /// The plan of `key` for a `w` x `h` input, made by `load` on first use.
    fn plan_cached(
        &self,
        key: PlanKey,
        w: usize,
        h: usize,
        load: impl FnOnce() -> Result<Model>,
    ) -> Result<Arc<Model>> {
        // a poisoned lock only means another thread panicked while inserting: the map is
        // intact
        let lock = || self.plans.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = lock().get(&(key, w, h)) {
            return Ok(m.clone());
        }
        // planned outside the lock (slow); a concurrent duplicate is harmless
        let m = Arc::new(load()?);
        Ok(lock().entry((key, w, h)).or_insert(m).clone())
    }

    /// Plans now what the first photo would otherwise plan, so that it is not slower than the
    /// rest: the detector at the whole-photo levels of 3:4 and 4:3 photos and the pipeline's
    /// outputs, and the segmentation networks for a 192x256 input (the working region of
    /// most ID specs, cn-id-card's included). A spec of another aspect ratio plans its size
    /// on first use (about 0.1 s per network).
    pub(crate) fn warm_up(&self) -> Result<()> {
        for (w, h) in [(96, 128), (128, 96), (144, 192), (192, 144), (112, 128)] {
            self.detector_at(w, h)?;
        }
        self.segmenter_at(Segmenter::General, 192, 256)?;
        self.segmenter_at(Segmenter::Landscape, 192, 256)?;
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The networks of the built-in models, loaded once for all the crate's tests.
    pub(crate) fn nets() -> &'static Networks {
        static NETWORKS: std::sync::OnceLock<Networks> = std::sync::OnceLock::new();
        NETWORKS.get_or_init(|| Networks::new(Models::builtin()).unwrap())
    }

    /// `../shared` beside the checkout, or `$IDPHOTO_SHARED`.
    pub(crate) fn shared_dir() -> Option<PathBuf> {
        let p = std::env::var_os("IDPHOTO_SHARED")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
        if p.is_dir() {
            Some(p)
        } else {
            eprintln!("skipped: shared folder not found at {}", p.display());
            None
        }
    }

    /// Minimal reader for little-endian f32 `.npy` files.
    pub(crate) fn read_npy_f32(path: &std::path::Path) -> Vec<f32> {
        let bytes = std::fs::read(path).unwrap();
        assert_eq!(&bytes[..6], b"\x93NUMPY");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        let header = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert!(header.contains("'<f4'"), "{header}");
        bytes[10 + header_len..]
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    }

    pub(crate) fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    #[test]
    fn models_match_reference_runtime() {
        let Some(shared) = shared_dir() else { return };
        let io = shared.join("models/reference-io");
        let out = nets()
            .detector
            .run(read_npy_f32(&io.join("bf_x.npy")))
            .unwrap();
        assert!(max_abs_diff(&out[0], &read_npy_f32(&io.join("bf_ref_regressors.npy"))) < 1e-3);
        assert!(
            max_abs_diff(
                &out[1],
                &read_npy_f32(&io.join("bf_ref_classificators.npy"))
            ) < 1e-3
        );
        let out = nets()
            .segmenter
            .run(read_npy_f32(&io.join("ss_x.npy")))
            .unwrap();
        assert!(max_abs_diff(&out[0], &read_npy_f32(&io.join("ss_ref.npy"))) < 5e-3);
        let out = nets()
            .landmarker()
            .run(read_npy_f32(&io.join("fl_x.npy")))
            .unwrap();
        assert!(max_abs_diff(&out[0], &read_npy_f32(&io.join("fl_ref_landmarks.npy"))) < 1e-2);
        assert!(max_abs_diff(&out[1], &read_npy_f32(&io.join("fl_ref_score.npy"))) < 1e-3);
    }

    #[test]
    fn models_use_the_fast_operators() {
        let ops = |m: &Model| -> Vec<String> {
            m.plan
                .model()
                .nodes()
                .iter()
                .map(|n| n.op().name().to_string())
                .collect()
        };
        let lm = ops(nets().landmarker());
        assert_eq!(lm.iter().filter(|o| *o == "ChannelPrelu").count(), 23);
        for seg in [
            ops(&nets().segmenter),
            ops(&nets().segmenter_landscape),
            ops(&nets().segmenter_at(Segmenter::Landscape, 192, 256).unwrap()),
            ops(&nets().segmenter_at(Segmenter::General, 256, 256).unwrap()),
        ] {
            assert_eq!(seg.iter().filter(|o| *o == "Upsample2x").count(), 3);
            assert!(!seg.iter().any(|o| o.contains("Resize")), "{seg:?}");
        }
        // the squeeze-and-excitation pools: global in the landscape model, made global in the
        // size-free plans of the general one
        for seg in [
            ops(&nets().segmenter_landscape),
            ops(&nets().segmenter_at(Segmenter::General, 256, 256).unwrap()),
            ops(&nets().segmenter_at(Segmenter::General, 192, 256).unwrap()),
        ] {
            assert_eq!(seg.iter().filter(|o| *o == "ChannelMean").count(), 10);
        }
    }

    /// The landscape model against Google's TFLite runtime (LiteRT 2.3.0, XNNPACK) on a 256x144
    /// window of the fixture photo: `fixtures/reference-io/`, made by the script in its README.
    #[test]
    fn landscape_segmenter_matches_reference_runtime() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/reference-io");
        let img = image::open(dir.join("ssl_input.png")).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (256, 144));
        let x: Vec<f32> = img.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
        let reference = read_npy_f32(&dir.join("ssl_ref.npy"));
        let out = nets().segmenter_landscape.run(x).unwrap();
        assert!(max_abs_diff(&out[0], &reference) < 1e-3);
        // the model sees a person there (not a blank output that would pass any tolerance)
        let person = reference.iter().filter(|&&v| v > 0.5).count() as f32;
        assert!(person / reference.len() as f32 > 0.3);
    }

    #[test]
    fn segmenters_run_at_other_sizes() {
        // at the exported size, the size-free plan computes what the checked one does (its
        // pools summed in another order)
        let x: Vec<f32> = (0..256 * 256 * 3)
            .map(|i| ((i * 7919) % 256) as f32 / 255.0)
            .collect();
        let fixed = nets().segmenter.run(x.clone()).unwrap();
        let free = nets()
            .segmenter_at(Segmenter::General, 256, 256)
            .unwrap()
            .run(x)
            .unwrap();
        assert!(max_abs_diff(&fixed[0], &free[0]) < 1e-4);
        // other sizes give an output of their own size
        for which in [Segmenter::General, Segmenter::Landscape] {
            let m = nets().segmenter_at(which, 192, 256).unwrap();
            let out = m.run(vec![0.5; 192 * 256 * 3]).unwrap();
            assert_eq!(out[0].len(), 192 * 256);
            assert!(out[0].iter().all(|v| (0.0..=1.0).contains(v)));
            // planned once
            assert!(Arc::ptr_eq(
                &m,
                &nets().segmenter_at(which, 192, 256).unwrap()
            ));
        }
        for (w, h) in [(0, 256), (200, 256), (256, 544)] {
            let err = nets().segmenter_at(Segmenter::General, w, h).err().unwrap();
            assert_eq!(err.code(), "internal_error");
        }
    }

    #[test]
    fn transposed_network_computes_the_same() {
        // a real portrait at 192x256: the diagonal mirror of the network on the swapped image
        // gives the same mask as the network itself
        let img = image::open(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/photos/obama2.jpg"
        ))
        .unwrap()
        .to_rgb8();
        let small = crate::raster::downscale_to(&img, 192, 256).unwrap();
        let x: Vec<f32> = small.as_raw().iter().map(|&v| v as f32 / 255.0).collect();
        for bytes in [SELFIE_SEGMENTATION_ONNX, SELFIE_SEGMENTATION_LANDSCAPE_ONNX] {
            let plain = Model::load_with(bytes, [1, 256, 192, 3], Fit::SizeFree).unwrap();
            let mirrored =
                Model::load_with(bytes, [1, 256, 192, 3], Fit::SizeFreeTransposed).unwrap();
            assert!(mirrored.transposed() && !plain.transposed());
            let (a, b) = (
                plain.run(x.clone()).unwrap(),
                mirrored.run(x.clone()).unwrap(),
            );
            assert_eq!(a[0].len(), 192 * 256);
            assert!(
                max_abs_diff(&a[0], &b[0]) < 1e-4,
                "{}",
                max_abs_diff(&a[0], &b[0])
            );
            let person = a[0].iter().filter(|&&v| v > 0.5).count();
            assert!(person > 192 * 256 / 10);
        }
        // the portrait plans of `segmenter_at` are the transposed ones
        assert!(nets()
            .segmenter_at(Segmenter::General, 192, 256)
            .unwrap()
            .transposed());
        assert!(!nets()
            .segmenter_at(Segmenter::General, 256, 192)
            .unwrap()
            .transposed());
    }

    #[test]
    fn wrong_input_size_is_an_error() {
        let err = nets().detector.run(vec![0.0; 10]).unwrap_err();
        assert_eq!(err.code(), "internal_error");
    }

    #[test]
    fn bad_model_bytes_are_an_error_naming_the_model() {
        let mut models = Models::builtin();
        models.face_landmark = Cow::Owned(b"not an onnx model".to_vec());
        let Some(Error::Model(message)) = Networks::new(models).err() else {
            panic!("garbage landmark bytes loaded");
        };
        assert!(message.starts_with("face_landmark: "), "{message}");
        let mut models = Models::builtin();
        let half = models.selfie_segmentation_landscape.len() / 2;
        models.selfie_segmentation_landscape =
            Cow::Owned(models.selfie_segmentation_landscape[..half].to_vec());
        let Some(Error::Model(message)) = Networks::new(models).err() else {
            panic!("a truncated landscape model loaded");
        };
        assert!(
            message.starts_with("selfie_segmentation_landscape: "),
            "{message}"
        );
    }

    #[test]
    fn builtin_models_are_borrowed_and_printed_by_length() {
        let models = Models::builtin();
        assert!(matches!(models.face_detection, Cow::Borrowed(_)));
        let printed = format!("{models:?}");
        let want = format!("face_landmark: {} bytes", FACE_LANDMARK_ONNX.len());
        assert!(printed.contains(&want), "{printed}");
        assert!(printed.len() < 300, "{printed}");
    }
}
