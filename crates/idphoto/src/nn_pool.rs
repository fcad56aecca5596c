//! 2x2 max pooling of NCHW f32 tensors, for the built-in networks.
//!
//! tract pools through a generic window scanner that is slow at the networks' sizes: a 2x2
//! max pool over 28 channels of 72x96 (the detector's first) took 0.65 ms of a 9.9 ms run, the
//! landmark model's five 0.85 ms of 5.8 ms (one core). [`MaxPool2x2`] is a direct loop (0.1 ms
//! for the detector's three). [`mark`] renames the ONNX `MaxPool` nodes it computes exactly as
//! ONNX defines them (2x2 windows, stride 2, no padding, floor mode) and [`register`] makes
//! the parser build it for them; other pools keep tract's operator.
//!
//! (A depthwise convolution written the same way, as sums of shifted rows, was 30-40 % slower
//! than tract's own kernel, which is why there is none here.)

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::{ModelProto, NodeProto};
use tract_onnx::tract_hir::internal::*;

/// Operator name [`mark`] gives the 2x2 max pools.
const MAX_POOL: &str = "IdphotoMaxPool2x2";

/// Makes the parser build [`MaxPool2x2`] for the nodes [`mark`] renamed.
pub(crate) fn register(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert(MAX_POOL, max_pool_builder);
}

/// Renames the graph's `MaxPool`s that [`MaxPool2x2`] computes exactly as ONNX defines them;
/// leaves every other node alone.
pub(crate) fn mark(proto: &mut ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    for node in graph
        .node
        .iter_mut()
        .filter(|n| n.op_type == "MaxPool" && is_max_pool_2x2(n))
    {
        node.op_type = MAX_POOL.into();
    }
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
        check_input_arity(inputs, 1)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].rank, 4)?;
        s.equals(&outputs[0].rank, 4)?;
        s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
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
        let view = input.try_as_plain_ram()?;
        let src = view.as_slice::<f32>()?;
        let mut dst = vec![0f32; n * c * (h / 2) * (w / 2)];
        max_pool_planes(src, h, w, &mut dst);
        Ok(tvec!(
            Tensor::from_shape(&[n, c, h / 2, w / 2], &dst)?.into_tvalue()
        ))
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

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n as u32)
            .map(|i| ((i.wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

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
    }
}
