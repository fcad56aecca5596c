//! The rewrites of a network's ONNX graph done at load, before tract parses it: the NHWC
//! input made planar ([`planar_input`]), the network mirrored about the diagonal
//! ([`transpose_spatial`]), whole-map pools made global ([`global_pools`]) and anchor
//! lists' lengths left free ([`free_reshape_lengths`]) for other input sizes, and the nodes
//! the own operators compute renamed for them ([`mark`]).

use std::collections::HashMap;

use tract_onnx::pb::{
    attribute_proto::AttributeType, AttributeProto, ModelProto, NodeProto, TensorProto,
};
use tract_onnx::prelude::TractResult;
use tract_onnx::tract_hir::internal::bail;

use super::layout::swap_hw;
use super::ops::max_pool::MAX_POOL;
use super::ops::zero_pad::ZERO_PAD;
use super::ops::{pointwise, strided};
use super::proto::{int64_values, ints};

/// Removes the network's first operator when it only turns the NHWC input into NCHW (the
/// MediaPipe conversions all start so), so that the input is given planar. Returns whether
/// it did.
pub(crate) fn planar_input(proto: &mut ModelProto) -> bool {
    let Some(graph) = proto.graph.as_mut() else {
        return false;
    };
    let Some(input) = graph.input.first().map(|i| i.name.clone()) else {
        return false;
    };
    let users: Vec<usize> = (0..graph.node.len())
        .filter(|&i| graph.node[i].input.contains(&input))
        .collect();
    let &[i] = users.as_slice() else {
        return false;
    };
    let node = &graph.node[i];
    let to_nchw = node.op_type == "Transpose"
        && node.input.len() == 1
        && node.output.len() == 1
        && node.attribute.len() == 1
        && node.attribute[0].name == "perm"
        && node.attribute[0].ints == [0, 3, 1, 2];
    if !to_nchw || graph.output.iter().any(|o| o.name == node.output[0]) {
        return false;
    }
    let out = node.output[0].clone();
    graph.node.remove(i);
    for n in graph.node.iter_mut() {
        for v in n.input.iter_mut().filter(|v| **v == out) {
            v.clone_from(&input);
        }
    }
    // the declared shape becomes NCHW
    use tract_onnx::pb::type_proto::Value;
    if let Some(Value::TensorType(t)) = graph.input[0]
        .r#type
        .as_mut()
        .and_then(|t| t.value.as_mut())
    {
        if let Some(shape) = t.shape.as_mut() {
            if shape.dim.len() == 4 {
                let d = std::mem::take(&mut shape.dim);
                shape.dim = [0, 3, 1, 2].iter().map(|&i| d[i].clone()).collect();
            }
        }
    }
    true
}

/// Operators that [`transpose_spatial`] knows to commute with swapping height and width
/// (element-wise, channel-wise, global, or given their transposed attributes and kernels).
const TRANSPOSABLE_OPS: [&str; 16] = [
    "Conv",
    "ConvTranspose",
    "Identity",
    "HardSwish",
    "Relu",
    "Sigmoid",
    "Mul",
    "Add",
    "Resize",
    "Transpose",
    "GlobalAveragePool",
    "Concat",
    "PRelu",
    "MaxPool",
    "Pad",
    "Reshape",
];
/// Rewrites an NCHW-inside network as its mirror image about the diagonal: each convolution
/// kernel transposed (`kh` <-> `kw`) and its spatial attributes swapped, so that the network
/// run on an image with height and width swapped computes the swapped output. tract walks a
/// depthwise convolution's rows along the longer axis of the output and only the rows along
/// the width are vectorised: a portrait input is about twice as slow as its landscape
/// transpose. Refuses networks with an operator it does not know to commute with the swap.
/// A `Reshape` to `[1, n, k]` (a detector's list of anchors, flattened from an NHWC map) is
/// kept and lists the positions of the transposed map, column by column.
pub(crate) fn transpose_spatial(proto: &mut ModelProto) -> TractResult<()> {
    let Some(graph) = proto.graph.as_mut() else {
        bail!("model without a graph");
    };
    let mut kernels = Vec::new();
    let mut pads = Vec::new();
    let constants: HashMap<String, Vec<i64>> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    for node in graph.node.iter_mut() {
        transpose_node(node, &constants, &mut kernels, &mut pads)?;
    }
    swap_pads(&mut graph.initializer, &pads)?;
    transpose_kernels(&mut graph.initializer, &kernels)
}

