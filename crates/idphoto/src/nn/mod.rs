//! The neural networks: the four built-in models (face detection, face landmarks, person
//! segmentation general and landscape), converted once from ONNX to tract's NNEF form and
//! run with tract.
//!
//! [`Models`] holds the converted files of the four networks; `Networks` (crate-internal)
//! reads them (a few milliseconds each) and keeps the plans made from them: each input size
//! a photo needs is planned on first use (10-30 ms) and kept, and freed with the value.
//!
//! Files: `convert.rs` (ONNX to the converted form, done when the library is built and by
//! [`Models::from_onnx`]), `source.rs` (a network prepared for any input size),
//! `bundle.rs` and `packed.rs` (the converted file), `model.rs` (one plan and how it runs),
//! `rewrite.rs` (the ONNX graph rewrites of the conversion), `layout.rs` (NHWC / planar /
//! transposed tensor layouts), `proto.rs` (protobuf helpers), `builtin.rs` (the embedded
//! files), `ops/` (the own tract operators).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

mod builtin;
mod bundle;
mod convert;
mod layout;
mod model;
pub(crate) mod ops;
mod packed;
mod proto;
pub(crate) mod rewrite;
mod source;

#[cfg(test)]
pub(crate) use builtin::{
    FACE_DETECTION_ONNX, SELFIE_SEGMENTATION_LANDSCAPE_ONNX, SELFIE_SEGMENTATION_ONNX,
};
#[cfg(test)]
pub(crate) use model::Fit;
pub(crate) use model::Model;
use source::Source;

/// The converted files of the four networks ([`Models::builtin`] gives the embedded ones,
/// [`Models::from_onnx`] converts ONNX models).
#[derive(Clone)]
pub struct Models {
    /// BlazeFace short-range face detector (exported for a 1x128x128x3 NHWC input).
    pub face_detection: Cow<'static, [u8]>,
    /// FaceMesh face landmark model, input 1x192x192x3.
    pub face_landmark: Cow<'static, [u8]>,
    /// Selfie (person) segmentation (exported for 1x256x256x3).
    pub selfie_segmentation: Cow<'static, [u8]>,
    /// Selfie segmentation, landscape variant (exported for 1x144x256x3).
    pub selfie_segmentation_landscape: Cow<'static, [u8]>,
}

impl Models {
    /// The networks embedded in the library (MediaPipe, Apache-2.0), borrowed, not copied.
    pub fn builtin() -> Models {
        Models {
            face_detection: Cow::Borrowed(builtin::FACE_DETECTION),
            face_landmark: Cow::Borrowed(builtin::FACE_LANDMARK),
            selfie_segmentation: Cow::Borrowed(builtin::SELFIE_SEGMENTATION),
            selfie_segmentation_landscape: Cow::Borrowed(builtin::SELFIE_SEGMENTATION_LANDSCAPE),
        }
    }

