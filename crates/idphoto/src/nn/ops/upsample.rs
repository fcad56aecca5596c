//! ONNX `Resize` (bilinear, `half_pixel`, exactly 2x) as [`Upsample2x`].
//!
//! The segmentation model's decoder has three such `Resize`s; tract's general interpolator
//! took about a third of the segmentation time (one core, release build). [`Upsample2x`]
//! computes the same interpolation with its fixed weights 1/4 and 3/4. Another resize mode
//! or factor is refused with an error at load time.

use tract_onnx::model::ParsingContext;
use tract_onnx::pb::NodeProto;
use tract_onnx::tract_hir::internal::*;

use super::common::Built;

pub(crate) fn resize_builder_free(ctx: &ParsingContext, node: &NodeProto) -> Built {
    resize_builder(ctx, node)?;
    Ok((
        expand(ResizeExpansion {
            sizes_input: 0,
            free: true,
        }),
        vec![],
    ))
}

pub(crate) fn resize_builder(_ctx: &ParsingContext, node: &NodeProto) -> Built {
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

#[cfg(test)]
mod tests {
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
}
