//! ONNX `PRelu` with a per-channel slope as one pass ([`ChannelPrelu`]).
//!
//! tract expands a `PRelu` with a per-channel slope (the landmark model has 23) into a
//! multiplication, a comparison and a select over the whole tensor: about half of the landmark
//! model's time (measured on one core, release build). [`ChannelPrelu`] does it in one pass.
//! A shared slope falls back to tract's generic wiring.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::common::Built;

pub(crate) fn prelu_builder(_ctx: &ParsingContext, _node: &NodeProto) -> Built {
    Ok((expand(PreluExpansion), vec![]))
}

/// ONNX `PRelu` during parsing: wired as [`ChannelPrelu`] when the slope is a constant with
/// one value per channel of an NCHW tensor, otherwise as tract's generic form.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct PreluExpansion;

impl Expansion for PreluExpansion {
    fn name(&self) -> StaticName {
        "PRelu".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_input_arity(inputs, 2)?;
        check_output_arity(outputs, 1)?;
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].shape, &outputs[0].shape)?;
        Ok(())
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        let x = model.outlet_fact(inputs[0])?.clone();
        let slope = model.outlet_fact(inputs[1])?.konst.clone();
        if let (Some(slope), Some(shape)) = (slope, x.shape.as_concrete()) {
            let per_channel = x.datum_type == f32::datum_type()
                && shape.len() == 4
                && slope.datum_type() == f32::datum_type()
                && slope.len() == shape[1]
                && slope.shape().iter().rev().take(2).all(|&d| d == 1);
            if per_channel {
                let slopes = slope.try_as_plain_ram()?.as_slice::<f32>()?.to_vec();
                return model.wire_node(name, ChannelPrelu { slopes }, &[inputs[0]]);
            }
        }
        // generic: x > 0 ? x : x * slope (tract's own wiring)
        let rank = x.rank();
        let mut b = inputs[1];
        while model.outlet_fact(b)?.rank() < rank {
            b = model.wire_node(
                format!("{name}.add-axis-{}", model.outlet_fact(b)?.rank()),
                AxisOp::Add(0),
                &[b],
            )?[0];
        }
        let zero = tensor0(0.0f32)
            .cast_to_dt(x.datum_type)?
            .into_owned()
            .broadcast_into_rank(rank)?;
        let ab = model.wire_node(
            format!("{name}.mul"),
            tract_core::ops::math::mul(),
            &[inputs[0], b],
        )?[0];
        let zero = model.add_const(format!("{name}.zero"), zero)?;
        let test = model.wire_node(
            format!("{name}.test"),
            tract_core::ops::binary::TypedBinOp(tract_core::ops::logic::comp_gt(), None),
            &[zero, inputs[0]],
        )?;
        model.wire_node(
            format!("{name}.iff"),
            tract_core::ops::logic::Iff,
            &[test[0], ab, inputs[0]],
        )
    }
}

/// `y = x > 0 ? x : slope[c] * x` on an NCHW f32 tensor, one slope per channel `c`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ChannelPrelu {
    pub(super) slopes: Vec<f32>,
}

// slopes come from a model file and are never NaN
impl Eq for ChannelPrelu {}

impl ChannelPrelu {
    /// Applies the activation in place to `data`, laid out as N x C x `plane` values.
    fn apply(&self, data: &mut [f32], plane: usize) {
        if plane == 0 {
            return;
        }
        for (k, chunk) in data.chunks_exact_mut(plane).enumerate() {
            let a = self.slopes[k % self.slopes.len()];
            for v in chunk {
                // branch-free so the loop vectorises
                *v = v.max(0.0) + a * v.min(0.0);
            }
        }
    }
}

impl Op for ChannelPrelu {
    fn name(&self) -> StaticName {
        "ChannelPrelu".into()
    }

    op_as_typed_op!();
}

impl EvalOp for ChannelPrelu {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let mut t = input.into_tensor();
        let shape = t.shape().to_vec();
        if shape.len() != 4 || shape[1] != self.slopes.len() {
            bail!(
                "ChannelPrelu: input shape {shape:?} for {} slopes",
                self.slopes.len()
            );
        }
        let plane = shape[2] * shape[3];
        self.apply(t.try_as_plain_ram_mut()?.as_slice_mut::<f32>()?, plane);
        Ok(tvec!(t.into_tvalue()))
    }
}

impl TypedOp for ChannelPrelu {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        Ok(tvec!(inputs[0].without_value()))
    }

    as_op!();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prelu_scales_negatives_per_channel() {
        let op = ChannelPrelu {
            slopes: vec![0.5, -2.0],
        };
        let t = Tensor::from_shape(&[1, 2, 1, 2], &[-2f32, 3., -1., 4.]).unwrap();
        let out = op
            .eval(&EvalContext::out_of_plan(), tvec!(t.into_tvalue()))
            .unwrap();
        assert_eq!(
            out[0]
                .try_as_plain_ram()
                .unwrap()
                .as_slice::<f32>()
                .unwrap(),
            &[-1.0, 3.0, 2.0, 4.0]
        );
        let wrong = Tensor::zero::<f32>(&[1, 3, 1, 1]).unwrap();
        assert!(op
            .eval(&EvalContext::out_of_plan(), tvec!(wrong.into_tvalue()))
            .is_err());
    }
}
