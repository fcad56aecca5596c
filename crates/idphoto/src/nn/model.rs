//! One loaded network ([`Model`]): parsed with tract from its ONNX bytes, adapted to the
//! input size and layout the caller runs it at, optimised once and then run any number of
//! times; a [`tract_onnx::prelude::TypedRunnableModel`] is immutable and thread-safe.

use std::sync::Arc;

use tract_onnx::prelude::*;

use super::layout::{swap_hw, to_planar};
use super::{ops, rewrite};
use crate::error::{Error, Result};

type Plan = Arc<TypedRunnableModel>;

/// One loaded model.
pub(crate) struct Model {
    pub(super) plan: Plan,
    /// The NHWC input shape callers give.
    input_shape: [usize; 4],
    /// The plan is of the network mirrored about the image diagonal (kernels transposed):
    /// it takes the input with height and width swapped and gives outputs swapped too,
    /// which [`Model::run`] undoes.
    transposed: bool,
    /// The network's first operator, NHWC -> NCHW, was removed: [`Model::run`] gives the
    /// input planar (one pass with the transposition, faster than tract's).
    planar: bool,
}

/// How [`Model::load_with`] adapts a network. The library loads networks at their exported
/// size only; the plans of other sizes come from a [`Source`](super::source::Source), and the
/// tests compare them with the other fits loaded here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) enum Fit {
    /// As exported.
    Exported,
    /// At another input size (see [`Networks::segmenter_at`](super::Networks::segmenter_at)).
    SizeFree,
    /// At another input size, mirrored about the diagonal.
    SizeFreeTransposed,
    /// As exported (any input size its operators accept), mirrored about the diagonal.
    Transposed,
}

impl Model {
    /// Parses, adapts (`fit`) and optimises the ONNX network `bytes` for an NHWC input of
    /// `input_shape`.
    pub(crate) fn load_with(bytes: &[u8], input_shape: [usize; 4], fit: Fit) -> Result<Model> {
        let mut onnx = tract_onnx::onnx();
        if matches!(fit, Fit::Exported | Fit::Transposed) {
            ops::register(&mut onnx);
        } else {
            ops::register_size_free(&mut onnx);
        }
        let transposed = matches!(fit, Fit::SizeFreeTransposed | Fit::Transposed);
        let [n, h, w, c] = input_shape;
        let mut planar = false;
        let plan = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .and_then(|mut proto| {
                planar = rewrite::planar_input(&mut proto);
                rewrite::free_reshape_lengths(&mut proto);
                if matches!(fit, Fit::SizeFree | Fit::SizeFreeTransposed) {
                    rewrite::global_pools(&mut proto);
                }
                if transposed {
                    rewrite::transpose_spatial(&mut proto)?;
                }
                rewrite::mark(&mut proto);
                onnx.model_for_proto_model(&proto)
            })
            .and_then(|m| {
                // the input as the plan takes it: NCHW when its layout change was removed,
                // height and width swapped for a transposed plan
                let (a, b) = if transposed { (w, h) } else { (h, w) };
                let shape = if planar { [n, c, a, b] } else { [n, a, b, c] };
                m.with_input_fact(0, f32::fact(shape).into())
            })
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        Ok(Model {
            plan,
            input_shape,
            transposed,
            planar,
        })
    }

    /// A model of a plan made elsewhere ([`Source::plan`](super::source::Source::plan)):
    /// `input_shape` is the NHWC shape callers give, `transposed` and `planar` say how the
    /// plan takes it (see the fields).
    pub(super) fn from_plan(
        plan: Plan,
        input_shape: [usize; 4],
        transposed: bool,
        planar: bool,
    ) -> Model {
        Model {
            plan,
            input_shape,
            transposed,
            planar,
        }
    }

    /// Whether the plan is of the transposed network (see [`Model::run`]).
    pub(crate) fn transposed(&self) -> bool {
        self.transposed
    }

    /// Runs the model on one NHWC f32 tensor; returns every output flattened. A transposed
    /// plan's NHWC outputs are swapped back; its other outputs (a detector's `[1, n, k]`
    /// list of anchor positions) list the positions column by column instead of row by row.
    pub(crate) fn run(&self, input: Vec<f32>) -> Result<Vec<Vec<f32>>> {
        let expected: usize = self.input_shape.iter().product();
        if input.len() != expected {
            return Err(Error::Internal(format!(
                "model input has {} values, expected {expected}",
                input.len()
            )));
        }
        let [n, h, w, c] = self.input_shape;
        let tensor = match (self.planar, self.transposed) {
            (true, t) => {
                let shape = if t { [n, c, w, h] } else { [n, c, h, w] };
                Tensor::from_shape(&shape, &to_planar(&input, [n, h, w, c], t))
            }
            (false, true) => Tensor::from_shape(&[n, w, h, c], &swap_hw(&input, n, h, w, c)),
            (false, false) => Tensor::from_shape(&self.input_shape, &input),
        }
        .map_err(|e| Error::Model(format!("{e:#}")))?;
        let outputs = self
            .plan
            .run(tvec!(tensor.into_tvalue()))
            .map_err(|e| Error::Model(format!("{e:#}")))?;
        outputs
            .iter()
            .map(|t| {
                let a = t
                    .to_plain_array_view::<f32>()
                    .map_err(|e| Error::Model(format!("{e:#}")))?;
                let flat: Vec<f32> = match a.as_slice() {
                    Some(s) => s.to_vec(),
                    None => a.iter().copied().collect(),
                };
                match (self.transposed, a.shape()) {
                    (true, &[n, h, w, c]) => Ok(swap_hw(&flat, n, h, w, c)),
                    _ => Ok(flat),
                }
            })
            .collect()
    }
}
