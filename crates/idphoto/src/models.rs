//! The built-in neural network models, embedded in the library and run with tract.
//!
//! Models are parsed and optimised once per process (60-100 ms each) and then shared; a
//! [`tract_onnx::prelude::TypedRunnableModel`] is immutable and thread-safe.

use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::*;

use crate::error::{Error, Result};

/// BlazeFace short-range detector (ONNX), MediaPipe, Apache-2.0.
pub const FACE_DETECTION_ONNX: &[u8] = include_bytes!("../models/face_detection_short_range.onnx");
/// FaceMesh landmark model (ONNX), MediaPipe, Apache-2.0.
pub const FACE_LANDMARK_ONNX: &[u8] = include_bytes!("../models/face_landmark.onnx");
/// Selfie segmentation model (ONNX), MediaPipe, Apache-2.0.
pub const SELFIE_SEGMENTATION_ONNX: &[u8] = include_bytes!("../models/selfie_segmentation.onnx");
/// Selfie segmentation, landscape variant (ONNX), MediaPipe, Apache-2.0.
pub const SELFIE_SEGMENTATION_LANDSCAPE_ONNX: &[u8] =
    include_bytes!("../models/selfie_segmentation_landscape.onnx");

type Plan = Arc<TypedRunnableModel>;

/// One loaded model.
pub(crate) struct Model {
    plan: Plan,
    input_shape: [usize; 4],
}

impl Model {
    fn load(bytes: &[u8], input_shape: [usize; 4]) -> Result<Model> {
        Model::load_with(bytes, input_shape, false)
    }

    /// `size_free`: every `Resize` taken as a 2x upsampling (see [`segmenter_at`]).
    fn load_with(bytes: &[u8], input_shape: [usize; 4], size_free: bool) -> Result<Model> {
        let mut onnx = tract_onnx::onnx();
        if size_free {
            crate::nn_ops::register_size_free(&mut onnx);
        } else {
            crate::nn_ops::register(&mut onnx);
        }
        let plan = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .and_then(|mut proto| {
                free_reshape_lengths(&mut proto);
                onnx.model_for_proto_model(&proto)
            })
            .and_then(|m| m.with_input_fact(0, f32::fact(input_shape).into()))
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(Model { plan, input_shape })
    }

    /// Runs the model on one NHWC f32 tensor; returns every output flattened.
    pub(crate) fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.input_shape.iter().product();
        if input.len() != expected {
            return Err(Error::Internal(format!(
                "model input has {} values, expected {expected}",
                input.len()
            )));
        }
        let tensor = Tensor::from_shape(&self.input_shape, &input)
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|t| {
                t.to_plain_array_view::<f32>()
                    .map(|a| a.iter().copied().collect())
                    .map_err(|e| Error::Model(format!("{e:#}")))
            })
            .collect()
    }
}

/// Lets the graph's `Reshape`s to `[1, n, k]` infer `n` (the number of anchors of a detector
/// output) from their input, so that a fully convolutional model can run at another input
/// size than the one it was exported for.
fn free_reshape_lengths(proto: &mut tract_onnx::pb::ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    let shapes: Vec<String> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Reshape")
        .filter_map(|n| n.input.get(1).cloned())
        .collect();
    for t in graph.initializer.iter_mut() {
        if !shapes.contains(&t.name) || t.dims != [3] {
            continue;
        }
        let mut v: Vec<i64> = if t.raw_data.len() == 24 {
            t.raw_data
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
                .collect()
        } else {
            t.int64_data.clone()
        };
        if v.len() == 3 && v[0] == 1 && v[1] > 0 && v[2] > 0 {
            v[1] = -1;
            t.raw_data.clear();
            t.int64_data = v;
        }
    }
}

fn cached(
    cell: &'static OnceLock<std::result::Result<Model, Error>>,
    bytes: &'static [u8],
    shape: [usize; 4],
) -> Result<&'static Model> {
    cell.get_or_init(|| Model::load(bytes, shape))
        .as_ref()
        .map_err(Clone::clone)
}

/// The face detector (input 1x128x128x3).
pub(crate) fn face_detector() -> Result<&'static Model> {
    static CELL: OnceLock<std::result::Result<Model, Error>> = OnceLock::new();
    cached(&CELL, FACE_DETECTION_ONNX, [1, 128, 128, 3])
}

/// The face detector run on a 192x192 input (same weights; 2016 anchors instead of 896): one
/// run covers a pyramid level of up to 192x192 px that would take four 128 px tiles.
pub(crate) fn face_detector_192() -> Result<&'static Model> {
    static CELL: OnceLock<std::result::Result<Model, Error>> = OnceLock::new();
    cached(&CELL, FACE_DETECTION_ONNX, [1, 192, 192, 3])
}

/// The face landmark model (input 1x192x192x3).
pub(crate) fn face_landmarker() -> Result<&'static Model> {
    static CELL: OnceLock<std::result::Result<Model, Error>> = OnceLock::new();
    cached(&CELL, FACE_LANDMARK_ONNX, [1, 192, 192, 3])
}

/// The person segmentation model (input 1x256x256x3).
pub(crate) fn segmenter() -> Result<&'static Model> {
    static CELL: OnceLock<std::result::Result<Model, Error>> = OnceLock::new();
    cached(&CELL, SELFIE_SEGMENTATION_ONNX, [1, 256, 256, 3])
}

