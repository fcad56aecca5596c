//! Spatial operators of NCHW f32 tensors for the built-in networks, where tract's generic
//! paths are slow at the networks' sizes (one core):
//!
//! - [`MaxPool2x2`]: tract pools through a generic window scanner; a 2x2 max pool over 28
//!   channels of 72x96 (the detector's first) took 0.65 ms of a 9.9 ms run, the landmark
//!   model's five 0.85 ms of 5.8 ms. A direct loop takes 0.1 ms for the detector's three.
//! - [`ZeroPad`] before each padded depthwise convolution, whose own padding is then removed:
//!   tract runs a depthwise convolution's border zones (where the window overlaps the
//!   padding) through a scalar loop, which on the small maps of the networks' deep layers
//!   (12x16 with a 5x5 window: half the pixels) cost more than copying the map into a padded
//!   one; without padding every pixel takes the vectorised path. The same operator adds the
//!   zero channels of BlazeFace's and FaceMesh's residual connections (tract's generic `Pad`
//!   was about a tenth of a detector run).
//!
//! [`mark`] rewrites the ONNX graph (renames the `MaxPool` nodes computed exactly as ONNX
//! defines them: 2x2 windows, stride 2, no padding, floor mode; inserts the paddings) and
//! [`register`] makes the parser build these operators; other nodes keep tract's.
//!
//! (A depthwise convolution written as sums of shifted rows was 30-40 % slower than tract's
//! own kernel, which is why there is none here.)

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::{
    attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto, TensorProto,
};
use tract_onnx::tract_hir::internal::*;

/// Operator name [`mark`] gives the 2x2 max pools.
const MAX_POOL: &str = "IdphotoMaxPool2x2";

/// Operator name of the zero paddings [`mark`] makes (channel paddings renamed, depthwise
/// convolutions' paddings moved out).
const ZERO_PAD: &str = "IdphotoZeroPad";

/// A padding becomes a [`ZeroPad`] when at least this share of the convolution's outputs lie
/// in its border zones; below, copying the map costs more than the scalar border loop and
/// the padding is given back to the convolution.
const MIN_BORDER_SHARE: f64 = 0.2;

/// Makes the parser build [`MaxPool2x2`] and [`ZeroPad`] for the nodes [`mark`] made.
pub(crate) fn register(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert(MAX_POOL, max_pool_builder);
    onnx.op_register.insert(ZERO_PAD, zero_pad_builder);
    crate::nn_pointwise::register(onnx);
    crate::nn_strided::register(onnx);
}

/// Renames the graph's `MaxPool`s that [`MaxPool2x2`] computes exactly as ONNX defines them,
/// moves the padding of each depthwise convolution with stride 1 into a [`ZeroPad`] before
/// it, and renames the stride-2 depthwise ([`crate::nn_strided::mark_node`]) and plain 1x1
/// ([`crate::nn_pointwise::mark_node`]) convolutions; leaves every other node alone.
pub(crate) fn mark(proto: &mut ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    let dims: std::collections::HashMap<String, Vec<i64>> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    let tensors: std::collections::HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut nodes = Vec::with_capacity(graph.node.len());
    for mut node in std::mem::take(&mut graph.node) {
        if node.op_type == "MaxPool" && is_max_pool_2x2(&node) {
            node.op_type = MAX_POOL.into();
        }
        let pads_attribute = |ints: Vec<i64>| AttributeProto {
            name: "pads".into(),
            r#type: AttributeType::Ints as i32,
            ints,
            ..Default::default()
        };
        if let Some([before, after]) = channel_pads(&node, &tensors) {
            node.op_type = ZERO_PAD.into();
            node.input.truncate(1);
            node.attribute = vec![pads_attribute(vec![before, 0, 0, after, 0, 0])];
        }
        if crate::nn_strided::mark_node(&mut node, &dims) {
            nodes.push(node);
            continue;
        }
        if let Some(p) = depthwise_pads(&node, &dims) {
            let padded = format!("{}.zero_padded", node.output[0]);
            nodes.push(NodeProto {
                name: padded.clone(),
                op_type: ZERO_PAD.into(),
                input: vec![node.input[0].clone()],
                output: vec![padded.clone()],
                attribute: vec![pads_attribute(vec![0, p[0], p[1], 0, p[2], p[3]])],
                ..Default::default()
            });
            node.input[0] = padded;
            for a in node.attribute.iter_mut().filter(|a| a.name == "pads") {
                a.ints = vec![0; 4];
            }
        }
        crate::nn_pointwise::mark_node(&mut node, &dims);
        nodes.push(node);
    }
    graph.node = nodes;
}

