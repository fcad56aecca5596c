//! Pointwise (1x1) convolutions with few input channels on large maps, for the built-in
//! networks.
//!
//! tract runs a 1x1 convolution as a matrix product and first packs the input map into its
//! kernel's panel layout. On the segmentation network's 96x128 maps of 16 channels that
//! packing takes longer than the product itself: the three such convolutions cost about
//! 1.7 ms of an 8 ms run (pack 0.33 ms + product 0.23 ms each). [`Pointwise`] computes them
//! directly from the planar (NCHW) map, a tile of pixels at a time: each output row of the
//! tile is a sum of the input rows weighted by one filter, so nothing is packed. It is used
//! where the map has at least [`MIN_PIXELS`] pixels and at most [`MAX_INPUTS`] channels;
//! elsewhere tract's own convolution runs.
//!
//! [`mark_node`] renames the plain 1x1 `Conv` nodes (one group, stride 1, no padding or
//! dilation) of an ONNX graph; [`register`](super::register) makes the parser build them.
//! The choice between [`Pointwise`] and tract's convolution is made when the network is
//! decluttered at a known input size (a network prepared for any size keeps [`Pointwise`]
//! until then).

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::cnn::Conv;

#[cfg(target_arch = "x86_64")]
use super::common::has_avx2_fma;
use super::common::{conv_constants, eval_f32, Built};

/// Operator name [`mark_node`] gives the plain 1x1 convolutions.
pub(crate) const POINTWISE: &str = "IdphotoPointwise";

/// Smallest map (height x width) computed by [`Pointwise`]: on smaller maps tract's packing
/// is cheap next to its product.
pub(crate) const MIN_PIXELS: usize = 10_000;

/// Most input channels computed by [`Pointwise`]: a tile of that many rows stays in cache.
pub(crate) const MAX_INPUTS: usize = 16;

/// Pixels per tile.
const TILE: usize = 256;

/// Renames `node` when it is a plain 1x1 convolution: constant filters of shape
/// `[m, k, 1, 1]` (`dims` are the initializers' shapes), one group, stride and dilation 1,
/// no padding.
pub(crate) fn mark_node(node: &mut NodeProto, dims: &std::collections::HashMap<String, Vec<i64>>) {
    if node.op_type != "Conv" || node.output.len() != 1 || !(2..=3).contains(&node.input.len()) {
        return;
    }
    let Some(&[_, _, 1, 1]) = node
        .input
        .get(1)
        .and_then(|k| dims.get(k))
        .map(Vec::as_slice)
    else {
        return;
    };
    let plain = node.attribute.iter().all(|a| match a.name.as_str() {
        "group" => a.i == 1,
        "strides" | "dilations" => a.ints.iter().all(|&v| v == 1),
        "pads" => a.ints.iter().all(|&v| v == 0),
        "kernel_shape" => a.ints == [1, 1],
        "auto_pad" => a.s.is_empty() || a.s.as_slice() == b"NOTSET" || a.s.as_slice() == b"VALID",
        _ => false,
    });
    if plain {
        node.op_type = POINTWISE.into();
    }
}

pub(crate) fn pointwise_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
    let mut conv = Conv::default();
    if node.input.len() == 3 {
        conv = conv.bias_input(2);
    }
    Ok((expand(PointwiseExpansion(conv)), vec![]))
}

/// A node [`mark_node`] renamed, during parsing: the ONNX convolution's own inference rules,
/// wired as [`Pointwise`] or as tract's convolution.
#[derive(Debug, Clone, Hash)]
struct PointwiseExpansion(Conv);

