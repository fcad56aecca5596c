//! Faster tract implementations of two ONNX operators the built-in models use.
//!
//! tract runs the models' convolutions well, but two operators through generic paths that
//! cost more than they should on these small networks (measured on one core, release build):
//!
//! - `PRelu` with a per-channel slope (the landmark model has 23) is expanded by tract into
//!   a multiplication, a comparison and a select over the whole tensor: about half of the
//!   landmark model's time. [`ChannelPrelu`] does it in one pass.
//! - `Resize` (bilinear, `half_pixel`, exactly 2x; the segmentation model's decoder has 3)
//!   goes through tract's general interpolator: about a third of the segmentation time.
//!   [`Upsample2x`] computes the same interpolation with its fixed weights 1/4 and 3/4.
//!
//! Both are registered in the ONNX parser in place of tract's own builders by [`register`].
//! Anything else (a shared slope, another resize mode or factor) falls back to tract's
//! generic wiring or is refused with an error at load time; the models' outputs are compared
//! with the reference runtime in `models::tests`.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use crate::nn_spatial::nchw_rules;

/// Replaces tract's builders for `PRelu` and `Resize` by the ones of this module.
pub(crate) fn register(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert("PRelu", prelu_builder);
    onnx.op_register.insert("Resize", resize_builder);
    onnx.op_register
        .insert("GlobalAveragePool", global_pool_builder);
    crate::nn_spatial::register(onnx);
}

type Built = TractResult<(Box<dyn InferenceOp>, Vec<String>)>;

fn prelu_builder(_ctx: &ParsingContext, _node: &NodeProto) -> Built {
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
    slopes: Vec<f32>,
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

/// [`register`], and every `Resize` of the graph taken as a 2x upsampling whatever its
/// `sizes` say: for running a model at another input size than it was exported for, once
/// the native size has shown that each of its `Resize`s doubles its input.
pub(crate) fn register_size_free(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert("PRelu", prelu_builder);
    onnx.op_register.insert("Resize", resize_builder_free);
    onnx.op_register
        .insert("GlobalAveragePool", global_pool_builder);
    crate::nn_spatial::register(onnx);
}

fn resize_builder_free(ctx: &ParsingContext, node: &NodeProto) -> Built {
    resize_builder(ctx, node)?;
    Ok((
        expand(ResizeExpansion {
            sizes_input: 0,
            free: true,
        }),
        vec![],
    ))
}

fn resize_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
    let mode = node.get_attr_opt::<&str>("mode")?.unwrap_or("nearest");
    let coords = node
        .get_attr_opt::<&str>("coordinate_transformation_mode")?
        .unwrap_or("half_pixel");
    let name = |i: usize| node.input.get(i).map(|s| s.as_str()).unwrap_or("");
    // opset 11+: X, roi, scales, sizes; only `sizes` given
    let sizes_only =
        node.input.len() == 4 && name(2).is_empty() && !name(3).is_empty() && !name(0).is_empty();
    if mode != "linear" || coords != "half_pixel" || !sizes_only {
        bail!(
            "Resize mode={mode} coordinate_transformation_mode={coords} with inputs {:?} is not \
             supported by the built-in models' runtime",
            node.input
        );
    }
    let sizes_input = if name(1).is_empty() { 1 } else { 2 };
    Ok((
        expand(ResizeExpansion {
            sizes_input,
            free: false,
        }),
        vec![],
    ))
}

/// ONNX `Resize` (linear, half_pixel, given `sizes`) during parsing; wired as [`Upsample2x`]
/// when the sizes double height and width of an NCHW tensor, an error otherwise.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
struct ResizeExpansion {
    sizes_input: usize,
    /// Doubles height and width whatever the `sizes` input says.
    free: bool,
}

impl Expansion for ResizeExpansion {
    fn name(&self) -> StaticName {
        "Resize".into()
    }

