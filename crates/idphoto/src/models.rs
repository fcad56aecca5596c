//! The built-in neural network models, embedded in the library and run with tract.
//!
//! Models are parsed and optimised once per process (60-100 ms each) and then shared; a
//! [`tract_onnx::prelude::TypedRunnableModel`] is immutable and thread-safe.

use std::sync::{Arc, OnceLock};

use tract_onnx::prelude::*;
use tract_onnx::tract_hir::internal::bail;

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
    /// The NHWC input shape callers give.
    input_shape: [usize; 4],
    /// The plan is of the network mirrored about the image diagonal (kernels transposed):
    /// it takes the input with height and width swapped and gives outputs swapped too,
    /// which [`Model::run`] undoes.
    transposed: bool,
    /// The network's first operator, NHWC -> NCHW, was removed: [`Model::run`] gives the
    /// input planar (one pass with the transposition, faster than tract's).
    planar: bool,
}

/// How [`Model::load_with`] adapts a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// As exported.
    Exported,
    /// At another input size (see [`segmenter_at`]).
    SizeFree,
    /// At another input size, mirrored about the diagonal.
    SizeFreeTransposed,
    /// As exported (any input size its operators accept), mirrored about the diagonal.
    Transposed,
}

impl Model {
    fn load(bytes: &[u8], input_shape: [usize; 4]) -> Result<Model> {
        Model::load_with(bytes, input_shape, Fit::Exported)
    }

    fn load_with(bytes: &[u8], input_shape: [usize; 4], fit: Fit) -> Result<Model> {
        let mut onnx = tract_onnx::onnx();
        if matches!(fit, Fit::Exported | Fit::Transposed) {
            crate::nn_ops::register(&mut onnx);
        } else {
            crate::nn_ops::register_size_free(&mut onnx);
        }
        let transposed = matches!(fit, Fit::SizeFreeTransposed | Fit::Transposed);
        let [n, h, w, c] = input_shape;
        let mut planar = false;
        let plan = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .and_then(|mut proto| {
                planar = planar_input(&mut proto);
                free_reshape_lengths(&mut proto);
                if matches!(fit, Fit::SizeFree | Fit::SizeFreeTransposed) {
                    global_pools(&mut proto);
                }
                if transposed {
                    transpose_spatial(&mut proto)?;
                }
                crate::nn_spatial::mark(&mut proto);
                onnx.model_for_proto_model(&proto)
            })
            .and_then(|m| {
                // the input as the plan takes it: NCHW when its layout change was removed,
                // height and width swapped for a transposed plan
                let (a, b) = if transposed { (w, h) } else { (h, w) };
                let shape = if planar { [n, c, a, b] } else { [n, a, b, c] };
                m.with_input_fact(0, f32::fact(shape).into())
            })
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(Model {
            plan,
            input_shape,
            transposed,
            planar,
        })
    }

    /// Whether the plan is of the transposed network (see [`Model::run`]).
    pub(crate) fn transposed(&self) -> bool {
        self.transposed
    }

    /// Runs the model on one NHWC f32 tensor; returns every output flattened. A transposed
    /// plan's NHWC outputs are swapped back; its other outputs (a detector's `[1, n, k]`
    /// list of anchor positions) list the positions column by column instead of row by row.
    pub(crate) fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.input_shape.iter().product();
        if input.len() != expected {
            return Err(Error::Internal(format!(
                "model input has {} values, expected {expected}",
                input.len()
            )));
        }
        let [n, h, w, c] = self.input_shape;
        let tensor = match (self.planar, self.transposed) {
            (true, t) => {
                let shape = if t { [n, c, w, h] } else { [n, c, h, w] };
                Tensor::from_shape(&shape, &to_planar(&input, [n, h, w, c], t))
            }
            (false, true) => Tensor::from_shape(&[n, w, h, c], &swap_hw(&input, n, h, w, c)),
            (false, false) => Tensor::from_shape(&self.input_shape, &input),
        }
        .map_err(|e| Error::Model(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|t| {
                let a = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| Error::Model(format!("{e:#}")))?;
                let flat: Vec<f32> = match a.as_slice() {
                    Some(s) => s.to_vec(),
                    None => a.iter().copied().collect(),
                };
                match (self.transposed, a.shape()) {
                    (true, &[n, h, w, c]) => Ok(swap_hw(&flat, n, h, w, c)),
                    _ => Ok(flat),
                }
            })
            .collect()
    }
}

