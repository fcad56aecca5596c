//! A network prepared once for any input size ([`Source`]): parsed, rewritten, typed and
//! decluttered with its input height and width left to symbols, so that the plan of one
//! size ([`Source::plan`]) only binds the two symbols and generates the code, instead of
//! parsing and decluttering the whole network again.

use std::collections::HashMap;

use tract_onnx::prelude::*;

use super::model::Model;
use super::{ops, rewrite};
use crate::error::{Error, Result};

/// How a [`Source`] is made from its ONNX graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Form {
    /// Every `Resize` taken as a 2x upsampling and whole-map pools made global (the
    /// segmentation networks, whose exported size proved both, see
    /// [`Networks::segmenter_at`](super::Networks::segmenter_at)); otherwise as exported.
    pub(crate) size_free: bool,
    /// The network mirrored about the image diagonal (see [`Model::run`]).
    pub(crate) transposed: bool,
}

/// One network, typed and decluttered for an input of any height and width.
pub(crate) struct Source {
    model: TypedModel,
    /// The symbols of the model's input height and width (of its own input, which is the
    /// image transposed for a transposed network).
    height: Symbol,
    width: Symbol,
    form: Form,
    /// The NHWC -> NCHW transposition at the input was removed.
    planar: bool,
}

impl Source {
    /// Parses the ONNX network `bytes`, rewrites it for `form` and declutters it with a
    /// symbolic input size.
    pub(crate) fn from_onnx(bytes: &[u8], form: Form) -> Result<Source> {
        let model_error = |e: TractError| Error::Model(format!("{e:#}"));
        let mut onnx = tract_onnx::onnx();
        if form.size_free {
            ops::register_size_free(&mut onnx);
        } else {
            ops::register(&mut onnx);
        }
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(model_error)?;
        let planar = rewrite::planar_input(&mut proto);
        rewrite::free_reshape_lengths(&mut proto);
        if form.size_free {
            rewrite::global_pools(&mut proto);
        }
        if form.transposed {
            rewrite::transpose_spatial(&mut proto).map_err(model_error)?;
        }
        rewrite::mark(&mut proto);
        let hir = onnx.model_for_proto_model(&proto).map_err(model_error)?;
        let (height, width) = (hir.symbols.sym("H"), hir.symbols.sym("W"));
        let (h, w) = (TDim::Sym(height.clone()), TDim::Sym(width.clone()));
        let shape = if planar {
            [1.to_dim(), 3.to_dim(), h, w]
        } else {
            [1.to_dim(), h, w, 3.to_dim()]
        };
        let model = hir
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(model_error)?;
        Ok(Source {
            model,
            height,
            width,
            form,
            planar,
        })
    }

    /// The plan for an NHWC image of `h` x `w` (one image of three channels).
    pub(crate) fn plan(&self, h: usize, w: usize) -> Result<Model> {
        let model_error = |e: TractError| Error::Model(format!("{e:#}"));
        // a transposed network takes the image with its sides swapped
        let (mh, mw) = if self.form.transposed { (w, h) } else { (h, w) };
        let sides: HashMap<Symbol, TDim> = [
            (self.height.clone(), TDim::Val(mh as i64)),
            (self.width.clone(), TDim::Val(mw as i64)),
        ]
        .into_iter()
        .collect();
        let plan = self
            .model
            .set_symbols(&sides)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(model_error)?;
        Ok(Model::from_plan(
            plan,
            [1, h, w, 3],
            self.form.transposed,
            self.planar,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::tests::max_abs_diff;
    use crate::nn::{Fit, FACE_DETECTION_ONNX, SELFIE_SEGMENTATION_LANDSCAPE_ONNX};

    /// The plan of a source gives what the network loaded at that size gives.
    #[test]
    fn plans_of_a_source_compute_what_a_sized_load_does() {
        let cases = [
            (FACE_DETECTION_ONNX, false, false, Fit::Exported, (128, 96)),
            (FACE_DETECTION_ONNX, false, true, Fit::Transposed, (128, 96)),
            (
                SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
                true,
                false,
                Fit::SizeFree,
                (192, 256),
            ),
            (
                SELFIE_SEGMENTATION_LANDSCAPE_ONNX,
                true,
                true,
                Fit::SizeFreeTransposed,
                (256, 192),
            ),
        ];
        for (bytes, size_free, transposed, fit, (h, w)) in cases {
            let form = Form {
                size_free,
                transposed,
            };
            let source = Source::from_onnx(bytes, form).unwrap();
            let x: Vec<f32> = (0..h * w * 3)
                .map(|i| ((i * 7919) % 256) as f32 / 255.0)
                .collect();
            let planned = source.plan(h, w).unwrap();
            let loaded = Model::load_with(bytes, [1, h, w, 3], fit).unwrap();
            assert_eq!(planned.transposed(), transposed);
            // the same operators, the own ones included (constants aside: how tract keeps
            // them depends on the order it folds them in)
            let ops = |m: &Model| -> Vec<String> {
                let mut v: Vec<String> = m
                    .plan
                    .model()
                    .nodes()
                    .iter()
                    .map(|n| n.op().name().to_string())
                    .filter(|n| n != "Const")
                    .collect();
                v.sort();
                v
            };
            assert_eq!(ops(&planned), ops(&loaded), "{form:?}");
            let (a, b) = (planned.run(x.clone()).unwrap(), loaded.run(x).unwrap());
            assert_eq!(a.len(), b.len());
            for (a, b) in a.iter().zip(&b) {
                assert_eq!(a.len(), b.len());
                assert!(
                    max_abs_diff(a, b) < 1e-4,
                    "{form:?}: {}",
                    max_abs_diff(a, b)
                );
            }
        }
    }

    #[test]
    fn garbage_is_a_model_error() {
        let form = Form {
            size_free: false,
            transposed: false,
        };
        let err = Source::from_onnx(b"not a network", form).err().unwrap();
        assert_eq!(err.code(), "model_error");
    }
}