/// The zero channels a `Pad` adds before and after the channels of an NCHW tensor, when that
/// is all it does (constant mode, value 0, pads given as a constant of 8 values).
fn channel_pads(
    node: &NodeProto,
    tensors: &std::collections::HashMap<&str, &TensorProto>,
) -> Option<[i64; 2]> {
    if node.op_type != "Pad" || node.input.len() < 2 || node.output.len() != 1 {
        return None;
    }
    let constant = node
        .attribute
        .iter()
        .all(|a| a.name == "mode" && (a.s.is_empty() || a.s.as_slice() == b"constant"));
    let pads = tensors
        .get(node.input[1].as_str())
        .map(|t| crate::models::int64_values(t))?;
    let zero_value = match node.input.get(2).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => tensors.get(v.as_str()).is_some_and(|t| {
            let f = if t.float_data.is_empty() {
                t.raw_data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            };
            t.data_type == 1 && f.len() == 1 && f[0] == 0.0
        }),
    };
    match pads.as_slice() {
        &[0, before, 0, 0, 0, after, 0, 0]
            if constant && zero_value && before >= 0 && after >= 0 =>
        {
            Some([before, after])
        }
        _ => None,
    }
}

/// The explicit, non-zero padding of a depthwise `Conv` (one filter per channel, constant
/// filters), if any.
fn depthwise_pads(
    node: &NodeProto,
    dims: &std::collections::HashMap<String, Vec<i64>>,
) -> Option<Vec<i64>> {
    if node.op_type != "Conv" || node.output.len() != 1 || node.input.is_empty() {
        return None;
    }
    let kernel = node.input.get(1).and_then(|k| dims.get(k))?;
    let &[c, 1, _, _] = kernel.as_slice() else {
        return None;
    };
    let group = node.attribute.iter().find(|a| a.name == "group")?.i;
    let explicit = node
        .attribute
        .iter()
        .all(|a| a.name != "auto_pad" || a.s.is_empty() || a.s.as_slice() == b"NOTSET");
    let pads = ints(node, "pads")?;
    (group == c && c > 1 && explicit && pads.len() == 4 && pads.iter().any(|&p| p > 0))
        .then(|| pads.to_vec())
        .filter(|p| p.iter().all(|&v| (0..64).contains(&v)))
}

fn ints<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.as_slice())
}

fn is_max_pool_2x2(node: &NodeProto) -> bool {
    let allowed = [
        "kernel_shape",
        "strides",
        "pads",
        "auto_pad",
        "ceil_mode",
        "storage_order",
    ];
    let attributes_ok = node.attribute.iter().all(|a| {
        allowed.contains(&a.name.as_str())
            && (a.name != "auto_pad" || a.s.is_empty() || a.s.as_slice() == b"NOTSET")
            && (a.name != "ceil_mode" || a.i == 0)
    });
    attributes_ok
        && node.output.len() == 1
        && ints(node, "kernel_shape") == Some(&[2, 2])
        && ints(node, "strides") == Some(&[2, 2])
        && ints(node, "pads").is_none_or(|p| p.iter().all(|&v| v == 0))
}

type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

/// The constant filters and biases of a convolution being wired (`inputs`: data, filters,
/// optional bias) as f32 values, when the filters have the shape `filters` and the bias (zeros
/// when absent) one value per output channel (`filters[0]`).
pub(crate) fn conv_constants(
    model: &TypedModel,
    inputs: &[OutletId],
    filters: &[usize],
) -> TractResult<Option<(Vec<f32>, Vec<f32>)>> {
    let f32_values = |t: &Tensor| -> TractResult<Option<Vec<f32>>> {
        if t.datum_type() != f32::datum_type() {
            return Ok(None);
        }
        Ok(Some(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec()))
    };
    let Some(kernel) = model.outlet_fact(inputs[1])?.konst.clone() else {
        return Ok(None);
    };
    let m = filters.first().copied().unwrap_or(0);
    if kernel.shape() != filters {
        return Ok(None);
    }
    let bias = match inputs.get(2) {
        None => Some(vec![0f32; m]),
        Some(&b) => match model.outlet_fact(b)?.konst.clone() {
            Some(b) if b.len() == m => f32_values(&b)?,
            _ => None,
        },
    };
    Ok(f32_values(&kernel)?.zip(bias))
}

