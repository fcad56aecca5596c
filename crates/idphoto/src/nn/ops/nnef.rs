//! The own operators in tract's NNEF form: [`registry`] gives the NNEF registry `idphoto`
//! that writes each operator of this folder as an invocation of its own primitive (weights as
//! variables) and builds it back when a network is read.

use tract_nnef::ast::TypeSpec;
use tract_nnef::internal::*;

use super::channel_mean::ChannelMean;
use super::max_pool::MaxPool2x2;
use super::pointwise::Pointwise;
use super::prelu::ChannelPrelu;
use super::strided::StridedDepthwise;
use super::upsample::Upsample2x;
use super::zero_pad::ZeroPad;

/// Name of the registry (the `extension tract_registry idphoto;` line of a graph).
pub(crate) const REGISTRY: &str = "idphoto";

/// The registry of the own operators, for writing and reading networks that use them.
pub(crate) fn registry() -> Registry {
    let mut r = Registry::new(REGISTRY);
    register_weightless(&mut r);
    register_zero_pad(&mut r);
    register_prelu(&mut r);
    register_pointwise(&mut r);
    register_strided(&mut r);
    r
}

fn input() -> Parameter {
    TypeName::Scalar.tensor().named("input")
}

const OUTPUT: [(&str, TypeSpec); 1] = [("output", TypeSpec::Tensor(TypeName::Scalar))];

fn values(name: &str) -> Parameter {
    TypeName::Scalar.tensor().named(name)
}

fn ints(name: &str) -> Parameter {
    TypeName::Integer.array().named(name)
}

/// [`ChannelMean`], [`MaxPool2x2`] and [`Upsample2x`]: an input and nothing else.
fn register_weightless(r: &mut Registry) {
    r.register_dumper(|ast, node, _: &ChannelMean| {
        Ok(Some(unary(ast, node, "idphoto_channel_mean", &[])))
    });
    r.register_primitive("idphoto_channel_mean", &[input()], &OUTPUT, |b, i| {
        wire_one(b, i, ChannelMean)
    });
    r.register_dumper(|ast, node, _: &MaxPool2x2| {
        Ok(Some(unary(ast, node, "idphoto_max_pool_2x2", &[])))
    });
    r.register_primitive("idphoto_max_pool_2x2", &[input()], &OUTPUT, |b, i| {
        wire_one(b, i, MaxPool2x2)
    });
    r.register_dumper(|ast, node, _: &Upsample2x| {
        Ok(Some(unary(ast, node, "idphoto_upsample_2x", &[])))
    });
    r.register_primitive("idphoto_upsample_2x", &[input()], &OUTPUT, |b, i| {
        wire_one(b, i, Upsample2x)
    });
}

fn register_zero_pad(r: &mut Registry) {
    r.register_dumper(|ast, node, op: &ZeroPad| {
        let args = [("pads", ints_value(&op.pads))];
        Ok(Some(unary(ast, node, "idphoto_zero_pad", &args)))
    });
    r.register_primitive(
        "idphoto_zero_pad",
        &[input(), ints("pads")],
        &OUTPUT,
        |b, i| {
            let pads: TVec<usize> = i.named_arg_as(b, "pads")?;
            let pads = <[usize; 6]>::try_from(pads.as_slice())
                .map_err(|_| format_err!("idphoto_zero_pad: pads {pads:?}"))?;
            wire_one(b, i, ZeroPad { pads })
        },
    );
}

fn register_prelu(r: &mut Registry) {
    r.register_dumper(|ast, node, op: &ChannelPrelu| {
        let slopes = variable(ast, node, "slopes", &op.slopes)?;
        Ok(Some(unary(
            ast,
            node,
            "idphoto_channel_prelu",
            &[("slopes", slopes)],
        )))
    });
    r.register_primitive(
        "idphoto_channel_prelu",
        &[input(), values("slopes")],
        &OUTPUT,
        |b, i| {
            let slopes = f32_values(b, i, "slopes")?;
            wire_one(b, i, ChannelPrelu { slopes })
        },
    );
}