/// An NHWC tensor as NCHW, or as NCWH (height and width swapped) when `swap`.
fn to_planar(data: &[f32], [n, h, w, c]: [usize; 4], swap: bool) -> Vec<f32> {
    let plane = h * w;
    let mut out = vec![0f32; data.len()];
    if plane == 0 || c == 0 {
        return out;
    }
    for (src, dst) in data
        .chunks_exact(plane * c)
        .zip(out.chunks_exact_mut(plane * c))
        .take(n)
    {
        for (k, d) in dst.chunks_exact_mut(plane).enumerate() {
            if !swap {
                for (o, px) in d.iter_mut().zip(src.chunks_exact(c)) {
                    *o = px[k];
                }
                continue;
            }
            // a band of rows at a time: each column's run of the band is contiguous in the
            // output, and the band's source rows stay in cache across the columns
            const BAND: usize = 16;
            for y0 in (0..h).step_by(BAND) {
                let rows = BAND.min(h - y0);
                let band = &src[y0 * w * c..(y0 + rows) * w * c];
                for (x, col) in d.chunks_exact_mut(h).enumerate() {
                    for (j, o) in col[y0..y0 + rows].iter_mut().enumerate() {
                        *o = band[(j * w + x) * c + k];
                    }
                }
            }
        }
    }
    out
}

/// Removes the network's first operator when it only turns the NHWC input into NCHW (the
/// MediaPipe conversions all start so), so that the input is given planar. Returns whether
/// it did.
fn planar_input(proto: &mut tract_onnx::pb::ModelProto) -> bool {
    let Some(graph) = proto.graph.as_mut() else {
        return false;
    };
    let Some(input) = graph.input.first().map(|i| i.name.clone()) else {
        return false;
    };
    let users: Vec<usize> = (0..graph.node.len())
        .filter(|&i| graph.node[i].input.contains(&input))
        .collect();
    let &[i] = users.as_slice() else {
        return false;
    };
    let node = &graph.node[i];
    let to_nchw = node.op_type == "Transpose"
        && node.input.len() == 1
        && node.output.len() == 1
        && node.attribute.len() == 1
        && node.attribute[0].name == "perm"
        && node.attribute[0].ints == [0, 3, 1, 2];
    if !to_nchw || graph.output.iter().any(|o| o.name == node.output[0]) {
        return false;
    }
    let out = node.output[0].clone();
    graph.node.remove(i);
    for n in graph.node.iter_mut() {
        for v in n.input.iter_mut().filter(|v| **v == out) {
            v.clone_from(&input);
        }
    }
    // the declared shape becomes NCHW
    use tract_onnx::pb::type_proto::Value;
    if let Some(Value::TensorType(t)) = graph.input[0]
        .r#type
        .as_mut()
        .and_then(|t| t.value.as_mut())
    {
        if let Some(shape) = t.shape.as_mut() {
            if shape.dim.len() == 4 {
                let d = std::mem::take(&mut shape.dim);
                shape.dim = [0, 3, 1, 2].iter().map(|&i| d[i].clone()).collect();
            }
        }
    }
    true
}

