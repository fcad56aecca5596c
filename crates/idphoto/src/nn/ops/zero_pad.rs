//! Zero padding of NCHW f32 tensors ([`ZeroPad`]).
//!
//! A [`ZeroPad`] goes before each padded depthwise convolution, whose own padding is then
//! removed: tract runs a depthwise convolution's border zones (where the window overlaps the
//! padding) through a scalar loop, which on the small maps of the networks' deep layers
//! (12x16 with a 5x5 window: half the pixels) cost more than copying the map into a padded
//! one; without padding every pixel takes the vectorised path. The same operator adds the
//! zero channels of BlazeFace's and FaceMesh's residual connections (tract's generic `Pad`
//! was about a tenth of a detector run). The nodes are made by
//! [`mark`](crate::nn::rewrite::mark).
//!
//! (A depthwise convolution written as sums of shifted rows was 30-40 % slower than tract's
//! own kernel, which is why there is none here.)

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::common::{eval_f32, nchw_rules, Built};

/// Operator name of the zero paddings [`mark`](crate::nn::rewrite::mark) makes (channel
/// paddings renamed, depthwise convolutions' paddings moved out).
pub(crate) const ZERO_PAD: &str = "IdphotoZeroPad";

/// A padding becomes a [`ZeroPad`] when at least this share of the convolution's outputs lie
/// in its border zones; below, copying the map costs more than the scalar border loop and
/// the padding is given back to the convolution.
const MIN_BORDER_SHARE: f64 = 0.2;

pub(crate) fn zero_pad_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
    let pads: Vec<usize> = node.get_attr_vec("pads")?;
    let Ok(pads) = <[usize; 6]>::try_from(pads.as_slice()) else {
        bail!("{ZERO_PAD}: pads {pads:?}");
    };
    Ok((expand(ZeroPadExpansion(ZeroPad { pads })), vec![]))
}

/// A [`ZeroPad`] node [`mark`](crate::nn::rewrite::mark) made, during parsing.
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
        if x.datum_type != f32::datum_type() || x.rank() != 4 {
            bail!("zero padding of {x:?}: only NCHW f32 is supported");
        }
        // whether tract's own padding serves better is decided once the map's size is known
        // (`ZeroPad::declutter`)
        model.wire_node(name, self.0.clone(), &[inputs[0]])
    }
}

/// Zero padding of the channel, row and column axes of an NCHW f32 tensor: `pads` are the
/// channels, rows and columns added before, then after (ONNX's order).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct ZeroPad {
    pub(super) pads: [usize; 6],
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

    /// A depthwise convolution's padding with few outputs in its border zones (a share below
    /// [`MIN_BORDER_SHARE`] of a map of known size) becomes tract's own padding, which tract
    /// then folds back into the convolution.
    fn declutter(
        &self,
        model: &TypedModel,
        node: &TypedNode,
    ) -> TractResult<Option<TypedModelPatch>> {
        let [c0, t, l, c1, b, r] = self.pads;
        let shape = model.outlet_fact(node.inputs[0])?.shape.as_concrete();
        let Some(&[_, _, h, w]) = shape else {
            return Ok(None);
        };
        if h * w == 0 || c0 + c1 != 0 {
            return Ok(None);
        }
        let inner = h.saturating_sub(t + b) * w.saturating_sub(l + r);
        let border = 1.0 - inner as f64 / (h * w) as f64;
        if border >= MIN_BORDER_SHARE {
            return Ok(None);
        }
        let pad = tract_core::ops::array::Pad {
            pads: vec![(0, 0), (0, 0), (t, b), (l, r)],
            mode: tract_core::ops::array::PadMode::Constant(tensor0(0f32).into_arc_tensor()),
        };
        Ok(Some(TypedModelPatch::replace_single_op(
            model,
            node,
            &node.inputs,
            pad,
        )?))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