/// One node of [`transpose_spatial`]: its attributes swapped where they are spatial, or an
/// error when it is not known to commute with the swap. Collects the names of the kernels
/// and of the constant paddings to swap (`constants` are the initializers' shapes).
fn transpose_node(
    node: &mut NodeProto,
    constants: &HashMap<String, Vec<i64>>,
    kernels: &mut Vec<String>,
    pads: &mut Vec<String>,
) -> TractResult<()> {
    let op = node.op_type.as_str();
    if !TRANSPOSABLE_OPS.contains(&op) {
        bail!("transpose_spatial: operator {op} not known to commute with the swap");
    }
    match op {
        "Conv" | "ConvTranspose" | "MaxPool" => swap_window_attributes(node, kernels)?,
        "Transpose" => {
            let perm = node.attribute.iter().find(|a| a.name == "perm");
            let ok = perm.is_some_and(|p| p.ints == [0, 3, 1, 2] || p.ints == [0, 2, 3, 1]);
            if !ok {
                bail!("transpose_spatial: Transpose other than NHWC <-> NCHW");
            }
        }
        "Pad" => {
            // pads as a constant input (opset 11+): [begin n c h w, end n c h w]
            let mode_ok = node
                .attribute
                .iter()
                .all(|a| a.name == "mode" && (a.s.is_empty() || a.s.as_slice() == b"constant"));
            match node.input.get(1) {
                Some(p) if mode_ok && constants.get(p) == Some(&vec![8]) => pads.push(p.clone()),
                _ => bail!("transpose_spatial: Pad other than constant with constant pads"),
            }
        }
        "Reshape" => {
            let shape = node.input.get(1).and_then(|s| constants.get(s));
            if shape != Some(&vec![3]) {
                bail!("transpose_spatial: Reshape other than to [1, n, k]");
            }
        }
        "Concat" => {
            let axis = node.attribute.iter().find(|a| a.name == "axis");
            if axis.is_none_or(|a| a.i != 1) {
                bail!("transpose_spatial: Concat other than along channels");
            }
        }
        "Mul" | "Add" | "PRelu" => {
            // constant operands must not vary over height or width
            for i in &node.input {
                if let Some(d) = constants.get(i) {
                    if d.len() >= 2 && d[d.len() - 2..].iter().any(|&v| v != 1) {
                        bail!("transpose_spatial: {op} with a spatial constant {d:?}");
                    }
                }
            }
        }
        _ => {}
    }
    Ok(())
}

/// Swaps the spatial attributes of a `Conv`, `ConvTranspose` or `MaxPool` node (kernel
/// shape, strides, dilations, output padding and shape; pads) and collects the name of a
/// convolution's kernel into `kernels`; errors on an attribute it does not know.
fn swap_window_attributes(node: &mut NodeProto, kernels: &mut Vec<String>) -> TractResult<()> {
    let op = node.op_type.as_str();
    if op != "MaxPool" {
        if let Some(k) = node.input.get(1) {
            kernels.push(k.clone());
        }
    }
    for a in node.attribute.iter_mut() {
        match (a.name.as_str(), a.ints.len()) {
            ("kernel_shape" | "strides" | "dilations" | "output_padding" | "output_shape", 2) => {
                a.ints.swap(0, 1)
            }
            ("pads", 4) => {
                a.ints.swap(0, 1);
                a.ints.swap(2, 3);
            }
            ("group" | "auto_pad" | "ceil_mode" | "storage_order", _) => {}
            (name, _) => bail!("transpose_spatial: {op} attribute {name}"),
        }
    }
    Ok(())
}

/// Swaps the height and width entries of the constant paddings named `pads` (8 values each:
/// begin n c h w, end n c h w).
fn swap_pads(initializer: &mut [TensorProto], pads: &[String]) -> TractResult<()> {
    for t in initializer.iter_mut().filter(|t| pads.contains(&t.name)) {
        let mut v = int64_values(t);
        if v.len() != 8 {
            bail!("transpose_spatial: pads {} of {} values", t.name, v.len());
        }
        v.swap(2, 3);
        v.swap(6, 7);
        t.raw_data.clear();
        t.int64_data = v;
    }
    Ok(())
}