    /// Converts the four networks from ONNX (the MediaPipe models in the form the library's
    /// own were converted from: NHWC input, the same operators): what the library's build
    /// does for the embedded ones, 0.3-0.6 s. An ONNX model it cannot convert is
    /// [`Error::Model`] naming it.
    pub fn from_onnx(
        face_detection: &[u8],
        face_landmark: &[u8],
        selfie_segmentation: &[u8],
        selfie_segmentation_landscape: &[u8],
    ) -> Result<Models> {
        use convert::Network;
        let conv = |name: &str, bytes: &[u8], net: Network| {
            convert::convert(bytes, net)
                .map(Cow::Owned)
                .map_err(|e| naming(name, e))
        };
        Ok(Models {
            face_detection: conv("face_detection", face_detection, Network::Detector)?,
            face_landmark: conv("face_landmark", face_landmark, Network::Landmarker)?,
            selfie_segmentation: conv(
                "selfie_segmentation",
                selfie_segmentation,
                Network::Segmenter([256, 256]),
            )?,
            selfie_segmentation_landscape: conv(
                "selfie_segmentation_landscape",
                selfie_segmentation_landscape,
                Network::Segmenter([144, 256]),
            )?,
        })
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

/// The plans made so far, by network and `w` x `h`.
type Plans = Mutex<HashMap<(PlanKey, usize, usize), Arc<Model>>>;

/// A network's two forms: as exported (for landscape and square inputs) and mirrored about
/// the image diagonal (for portrait inputs, which run faster as the mirrored network on the
/// transposed image).
struct Forms {
    plain: Source,
    transposed: Source,
}

/// The four networks, read from [`Models`], and the plans made from them. A `Model`'s plan
/// is immutable and thread-safe: one value serves every thread.
pub struct Networks {
    detector: Forms,
    /// The face landmark model's plan (its input is always 1x192x192x3).
    landmarker: Model,
    segmenter: Forms,
    segmenter_landscape: Forms,
    /// Plans made on first use, see [`Networks::plan_cached`].
    plans: Plans,
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

/// The forms of the converted network `bytes`: both forms of a detector or segmenter
/// (`both`), or the one form of the landmark model.
fn read_forms(name: &str, bytes: &[u8], both: bool) -> Result<Vec<Source>> {
    let forms = bundle::read(bytes).map_err(|e| naming(name, e))?;
    let sources = forms
        .iter()
        .map(|f| Source::from_packed(f.packed, f.flags))
        .collect::<Result<Vec<_>>>()
        .map_err(|e| naming(name, e))?;
    let transposed: Vec<bool> = sources.iter().map(Source::transposed).collect();
    let expected: &[bool] = if both { &[false, true] } else { &[false] };
    if transposed != expected {
        return Err(naming(
            name,
            Error::Model(format!(
                "forms {transposed:?} (transposed), not {expected:?}"
            )),
        ));
    }
    Ok(sources)
}

impl Forms {
    fn read(name: &str, bytes: &[u8]) -> Result<Forms> {
        let mut sources = read_forms(name, bytes, true)?;
        let transposed = sources.remove(1);
        Ok(Forms {
            plain: sources.remove(0),
            transposed,
        })
    }

    /// The form that runs a `w` x `h` input.
    fn for_size(&self, w: usize, h: usize) -> &Source {
        if h > w {
            &self.transposed
        } else {
            &self.plain
        }
    }
}

impl Networks {
    /// Reads the four converted networks and plans the landmark model (its only size), so
    /// that bad model bytes are an error here: [`Error::Model`] whose message names the
    /// model (e.g. "face_landmark: ...").
    pub(crate) fn new(models: Models) -> Result<Networks> {
        let detector = Forms::read("face_detection", &models.face_detection)?;
        let landmarker = read_forms("face_landmark", &models.face_landmark, false)?
            .remove(0)
            .plan(192, 192)
            .map_err(|e| naming("face_landmark", e))?;
        let segmenter = Forms::read("selfie_segmentation", &models.selfie_segmentation)?;
        let segmenter_landscape = Forms::read(
            "selfie_segmentation_landscape",
            &models.selfie_segmentation_landscape,
        )?;
        Ok(Networks {
            detector,
            landmarker,
            segmenter,
            segmenter_landscape,
            plans: Plans::default(),
        })
    }

    /// The face detector planned for a `w` x `h` input (both multiples of 16, at most
    /// [`DETECTOR_MAX_SIDE`]; same weights, one anchor grid cell per 8 and 16 px): one run
    /// covers a pyramid level of up to 192x192 px that would take four 128 px tiles, and a
    /// photo's own aspect ratio costs less than its square. A portrait size runs the
    /// transposed network (see [`Model::run`] for the order of its anchors). Each size is
    /// planned once (10-20 ms) and kept.
    pub(crate) fn detector_at(&self, w: usize, h: usize) -> Result<Arc<Model>> {
        if w == 0 || h == 0 || w % 16 != 0 || h % 16 != 0 || w.max(h) > DETECTOR_MAX_SIDE {
            return Err(Error::Internal(format!(
                "detector input {w}x{h}: sides must be multiples of 16 up to {DETECTOR_MAX_SIDE}"
            )));
        }
        self.plan_cached(PlanKey::Detector, w, h, || {
            self.detector.for_size(w, h).plan(h, w)
        })
    }

    /// The face landmark model (input 1x192x192x3).
    pub(crate) fn landmarker(&self) -> &Model {
        &self.landmarker
    }

    /// A segmentation network planned for a `w` x `h` input (both multiples of 32, at most
    /// [`SEG_MAX_SIDE`]): the networks are fully convolutional, and a photo seen at its own
    /// aspect ratio is segmented better than one squeezed into the exported shape
    /// (`matting-eval`). Each size is planned once (15-30 ms) and kept. A portrait input
    /// runs as the transposed network on the landscape transpose of the image (faster).
    ///
    /// The conversion loaded each network at its exported size first, where every `Resize`
    /// of the decoder had to prove to be a 2x upsampling; the converted network takes each
    /// `Resize` as 2x.
    pub(crate) fn segmenter_at(&self, which: Segmenter, w: usize, h: usize) -> Result<Arc<Model>> {
        if w == 0 || h == 0 || w % 32 != 0 || h % 32 != 0 || w.max(h) > SEG_MAX_SIDE {
            return Err(Error::Internal(format!(
                "segmentation input {w}x{h}: sides must be multiples of 32 up to {SEG_MAX_SIDE}"
            )));
        }
        let forms = match which {
            Segmenter::General => &self.segmenter,
            Segmenter::Landscape => &self.segmenter_landscape,
        };
        self.plan_cached(PlanKey::Segmenter(which), w, h, || {
            forms.for_size(w, h).plan(h, w)
        })
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
    /// on first use (15-30 ms per network).
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
            .detector_at(128, 128)
            .unwrap()
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
            .segmenter_at(Segmenter::General, 256, 256)
            .unwrap()
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
            ops(&nets().segmenter_at(Segmenter::Landscape, 256, 128).unwrap()),
            ops(&nets().segmenter_at(Segmenter::Landscape, 192, 256).unwrap()),
            ops(&nets().segmenter_at(Segmenter::General, 256, 256).unwrap()),
        ] {
            assert_eq!(seg.iter().filter(|o| *o == "Upsample2x").count(), 3);
            assert!(!seg.iter().any(|o| o.contains("Resize")), "{seg:?}");
        }
        // the squeeze-and-excitation pools: global in the landscape model, made global in the
        // size-free plans of the general one
        for seg in [
            ops(&nets().segmenter_at(Segmenter::Landscape, 256, 128).unwrap()),
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
        // the exported size (144 rows) is not a multiple of 32, which the converted network
        // needs: the ONNX network loaded at that size is compared here, and the converted one
        // with it at other sizes (`source::tests`)
        let exported = Model::load_with(
            SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
            [1, 144, 256, 3],
            Fit::Exported,
        )
        .unwrap();
        let out = exported.run(x).unwrap();
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
        let exported =
            Model::load_with(SELFIE_SEGMENTATION_ONNX, [1, 256, 256, 3], Fit::Exported).unwrap();
        let fixed = exported.run(x.clone()).unwrap();
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
        let err = nets().landmarker().run(vec![0.0; 10]).unwrap_err();
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
        let want = format!("face_landmark: {} bytes", builtin::FACE_LANDMARK.len());
        assert!(printed.contains(&want), "{printed}");
        assert!(printed.len() < 300, "{printed}");
    }
}