/// The landscape person segmentation model (input 1x144x256x3).
pub(crate) fn segmenter_landscape() -> Result<&'static Model> {
    static CELL: OnceLock<std::result::Result<Model, Error>> = OnceLock::new();
    cached(&CELL, SELFIE_SEGMENTATION_LANDSCAPE_ONNX, [1, 144, 256, 3])
}

/// One of the two person segmentation networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Segmenter {
    /// `selfie_segmentation` (exported for 256x256).
    General,
    /// `selfie_segmentation_landscape` (exported for 256x144).
    Landscape,
}

/// Largest side accepted by [`segmenter_at`].
pub(crate) const SEG_MAX_SIDE: usize = 512;

/// A segmentation network planned for a `w` x `h` input (both multiples of 32, at most
/// [`SEG_MAX_SIDE`]): the networks are fully convolutional, and a photo seen at its own
/// aspect ratio is segmented better than one squeezed into the exported shape
/// (`matting-eval`). Each size is planned once per process (about 60 ms) and kept.
///
/// The exported size is loaded first, where every `Resize` of the decoder must prove to be a
/// 2x upsampling; the other sizes then take each `Resize` as 2x.
pub(crate) fn segmenter_at(which: Segmenter, w: usize, h: usize) -> Result<Arc<Model>> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Plans = Mutex<HashMap<(Segmenter, usize, usize), Arc<Model>>>;
    static PLANS: OnceLock<Plans> = OnceLock::new();
    if w == 0 || h == 0 || w % 32 != 0 || h % 32 != 0 || w.max(h) > SEG_MAX_SIDE {
        return Err(Error::Internal(format!(
            "segmentation input {w}x{h}: sides must be multiples of 32 up to {SEG_MAX_SIDE}"
        )));
    }
    let bytes = match which {
        Segmenter::General => {
            segmenter()?;
            SELFIE_SEGMENTATION_ONNX
        }
        Segmenter::Landscape => {
            segmenter_landscape()?;
            SELFIE_SEGMENTATION_LANDSCAPE_ONNX
        }
    };
    let plans = PLANS.get_or_init(Default::default);
    // a poisoned lock only means another thread panicked while inserting: the map is intact
    let lock = || plans.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = lock().get(&(which, w, h)) {
        return Ok(m.clone());
    }
    // planned outside the lock (slow); a concurrent duplicate is harmless
    let m = Arc::new(Model::load_with(bytes, [1, h, w, 3], true)?);
    Ok(lock().entry((which, w, h)).or_insert(m).clone())
}

/// Loads and optimises all models now, so the first photo is not slower than the rest.
pub fn warm_up() -> Result<()> {
    face_detector()?;
    face_detector_192()?;
    face_landmarker()?;
    segmenter()?;
    segmenter_landscape()?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::path::PathBuf;

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

    fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
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
        let out = face_detector()
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
        let out = segmenter()
            .unwrap()
            .run(read_npy_f32(&io.join("ss_x.npy")))
            .unwrap();
        assert!(max_abs_diff(&out[0], &read_npy_f32(&io.join("ss_ref.npy"))) < 5e-3);
        let out = face_landmarker()
            .unwrap()
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
        let lm = ops(face_landmarker().unwrap());
        assert_eq!(lm.iter().filter(|o| *o == "ChannelPrelu").count(), 23);
        for seg in [
            ops(segmenter().unwrap()),
            ops(segmenter_landscape().unwrap()),
            ops(&segmenter_at(Segmenter::Landscape, 192, 256).unwrap()),
        ] {
            assert_eq!(seg.iter().filter(|o| *o == "Upsample2x").count(), 3);
            assert!(!seg.iter().any(|o| o.contains("Resize")), "{seg:?}");
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
        let out = segmenter_landscape().unwrap().run(x).unwrap();
        assert!(max_abs_diff(&out[0], &reference) < 1e-3);
        // the model sees a person there (not a blank output that would pass any tolerance)
        let person = reference.iter().filter(|&&v| v > 0.5).count() as f32;
        assert!(person / reference.len() as f32 > 0.3);
    }

    #[test]
    fn segmenters_run_at_other_sizes() {
        // at the exported size, the size-free plan computes exactly what the checked one does
        let x: Vec<f32> = (0..256 * 256 * 3)
            .map(|i| ((i * 7919) % 256) as f32 / 255.0)
            .collect();
        let fixed = segmenter().unwrap().run(x.clone()).unwrap();
        let free = segmenter_at(Segmenter::General, 256, 256)
            .unwrap()
            .run(x)
            .unwrap();
        assert!(max_abs_diff(&fixed[0], &free[0]) < 1e-6);
        // other sizes give an output of their own size
        for which in [Segmenter::General, Segmenter::Landscape] {
            let m = segmenter_at(which, 192, 256).unwrap();
            let out = m.run(vec![0.5; 192 * 256 * 3]).unwrap();
            assert_eq!(out[0].len(), 192 * 256);
            assert!(out[0].iter().all(|v| (0.0..=1.0).contains(v)));
            // planned once
            assert!(Arc::ptr_eq(&m, &segmenter_at(which, 192, 256).unwrap()));
        }
        for (w, h) in [(0, 256), (200, 256), (256, 544)] {
            let err = segmenter_at(Segmenter::General, w, h).err().unwrap();
            assert_eq!(err.code(), "internal_error");
        }
    }

    #[test]
    fn wrong_input_size_is_an_error() {
        let err = face_detector().unwrap().run(vec![0.0; 10]).unwrap_err();
        assert_eq!(err.code(), "internal_error");
    }
}