/// Transposes the convolution kernels named `kernels` (`[o, i, kh, kw]` -> `[o, i, kw, kh]`).
fn transpose_kernels(initializer: &mut [TensorProto], kernels: &[String]) -> TractResult<()> {
    for t in initializer.iter_mut().filter(|t| kernels.contains(&t.name)) {
        let &[o, i, kh, kw] = t.dims.as_slice() else {
            bail!("transpose_spatial: kernel {} of dims {:?}", t.name, t.dims);
        };
        let (o, i, kh, kw) = (o as usize, i as usize, kh as usize, kw as usize);
        let values: Vec<f32> = if !t.float_data.is_empty() {
            t.float_data.clone()
        } else {
            t.raw_data
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        if values.len() != o * i * kh * kw {
            bail!(
                "transpose_spatial: kernel {} has {} values",
                t.name,
                values.len()
            );
        }
        let swapped = swap_hw(&values, o * i, kh, kw, 1);
        t.dims = vec![o as i64, i as i64, kw as i64, kh as i64];
        t.float_data.clear();
        t.raw_data = swapped.iter().flat_map(|v| v.to_le_bytes()).collect();
    }
    Ok(())
}

/// Makes the graph's `AveragePool`s whose window equals their stride with no padding (a
/// squeeze-and-excitation block's pooling of a whole feature map, written for the exported
/// input size) `GlobalAveragePool`s, which they are at the exported size: at another input
/// size the fixed window would no longer cover the feature map.
pub(crate) fn global_pools(proto: &mut ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    for n in graph.node.iter_mut().filter(|n| n.op_type == "AveragePool") {
        let ints = |name: &str| {
            n.attribute
                .iter()
                .find(|a| a.name == name)
                .map(|a| a.ints.clone())
        };
        let (kernel, strides, pads) = (ints("kernel_shape"), ints("strides"), ints("pads"));
        // the two segmentation networks pool whole maps of 8 to 128 px this way; a
        // downsampling pool (2x2, 3x3) is left alone
        let whole = kernel.as_ref().is_some_and(|k| k.iter().all(|&v| v >= 8))
            && kernel == strides
            && pads.is_none_or(|p| p.iter().all(|&v| v == 0))
            && n.attribute.iter().all(|a| {
                [
                    "kernel_shape",
                    "strides",
                    "pads",
                    "auto_pad",
                    "count_include_pad",
                ]
                .contains(&a.name.as_str())
            });
        if whole {
            n.op_type = "GlobalAveragePool".into();
            n.attribute.clear();
        }
    }
}

/// Lets the graph's `Reshape`s to `[1, n, k]` infer `n` (the number of anchors of a detector
/// output) from their input, so that a fully convolutional model can run at another input
/// size than the one it was exported for.
pub(crate) fn free_reshape_lengths(proto: &mut ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    let shapes: Vec<String> = graph
        .node
        .iter()
        .filter(|n| n.op_type == "Reshape")
        .filter_map(|n| n.input.get(1).cloned())
        .collect();
    for t in graph.initializer.iter_mut() {
        if !shapes.contains(&t.name) || t.dims != [3] {
            continue;
        }
        let mut v = int64_values(t);
        if v.len() == 3 && v[0] == 1 && v[1] > 0 && v[2] > 0 {
            v[1] = -1;
            t.raw_data.clear();
            t.int64_data = v;
        }
    }
}

/// Renames the graph's `MaxPool`s that [`MaxPool2x2`](super::ops::max_pool::MaxPool2x2)
/// computes exactly as ONNX defines them (2x2 windows, stride 2, no padding, floor mode),
/// moves the padding of each depthwise convolution with stride 1 into a
/// [`ZeroPad`](super::ops::zero_pad::ZeroPad) before it (or renames a `Pad` that only adds
/// zero channels to one), and renames the stride-2 depthwise ([`strided::mark_node`]) and
/// plain 1x1 ([`pointwise::mark_node`]) convolutions; leaves every other node alone. The
/// parser then builds the own operators for them ([`super::ops::register`]).
pub(crate) fn mark(proto: &mut ModelProto) {
    let Some(graph) = proto.graph.as_mut() else {
        return;
    };
    let dims: HashMap<String, Vec<i64>> = graph
        .initializer
        .iter()
        .map(|t| (t.name.clone(), t.dims.clone()))
        .collect();
    let tensors: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let mut nodes = Vec::with_capacity(graph.node.len());
    for mut node in std::mem::take(&mut graph.node) {
        if node.op_type == "MaxPool" && is_max_pool_2x2(&node) {
            node.op_type = MAX_POOL.into();
        }
        let pads_attribute = |ints: Vec<i64>| AttributeProto {
            name: "pads".into(),
            r#type: AttributeType::Ints as i32,
            ints,
            ..Default::default()
        };
        if let Some([before, after]) = channel_pads(&node, &tensors) {
            node.op_type = ZERO_PAD.into();
            node.input.truncate(1);
            node.attribute = vec![pads_attribute(vec![before, 0, 0, after, 0, 0])];
        }
        if strided::mark_node(&mut node, &dims) {
            nodes.push(node);
            continue;
        }
        if let Some(p) = depthwise_pads(&node, &dims) {
            let padded = format!("{}.zero_padded", node.output[0]);
            nodes.push(NodeProto {
                name: padded.clone(),
                op_type: ZERO_PAD.into(),
                input: vec![node.input[0].clone()],
                output: vec![padded.clone()],
                attribute: vec![pads_attribute(vec![0, p[0], p[1], 0, p[2], p[3]])],
                ..Default::default()
            });
            node.input[0] = padded;
            for a in node.attribute.iter_mut().filter(|a| a.name == "pads") {
                a.ints = vec![0; 4];
            }
        }
        pointwise::mark_node(&mut node, &dims);
        nodes.push(node);
    }
    graph.node = nodes;
}

/// The zero channels a `Pad` adds before and after the channels of an NCHW tensor, when that
/// is all it does (constant mode, value 0, pads given as a constant of 8 values).
fn channel_pads(node: &NodeProto, tensors: &HashMap<&str, &TensorProto>) -> Option<[i64; 2]> {
    if node.op_type != "Pad" || node.input.len() < 2 || node.output.len() != 1 {
        return None;
    }
    let constant = node
        .attribute
        .iter()
        .all(|a| a.name == "mode" && (a.s.is_empty() || a.s.as_slice() == b"constant"));
    let pads = tensors
        .get(node.input[1].as_str())
        .map(|t| int64_values(t))?;
    let zero_value = match node.input.get(2).filter(|v| !v.is_empty()) {
        None => true,
        Some(v) => tensors.get(v.as_str()).is_some_and(|t| {
            let f = if t.float_data.is_empty() {
                t.raw_data
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect()
            } else {
                t.float_data.clone()
            };
            t.data_type == 1 && f.len() == 1 && f[0] == 0.0
        }),
    };
    match pads.as_slice() {
        &[0, before, 0, 0, 0, after, 0, 0]
            if constant && zero_value && before >= 0 && after >= 0 =>
        {
            Some([before, after])
        }
        _ => None,
    }
}

/// The explicit, non-zero padding of a depthwise `Conv` (one filter per channel, constant
/// filters), if any.
fn depthwise_pads(node: &NodeProto, dims: &HashMap<String, Vec<i64>>) -> Option<Vec<i64>> {
    if node.op_type != "Conv" || node.output.len() != 1 || node.input.is_empty() {
        return None;
    }
    let kernel = node.input.get(1).and_then(|k| dims.get(k))?;
    let &[c, 1, _, _] = kernel.as_slice() else {
        return None;
    };
    let group = node.attribute.iter().find(|a| a.name == "group")?.i;
    let explicit = node
        .attribute
        .iter()
        .all(|a| a.name != "auto_pad" || a.s.is_empty() || a.s.as_slice() == b"NOTSET");
    let pads = ints(node, "pads")?;
    (group == c && c > 1 && explicit && pads.len() == 4 && pads.iter().any(|&p| p > 0))
        .then(|| pads.to_vec())
        .filter(|p| p.iter().all(|&v| (0..64).contains(&v)))
}

fn is_max_pool_2x2(node: &NodeProto) -> bool {
    let allowed = [
        "kernel_shape",
        "strides",
        "pads",
        "auto_pad",
        "ceil_mode",
        "storage_order",
    ];
    let attributes_ok = node.attribute.iter().all(|a| {
        allowed.contains(&a.name.as_str())
            && (a.name != "auto_pad" || a.s.is_empty() || a.s.as_slice() == b"NOTSET")
            && (a.name != "ceil_mode" || a.i == 0)
    });
    attributes_ok
        && node.output.len() == 1
        && ints(node, "kernel_shape") == Some(&[2, 2])
        && ints(node, "strides") == Some(&[2, 2])
        && ints(node, "pads").is_none_or(|p| p.iter().all(|&v| v == 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::prelude::Framework;

    use crate::nn::builtin::{FACE_DETECTION_ONNX, FACE_LANDMARK_ONNX, SELFIE_SEGMENTATION_ONNX};

    #[test]
    fn planar_input_removes_the_nchw_transpose() {
        // every network starts with the NHWC -> NCHW transpose, which is removed
        for bytes in [
            FACE_DETECTION_ONNX,
            FACE_LANDMARK_ONNX,
            SELFIE_SEGMENTATION_ONNX,
        ] {
            let mut proto = tract_onnx::onnx()
                .proto_model_for_read(&mut std::io::Cursor::new(bytes))
                .unwrap();
            assert!(planar_input(&mut proto));
            assert!(!planar_input(&mut proto), "removed once only");
        }
    }

    #[test]
    fn transpose_spatial_refuses_what_it_does_not_know() {
        // a network with an operator the swap is not known to commute with is refused, and
        // so is a padding computed at run time
        let mut onnx = tract_onnx::onnx();
        crate::nn::ops::register(&mut onnx);
        let proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(FACE_DETECTION_ONNX))
            .unwrap();
        assert!(transpose_spatial(&mut proto.clone()).is_ok());
        let with = |op: &str, edit: &dyn Fn(&mut tract_onnx::pb::NodeProto)| {
            let mut p = proto.clone();
            let graph = p.graph.as_mut().unwrap();
            let node = graph.node.iter_mut().find(|n| n.op_type == op).unwrap();
            edit(node);
            transpose_spatial(&mut p)
        };
        assert!(with("Relu", &|n| n.op_type = "GridSample".into()).is_err());
        assert!(with("Pad", &|n| n.input[1] = "t12".into()).is_err());
    }

    #[test]
    fn only_plain_2x2_pools_are_marked() {
        let mut onnx = tract_onnx::onnx();
        crate::nn::ops::register(&mut onnx);
        let mut proto = onnx
            .proto_model_for_read(&mut std::io::Cursor::new(FACE_DETECTION_ONNX))
            .unwrap();
        let count = |proto: &ModelProto, op: &str| {
            let graph = proto.graph.as_ref().unwrap();
            graph.node.iter().filter(|n| n.op_type == op).count()
        };
        // a pool with padding is left to tract
        let graph = proto.graph.as_mut().unwrap();
        let node = graph
            .node
            .iter_mut()
            .find(|n| n.op_type == "MaxPool")
            .unwrap();
        for a in node.attribute.iter_mut().filter(|a| a.name == "pads") {
            a.ints = vec![0, 0, 1, 1];
        }
        mark(&mut proto);
        // BlazeFace has three
        assert_eq!(count(&proto, MAX_POOL), 2);
        assert_eq!(count(&proto, "MaxPool"), 1);
        // 16 depthwise convolutions, all padded: the 13 with stride 1 each now reading a
        // padded copy, the 3 with stride 2 computed by `ops::strided`; and 11 channel paddings
        assert_eq!(
            (count(&proto, ZERO_PAD), count(&proto, "Pad")),
            (13 + 11, 0)
        );
        assert_eq!(count(&proto, "IdphotoStridedDepthwise"), 3);
        let graph = proto.graph.as_ref().unwrap();
        for (i, pad) in graph.node.iter().enumerate() {
            if pad.op_type != ZERO_PAD || !pad.name.ends_with(".zero_padded") {
                continue;
            }
            let conv = &graph.node[i + 1];
            assert_eq!(
                (conv.op_type.as_str(), &conv.input[0]),
                ("Conv", &pad.output[0])
            );
            assert_eq!(ints(conv, "pads"), Some(&[0, 0, 0, 0][..]));
        }
    }
}
