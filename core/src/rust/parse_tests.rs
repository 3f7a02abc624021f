//! Emitted expressions parse as the expressions they print: random trees of every node kind
//! (at the root, first, last and nested) go through `code::emit_node` as the emitters use
//! it, and syn reads them back, from tokens (as `derive!` hands them to rustc) and from text
//! (as `chainrule rust` prints them), first in a statement, as a block's value and after
//! `let`. Each must be the tree it came from.

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::Float;
use super::code::{emit_node, level, literal};
use crate::builtin::{Builtin, Pairwise};
use crate::ir::{Node, NodeId, Var};

/// Every built-in, and how generated code spells it (exhaustive: a new built-in must be added).
fn spelled(f: Builtin) -> &'static str {
    match f {
        Builtin::Sigmoid => "sigmoid",
        Builtin::Tanh => "tanh",
        Builtin::Relu => "relu",
        Builtin::Linear => "linear",
        Builtin::Sin => "sin",
        Builtin::Cos => "cos",
        Builtin::Exp => "exp",
        Builtin::Log => "ln",
        Builtin::Softplus => "softplus",
        Builtin::Sqrt => "sqrt",
        Builtin::Abs => "abs",
        Builtin::Erf => "erf",
        Builtin::Step => "step",
        Builtin::Sign => "sign",
        Builtin::LogSigmoid => "log_sigmoid",
    }
}

const BUILTINS: [Builtin; 15] = [
    Builtin::Sigmoid,
    Builtin::Tanh,
    Builtin::Relu,
    Builtin::Linear,
    Builtin::Sin,
    Builtin::Cos,
    Builtin::Exp,
    Builtin::Log,
    Builtin::Softplus,
    Builtin::Sqrt,
    Builtin::Abs,
    Builtin::Erf,
    Builtin::Step,
    Builtin::Sign,
    Builtin::LogSigmoid,
];

const CONSTANTS: [f64; 8] = [0.0, 1.0, 2.5, -3.0, 1e-7, 1e300, -0.125, 1e20];
const EXPONENTS: [f64; 7] = [2.0, 3.0, -2.0, 0.5, 1.5, -2.5, 64.0];

/// The kinds of node, for coverage.
const KINDS: usize = 12;

/// Every two-argument built-in.
const PAIRWISE: [Pairwise; 4] = [
    Pairwise::Maximum,
    Pairwise::Minimum,
    Pairwise::AtLeast,
    Pairwise::Above,
];

fn kind(node: &Node) -> usize {
    match node {
        Node::Const(_) => 0,
        Node::Var(_) => 1,
        Node::Add(..) => 2,
        Node::Sub(..) => 3,
        Node::Mul(..) => 4,
        Node::Div(..) => 5,
        Node::Neg(_) => 6,
        Node::Pow(..) => 7,
        Node::Func(..) => 8,
        Node::Sum(_) => 9,
        Node::LogSumExp(_) => 10,
        Node::Pair(..) => 11,
    }
}

/// xorshift64*: the trees are the same on every run.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
}

/// Node trees without a graph's folding, children before parents.
#[derive(Default)]
struct Tree {
    nodes: Vec<Node>,
}

