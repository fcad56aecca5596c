//! A network in tract's NNEF form, packed: the NNEF document (the graph) in a compact binary
//! encoding of tract's syntax tree instead of NNEF text, and its tensors in NNEF's own tensor
//! file format. tract reads NNEF text with a parser that costs 20-35 ms per network; this
//! encoding is read in well under a millisecond and gives the same syntax tree, which tract
//! then builds the network from ([`unpack`]).
//!
//! Layout: the document, then the number of tensors and each tensor as its label and its
//! bytes. Strings and sequences are length-prefixed (LEB128); every length is checked against
//! the bytes left, and nesting is bounded, so damaged or hostile bytes are an error, not a
//! large allocation or a deep recursion.

use std::collections::HashMap;

use tract_nnef::ast::*;
use tract_nnef::internal::{bail, format_err, Arc, Tensor, TractResult};

/// Deepest nesting of expressions or types read ([`unpack`]); tract writes at most a few.
const MAX_DEPTH: usize = 64;

/// Packs `model`'s document and tensors.
pub(crate) fn pack(model: &ProtoModel) -> TractResult<Vec<u8>> {
    let mut w = Writer::default();
    w.document(&model.doc)?;
    let mut labels: Vec<&Identifier> = model.tensors.keys().collect();
    labels.sort();
    w.len(labels.len());
    for label in labels {
        w.str(&label.0);
        let mut data = vec![];
        tract_nnef::tensors::write_tensor(&mut data, &model.tensors[label])?;
        w.bytes(&data);
    }
    Ok(w.out)
}

/// The document and tensors [`pack`] packed.
pub(crate) fn unpack(bytes: &[u8]) -> TractResult<ProtoModel> {
    let mut r = Reader { bytes, depth: 0 };
    let doc = r.document()?;
    let mut tensors = HashMap::new();
    for _ in 0..r.len()? {
        let label = Identifier(r.str()?);
        let data = r.bytes()?;
        tensors.insert(label, Arc::new(read_tensor(data)?));
    }
    if !r.bytes.is_empty() {
        bail!("{} bytes after the network", r.bytes.len());
    }
    Ok(ProtoModel {
        doc,
        tensors,
        quantization: None,
        resources: HashMap::new(),
    })
}

/// One NNEF tensor file whose header's data length matches the bytes given (so that a
/// damaged header cannot make the reader allocate more than the file holds).
fn read_tensor(data: &[u8]) -> TractResult<Tensor> {
    const HEADER: usize = 128;
    let declared = data
        .get(4..8)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    if data.len() < HEADER || declared != Some(data.len() - HEADER) {
        bail!("a tensor of {} bytes with a damaged header", data.len());
    }
    tract_nnef::tensors::read_tensor(data)
}

#[derive(Default)]
struct Writer {
    out: Vec<u8>,
}

