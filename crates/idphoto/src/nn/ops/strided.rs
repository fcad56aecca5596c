//! Depthwise convolutions with stride 2 (the downsampling steps of all three built-in
//! networks), for NCHW f32 tensors.
//!
//! tract runs a strided depthwise convolution through its generic window scanner: on the
//! segmentation network the three took 1.1 ms of an 8 ms run (16 channels of 48x64 alone
//! 0.36 ms, about one multiply-add per nanosecond). [`StridedDepthwise`] splits each padded
//! input row into its even and odd columns once; every tap of the kernel then reads a
//! contiguous run of one of them, so each output row is a few vectorised multiply-adds.
//!
//! [`mark_node`] renames the depthwise `Conv` nodes with stride 2 (square kernel of 3 or 5,
//! one filter per channel, no dilation); [`register`](super::register) makes the parser
//! build them. A node whose input is not a concrete NCHW f32 tensor is wired as tract's own
//! convolution.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;
use tract_onnx::tract_hir::ops::cnn::{Conv, PaddingSpec};

#[cfg(target_arch = "x86_64")]
use super::common::has_avx2_fma;
use super::common::{conv_constants, eval_f32, Built};

/// Operator name [`mark_node`] gives the stride-2 depthwise convolutions.
pub(crate) const STRIDED: &str = "IdphotoStridedDepthwise";

/// Renames `node` when it is a depthwise convolution with stride 2: filters of shape
/// `[c, 1, k, k]` (`dims` are the initializers' shapes) with `group` = `c` > 1, `k` of 3 or
/// 5, no dilation, explicit padding smaller than the kernel. Returns whether it did.
pub(crate) fn mark_node(
    node: &mut NodeProto,
    dims: &std::collections::HashMap<String, Vec<i64>>,
) -> bool {
    if node.op_type != "Conv" || node.output.len() != 1 || !(2..=3).contains(&node.input.len()) {
        return false;
    }
    let Some(&[c, 1, k, kw]) = node
        .input
        .get(1)
        .and_then(|d| dims.get(d))
        .map(Vec::as_slice)
    else {
        return false;
    };
    let fits = node.attribute.iter().all(|a| match a.name.as_str() {
        "group" => a.i == c,
        "strides" => a.ints == [2, 2],
        "dilations" => a.ints.iter().all(|&v| v == 1),
        "pads" => a.ints.len() == 4 && a.ints.iter().all(|&p| (0..k).contains(&p)),
        "kernel_shape" => a.ints == [k, k],
        "auto_pad" => a.s.is_empty() || a.s.as_slice() == b"NOTSET",
        _ => false,
    });
    let strided = node
        .attribute
        .iter()
        .any(|a| a.name == "strides" && a.ints == [2, 2]);
    let grouped = node.attribute.iter().any(|a| a.name == "group" && a.i == c);
    if fits && strided && grouped && c > 1 && k == kw && (k == 3 || k == 5) {
        node.op_type = STRIDED.into();
        // ONNX may leave the kernel's shape to the filters; the builder reads it here
        if !node.attribute.iter().any(|a| a.name == "kernel_shape") {
            node.attribute.push(tract_onnx::pb::AttributeProto {
                name: "kernel_shape".into(),
                r#type: tract_onnx::pb::attribute_proto::AttributeType::Ints as i32,
                ints: vec![k, k],
                ..Default::default()
            });
        }
        return true;
    }
    false
}

pub(crate) fn strided_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
    let kernel: Vec<usize> = node.get_attr_vec("kernel_shape")?;
    let group: usize = node.get_attr("group")?;
    let pads: Vec<usize> = node.get_attr_opt_vec("pads")?.unwrap_or_else(|| vec![0; 4]);
    let &[k, _] = kernel.as_slice() else {
        bail!("{STRIDED}: kernel {kernel:?}");
    };
    let Ok([pt, pl, pb, pr]) = <[usize; 4]>::try_from(pads.as_slice()) else {
        bail!("{STRIDED}: pads {pads:?}");
    };
    let mut conv = Conv::default()
        .padding(PaddingSpec::Explicit(tvec![pt, pl], tvec![pb, pr]))
        .kernel_shape(tvec![k, k])
        .group(group)
        .strides(tvec![2, 2]);
    if node.input.len() == 3 {
        conv = conv.bias_input(2);
    }
    Ok((
        expand(StridedExpansion {
            conv,
            k,
            pads: [pt, pl, pb, pr],
        }),
        vec![],
    ))
}