/// An NHWC tensor `n` x `h` x `w` x `c` with height and width swapped (`n` x `w` x `h` x `c`).
fn swap_hw(data: &[f32], n: usize, h: usize, w: usize, c: usize) -> Vec<f32> {
    let mut out = vec![0f32; data.len()];
    for b in 0..n {
        let (src, dst) = (
            &data[b * h * w * c..][..h * w * c],
            &mut out[b * h * w * c..][..h * w * c],
        );
        for y in 0..h {
            for x in 0..w {
                let (i, o) = ((y * w + x) * c, (x * h + y) * c);
                dst[o..o + c].copy_from_slice(&src[i..i + c]);
            }
        }
    }
    out
}

/// Operators that [`transpose_spatial`] knows to commute with swapping height and width
/// (element-wise, channel-wise, global, or given their transposed attributes and kernels).
const TRANSPOSABLE_OPS: [&str; 16] = [
    "Conv",
    "ConvTranspose",
    "Identity",
    "HardSwish",
    "Relu",
    "Sigmoid",
    "Mul",
    "Add",
    "Resize",
    "Transpose",
    "GlobalAveragePool",
    "Concat",
    "PRelu",
    "MaxPool",
    "Pad",
    "Reshape",
];

/// Rewrites an NCHW-inside network as its mirror image about the diagonal: each convolution
/// kernel transposed (`kh` <-> `kw`) and its spatial attributes swapped, so that the network
/// run on an image with height and width swapped computes the swapped output. tract walks a
/// depthwise convolution's rows along the longer axis of the output and only the rows along
/// the width are vectorised: a portrait input is about twice as slow as its landscape
/// transpose. Refuses networks with an operator it does not know to commute with the swap.
/// A `Reshape` to `[1, n, k]` (a detector's list of anchors, flattened from an NHWC map) is
/// kept and lists the positions of the transposed map, column by column.
fn transpose_spatial(proto: &mut tract_onnx::pb::ModelProto) -> TractResult<()> {
    let Some(graph) = proto.graph.as_mut() else {
        bail!("model without a graph");
    };
    let mut kernels = Vec::new();
    let mut pads = Vec::new();
    let constants: std::collections::HashMap<String, Vec<i64>> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    for node in graph.node.iter_mut() {
        let op = node.op_type.as_str();
        if !TRANSPOSABLE_OPS.contains(&op) {
            bail!("transpose_spatial: operator {op} not known to commute with the swap");
        }
        match op {
            "Conv" | "ConvTranspose" | "MaxPool" => {
                if op != "MaxPool" {
                    if let Some(k) = node.input.get(1) {
                        kernels.push(k.clone());
                    }
                }
                for a in node.attribute.iter_mut() {
                    match (a.name.as_str(), a.ints.len()) {
                        (
                            "kernel_shape" | "strides" | "dilations" | "output_padding"
                            | "output_shape",
                            2,
                        ) => a.ints.swap(0, 1),
                        ("pads", 4) => {
                            a.ints.swap(0, 1);
                            a.ints.swap(2, 3);
                        }
                        ("group" | "auto_pad" | "ceil_mode" | "storage_order", _) => {}
                        (name, _) => bail!("transpose_spatial: {op} attribute {name}"),
                    }
                }
            }
            "Transpose" => {
                let perm = node.attribute.iter().find(|a| a.name == "perm");
                let ok = perm.is_some_and(|p| p.ints == [0, 3, 1, 2] || p.ints == [0, 2, 3, 1]);
                if !ok {
                    bail!("transpose_spatial: Transpose other than NHWC <-> NCHW");
                }
            }
            "Pad" => {
                // pads as a constant input (opset 11+): [begin n c h w, end n c h w]
                let mode_ok = node
                    .attribute
                    .iter()
                    .all(|a| a.name == "mode" && (a.s.is_empty() || a.s.as_slice() == b"constant"));
                match node.input.get(1) {
                    Some(p) if mode_ok && constants.get(p) == Some(&vec![8]) => {
                        pads.push(p.clone())
                    }
                    _ => bail!("transpose_spatial: Pad other than constant with constant pads"),
                }
            }
            "Reshape" => {
                let shape = node.input.get(1).and_then(|s| constants.get(s));
                if shape != Some(&vec![3]) {
                    bail!("transpose_spatial: Reshape other than to [1, n, k]");
                }
            }
            "Concat" => {
                let axis = node.attribute.iter().find(|a| a.name == "axis");
                if axis.is_none_or(|a| a.i != 1) {
                    bail!("transpose_spatial: Concat other than along channels");
                }
            }
            "Mul" | "Add" | "PRelu" => {
                // constant operands must not vary over height or width
                for i in &node.input {
                    if let Some(d) = constants.get(i) {
                        if d.len() >= 2 && d[d.len() - 2..].iter().any(|&v| v != 1) {
                            bail!("transpose_spatial: {op} with a spatial constant {d:?}");
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for t in graph
        .initializer
        .iter_mut()
        .filter(|t| pads.contains(&t.name))
    {
        let mut v = int64_values(t);
        if v.len() != 8 {
            bail!("transpose_spatial: pads {} of {} values", t.name, v.len());
        }
        v.swap(2, 3);
        v.swap(6, 7);
        t.raw_data.clear();
        t.int64_data = v;
    }
    for t in graph
        .initializer
        .iter_mut()
        .filter(|t| kernels.contains(&t.name))
    {
        let &[o, i, kh, kw] = t.dims.as_slice() else {
            bail!("transpose_spatial: kernel {} of dims {:?}", t.name, t.dims);
        };
        let (o, i, kh, kw) = (o as usize, i as usize, kh as usize, kw as usize);
        let values: Vec<f32> = if !t.float_data.is_empty() {
            t.float_data.clone()
        } else {
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        if values.len() != o * i * kh * kw {
            bail!(
                "transpose_spatial: kernel {} has {} values",
                t.name,
                values.len()
            );
        }
        let swapped = swap_hw(&values, o * i, kh, kw, 1);
        t.dims = vec![o as i64, i as i64, kw as i64, kh as i64];
        t.float_data.clear();
        t.raw_data = swapped.iter().flat_map(|v| v.to_le_bytes()).collect();
    }
    Ok(())
}

/// Makes the graph's `AveragePool`s whose window equals their stride with no padding (a
/// squeeze-and-excitation block's pooling of a whole feature map, written for the exported
/// input size) `GlobalAveragePool`s, which they are at the exported size: at another input
/// size the fixed window would no longer cover the feature map.
fn global_pools(proto: &mut tract_onnx::pb::ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    for n in graph.node.iter_mut().filter(|n| n.op_type == "AveragePool") {
        let ints = |name: &str| {
            n.attribute
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.ints.clone())
        };
        let (kernel, strides, pads) = (ints("kernel_shape"), ints("strides"), ints("pads"));
        // the two segmentation networks pool whole maps of 8 to 128 px this way; a
        // downsampling pool (2x2, 3x3) is left alone
        let whole = kernel.as_ref().is_some_and(|k| k.iter().all(|&v| v >= 8))
            && kernel == strides
            && pads.is_none_or(|p| p.iter().all(|&v| v == 0))
            && n.attribute.iter().all(|a| {
                [
                    "kernel_shape",
                    "strides",
                    "pads",
                    "auto_pad",
                    "count_include_pad",
                ]
                .contains(&a.name.as_str())
            });
        if whole {
            n.op_type = "GlobalAveragePool".into();
            n.attribute.clear();
        }
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
        let mut v = int64_values(t);
        if v.len() == 3 && v[0] == 1 && v[1] > 0 && v[2] > 0 {
            v[1] = -1;
            t.raw_data.clear();
            t.int64_data = v;
        }
    }
}

/// The values of an INT64 constant of the graph (empty for another type).
pub(crate) fn int64_values(t: &tract_onnx::pb::TensorProto) -> Vec<i64> {
    if t.data_type != 7 {
        return Vec::new();
    }
    if t.int64_data.is_empty() {
        t.raw_data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    } else {
        t.int64_data.clone()
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

/// Largest side accepted by [`face_detector_at`].
pub(crate) const DETECTOR_MAX_SIDE: usize = 256;

/// The face detector planned for a `w` x `h` input (both multiples of 16, at most
/// [`DETECTOR_MAX_SIDE`]; same weights, one anchor grid cell per 8 and 16 px): one run covers
/// a pyramid level of up to 192x192 px that would take four 128 px tiles, and a photo's own
/// aspect ratio costs less than its square. A portrait size runs the transposed network (see
/// [`Model::run`] for the order of its anchors). Each size is planned once per process (about
/// 60 ms) and kept.
pub(crate) fn face_detector_at(w: usize, h: usize) -> Result<Arc<Model>> {
    if w == 0 || h == 0 || w % 16 != 0 || h % 16 != 0 || w.max(h) > DETECTOR_MAX_SIDE {
        return Err(Error::Internal(format!(
            "detector input {w}x{h}: sides must be multiples of 16 up to {DETECTOR_MAX_SIDE}"
        )));
    }
    let fit = if h > w {
        Fit::Transposed
    } else {
        Fit::Exported
    };
    plan_cached(PlanKey::Detector, w, h, || {
        Model::load_with(FACE_DETECTION_ONNX, [1, h, w, 3], fit)
    })
}

/// Which network a cached plan is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum PlanKey {
    Detector,
    Segmenter(Segmenter),
}

/// The plan of `key` for a `w` x `h` input, made by `load` on first use.
fn plan_cached(
    key: PlanKey,
    w: usize,
    h: usize,
    load: impl FnOnce() -> Result<Model>,
) -> Result<Arc<Model>> {
    use std::collections::HashMap;
    use std::sync::Mutex;
    type Plans = Mutex<HashMap<(PlanKey, usize, usize), Arc<Model>>>;
    static PLANS: OnceLock<Plans> = OnceLock::new();
    let plans = PLANS.get_or_init(Default::default);
    // a poisoned lock only means another thread panicked while inserting: the map is intact
    let lock = || plans.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(m) = lock().get(&(key, w, h)) {
        return Ok(m.clone());
    }
    // planned outside the lock (slow); a concurrent duplicate is harmless
    let m = Arc::new(load()?);
    Ok(lock().entry((key, w, h)).or_insert(m).clone())
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
    // a portrait input runs as the transposed network on the landscape transpose of the
    // image (faster)
    let fit = if h > w {
        Fit::SizeFreeTransposed
    } else {
        Fit::SizeFree
    };
    plan_cached(PlanKey::Segmenter(which), w, h, || {
        Model::load_with(bytes, [1, h, w, 3], fit)
    })
}

/// Loads and optimises all models now, so the first photo is not slower than the rest: the
/// fixed-size ones, and the segmentation plans for a 192x256 input (the working region of
/// most ID specs, cn-id-card's included). A spec of another aspect ratio plans its size on
/// first use (about 0.1 s per network).
pub fn warm_up() -> Result<()> {
    face_detector()?;
    // the whole-photo levels of 3:4 and 4:3 photos and the pipeline's outputs
    for (w, h) in [(96, 128), (128, 96), (144, 192), (192, 144), (112, 128)] {
        face_detector_at(w, h)?;
    }
    face_landmarker()?;
    segmenter()?;
    segmenter_landscape()?;
    segmenter_at(Segmenter::General, 192, 256)?;
    segmenter_at(Segmenter::Landscape, 192, 256)?;
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
            ops(&segmenter_at(Segmenter::General, 256, 256).unwrap()),
        ] {
            assert_eq!(seg.iter().filter(|o| *o == "Upsample2x").count(), 3);
            assert!(!seg.iter().any(|o| o.contains("Resize")), "{seg:?}");
        }
        // the squeeze-and-excitation pools: global in the landscape model, made global in the
        // size-free plans of the general one
        for seg in [
            ops(segmenter_landscape().unwrap()),
            ops(&segmenter_at(Segmenter::General, 256, 256).unwrap()),
            ops(&segmenter_at(Segmenter::General, 192, 256).unwrap()),
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
        let out = segmenter_landscape().unwrap().run(x).unwrap();
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
        let fixed = segmenter().unwrap().run(x.clone()).unwrap();
        let free = segmenter_at(Segmenter::General, 256, 256)
            .unwrap()
            .run(x)
            .unwrap();
        assert!(max_abs_diff(&fixed[0], &free[0]) < 1e-4);
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
            assert!(mirrored.transposed && !plain.transposed);
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
        assert!(
            segmenter_at(Segmenter::General, 192, 256)
                .unwrap()
                .transposed
        );
        assert!(
            !segmenter_at(Segmenter::General, 256, 192)
                .unwrap()
                .transposed
        );
        // a network with an operator the swap is not known to commute with is refused, and
        // so is a padding computed at run time
        let mut onnx = tract_onnx::onnx();
        crate::nn_ops::register(&mut onnx);
        let proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(FACE_DETECTION_ONNX))
            .unwrap();
        assert!(transpose_spatial(&mut proto.clone()).is_ok());
        let with = |op: &str, edit: &dyn Fn(&mut tract_onnx::pb::NodeProto)| {
            let mut p = proto.clone();
            let graph = p.graph.as_mut().unwrap();
            let node = graph.node.iter_mut().find(|n| n.op_type == op).unwrap();
            edit(node);
            transpose_spatial(&mut p)
        };
        assert!(with("Relu", &|n| n.op_type = "GridSample".into()).is_err());
        assert!(with("Pad", &|n| n.input[1] = "t12".into()).is_err());
    }

    #[test]
    fn to_planar_makes_nchw_and_ncwh() {
        // 1 x 2 x 3 x 2 (h 2, w 3, c 2): value = 10 y + x, channel 1 negated
        let x: Vec<f32> = (0..6)
            .flat_map(|i| {
                let v = (10 * (i / 3) + i % 3) as f32;
                [v, -v]
            })
            .collect();
        let nchw = to_planar(&x, [1, 2, 3, 2], false);
        assert_eq!(&nchw[..6], &[0., 1., 2., 10., 11., 12.]);
        assert_eq!(&nchw[6..], &[-0., -1., -2., -10., -11., -12.]);
        let ncwh = to_planar(&x, [1, 2, 3, 2], true);
        assert_eq!(&ncwh[..6], &[0., 10., 1., 11., 2., 12.]);
        // every network starts with the NHWC -> NCHW transpose, which is removed
        for bytes in [
            FACE_DETECTION_ONNX,
            FACE_LANDMARK_ONNX,
            SELFIE_SEGMENTATION_ONNX,
        ] {
            let mut proto = tract_onnx::onnx()
                .proto_model_for_read(&mut std::io::Cursor::new(bytes))
                .unwrap();
            assert!(planar_input(&mut proto));
            assert!(!planar_input(&mut proto), "removed once only");
        }
    }

    #[test]
    fn swap_hw_swaps_height_and_width() {
        // 1 x 2 x 3 x 2
        let x: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let t = swap_hw(&x, 1, 2, 3, 2);
        assert_eq!(t, vec![0., 1., 6., 7., 2., 3., 8., 9., 4., 5., 10., 11.]);
        assert_eq!(swap_hw(&t, 1, 3, 2, 2), x);
    }

    #[test]
    fn wrong_input_size_is_an_error() {
        let err = face_detector().unwrap().run(vec![0.0; 10]).unwrap_err();
        assert_eq!(err.code(), "internal_error");
    }
}
