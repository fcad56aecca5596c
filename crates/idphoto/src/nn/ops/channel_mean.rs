//! ONNX `GlobalAveragePool` of an NCHW f32 tensor as [`ChannelMean`].

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::common::{nchw_rules, Built};

pub(crate) fn global_pool_builder(_ctx: &ParsingContext, _node: &NodeProto) -> Built {
    Ok((expand(GlobalPoolExpansion), vec![]))
}

/// ONNX `GlobalAveragePool` of an NCHW f32 tensor during parsing, wired as [`ChannelMean`]
/// (tract's own form walks the reduction through a generic ndarray path: about a quarter of
/// a squeeze-and-excitation network's time).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct GlobalPoolExpansion;

impl Expansion for GlobalPoolExpansion {
    fn name(&self) -> StaticName {
        "GlobalAveragePool".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        nchw_rules(s, inputs, outputs)?;
        s.equals(&inputs[0].shape[1], &outputs[0].shape[1])?;
        s.equals(&outputs[0].shape[2], 1.to_dim())?;
        s.equals(&outputs[0].shape[3], 1.to_dim())?;
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
            bail!("GlobalAveragePool of {x:?}: only NCHW f32 is supported");
        }
        model.wire_node(name, ChannelMean, &[inputs[0]])
    }
}

/// Mean of each channel plane of an NCHW f32 tensor: `[n, c, h, w]` -> `[n, c, 1, 1]`.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct ChannelMean;

impl ChannelMean {
    fn mean(plane: &[f32]) -> f32 {
        // eight running sums: vectorisable, and closer to the exact sum than one
        let mut acc = [0f32; 8];
        let mut chunks = plane.chunks_exact(8);
        for c in &mut chunks {
            for (a, v) in acc.iter_mut().zip(c) {
                *a += v;
            }
        }
        let tail: f32 = chunks.remainder().iter().sum();
        (acc.iter().sum::<f32>() + tail) / plane.len() as f32
    }
}

impl Op for ChannelMean {
    fn name(&self) -> StaticName {
        "ChannelMean".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelMean {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape().to_vec();
        if shape.len() != 4 || shape[2] * shape[3] == 0 {
            bail!("ChannelMean: unsupported input shape {shape:?}");
        }
        let plane = shape[2] * shape[3];
        let src_view = input.try_as_plain_ram()?;
        let src = src_view.as_slice::<f32>()?;
        let means: Vec<f32> = src.chunks_exact(plane).map(Self::mean).collect();
        let out = Tensor::from_shape(&[shape[0], shape[1], 1, 1], &means)?;
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for ChannelMean {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("ChannelMean: rank {} input", s.rank());
        }
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone(),
            1.to_dim(),
            1.to_dim()
        ])))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_mean_is_the_plain_mean() {
        for n in [1usize, 7, 8, 9, 64, 1000] {
            let plane: Vec<f32> = (0..n).map(|i| ((i * 37) % 11) as f32 * 0.1 - 0.3).collect();
            let naive = plane.iter().map(|&v| v as f64).sum::<f64>() / n as f64;
            assert!(
                (ChannelMean::mean(&plane) as f64 - naive).abs() < 1e-5,
                "{n}"
            );
        }
    }
}