fn register_pointwise(r: &mut Registry) {
    r.register_dumper(|ast, node, op: &Pointwise| {
        let weights = variable(ast, node, "weights", &op.weights)?;
        let bias = variable(ast, node, "bias", &op.bias)?;
        let args = [("weights", weights), ("bias", bias)];
        Ok(Some(unary(ast, node, "idphoto_pointwise", &args)))
    });
    r.register_primitive(
        "idphoto_pointwise",
        &[input(), values("weights"), values("bias")],
        &OUTPUT,
        |b, i| {
            let weights = f32_values(b, i, "weights")?;
            let bias = f32_values(b, i, "bias")?;
            if bias.is_empty() || weights.len() % bias.len() != 0 {
                bail!(
                    "idphoto_pointwise: {} weights for {} outputs",
                    weights.len(),
                    bias.len()
                );
            }
            wire_one(b, i, Pointwise { weights, bias })
        },
    );
}

fn register_strided(r: &mut Registry) {
    r.register_dumper(|ast, node, op: &StridedDepthwise| {
        let weights = variable(ast, node, "weights", &op.weights)?;
        let bias = variable(ast, node, "bias", &op.bias)?;
        let args = [
            ("weights", weights),
            ("bias", bias),
            ("kernel", numeric(op.k)),
            ("pads", ints_value(&op.pads)),
        ];
        Ok(Some(unary(ast, node, "idphoto_strided_depthwise", &args)))
    });
    let params = [
        input(),
        values("weights"),
        values("bias"),
        TypeName::Integer.named("kernel"),
        ints("pads"),
    ];
    r.register_primitive("idphoto_strided_depthwise", &params, &OUTPUT, |b, i| {
        let weights = f32_values(b, i, "weights")?;
        let bias = f32_values(b, i, "bias")?;
        let k: usize = i.named_arg_as(b, "kernel")?;
        let pads: TVec<usize> = i.named_arg_as(b, "pads")?;
        let pads = <[usize; 4]>::try_from(pads.as_slice())
            .map_err(|_| format_err!("idphoto_strided_depthwise: pads {pads:?}"))?;
        if k == 0 || weights.len() != bias.len() * k * k {
            bail!(
                "idphoto_strided_depthwise: {} weights for {} channels of {k}x{k}",
                weights.len(),
                bias.len()
            );
        }
        wire_one(
            b,
            i,
            StridedDepthwise {
                k,
                pads,
                weights,
                bias,
            },
        )
    });
}

/// The invocation `name(input, args...)` of a one-input operator.
fn unary(ast: &IntoAst, node: &TypedNode, name: &str, args: &[(&str, RValue)]) -> Arc<RValue> {
    let wire = ast.mapping[&node.inputs[0]].clone();
    invocation(name, &[wire], args)
}

/// `values` written as a variable of the graph (a tensor file), named after the node.
fn variable(
    ast: &mut IntoAst,
    node: &TypedNode,
    what: &str,
    values: &[f32],
) -> TractResult<RValue> {
    let tensor = tensor1(values).into_arc_tensor();
    Ok(ast
        .konst_variable(format!("{}.{what}", node.name), &tensor)?
        .as_ref()
        .clone())
}

fn ints_value(values: &[usize]) -> RValue {
    tract_nnef::ser::ints(values)
}

/// The f32 tensor argument `name` as values.
fn f32_values(b: &mut ModelBuilder, i: &ResolvedInvocation, name: &str) -> TractResult<Vec<f32>> {
    let t: Arc<Tensor> = i.named_arg_as(b, name)?;
    if t.datum_type() != f32::datum_type() {
        bail!("{name}: {:?} values, not f32", t.datum_type());
    }
    Ok(t.try_as_plain_ram()?.as_slice::<f32>()?.to_vec())
}

/// Wires `op` on the invocation's `input`.
fn wire_one(b: &mut ModelBuilder, i: &ResolvedInvocation, op: impl TypedOp) -> TractResult<Value> {
    let input: OutletId = i.named_arg_as(b, "input")?;
    b.wire(op, &[input])
}
