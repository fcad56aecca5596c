//! Helpers the own operators share: a convolution's constant filters, evaluating into a new
//! f32 tensor, the inference rules of one-input NCHW operators, the CPU feature check.

use tract_onnx::tract_hir::internal::*;

/// What an ONNX operator builder gives the parser.
pub(crate) type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

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

#[cfg(target_arch = "x86_64")]
pub(crate) use crate::raster::has_avx2_fma;