    fn rules<'r, 'p: 'r, 's: 'r>(
        &'s self,
        s: &mut Solver<'r>,
        inputs: &'p [TensorProxy],
        outputs: &'p [TensorProxy],
    ) -> InferenceResult {
        check_output_arity(outputs, 1)?;
        if self.free {
            s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
            s.equals(&inputs[0].rank, 4)?;
            s.equals(&outputs[0].rank, 4)?;
            s.equals(&inputs[0].shape[0], &outputs[0].shape[0])?;
            s.equals(&inputs[0].shape[1], &outputs[0].shape[1])?;
            for i in 2..4 {
                s.given(&inputs[0].shape[i], move |s, d| {
                    s.equals(&outputs[0].shape[i], d * 2)
                })?;
            }
            return Ok(());
        }
        if inputs.len() <= self.sizes_input {
            bail!("Resize: missing sizes input");
        }
        s.equals(&inputs[0].datum_type, &outputs[0].datum_type)?;
        s.equals(&inputs[0].rank, &outputs[0].rank)?;
        let sizes = &inputs[self.sizes_input];
        s.equals(&sizes.rank, 1)?;
        s.given(&sizes.value, move |s, sizes| {
            let sizes = sizes.cast_to::<i64>()?;
            for (i, &d) in sizes
                .try_as_plain_ram()?
                .as_slice::<i64>()?
                .iter()
                .enumerate()
            {
                s.equals(&outputs[0].shape[i], d.to_dim())?;
            }
            Ok(())
        })
    }

    fn wire(
        &self,
        name: &str,
        model: &mut TypedModel,
        inputs: &[OutletId],
    ) -> TractResult<TVec<OutletId>> {
        if self.free {
            return model.wire_node(name, Upsample2x, &[inputs[0]]);
        }
        let x = model.outlet_fact(inputs[0])?.clone();
        let sizes = model
            .outlet_fact(inputs[self.sizes_input])?
            .konst
            .clone()
            .context("Resize: sizes must be a constant")?;
        let sizes = sizes.cast_to::<i64>()?;
        let sizes = sizes.try_as_plain_ram()?.as_slice::<i64>()?;
        let shape = x
            .shape
            .as_concrete()
            .context("Resize: input shape must be known")?;
        let doubled = x.datum_type == f32::datum_type()
            && shape.len() == 4
            && sizes.len() == 4
            && sizes[0] == shape[0] as i64
            && sizes[1] == shape[1] as i64
            && sizes[2] == 2 * shape[2] as i64
            && sizes[3] == 2 * shape[3] as i64;
        if !doubled {
            bail!("Resize from {shape:?} to {sizes:?}: only a 2x bilinear upsampling is supported");
        }
        model.wire_node(name, Upsample2x, &[inputs[0]])
    }
}

/// Bilinear 2x upsampling of the two last axes of an NCHW f32 tensor, `half_pixel`
/// coordinates with clamped edges: each output sample is 3/4 of its nearest input sample
/// plus 1/4 of the next one on its side, along each axis.
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub(crate) struct Upsample2x;

impl Upsample2x {
    /// Upsamples one `w` x `h` plane `src` into the 2w x 2h plane `dst`, using `tmp` (2w x h).
    fn plane(src: &[f32], dst: &mut [f32], tmp: &mut [f32], w: usize, h: usize) {
        let w2 = 2 * w;
        // horizontal
        for (row, out) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w2)) {
            for j in 0..w {
                let c = row[j];
                let l = row[j.saturating_sub(1)];
                let r = row[(j + 1).min(w - 1)];
                out[2 * j] = 0.75 * c + 0.25 * l;
                out[2 * j + 1] = 0.75 * c + 0.25 * r;
            }
        }
        // vertical
        for i in 0..h {
            let c = &tmp[i * w2..(i + 1) * w2];
            let u = &tmp[i.saturating_sub(1) * w2..][..w2];
            let d = &tmp[(i + 1).min(h - 1) * w2..][..w2];
            let (top, bottom) = dst[2 * i * w2..(2 * i + 2) * w2].split_at_mut(w2);
            for k in 0..w2 {
                top[k] = 0.75 * c[k] + 0.25 * u[k];
                bottom[k] = 0.75 * c[k] + 0.25 * d[k];
            }
        }
    }
}

impl Op for Upsample2x {
    fn name(&self) -> StaticName {
        "Upsample2x".into()
    }

    op_as_typed_op!();
}

impl EvalOp for Upsample2x {
    op_out_of_plan!();

