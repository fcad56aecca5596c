//! Reading values out of ONNX protobuf messages.

use tract_onnx::pb::{NodeProto, TensorProto};

/// The values of an INT64 constant of the graph (empty for another type).
pub(crate) fn int64_values(t: &TensorProto) -> Vec<i64> {
    if t.data_type != 7 {
        return Vec::new();
    }
    if t.int64_data.is_empty() {
        t.raw_data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect()
    } else {
        t.int64_data.clone()
    }
}

/// The integers of attribute `name` of `node`, if it has one.
pub(crate) fn ints<'a>(node: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.as_slice())
}
