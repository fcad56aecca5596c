//! The own tract operators of the built-in networks, one file per operator family, and their
//! registration in the ONNX parser.
//!
//! tract runs the models' convolutions well, but some operators through generic paths that
//! cost more than they should on these small networks (each file says how much). The parser
//! builds the operators of this folder in place of tract's own builders for `PRelu`
//! ([`prelu`]), `Resize` ([`upsample`]) and `GlobalAveragePool` ([`channel_mean`]), and for
//! the nodes [`mark`](crate::nn::rewrite::mark) renamed ([`max_pool`], [`zero_pad`],
//! [`strided`], [`pointwise`]). Anything else (a shared slope, another resize mode or factor)
//! falls back to tract's generic wiring or is refused with an error at load time; the
//! models' outputs are compared with the reference runtime in `nn::tests`.

pub(crate) mod channel_mean;
pub(crate) mod common;
pub(crate) mod max_pool;
pub(crate) mod nnef;
pub(crate) mod pointwise;
pub(crate) mod prelu;
pub(crate) mod strided;
pub(crate) mod upsample;
pub(crate) mod zero_pad;

/// Replaces tract's builders for `PRelu`, `Resize` and `GlobalAveragePool` by the ones of
/// this folder, and makes the parser build the nodes [`mark`](crate::nn::rewrite::mark)
/// renamed.
pub(crate) fn register(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert("PRelu", prelu::prelu_builder);
    onnx.op_register.insert("Resize", upsample::resize_builder);
    onnx.op_register
        .insert("GlobalAveragePool", channel_mean::global_pool_builder);
    register_marked(onnx);
}

/// [`register`], and every `Resize` of the graph taken as a 2x upsampling whatever its
/// `sizes` say: for running a model at another input size than it was exported for, once
/// the native size has shown that each of its `Resize`s doubles its input.
pub(crate) fn register_size_free(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register.insert("PRelu", prelu::prelu_builder);
    onnx.op_register
        .insert("Resize", upsample::resize_builder_free);
    onnx.op_register
        .insert("GlobalAveragePool", channel_mean::global_pool_builder);
    register_marked(onnx);
}

/// Makes the parser build [`max_pool::MaxPool2x2`], [`zero_pad::ZeroPad`],
/// [`strided::StridedDepthwise`] and [`pointwise::Pointwise`] for the nodes
/// [`mark`](crate::nn::rewrite::mark) renamed.
fn register_marked(onnx: &mut tract_onnx::Onnx) {
    onnx.op_register
        .insert(max_pool::MAX_POOL, max_pool::max_pool_builder);
    onnx.op_register
        .insert(zero_pad::ZERO_PAD, zero_pad::zero_pad_builder);
    onnx.op_register
        .insert(pointwise::POINTWISE, pointwise::pointwise_builder);
    onnx.op_register
        .insert(strided::STRIDED, strided::strided_builder);
}