/// Evaluates an operator from one f32 tensor to a new one of `shape`: `fill` gets the input's
/// values and the output's (zeroed).
pub(crate) fn eval_f32(
    input: &TValue,
    shape: &[usize],
    fill: impl FnOnce(&[f32], &mut [f32]),
) -> TractResult<TVec<TValue>> {
    let view = input.try_as_plain_ram()?;
    let mut out = Tensor::zero::<f32>(shape)?;
    let mut dst = out.try_as_plain_ram_mut()?;
    fill(view.as_slice::<f32>()?, dst.as_slice_mut::<f32>()?);
    Ok(tvec!(out.into_tvalue()))
}

/// The inference rules every one-input operator on NCHW tensors here shares: one input and
/// one output of the same type, both of rank 4, the same batch size.
pub(crate) fn nchw_rules<'r, 'p: 'r>(
    s: &mut Solver<'r>,
    inputs: &'p [TensorProxy],
    outputs: &'p [TensorProxy],
) -> InferenceResult {
    check_input_arity(inputs, 1)?;
    check_output_arity(outputs, 1)?;
    s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
    s.equals(&inputs[0].rank, 4)?;
    s.equals(&outputs[0].rank, 4)?;
    s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
    Ok(())
}

/// Whether this CPU runs the AVX2 and FMA versions of the operators' loops.
#[cfg(target_arch = "x86_64")]
pub(crate) fn has_avx2_fma() -> bool {
    std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
}

fn zero_pad_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
    let pads: Vec<usize> = node.get_attr_vec("pads")?;
    let Ok(pads) = <[usize; 6]>::try_from(pads.as_slice()) else {
        bail!("{ZERO_PAD}: pads {pads:?}");
    };
    Ok((expand(ZeroPadExpansion(ZeroPad { pads })), vec![]))
}

/// A [`ZeroPad`] node [`mark`] made, during parsing.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct ZeroPadExpansion(ZeroPad);

impl Expansion for ZeroPadExpansion {
    fn name(&self) -> StaticName {
        ZERO_PAD.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        nchw_rules(s, inputs, outputs)?;
        let p = self.0.pads;
        for axis in 1..4 {
            let add = (p[axis - 1] + p[axis + 2]) as i64;
            s.given(&inputs[0].shape[axis], move |s, d| {
                s.equals(&outputs[0].shape[axis], d + add)
            })?;
        }
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?;
        let shape = x.shape.as_concrete().map(|s| s.to_vec());
        if x.datum_type != f32::datum_type() || x.rank() != 4 {
            bail!("zero padding of {x:?}: only NCHW f32 is supported");
        }
        let [c0, t, l, c1, b, r] = self.0.pads;
        // a depthwise convolution's padding: the share of its outputs whose window overlaps it
        let border = match shape.as_deref() {
            Some(&[_, _, h, w]) if h * w > 0 && c0 + c1 == 0 => {
                let inner = h.saturating_sub(t + b) * w.saturating_sub(l + r);
                1.0 - inner as f64 / (h * w) as f64
            }
            _ => 1.0,
        };
        if border < MIN_BORDER_SHARE {
            // tract's own padding, which it folds back into the convolution
            let pad = tract_core::ops::array::Pad {
                pads: vec![(0, 0), (0, 0), (t, b), (l, r)],
                mode: tract_core::ops::array::PadMode::Constant(tensor0(0f32).into_arc_tensor()),
            };
            return model.wire_node(name, pad, &[inputs[0]]);
        }
        model.wire_node(name, self.0.clone(), &[inputs[0]])
    }
}

/// Zero padding of the channel, row and column axes of an NCHW f32 tensor: `pads` are the
/// channels, rows and columns added before, then after (ONNX's order).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct ZeroPad {
    pads: [usize; 6],
}

impl ZeroPad {
    /// Output shape for an `n` x `c` x `h` x `w` input.
    fn output_shape(&self, [n, c, h, w]: [usize; 4]) -> [usize; 4] {
        let [c0, t, l, c1, b, r] = self.pads;
        [n, c + c0 + c1, h + t + b, w + l + r]
    }