impl Writer {
    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }

    fn len(&mut self, mut v: usize) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.out.push(byte);
                return;
            }
            self.out.push(byte | 0x80);
        }
    }

    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }

    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    fn opt<T>(
        &mut self,
        v: Option<&T>,
        f: impl FnOnce(&mut Self, &T) -> TractResult<()>,
    ) -> TractResult<()> {
        match v {
            None => self.u8(0),
            Some(v) => {
                self.u8(1);
                f(self, v)?;
            }
        }
        Ok(())
    }

    fn seq<T>(
        &mut self,
        v: &[T],
        mut f: impl FnMut(&mut Self, &T) -> TractResult<()>,
    ) -> TractResult<()> {
        self.len(v.len());
        v.iter().try_for_each(|x| f(self, x))
    }

    fn document(&mut self, d: &Document) -> TractResult<()> {
        self.str(&d.version);
        self.seq(&d.extension, |w, (id, s)| {
            w.str(&id.0);
            w.str(s);
            Ok(())
        })?;
        self.seq(&d.fragments, |w, f| w.fragment(f))?;
        let g = &d.graph_def;
        self.str(&g.id.0);
        self.seq(&g.parameters, |w, p| {
            w.str(&p.0);
            Ok(())
        })?;
        self.seq(&g.results, |w, p| {
            w.str(&p.0);
            Ok(())
        })?;
        self.seq(&g.body, |w, a| w.assignment(a))
    }

    fn fragment(&mut self, f: &FragmentDef) -> TractResult<()> {
        let d = &f.decl;
        self.str(&d.id.0);
        match &d.generic_decl {
            None => self.u8(0),
            Some(None) => self.u8(1),
            Some(Some(t)) => {
                self.u8(2);
                self.type_name(*t)?;
            }
        }
        self.seq(&d.parameters, |w, p| {
            w.str(&p.id.0);
            w.type_spec(&p.spec)?;
            w.opt(p.lit.as_ref(), |w, l| w.literal(l))?;
            w.opt(p.doc.as_ref(), |w, s| {
                w.str(s);
                Ok(())
            })
        })?;
        self.seq(&d.results, |w, r| {
            w.str(&r.id.0);
            w.type_spec(&r.spec)
        })?;
        self.opt(f.body.as_ref(), |w, body| {
            w.seq(body, |w, a| w.assignment(a))
        })
    }

    fn type_name(&mut self, t: TypeName) -> TractResult<()> {
        #[allow(unreachable_patterns)] // a variant only with tract-nnef's `complex` feature
        let tag = match t {
            TypeName::Integer => 0,
            TypeName::Scalar => 1,
            TypeName::Logical => 2,
            TypeName::String => 3,
            TypeName::Any => 4,
            other => bail!("type {other:?} is not packed"),
        };
        self.u8(tag);
        Ok(())
    }

    fn type_spec(&mut self, t: &TypeSpec) -> TractResult<()> {
        match t {
            TypeSpec::Single(n) => {
                self.u8(0);
                self.type_name(*n)
            }
            TypeSpec::Tensor(n) => {
                self.u8(1);
                self.type_name(*n)
            }
            TypeSpec::Array(t) => {
                self.u8(2);
                self.type_spec(t)
            }
            TypeSpec::Tuple(ts) => {
                self.u8(3);
                self.seq(ts, |w, t| w.type_spec(t))
            }
        }
    }

    fn assignment(&mut self, a: &Assignment) -> TractResult<()> {
        self.lvalue(&a.left);
        self.rvalue(&a.right)
    }

    fn lvalue(&mut self, l: &LValue) {
        match l {
            LValue::Identifier(id) => {
                self.u8(0);
                self.str(&id.0);
            }
            LValue::Array(v) | LValue::Tuple(v) => {
                self.u8(if matches!(l, LValue::Array(_)) { 1 } else { 2 });
                self.len(v.len());
                v.iter().for_each(|x| self.lvalue(x));
            }
        }
    }

    fn rvalue(&mut self, r: &RValue) -> TractResult<()> {
        match r {
            RValue::Identifier(id) => {
                self.u8(0);
                self.str(&id.0);
            }
            RValue::Literal(l) => {
                self.u8(1);
                self.literal(l)?;
            }
            RValue::Binary(a, op, b) => {
                self.u8(2);
                self.rvalue(a)?;
                self.str(op);
                self.rvalue(b)?;
            }
            RValue::Unary(op, a) => {
                self.u8(3);
                self.str(op);
                self.rvalue(a)?;
            }
            RValue::Tuple(v) => {
                self.u8(4);
                self.seq(v, |w, x| w.rvalue(x))?;
            }
            RValue::Array(v) => {
                self.u8(5);
                self.seq(v, |w, x| w.rvalue(x))?;
            }
            RValue::Subscript(a, s) => {
                self.u8(6);
                self.rvalue(a)?;
                match s.as_ref() {
                    Subscript::Single(x) => {
                        self.u8(0);
                        self.rvalue(x)?;
                    }
                    Subscript::Range(a, b) => {
                        self.u8(1);
                        self.opt(a.as_ref(), |w, x| w.rvalue(x))?;
                        self.opt(b.as_ref(), |w, x| w.rvalue(x))?;
                    }
                }
            }
            RValue::Comprehension(c) => {
                self.u8(7);
                self.seq(&c.loop_iters, |w, (id, x)| {
                    w.str(&id.0);
                    w.rvalue(x)
                })?;
                self.opt(c.filter.as_ref(), |w, x| w.rvalue(x))?;
                self.rvalue(&c.yields)?;
            }
            RValue::IfThenElse(c) => {
                self.u8(8);
                self.rvalue(&c.cond)?;
                self.rvalue(&c.then)?;
                self.rvalue(&c.otherwise)?;
            }
            RValue::Invocation(i) => {
                self.u8(9);
                self.str(&i.id.0);
                self.opt(i.generic_type_name.as_ref(), |w, t| w.type_name(*t))?;
                self.seq(&i.arguments, |w, a| {
                    w.opt(a.id.as_ref(), |w, id| {
                        w.str(&id.0);
                        Ok(())
                    })?;
                    w.rvalue(&a.rvalue)
                })?;
            }
        }
        Ok(())
    }

    fn literal(&mut self, l: &Literal) -> TractResult<()> {
        match l {
            Literal::Numeric(s) => {
                self.u8(0);
                self.str(s);
            }
            Literal::String(s) => {
                self.u8(1);
                self.str(s);
            }
            Literal::Logical(b) => {
                self.u8(2);
                self.u8(u8::from(*b));
            }
            Literal::Array(v) => {
                self.u8(3);
                self.seq(v, |w, x| w.literal(x))?;
            }
            Literal::Tuple(v) => {
                self.u8(4);
                self.seq(v, |w, x| w.literal(x))?;
            }
        }
        Ok(())
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    /// Current nesting of expressions and types.
    depth: usize,
}

