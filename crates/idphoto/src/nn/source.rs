//! A network prepared once for any input size ([`Source`]): typed and decluttered with its
//! input height and width left to symbols, so that the plan of one size ([`Source::plan`])
//! only binds the two symbols and generates the code.
//!
//! A source is read from a converted network ([`Source::from_packed`], see
//! [`bundle`](super::bundle)), which the library's build made from the ONNX model with
//! [`Source::from_onnx`] and [`Source::pack`]: parsing, rewriting and decluttering the ONNX
//! graph costs 50-100 ms per network, reading the converted one a few milliseconds.

use std::collections::HashMap;
use std::sync::OnceLock;

use tract_nnef::internal::{DimLike, Nnef, Symbol, TDim, TractError, TypedModel};
use tract_onnx::prelude::*;

use super::bundle::{PLANAR, TRANSPOSED};
use super::model::Model;
use super::{ops, packed, rewrite};
use crate::error::{Error, Result};

/// How [`Source::from_onnx`] prepares a network from its ONNX graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct Conversion {
    /// Every `Resize` taken as a 2x upsampling and whole-map pools made global (the
    /// segmentation networks, whose exported size proves both when it is converted, see
    /// [`convert`](super::convert)); otherwise as exported.
    pub(crate) size_free: bool,
    /// The network mirrored about the image diagonal (see [`Model::run`]).
    pub(crate) transposed: bool,
    /// A fixed NHWC input height and width instead of symbols (the landmark model).
    pub(crate) fixed: Option<[usize; 2]>,
    /// The input sides are multiples of this (the network's total stride): the symbols are
    /// the sides over it, so that every map's size is an exact multiple of a symbol and
    /// tract can tell the maps a skip connection adds are of the same size.
    pub(crate) multiple: usize,
}

/// One network, typed and decluttered for an input of any height and width (or of its
/// fixed size).
pub(crate) struct Source {
    model: TypedModel,
    /// The symbols of the model's input height and width over their multiple (of its own
    /// input, which is the image transposed for a transposed network), and the multiple;
    /// `None` for a fixed input size.
    sides: Option<(Symbol, Symbol, usize)>,
    /// The network mirrored about the image diagonal.
    transposed: bool,
    /// The NHWC -> NCHW transposition at the input was removed.
    planar: bool,
}

/// `e` as an [`Error::Model`].
fn model_error(e: TractError) -> Error {
    Error::Model(format!("{e:#}"))
}

/// tract's NNEF reader and writer with the own operators' registry (made once: reading its
/// standard library costs a few milliseconds).
fn framework() -> &'static Nnef {
    static NNEF: OnceLock<Nnef> = OnceLock::new();
    NNEF.get_or_init(|| tract_nnef::nnef().with_registry(ops::nnef::registry()))
}

impl Source {
    /// Parses the ONNX network `bytes`, rewrites it as `conversion` says and declutters it
    /// with a symbolic input size (or its fixed size).
    pub(crate) fn from_onnx(bytes: &[u8], conversion: Conversion) -> Result<Source> {
        let mut onnx = tract_onnx::onnx();
        if conversion.size_free {
            ops::register_size_free(&mut onnx);
        } else {
            ops::register(&mut onnx);
        }
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(bytes))
            .map_err(model_error)?;
        let planar = rewrite::planar_input(&mut proto);
        rewrite::free_reshape_lengths(&mut proto);
        if conversion.size_free {
            rewrite::global_pools(&mut proto);
        }
        if conversion.transposed {
            rewrite::transpose_spatial(&mut proto).map_err(model_error)?;
        }
        rewrite::mark(&mut proto);
        let hir = onnx.model_for_proto_model(&proto).map_err(model_error)?;
        let (h, w, sides) = match conversion.fixed {
            Some([h, w]) => (h.to_dim(), w.to_dim(), None),
            None => {
                let (height, width) = (hir.symbols.sym("H"), hir.symbols.sym("W"));
                let m = conversion.multiple as i64;
                let side = |s: &Symbol| TDim::MulInt(m, Box::new(TDim::Sym(s.clone())));
                let dims = (side(&height), side(&width));
                (dims.0, dims.1, Some((height, width, conversion.multiple)))
            }
        };
        let (h, w) = if conversion.transposed && conversion.fixed.is_some() {
            (w, h)
        } else {
            (h, w)
        };
        let shape = if planar {
            [1.to_dim(), 3.to_dim(), h, w]
        } else {
            [1.to_dim(), h, w, 3.to_dim()]
        };
        let mut model = hir
            .with_input_fact(0, f32::fact(shape).into())
            .and_then(|m| m.into_typed())
            .and_then(|m| m.into_decluttered())
            .map_err(model_error)?;
        // the ONNX file's metadata is not needed to run the network
        model.properties.clear();