/// A node [`mark_node`] renamed, during parsing: the ONNX convolution's inference rules,
/// wired as [`StridedDepthwise`] or as tract's convolution.
#[derive(Debug, Clone, Hash)]
struct StridedExpansion {
    conv: Conv,
    k: usize,
    pads: [usize; 4],
}

impl Expansion for StridedExpansion {
    fn name(&self) -> StaticName {
        STRIDED.into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        self.conv.rules(s, inputs, outputs)
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        let k = self.k;
        let s = &x.shape;
        if let Some(Ok(c)) = s.get(1).map(TDim::to_usize) {
            // a side left to a symbol (a network converted for any input size) is taken as
            // large enough: its plans are made at photo sizes
            let side = |i: usize| match s.get(i).map(TDim::to_usize) {
                Some(Ok(v)) => v,
                _ => usize::MAX / 2,
            };
            let fits = x.datum_type == f32::datum_type()
                && s.rank() == 4
                && side(2) + self.pads[0] + self.pads[2] >= k
                && side(3) + self.pads[1] + self.pads[3] >= k;
            if fits {
                if let Some((weights, bias)) = conv_constants(model, inputs, &[c, 1, k, k])? {
                    let op = StridedDepthwise {
                        k,
                        pads: self.pads,
                        weights,
                        bias,
                    };
                    return model.wire_node(name, op, &[inputs[0]]);
                }
            }
        }
        self.conv.wire(name, model, inputs)
    }
}

/// A depthwise convolution with stride 2 of an NCHW f32 tensor: one `k` x `k` filter and
/// bias per channel, zero padding `pads` (top, left, bottom, right).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StridedDepthwise {
    pub(super) k: usize,
    pub(super) pads: [usize; 4],
    /// `c` filters of `k` x `k`, row by row.
    pub(super) weights: Vec<f32>,
    pub(super) bias: Vec<f32>,
}

// weights come from a model file and are never NaN
impl Eq for StridedDepthwise {}

impl StridedDepthwise {
    /// Output height and width for an `h` x `w` input.
    fn output_size(&self, h: usize, w: usize) -> (usize, usize) {
        let [pt, pl, pb, pr] = self.pads;
        let (hp, wp) = (h + pt + pb, w + pl + pr);
        if hp < self.k || wp < self.k {
            return (0, 0);
        }
        ((hp - self.k) / 2 + 1, (wp - self.k) / 2 + 1)
    }

    /// Computes one image: `x` is `c` planes of `h` x `w`, `out` `c` planes of the output size.
    fn apply(&self, x: &[f32], (h, w): (usize, usize), out: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU has both features (checked just above)
            unsafe { apply_avx2(self, x, (h, w), out) };
            return;
        }
        apply_body::<false>(self, x, (h, w), out);
    }
}

/// [`apply_body`] compiled for AVX2 with fused multiply-adds.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn apply_avx2(op: &StridedDepthwise, x: &[f32], hw: (usize, usize), out: &mut [f32]) {
    apply_body::<true>(op, x, hw, out);
}

