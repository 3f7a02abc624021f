//! Rust expressions for one element of a batched loop body: the derivation's nodes with
//! leaves chosen by the caller (a row slice indexed by the loop variable, a parameter, ...),
//! every node used more than once bound to a `let` first.

use std::collections::{HashMap, HashSet};

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::{Graph, Node, NodeId, Var};
use crate::rust::Float;

/// Binding strength of an emitted expression, to parenthesise only where Rust needs it.
const SUM: u8 = 1;
const PRODUCT: u8 = 2;
const UNARY: u8 = 3;
const ATOM: u8 = 4;

/// `(statements, one expression per root)`, or `None` when a leaf has no mapping.
pub type Emitted = (Vec<TokenStream>, Vec<TokenStream>);

/// A float literal of the generated type.
pub fn literal(float: Float, v: f64) -> TokenStream {
    crate::rust::code::literal(float, v)
}

struct Emitter<'a> {
    graph: &'a Graph,
    float: Float,
    leaves: HashMap<Var, TokenStream>,
    subst: HashMap<NodeId, TokenStream>,
    bound: HashMap<NodeId, Ident>,
}

/// Emits `roots` with `leaf` giving the tokens of every named scalar they mention and
/// `subst` those of whole sub-expressions (computed elsewhere); `tag` keeps the temporaries
/// of different bodies apart.
pub fn emit(
    graph: &Graph,
    float: Float,
    roots: &[NodeId],
    subst: &[(NodeId, TokenStream)],
    tag: &str,
    leaf: &mut dyn FnMut(Var) -> Option<TokenStream>,
) -> Option<Emitted> {
    let subst: HashMap<NodeId, TokenStream> = subst.iter().cloned().collect();
    let mut uses: HashMap<NodeId, u32> = HashMap::new();
    let mut seen = HashSet::new();
    let mut order = Vec::new();
    let mut stack: Vec<NodeId> = roots.to_vec();
    for &r in roots {
        *uses.entry(r).or_default() += 1;
    }
    let mut leaves = HashMap::new();
    while let Some(n) = stack.pop() {
        if !seen.insert(n) {
            continue;
        }
        if subst.contains_key(&n) {
            continue;
        }
        order.push(n);
        let node = graph.node(n);
        if let Node::Var(v) = node {
            leaves.insert(*v, leaf(*v)?);
        }
        node.for_each_child(|c| {
            *uses.entry(c).or_default() += 1;
            stack.push(c);
        });
    }
    // Children have smaller ids: ascending order binds every temporary after its operands.
    order.sort_unstable();
    let mut emitter = Emitter {
        graph,
        float,
        leaves,
        subst,
        bound: HashMap::new(),
    };
    let mut statements = Vec::new();
    for n in order {
        let trivial = matches!(graph.node(n), Node::Var(_) | Node::Const(_));
        if uses.get(&n).copied().unwrap_or(0) > 1 && !trivial {
            let value = emitter.expr(n, 0);
            let name = format_ident!("__{}{}", tag, n.index(), span = Span::call_site());
            statements.push(quote! { let #name = #value; });
            emitter.bound.insert(n, name);
        }
    }
    let exprs = roots.iter().map(|&r| emitter.expr(r, 0)).collect();
    Some((statements, exprs))
}

impl Emitter<'_> {
    fn level(&self, n: NodeId) -> u8 {
        if self.bound.contains_key(&n) || self.subst.contains_key(&n) {
            return ATOM;
        }
        match self.graph.node(n) {
            Node::Add(..) | Node::Sub(..) | Node::Sum(_) => SUM,
            Node::Mul(..) | Node::Div(..) => PRODUCT,
            Node::Neg(_) => UNARY,
            _ => ATOM,
        }
    }

    fn expr(&self, n: NodeId, needed: u8) -> TokenStream {
        if let Some(name) = self.bound.get(&n) {
            return quote! { #name };
        }
        if let Some(tokens) = self.subst.get(&n) {
            return tokens.clone();
        }
        let tokens = self.bare(n);
        if self.level(n) < needed {
            quote! { (#tokens) }
        } else {
            tokens
        }
    }

    /// One node's Rust expression, through the emitter's one mapping of IR operations to
    /// Rust (`code::emit_node`), with this emitter's bindings for leaves and shared nodes.
    fn bare(&self, n: NodeId) -> TokenStream {
        crate::rust::code::emit_node(
            self.graph.node(n),
            &|c, needed| self.expr(c, needed),
            &|v| self.leaves.get(&v).cloned().unwrap_or_default(),
            &|v| literal(self.float, v),
        )
    }
}