impl Expansion for PointwiseExpansion {
    fn name(&self) -> StaticName {
        POINTWISE.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        self.0.rules(s, inputs, outputs)
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        let m = model
            .outlet_fact(inputs[1])?
            .shape
            .as_concrete()
            .and_then(|s| s.first().copied());
        let s = &x.shape;
        let k = s.get(1).and_then(|d| d.to_usize().ok());
        if let (Some(k), Some(m)) = (k, m) {
            // on a small map, tract's convolution serves better: decided once the map's size
            // is known (`Pointwise::declutter`)
            let fits =
                x.datum_type == f32::datum_type() && s.rank() == 4 && (1..=MAX_INPUTS).contains(&k);
            if fits {
                if let Some((weights, bias)) = conv_constants(model, inputs, &[m, k, 1, 1])? {
                    let op = Pointwise { weights, bias };
                    return model.wire_node(name, op, &[inputs[0]]);
                }
            }
        }
        self.0.wire(name, model, inputs)
    }
}

/// A 1x1 convolution of an NCHW f32 tensor: `out[m] = bias[m] + sum_k weights[m][k] x[k]`
/// at every pixel.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Pointwise {
    /// `m` x `k` filters, row by row.
    pub(super) weights: Vec<f32>,
    /// One per output channel.
    pub(super) bias: Vec<f32>,
}

// weights come from a model file and are never NaN
impl Eq for Pointwise {}

impl Pointwise {
    /// Output channels.
    fn outputs(&self) -> usize {
        self.bias.len()
    }

    /// Computes one image: `x` is `k` planes of `plane` values, `out` `m` planes.
    fn apply(&self, x: &[f32], plane: usize, out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU has both features (checked just above)
            unsafe { apply_avx2(self, x, plane, out) };
            return;
        }
        apply_body::<false>(self, x, plane, out);
    }
}

/// [`apply_body`] compiled for AVX2 with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2(op: &Pointwise, x: &[f32], plane: usize, out: &mut [f32]) {
    apply_body::<true>(op, x, plane, out);
}

/// The tiles of [`Pointwise::apply`]; `FMA` uses fused multiply-adds (only where the CPU has
/// them: without, `mul_add` is a slow library call).
#[inline(always)]
fn apply_body<const FMA: bool>(op: &Pointwise, x: &[f32], plane: usize, out: &mut [f32]) {
    let m = op.outputs();
    if m == 0 || plane == 0 {
        return;
    }
    let k = op.weights.len() / m;
    let madd = |acc: f32, w: f32, v: f32| if FMA { w.mul_add(v, acc) } else { acc + w * v };
    let mut p0 = 0;
    while p0 < plane {
        let len = TILE.min(plane - p0);
        let row = |c: usize| &x[c * plane + p0..][..len];
        for (o, (filter, &b)) in out
            .chunks_exact_mut(plane)
            .zip(op.weights.chunks_exact(k).zip(&op.bias))
        {
            let o = &mut o[p0..p0 + len];
            o.fill(b);
            // four input rows per pass over the output row
            let mut c = 0;
            while c + 4 <= k {
                let (w0, w1, w2, w3) = (filter[c], filter[c + 1], filter[c + 2], filter[c + 3]);
                let (r0, r1, r2, r3) = (row(c), row(c + 1), row(c + 2), row(c + 3));
                for ((((v, &a), &b), &cc), &d) in o.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
                    *v = madd(madd(madd(madd(*v, w0, a), w1, b), w2, cc), w3, d);
                }
                c += 4;
            }
            for (c, &wc) in filter.iter().enumerate().skip(c) {
                for (v, &a) in o.iter_mut().zip(row(c)) {
                    *v = madd(*v, wc, a);
                }
            }
        }
        p0 += len;
    }
}

impl Op for Pointwise {
    fn name(&self) -> StaticName {
        "Pointwise".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Pointwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, k, h, w] = input.shape() else {
            bail!("Pointwise: input of shape {:?}", input.shape());
        };
        let m = self.outputs();
        if m == 0 || k * m != self.weights.len() {
            bail!(
                "Pointwise: {k} input channels for {} weights",
                self.weights.len()
            );
        }
        let plane = h * w;
        eval_f32(&input, &[n, m, h, w], |src, dst| {
            if plane > 0 {
                for (x, o) in src
                    .chunks_exact(k * plane)
                    .zip(dst.chunks_exact_mut(m * plane))
                {
                    self.apply(x, plane, o);
                }
            }
        })
    }
}