impl Tree {
    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        NodeId::from_index(self.nodes.len() - 1)
    }

    fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.index()]
    }

    /// A random tree of at most `depth` levels whose root is of kind `root`.
    fn random(&mut self, rng: &mut Rng, depth: usize, root: usize) -> NodeId {
        let child = |tree: &mut Tree, rng: &mut Rng| {
            let kind = if depth <= 1 {
                rng.below(2)
            } else {
                rng.below(KINDS)
            };
            tree.random(rng, depth.saturating_sub(1), kind)
        };
        let node = match root {
            0 => Node::Const(CONSTANTS[rng.below(CONSTANTS.len())].to_bits()),
            1 => Node::Var(Var(rng.below(5) as u32)),
            2 => Node::Add(child(self, rng), child(self, rng)),
            3 => Node::Sub(child(self, rng), child(self, rng)),
            4 => Node::Mul(child(self, rng), child(self, rng)),
            5 => Node::Div(child(self, rng), child(self, rng)),
            6 => Node::Neg(child(self, rng)),
            7 => Node::Pow(
                child(self, rng),
                EXPONENTS[rng.below(EXPONENTS.len())].to_bits(),
            ),
            8 => Node::Func(BUILTINS[rng.below(BUILTINS.len())], child(self, rng)),
            9 | 10 => {
                let n = 2 + rng.below(3);
                let items: Box<[NodeId]> = (0..n).map(|_| child(self, rng)).collect();
                if root == 9 {
                    Node::Sum(items)
                } else {
                    Node::LogSumExp(items)
                }
            }
            11 => Node::Pair(
                PAIRWISE[rng.below(PAIRWISE.len())],
                child(self, rng),
                child(self, rng),
            ),
            _ => unreachable!("{KINDS} kinds"), // ok: a test
        };
        self.push(node)
    }

    /// The Rust of `id`, parenthesised below `needed`, as `CodeGen` and the batch emitter do.
    fn emit(&self, id: NodeId, needed: u8) -> TokenStream {
        let node = self.node(id);
        let tokens = emit_node(
            node,
            &|c, needed| self.emit(c, needed),
            &|v| {
                let i = Literal::usize_unsuffixed(v.index());
                quote! { x[#i] }
            },
            &|v| literal(Float::F64, v),
        );
        if level(node) < needed {
            quote! { (#tokens) }
        } else {
            tokens
        }
    }

    /// What `id` must read back as, in the notation of [`read`].
    fn expected(&self, id: NodeId) -> String {
        let e = |c: &NodeId| self.expected(*c);
        match self.node(id) {
            Node::Const(b) => constant(f64::from_bits(*b)),
            Node::Var(v) => format!("v{}", v.index()),
            Node::Add(a, b) => format!("add({},{})", e(a), e(b)),
            Node::Sub(a, b) => format!("sub({},{})", e(a), e(b)),
            Node::Mul(a, b) => format!("mul({},{})", e(a), e(b)),
            Node::Div(a, b) => format!("div({},{})", e(a), e(b)),
            Node::Neg(a) => format!("neg({})", e(a)),
            Node::Pow(a, k) => {
                let k = f64::from_bits(*k);
                if k.fract() == 0.0 && k.abs() <= 64.0 {
                    format!("powi({},{})", e(a), k as i64)
                } else if k == 0.5 {
                    format!("sqrt({})", e(a))
                } else {
                    format!("powf({},{})", e(a), constant(k))
                }
            }
            Node::Func(Builtin::Linear, a) => e(a),
            Node::Func(f, a) => format!("{}({})", spelled(*f), e(a)),
            Node::Pair(f, a, b) => format!("{}({},{})", f.name(), e(a), e(b)),
            Node::Sum(items) => items[1..]
                .iter()
                .fold(e(&items[0]), |sum, i| format!("add({sum},{})", e(i))),
            Node::LogSumExp(items) => {
                let items: Vec<String> = items.iter().map(e).collect();
                format!("log_sum_exp({})", items.join(","))
            }
        }
    }

    /// Marks the kinds on the leftmost and rightmost paths below `id` and those deeper inside.
    fn cover(&self, id: NodeId, place: Place, seen: &mut [[bool; 4]; KINDS]) {
        let node = self.node(id);
        seen[kind(node)][place as usize] = true;
        let mut children = Vec::new();
        node.for_each_child(|c| children.push(c));
        let last = children.len().saturating_sub(1);
        for (i, c) in children.into_iter().enumerate() {
            let place = match place {
                Place::Root | Place::First if i == 0 => Place::First,
                Place::Root | Place::Last if i == last => Place::Last,
                _ => Place::Nested,
            };
            self.cover(c, place, seen);
        }
    }
}

#[derive(Clone, Copy)]
enum Place {
    Root,
    First,
    Last,
    Nested,
}

fn constant(v: f64) -> String {
    if v < 0.0 {
        format!("neg(c{:?})", -v)
    } else {
        format!("c{v:?}")
    }
}

/// The tree syn read, in the notation of [`Tree::expected`]; anything else is spelled out so
/// the comparison fails with it.
fn read(e: &syn::Expr) -> String {
    use syn::{BinOp, Expr, Lit, UnOp};
    match e {
        Expr::Paren(p) => read(&p.expr),
        Expr::Group(g) => read(&g.expr),
        Expr::Binary(b) => {
            let op = match b.op {
                BinOp::Add(_) => "add",
                BinOp::Sub(_) => "sub",
                BinOp::Mul(_) => "mul",
                BinOp::Div(_) => "div",
                _ => "binary?",
            };
            format!("{op}({},{})", read(&b.left), read(&b.right))
        }
        Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => format!("neg({})", read(&u.expr)),
        Expr::Lit(l) => match &l.lit {
            Lit::Float(f) => format!("c{:?}", f.base10_parse::<f64>().unwrap_or(f64::NAN)),
            Lit::Int(i) if i.suffix().starts_with('f') => {
                format!("c{:?}", i.base10_parse::<f64>().unwrap_or(f64::NAN))
            }
            Lit::Int(i) => i.base10_digits().to_string(),
            other => format!("lit?{}", quote! { #other }),
        },
        Expr::Index(i) => match (&*i.expr, read(&i.index)) {
            (Expr::Path(p), index) if p.path.is_ident("x") => format!("v{index}"),
            _ => format!("index?{}", quote! { #i }),
        },
        Expr::MethodCall(m) => {
            let args: Vec<String> = m.args.iter().map(read).collect();
            let method = m.method.to_string();
            let mut all = vec![read(&m.receiver)];
            all.extend(args);
            // `x.powi(-2)` from text is `Neg(2)`: the exponent is one integer.
            if method == "powi"
                && let Some(k) = all
                    .get(1)
                    .and_then(|k| k.strip_prefix("neg("))
                    .map(|k| format!("-{}", k.trim_end_matches(')')))
            {
                all[1] = k;
            }
            format!("{method}({})", all.join(","))
        }
        Expr::Call(c) => {
            let name = match &*c.func {
                Expr::Path(p) => p
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default(),
                other => format!("callee?{}", quote! { #other }),
            };
            let args: Vec<String> = match c.args.iter().collect::<Vec<_>>()[..] {
                [Expr::Array(a)] => a.elems.iter().map(read).collect(),
                ref args => args.iter().map(|a| read(a)).collect(),
            };
            format!("{name}({})", args.join(","))
        }
        other => format!("unexpected?{}", quote! { #other }),
    }
}

/// The expressions `tokens` parse to where generated code puts expressions: first in a
/// statement (a function's value and a statement of its own) and after `let`.
fn contexts(tokens: &TokenStream) -> Vec<(&'static str, Result<Vec<syn::Expr>, String>)> {
    let statements = |block: Result<syn::Block, syn::Error>| -> Result<Vec<syn::Expr>, String> {
        let block = block.map_err(|e| e.to_string())?;
        block
            .stmts
            .iter()
            .map(|s| match s {
                syn::Stmt::Expr(e, _) => Ok(e.clone()),
                syn::Stmt::Local(l) => l
                    .init
                    .as_ref()
                    .map(|i| (*i.expr).clone())
                    .ok_or_else(|| "a `let` without a value".to_string()),
                other => Err(format!("not an expression: {}", quote! { #other })),
            })
            .collect()
    };
    let wrap = |inner: TokenStream| quote! { { #inner } };
    let cases = [
        ("the value of a block", wrap(tokens.clone())),
        ("a statement", wrap(quote! { #tokens; })),
        ("after `let`", wrap(quote! { let v = #tokens; })),
    ];
    let mut out = Vec::new();
    for (place, block) in cases {
        out.push((place, statements(syn::parse2(block.clone()))));
        let text = block.to_string();
        out.push((place, statements(syn::parse_str(&text))));
    }
    out
}

#[test]
fn random_expression_trees_parse_as_themselves_wherever_they_stand() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut seen = [[false; 4]; KINDS];
    for n in 0..3000 {
        let mut tree = Tree::default();
        let root = tree.random(&mut rng, 2 + n % 3, n % KINDS);
        tree.cover(root, Place::Root, &mut seen);
        let tokens = tree.emit(root, 0);
        let expected = tree.expected(root);
        for (place, parsed) in contexts(&tokens) {
            let parsed = parsed.unwrap_or_else(|e| panic!("{tokens} as {place}: {e}")); // ok: a test
            assert_eq!(
                parsed.len(),
                1,
                "{tokens} as {place} is {} statements",
                parsed.len()
            );
            assert_eq!(read(&parsed[0]), expected, "{tokens} as {place}");
        }
    }
    for (k, places) in seen.iter().enumerate() {
        assert!(
            places.iter().all(|p| *p),
            "kind {k} not covered at the root, first, last and nested: {places:?}"
        );
    }
}

#[test]
fn literals_outside_the_float_type_are_its_infinity_not_a_panic() {
    let text = |float, v| literal(float, v).to_string().replace(' ', "");
    assert_eq!(text(Float::F32, 1e300), "f32::INFINITY");
    assert_eq!(text(Float::F32, -1e39), "(-f32::INFINITY)");
    assert_eq!(text(Float::F64, f64::NAN), "f64::NAN");
    assert_eq!(text(Float::F32, 2.5), "2.5f32");
}