/// The channels of [`StridedDepthwise::apply`]; `FMA` uses fused multiply-adds (only where
/// the CPU has them).
#[inline(always)]
fn apply_body<const FMA: bool>(
    op: &StridedDepthwise,
    x: &[f32],
    (h, w): (usize, usize),
    out: &mut [f32],
) {
    let (oh, ow) = op.output_size(h, w);
    let k = op.k;
    let [pt, pl, pb, pr] = op.pads;
    let (hp, wp) = (h + pt + pb, w + pl + pr);
    if oh == 0 || ow == 0 || h * w == 0 {
        return;
    }
    // the padded plane's even and odd columns
    let (we, wo) = (wp.div_ceil(2), wp / 2);
    let mut even = vec![0f32; hp * we];
    let mut odd = vec![0f32; hp * wo];
    for ((plane, dst), (filter, &b)) in x
        .chunks_exact(h * w)
        .zip(out.chunks_exact_mut(oh * ow))
        .zip(op.weights.chunks_exact(k * k).zip(&op.bias))
    {
        for (y, row) in plane.chunks_exact(w).enumerate() {
            let (e, o) = (
                &mut even[(y + pt) * we..][..we],
                &mut odd[(y + pt) * wo..][..wo],
            );
            // input column x lands in padded column x + pl: pairs of input columns go to
            // one even and one odd column
            let (first, second) = if pl % 2 == 0 {
                (&mut e[pl / 2..], &mut o[pl / 2..])
            } else {
                (&mut o[pl / 2..], &mut e[pl / 2 + 1..])
            };
            let pairs = row.chunks_exact(2);
            if let (Some(&last), Some(slot)) = (pairs.remainder().first(), first.get_mut(w / 2)) {
                *slot = last;
            }
            for ((a, b), pair) in first.iter_mut().zip(second.iter_mut()).zip(pairs) {
                *a = pair[0];
                *b = pair[1];
            }
        }
        for (oy, orow) in dst.chunks_exact_mut(ow).enumerate() {
            orow.fill(b);
            for ky in 0..k {
                let r = 2 * oy + ky;
                let (e, o) = (&even[r * we..][..we], &odd[r * wo..][..wo]);
                let taps = &filter[ky * k..][..k];
                // tap kx reads column 2 ox + kx: even column ox + kx/2 or odd column ox + kx/2
                let src = |kx: usize| {
                    if kx % 2 == 0 {
                        &e[kx / 2..][..ow]
                    } else {
                        &o[kx / 2..][..ow]
                    }
                };
                // three taps per pass for 3x3 kernels; one at a time otherwise (five sources
                // in one pass were twice as slow on the 16-wide rows of the 5x5 one)
                if k == 3 {
                    row_taps::<3, FMA>(orow, [taps[0], taps[1], taps[2]], [0, 1, 2].map(src));
                } else {
                    for (kx, &t) in taps.iter().enumerate() {
                        row_taps::<1, FMA>(orow, [t], [src(kx)]);
                    }
                }
            }
        }
        // the next channel overwrites the same positions: the padding stays zero
    }
}

/// `o[i] += sum_j w[j] * src[j][i]`.
#[inline(always)]
fn row_taps<const N: usize, const FMA: bool>(o: &mut [f32], w: [f32; N], src: [&[f32]; N]) {
    let n = o.len();
    let src = src.map(|s| &s[..n]);
    for i in 0..n {
        let mut acc = o[i];
        for j in 0..N {
            acc = if FMA {
                w[j].mul_add(src[j][i], acc)
            } else {
                acc + w[j] * src[j][i]
            };
        }
        o[i] = acc;
    }
}

impl Op for StridedDepthwise {
    fn name(&self) -> StaticName {
        "StridedDepthwise".into()
    }

    op_as_typed_op!();
}

impl EvalOp for StridedDepthwise {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let &[n, c, h, w] = input.shape() else {
            bail!("StridedDepthwise: input of shape {:?}", input.shape());
        };
        if c != self.bias.len() || c * self.k * self.k != self.weights.len() {
            bail!(
                "StridedDepthwise: {c} channels for {} filters",
                self.bias.len()
            );
        }
        let (oh, ow) = self.output_size(h, w);
        eval_f32(&input, &[n, c, oh, ow], |src, dst| {
            if oh * ow > 0 && h * w > 0 {
                for (x, o) in src
                    .chunks_exact(c * h * w)
                    .zip(dst.chunks_exact_mut(c * oh * ow))
                {
                    self.apply(x, (h, w), o);
                }
            }
        })
    }
}