        Ok(Source {
            model,
            sides,
            transposed: conversion.transposed,
            planar,
        })
    }

    /// The network in tract's NNEF form, packed (see [`packed`]), and its
    /// [`bundle`](super::bundle) flags.
    pub(crate) fn pack(&self) -> Result<(u8, Vec<u8>)> {
        // the rewrites tract's writer makes, done first, so that the nodes they add can be
        // renamed: tract names the nodes it makes in the order it rewrites them, which varies
        // from run to run; named by their place, a conversion always gives the same bytes
        let mut model = self.model.clone();
        tract_nnef::ser::rewrite_model(&mut model).map_err(model_error)?;
        let mut model = model.into_compact().map_err(model_error)?;
        for node in model.nodes_mut() {
            node.name = format!("n{}", node.id);
        }
        let proto = tract_nnef::ser::to_proto_model(framework(), &model).map_err(model_error)?;
        let flags =
            if self.transposed { TRANSPOSED } else { 0 } | if self.planar { PLANAR } else { 0 };
        Ok((flags, packed::pack(&proto).map_err(model_error)?))
    }

    /// Reads a network [`Source::pack`] packed.
    pub(crate) fn from_packed(bytes: &[u8], flags: u8) -> Result<Source> {
        let proto = packed::unpack(bytes).map_err(model_error)?;
        let model = framework()
            .translate(&proto, TypedModel::default())
            .map_err(|(_, e)| model_error(e))?;
        let input = model.input_fact(0).map_err(model_error)?;
        let planar = flags & PLANAR != 0;
        let shape = input.shape.to_tvec();
        let (ha, wa) = if planar { (2, 3) } else { (1, 2) };
        // a side is a multiple of a symbol, or fixed
        let symbol = |d: &TDim| match d {
            TDim::MulInt(m, s) => match (usize::try_from(*m), s.as_ref()) {
                (Ok(m), TDim::Sym(s)) if m > 0 => Some((s.clone(), m)),
                _ => None,
            },
            TDim::Sym(s) => Some((s.clone(), 1)),
            _ => None,
        };
        let sides = match (shape.len(), shape.get(ha), shape.get(wa)) {
            (4, Some(h), Some(w)) if h.to_usize().is_ok() && w.to_usize().is_ok() => None,
            (4, Some(h), Some(w)) => match (symbol(h), symbol(w)) {
                (Some((h, m)), Some((w, n))) if m == n => Some((h, w, m)),
                _ => return Err(Error::Model(format!("input of shape {shape:?}"))),
            },
            _ => return Err(Error::Model(format!("input of shape {shape:?}"))),
        };
        Ok(Source {
            model,
            sides,
            transposed: flags & TRANSPOSED != 0,
            planar,
        })
    }

    /// Whether the network is mirrored about the image diagonal.
    pub(crate) fn transposed(&self) -> bool {
        self.transposed
    }

    /// The plan for an NHWC image of `h` x `w` (one image of three channels). A network of
    /// a fixed input size plans only that size.
    pub(crate) fn plan(&self, h: usize, w: usize) -> Result<Model> {
        // a transposed network takes the image with its sides swapped
        let (mh, mw) = if self.transposed { (w, h) } else { (h, w) };
        let model = match &self.sides {
            Some((height, width, m)) => {
                if h == 0 || w == 0 || h % m != 0 || w % m != 0 {
                    return Err(Error::Internal(format!(
                        "network input {w}x{h}: sides must be multiples of {m}"
                    )));
                }
                let sides: HashMap<Symbol, TDim> = [
                    (height.clone(), TDim::Val((mh / m) as i64)),
                    (width.clone(), TDim::Val((mw / m) as i64)),
                ]
                .into_iter()
                .collect();
                self.model.set_symbols(&sides).map_err(model_error)?
            }
            None => {
                let shape = self
                    .model
                    .input_fact(0)
                    .map_err(model_error)?
                    .shape
                    .to_tvec();
                let (ha, wa) = if self.planar { (2, 3) } else { (1, 2) };
                if shape[ha] != mh.to_dim() || shape[wa] != mw.to_dim() {
                    return Err(Error::Internal(format!(
                        "a network of input {shape:?} planned for {h}x{w}"
                    )));
                }
                self.model.clone()
            }
        };
        let plan = model
            .into_optimized()
            .and_then(|m| m.into_runnable())
            .map_err(model_error)?;
        Ok(Model::from_plan(
            plan,
            [1, h, w, 3],
            self.transposed,
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
            (FACE_DETECTION_ONNX, false, false, Fit::Exported, (112, 128)),
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
            let form = Conversion {
                size_free,
                transposed,
                fixed: None,
                multiple: if size_free { 32 } else { 16 },
            };
            let source = Source::from_onnx(bytes, form).unwrap();
            // and read back from its packed form
            let (flags, packed) = source.pack().unwrap();
            let source = Source::from_packed(&packed, flags).unwrap();
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
        let form = Conversion {
            size_free: false,
            transposed: false,
            fixed: None,
            multiple: 16,
        };
        let err = Source::from_onnx(b"not a network", form).err().unwrap();
        assert_eq!(err.code(), "model_error");
        let (flags, packed) = Source::from_onnx(crate::nn::FACE_DETECTION_ONNX, form)
            .unwrap()
            .pack()
            .unwrap();
        for damaged in [&packed[..packed.len() / 2], &packed[1..], b"garbage"] {
            let err = Source::from_packed(damaged, flags).err().unwrap();
            assert_eq!(err.code(), "model_error");
        }
    }
}