impl TypedOp for Pointwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("Pointwise: rank {} input", s.rank());
        }
        Ok(tvec!(f32::fact([
            s[0].clone(),
            self.outputs().to_dim(),
            s[2].clone(),
            s[3].clone()
        ])))
    }

    /// On a map of known size below [`MIN_PIXELS`], tract's own convolution (whose packing
    /// is cheap there) replaces this one.
    fn declutter(
        &self,
        model: &TypedModel,
        node: &TypedNode,
    ) -> TractResult<Option<TypedModelPatch>> {
        let shape = model.outlet_fact(node.inputs[0])?.shape.as_concrete();
        let Some(&[_, k, h, w]) = shape else {
            return Ok(None);
        };
        if h * w >= MIN_PIXELS {
            return Ok(None);
        }
        let m = self.outputs();
        let mut patch = TypedModelPatch::default();
        let x = patch.tap_model(model, node.inputs[0])?;
        let kernel = patch.add_const(
            format!("{}.kernel", node.name),
            Tensor::from_shape(&[m, k, 1, 1], &self.weights)?,
        )?;
        let bias = patch.add_const(
            format!("{}.bias", node.name),
            Tensor::from_shape(&[m], &self.bias)?,
        )?;
        let conv = tract_core::ops::cnn::Conv {
            pool_spec: tract_core::ops::cnn::PoolSpec {
                data_format: tract_core::ops::nn::DataFormat::NCHW,
                kernel_shape: tvec!(1, 1),
                padding: tract_core::ops::cnn::PaddingSpec::Valid,
                dilations: None,
                strides: None,
                input_channels: k,
                output_channels: m,
            },
            kernel_fmt: tract_core::ops::cnn::KernelFormat::OIHW,
            group: 1,
            q_params: None,
        };
        let out = patch.wire_node(&node.name, conv, &[x, kernel, bias])?;
        patch.shunt_outside(model, node.id.into(), out[0])?;
        Ok(Some(patch))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::values;

    #[test]
    fn pointwise_sums_weighted_channels() {
        // 6 inputs (one pass of four, two single rows), 3 outputs, a plane longer than a tile
        let (k, m, plane) = (6, 3, TILE + 37);
        let op = Pointwise {
            weights: values(m * k, 1),
            bias: values(m, 2),
        };
        let x = values(k * plane, 3);
        let mut out = vec![0f32; m * plane];
        op.apply(&x, plane, &mut out);
        let mut plain = vec![0f32; m * plane];
        apply_body::<false>(&op, &x, plane, &mut plain);
        for j in 0..m {
            for p in 0..plane {
                let want: f32 = op.bias[j]
                    + (0..k)
                        .map(|c| op.weights[j * k + c] * x[c * plane + p])
                        .sum::<f32>();
                assert!((out[j * plane + p] - want).abs() < 1e-5);
                assert!((plain[j * plane + p] - want).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn only_plain_1x1_convolutions_are_marked() {
        let dims: std::collections::HashMap<String, Vec<i64>> = [
            ("k1".to_string(), vec![16, 16, 1, 1]),
            ("k3".to_string(), vec![16, 16, 3, 3]),
        ]
        .into_iter()
        .collect();
        let conv = |kernel: &str, group: i64| NodeProto {
            op_type: "Conv".into(),
            input: vec!["x".into(), kernel.into(), "b".into()],
            output: vec!["y".into()],
            attribute: vec![tract_onnx::pb::AttributeProto {
                name: "group".into(),
                i: group,
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut node = conv("k1", 1);
        mark_node(&mut node, &dims);
        assert_eq!(node.op_type, POINTWISE);
        for mut node in [conv("k3", 1), conv("k1", 16)] {
            mark_node(&mut node, &dims);
            assert_eq!(node.op_type, "Conv");
        }
    }
}