impl TypedOp for StridedDepthwise {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("StridedDepthwise: input shape {s:?}");
        }
        let (Ok(h), Ok(w)) = (s[2].to_usize(), s[3].to_usize()) else {
            // sides left to symbols: the size the concrete sides give, for inputs at least as
            // large as the window
            let [pt, pl, pb, pr] = self.pads.map(|p| p as i64);
            let k = self.k as i64;
            let side = |d: &TDim, pad: i64| (d.clone() + pad - k) / 2 + 1;
            return Ok(tvec!(f32::fact([
                s[0].clone(),
                s[1].clone(),
                side(&s[2], pt + pb),
                side(&s[3], pl + pr)
            ])));
        };
        let (oh, ow) = self.output_size(h, w);
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone(),
            oh.to_dim(),
            ow.to_dim()
        ])))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::values;

    /// The definition, one output at a time.
    fn direct(op: &StridedDepthwise, x: &[f32], c: usize, h: usize, w: usize) -> Vec<f32> {
        let (oh, ow) = op.output_size(h, w);
        let k = op.k;
        let [pt, pl, ..] = op.pads;
        let mut out = vec![0f32; c * oh * ow];
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut s = op.bias[ch];
                    for ky in 0..k {
                        for kx in 0..k {
                            let (iy, ix) = (2 * oy + ky, 2 * ox + kx);
                            if iy < pt || ix < pl || iy - pt >= h || ix - pl >= w {
                                continue;
                            }
                            s += op.weights[(ch * k + ky) * k + kx]
                                * x[(ch * h + iy - pt) * w + ix - pl];
                        }
                    }
                    out[(ch * oh + oy) * ow + ox] = s;
                }
            }
        }
        out
    }

    #[test]
    fn strided_depthwise_matches_the_definition() {
        // the networks' paddings (bottom-right only; 1-2 all round) on odd and even sizes
        for (k, pads, h, w) in [
            (3, [0, 0, 1, 1], 12, 16),
            (3, [0, 0, 1, 1], 7, 9),
            (5, [1, 1, 2, 2], 12, 16),
            (5, [2, 2, 2, 2], 9, 6),
            (3, [1, 0, 0, 1], 5, 5),
            (5, [1, 1, 2, 2], 9, 7),
            (3, [0, 1, 1, 1], 6, 11),
        ] {
            let c = 3;
            let op = StridedDepthwise {
                k,
                pads,
                weights: values(c * k * k, 1),
                bias: values(c, 2),
            };
            let x = values(c * h * w, 3);
            let (oh, ow) = op.output_size(h, w);
            let mut out = vec![0f32; c * oh * ow];
            op.apply(&x, (h, w), &mut out);
            let want = direct(&op, &x, c, h, w);
            let mut plain = vec![0f32; c * oh * ow];
            apply_body::<false>(&op, &x, (h, w), &mut plain);
            for ((a, b), p) in out.iter().zip(&want).zip(&plain) {
                assert!(
                    (a - b).abs() < 1e-5 && (p - b).abs() < 1e-5,
                    "k {k} pads {pads:?}"
                );
            }
        }
    }

    #[test]
    fn only_stride_2_depthwise_convolutions_are_marked() {
        let dims: std::collections::HashMap<String, Vec<i64>> = [
            ("dw".to_string(), vec![16, 1, 3, 3]),
            ("full".to_string(), vec![16, 16, 3, 3]),
        ]
        .into_iter()
        .collect();
        let attr = |name: &str, i: i64, ints: Vec<i64>| tract_onnx::pb::AttributeProto {
            name: name.into(),
            i,
            ints,
            ..Default::default()
        };
        let conv = |kernel: &str, group: i64, stride: i64| NodeProto {
            op_type: "Conv".into(),
            input: vec!["x".into(), kernel.into(), "b".into()],
            output: vec!["y".into()],
            attribute: vec![
                attr("group", group, vec![]),
                attr("strides", 0, vec![stride, stride]),
                attr("pads", 0, vec![0, 0, 1, 1]),
                attr("kernel_shape", 0, vec![3, 3]),
            ],
            ..Default::default()
        };
        let mut node = conv("dw", 16, 2);
        assert!(mark_node(&mut node, &dims));
        assert_eq!(node.op_type, STRIDED);
        for mut node in [conv("dw", 16, 1), conv("full", 1, 2)] {
            assert!(!mark_node(&mut node, &dims));
            assert_eq!(node.op_type, "Conv");
        }
    }
}