    /// Pads `src` (`n` x `c` x `h` x `w`) into `dst` (zeroed, of the output shape).
    fn pad(&self, src: &[f32], [n, c, h, w]: [usize; 4], dst: &mut [f32]) {
        let [c0, t, l, ..] = self.pads;
        let [_, co, hp, wp] = self.output_shape([n, c, h, w]);
        if h * w == 0 {
            return;
        }
        for (k, plane) in src.chunks_exact(h * w).enumerate() {
            let (b, ch) = (k / c, k % c);
            let out = &mut dst[(b * co + c0 + ch) * hp * wp..][..hp * wp];
            for (y, row) in plane.chunks_exact(w).enumerate() {
                out[(y + t) * wp + l..][..w].copy_from_slice(row);
            }
        }
    }
}

impl Op for ZeroPad {
    fn name(&self) -> StaticName {
        "ZeroPad".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ZeroPad {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("ZeroPad: input of shape {:?}", input.shape());
        };
        let out = self.output_shape([n, c, h, w]);
        eval_f32(&input, &out, |src, dst| self.pad(src, [n, c, h, w], dst))
    }
}

impl TypedOp for ZeroPad {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("ZeroPad: rank {} input", s.rank());
        }
        let p = self.pads;
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone() + (p[0] + p[3]) as i64,
            s[2].clone() + (p[1] + p[4]) as i64,
            s[3].clone() + (p[2] + p[5]) as i64
        ])))
    }

    as_op!();
}

fn max_pool_builder(_ctx: &ParsingContext, _node: &NodeProto) -> Built {
    Ok((expand(MaxPoolExpansion), vec![]))
}

/// A node [`mark`] renamed to [`MAX_POOL`], during parsing: wired as [`MaxPool2x2`].
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct MaxPoolExpansion;

impl Expansion for MaxPoolExpansion {
    fn name(&self) -> StaticName {
        MAX_POOL.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        nchw_rules(s, inputs, outputs)?;
        s.equals(&inputs[0].shape[1], &outputs[0].shape[1])?;
        for axis in 2..4 {
            s.given(&inputs[0].shape[axis], move |s, d| {
                s.equals(&outputs[0].shape[axis], d / 2)
            })?;
        }
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?;
        if x.datum_type != f32::datum_type() || x.rank() != 4 {
            bail!("MaxPool of {x:?}: only NCHW f32 is supported");
        }
        model.wire_node(name, MaxPool2x2, &[inputs[0]])
    }
}

/// Max pooling of an NCHW f32 tensor over 2x2 windows with stride 2 and no padding (an odd
/// last row or column is dropped, as ONNX's floor mode does).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct MaxPool2x2;

/// Pools each `h` x `w` plane of `src` into `dst`.
fn max_pool_planes(src: &[f32], h: usize, w: usize, dst: &mut [f32]) {
    let (ho, wo) = (h / 2, w / 2);
    if ho == 0 || wo == 0 {
        return;
    }
    for (plane, out) in src.chunks_exact(h * w).zip(dst.chunks_exact_mut(ho * wo)) {
        for (y, orow) in out.chunks_exact_mut(wo).enumerate() {
            let r0 = &plane[2 * y * w..][..2 * wo];
            let r1 = &plane[(2 * y + 1) * w..][..2 * wo];
            for ((o, a), b) in orow
                .iter_mut()
                .zip(r0.chunks_exact(2))
                .zip(r1.chunks_exact(2))
            {
                *o = a[0].max(a[1]).max(b[0].max(b[1]));
            }
        }
    }
}

impl Op for MaxPool2x2 {
    fn name(&self) -> StaticName {
        "MaxPool2x2".into()
    }

    op_as_typed_op!();
}

impl EvalOp for MaxPool2x2 {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("MaxPool2x2: input of shape {:?}", input.shape());
        };
        eval_f32(&input, &[n, c, h / 2, w / 2], |src, dst| {
            max_pool_planes(src, h, w, dst)
        })
    }
}