    fn eval(&self, _ctx: &EvalContext, inputs: TVec<TValue>) -> TractResult<TVec<TValue>> {
        let input = args_1!(inputs);
        let shape = input.shape().to_vec();
        if shape.len() != 4 || shape[2] == 0 || shape[3] == 0 {
            bail!("Upsample2x: unsupported input shape {shape:?}");
        }
        let (h, w) = (shape[2], shape[3]);
        let mut out = Tensor::zero::<f32>(&[shape[0], shape[1], 2 * h, 2 * w])?;
        let src_view = input.try_as_plain_ram()?;
        let src = src_view.as_slice::<f32>()?;
        let mut dst_view = out.try_as_plain_ram_mut()?;
        let dst = dst_view.as_slice_mut::<f32>()?;
        let mut tmp = vec![0f32; 2 * w * h];
        for (s, d) in src.chunks_exact(w * h).zip(dst.chunks_exact_mut(4 * w * h)) {
            Self::plane(s, d, &mut tmp, w, h);
        }
        Ok(tvec!(out.into_tvalue()))
    }
}

impl TypedOp for Upsample2x {
    fn output_facts(&self, inputs: &[&TypedFact]) -> TractResult<TVec<TypedFact>> {
        let s = &inputs[0].shape;
        if s.rank() != 4 {
            bail!("Upsample2x: rank {} input", s.rank());
        }
        Ok(tvec!(f32::fact([
            s[0].clone(),
            s[1].clone(),
            s[2].clone() * 2,
            s[3].clone() * 2
        ])))
    }

    as_op!();
}

fn global_pool_builder(_ctx: &ParsingContext, _node: &NodeProto) -> Built {
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

    use super::*;

    /// Bilinear half_pixel resize by the textbook formula (source coordinate, clamp, lerp).
    fn reference(src: &[f32], w: usize, h: usize) -> Vec<f32> {
        let coord = |o: usize, n: usize| {
            let x = ((o as f32 + 0.5) / 2.0 - 0.5).clamp(0.0, (n - 1) as f32);
            let i = x.floor() as usize;
            (i, (i + 1).min(n - 1), x - i as f32)
        };
        let mut out = vec![0.0; 4 * w * h];
        for oy in 0..2 * h {
            let (y0, y1, fy) = coord(oy, h);
            for ox in 0..2 * w {
                let (x0, x1, fx) = coord(ox, w);
                let top = src[y0 * w + x0] * (1.0 - fx) + src[y0 * w + x1] * fx;
                let bot = src[y1 * w + x0] * (1.0 - fx) + src[y1 * w + x1] * fx;
                out[oy * 2 * w + ox] = top * (1.0 - fy) + bot * fy;
            }
        }
        out
    }

    #[test]
    fn upsample_matches_bilinear_half_pixel() {
        for (w, h) in [(1, 1), (1, 3), (5, 4), (16, 16)] {
            let src: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 11) as f32 - 3.5).collect();
            let mut dst = vec![0.0; 4 * w * h];
            let mut tmp = vec![0.0; 2 * w * h];
            Upsample2x::plane(&src, &mut dst, &mut tmp, w, h);
            let want = reference(&src, w, h);
            for (a, b) in dst.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "{w}x{h}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn upsample_op_doubles_every_plane() {
        let t = Tensor::from_shape(
            &[1, 2, 2, 3],
            &[0f32, 1., 2., 3., 4., 5., 6., 7., 8., 9., 10., 11.],
        )
        .unwrap();
        let out = Upsample2x
            .eval(&EvalContext::out_of_plan(), tvec!(t.into_tvalue()))
            .unwrap();
        assert_eq!(out[0].shape(), &[1, 2, 4, 6]);
        let v = out[0]
            .try_as_plain_ram()
            .unwrap()
            .as_slice::<f32>()
            .unwrap();
        // first plane's corners keep their values, second plane starts at its own data
        assert_eq!((v[0], v[23]), (0.0, 5.0));
        assert_eq!((v[24], v[47]), (6.0, 11.0));
        assert!(Upsample2x
            .eval(
                &EvalContext::out_of_plan(),
                tvec!(Tensor::zero::<f32>(&[2, 2]).unwrap().into_tvalue())
            )
            .is_err());
    }

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