impl<'a> Reader<'a> {
    fn u8(&mut self) -> TractResult<u8> {
        let (&b, rest) = self
            .bytes
            .split_first()
            .ok_or_else(|| format_err!("the network ends early"))?;
        self.bytes = rest;
        Ok(b)
    }

    /// A length: at most the bytes left (each element takes at least one).
    fn len(&mut self) -> TractResult<usize> {
        let mut v = 0usize;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= usize::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                if v > self.bytes.len() {
                    bail!("a length of {v} with {} bytes left", self.bytes.len());
                }
                return Ok(v);
            }
        }
        bail!("a damaged length")
    }

    fn bytes(&mut self) -> TractResult<&'a [u8]> {
        let n = self.len()?;
        let (b, rest) = self.bytes.split_at(n);
        self.bytes = rest;
        Ok(b)
    }

    fn str(&mut self) -> TractResult<String> {
        Ok(std::str::from_utf8(self.bytes()?)?.to_string())
    }

    fn opt<T>(&mut self, f: impl FnOnce(&mut Self) -> TractResult<T>) -> TractResult<Option<T>> {
        match self.u8()? {
            0 => Ok(None),
            1 => f(self).map(Some),
            t => bail!("a damaged option ({t})"),
        }
    }

    fn seq<T>(&mut self, mut f: impl FnMut(&mut Self) -> TractResult<T>) -> TractResult<Vec<T>> {
        let n = self.len()?;
        (0..n).map(|_| f(self)).collect()
    }

    fn ident(&mut self) -> TractResult<Identifier> {
        self.str().map(Identifier)
    }

    /// Runs `f` one nesting level deeper.
    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> TractResult<T>) -> TractResult<T> {
        if self.depth >= MAX_DEPTH {
            bail!("expressions nested deeper than {MAX_DEPTH}");
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn document(&mut self) -> TractResult<Document> {
        let version = self.str()?;
        let extension = self.seq(|r| Ok((r.ident()?, r.str()?)))?;
        let fragments = self.seq(|r| r.fragment())?;
        let graph_def = GraphDef {
            id: self.ident()?,
            parameters: self.seq(|r| r.ident())?,
            results: self.seq(|r| r.ident())?,
            body: self.seq(|r| r.assignment())?,
        };
        Ok(Document {
            version,
            extension,
            fragments,
            graph_def,
        })
    }

    fn fragment(&mut self) -> TractResult<FragmentDef> {
        let id = self.ident()?;
        let generic_decl = match self.u8()? {
            0 => None,
            1 => Some(None),
            2 => Some(Some(self.type_name()?)),
            t => bail!("a damaged generic declaration ({t})"),
        };
        let parameters = self.seq(|r| {
            Ok(Parameter {
                id: r.ident()?,
                spec: r.type_spec()?,
                lit: r.opt(|r| r.literal())?,
                doc: r.opt(|r| r.str())?,
            })
        })?;
        let results = self.seq(|r| {
            Ok(Result_ {
                id: r.ident()?,
                spec: r.type_spec()?,
            })
        })?;
        let body = self.opt(|r| r.seq(|r| r.assignment()))?;
        Ok(FragmentDef {
            decl: FragmentDecl {
                id,
                generic_decl,
                parameters,
                results,
            },
            body,
        })
    }

    fn type_name(&mut self) -> TractResult<TypeName> {
        Ok(match self.u8()? {
            0 => TypeName::Integer,
            1 => TypeName::Scalar,
            2 => TypeName::Logical,
            3 => TypeName::String,
            4 => TypeName::Any,
            t => bail!("a damaged type name ({t})"),
        })
    }

    fn type_spec(&mut self) -> TractResult<TypeSpec> {
        self.nested(|r| {
            Ok(match r.u8()? {
                0 => TypeSpec::Single(r.type_name()?),
                1 => TypeSpec::Tensor(r.type_name()?),
                2 => TypeSpec::Array(Box::new(r.type_spec()?)),
                3 => TypeSpec::Tuple(r.seq(|r| r.type_spec())?),
                t => bail!("a damaged type ({t})"),
            })
        })
    }

    fn assignment(&mut self) -> TractResult<Assignment> {
        Ok(Assignment {
            left: self.lvalue()?,
            right: self.rvalue()?,
        })
    }

    fn lvalue(&mut self) -> TractResult<LValue> {
        self.nested(|r| {
            Ok(match r.u8()? {
                0 => LValue::Identifier(r.ident()?),
                1 => LValue::Array(r.seq(|r| r.lvalue())?),
                2 => LValue::Tuple(r.seq(|r| r.lvalue())?),
                t => bail!("a damaged assignment ({t})"),
            })
        })
    }

    fn rvalue(&mut self) -> TractResult<RValue> {
        self.nested(|r| r.rvalue_at_depth())
    }

    fn rvalue_at_depth(&mut self) -> TractResult<RValue> {
        Ok(match self.u8()? {
            0 => RValue::Identifier(self.ident()?),
            1 => RValue::Literal(self.literal()?),
            2 => {
                let a = self.rvalue()?.boxed();
                let op = self.str()?;
                RValue::Binary(a, op, self.rvalue()?.boxed())
            }
            3 => {
                let op = self.str()?;
                RValue::Unary(op, self.rvalue()?.boxed())
            }
            4 => RValue::Tuple(self.seq(|r| r.rvalue())?),
            5 => RValue::Array(self.seq(|r| r.rvalue())?),
            6 => {
                let a = self.rvalue()?.boxed();
                let s = match self.u8()? {
                    0 => Subscript::Single(self.rvalue()?),
                    1 => Subscript::Range(self.opt(|r| r.rvalue())?, self.opt(|r| r.rvalue())?),
                    t => bail!("a damaged subscript ({t})"),
                };
                RValue::Subscript(a, Box::new(s))
            }
            7 => RValue::Comprehension(Box::new(Comprehension {
                loop_iters: self.seq(|r| Ok((r.ident()?, r.rvalue()?)))?,
                filter: self.opt(|r| r.rvalue())?,
                yields: self.rvalue()?,
            })),
            8 => RValue::IfThenElse(Box::new(IfThenElse {
                cond: self.rvalue()?,
                then: self.rvalue()?,
                otherwise: self.rvalue()?,
            })),
            9 => RValue::Invocation(Invocation {
                id: self.ident()?,
                generic_type_name: self.opt(|r| r.type_name())?,
                arguments: self.seq(|r| {
                    Ok(Argument {
                        id: r.opt(|r| r.ident())?,
                        rvalue: r.rvalue()?,
                    })
                })?,
            }),
            t => bail!("a damaged expression ({t})"),
        })
    }

    fn literal(&mut self) -> TractResult<Literal> {
        self.nested(|r| {
            Ok(match r.u8()? {
                0 => Literal::Numeric(r.str()?),
                1 => Literal::String(r.str()?),
                2 => Literal::Logical(r.u8()? != 0),
                3 => Literal::Array(r.seq(|r| r.literal())?),
                4 => Literal::Tuple(r.seq(|r| r.literal())?),
                t => bail!("a damaged literal ({t})"),
            })
        })
    }
}