impl TypedOp for MaxPool2x2 {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("MaxPool2x2: rank {} input", s.rank());
        }
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone(),
            s[2].clone() / 2,
            s[3].clone() / 2
        ])))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::values;

    #[test]
    fn max_pool_takes_the_largest_of_each_window() {
        let (h, w) = (5, 7);
        let src = values(2 * h * w, 5);
        let mut dst = vec![0f32; 2 * 2 * 3];
        max_pool_planes(&src, h, w, &mut dst);
        for c in 0..2 {
            for y in 0..2 {
                for x in 0..3 {
                    let at = |dy: usize, dx: usize| src[(c * h + 2 * y + dy) * w + 2 * x + dx];
                    let want = at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1));
                    assert_eq!(dst[(c * 2 + y) * 3 + x], want);
                }
            }
        }
    }

    #[test]
    fn zero_pad_surrounds_each_plane() {
        // one row above, two below, one column on the right
        let op = ZeroPad {
            pads: [0, 1, 0, 0, 2, 1],
        };
        let src: Vec<f32> = (1..=12).map(|v| v as f32).collect();
        // two planes of 2x3 -> 5x4
        assert_eq!(op.output_shape([1, 2, 2, 3]), [1, 2, 5, 4]);
        let mut dst = vec![0f32; 2 * 5 * 4];
        op.pad(&src, [1, 2, 2, 3], &mut dst);
        #[rustfmt::skip]
        let first = [
            0., 0., 0., 0.,
            1., 2., 3., 0.,
            4., 5., 6., 0.,
            0., 0., 0., 0.,
            0., 0., 0., 0.,
        ];
        assert_eq!(&dst[..20], &first);
        assert_eq!(&dst[24..27], &[7., 8., 9.]);
    }

    #[test]
    fn channel_pad_adds_zero_planes() {
        let op = ZeroPad {
            pads: [1, 0, 0, 2, 0, 0],
        };
        // 1 x 2 x 1 x 2 -> 1 x 5 x 1 x 2
        let x = Tensor::from_shape(&[1, 2, 1, 2], &[1f32, 2., 3., 4.]).unwrap();
        let out = op.eval(&EvalContext::out_of_plan(), tvec!(x.into_tvalue()));
        let out = out.unwrap().remove(0);
        assert_eq!(out.shape(), &[1, 5, 1, 2]);
        let v = out.try_as_plain_ram().unwrap();
        let v = v.as_slice::<f32>().unwrap();
        assert_eq!(v, &[0., 0., 1., 2., 3., 4., 0., 0., 0., 0.]);
    }

    #[test]
    fn only_plain_2x2_pools_are_marked() {
        let mut onnx = tract_onnx::onnx();
        crate::nn_ops::register(&mut onnx);
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(
                crate::models::FACE_DETECTION_ONNX,
            ))
            .unwrap();
        let count = |proto: &ModelProto, op: &str| {
            let graph = proto.graph.as_ref().unwrap();
            graph.node.iter().filter(|n| n.op_type == op).count()
        };
        // a pool with padding is left to tract
        let graph = proto.graph.as_mut().unwrap();
        let node = graph
            .node
            .iter_mut()
            .find(|n| n.op_type == "MaxPool")
            .unwrap();
        for a in node.attribute.iter_mut().filter(|a| a.name == "pads") {
            a.ints = vec![0, 0, 1, 1];
        }
        mark(&mut proto);
        // BlazeFace has three
        assert_eq!(count(&proto, MAX_POOL), 2);
        assert_eq!(count(&proto, "MaxPool"), 1);
        // 16 depthwise convolutions, all padded: the 13 with stride 1 each now reading a
        // padded copy, the 3 with stride 2 computed by `nn_strided`; and 11 channel paddings
        assert_eq!(
            (count(&proto, ZERO_PAD), count(&proto, "Pad")),
            (13 + 11, 0)
        );
        assert_eq!(count(&proto, "IdphotoStridedDepthwise"), 3);
        let graph = proto.graph.as_ref().unwrap();
        for (i, pad) in graph.node.iter().enumerate() {
            if pad.op_type != ZERO_PAD || !pad.name.ends_with(".zero_padded") {
                continue;
            }
            let conv = &graph.node[i + 1];
            assert_eq!(
                (conv.op_type.as_str(), &conv.input[0]),
                ("Conv", &pad.output[0])
            );
            assert_eq!(ints(conv, "pads"), Some(&[0, 0, 0, 0][..]));
        }
    }
}
