//! Function bodies that mix fixed-size loops with straight-line code: the loops come from the
//! plan's tensor-level statements (the formulas `latex --form general` prints), everything
//! else from [`CodeGen`], and the two meet in arrays (`z1_values`, `z1_deltas`) that hold a
//! whole vector.

use std::collections::HashSet;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

mod extrema;
mod gradient;
mod steps;
mod sums;
mod vectors;

use super::code::{self, CodeGen};
use super::context::Ctx;
use super::indices::{index_ident, index_tokens, signed_tokens};
use super::names::Names;
use super::plan::Plan;
use crate::ir::{Node, NodeId, Var};
use crate::model::Symbol;
use crate::tensor::{Affine, IndexVar, Leaf, Tensor};

/// Partial sums of a reduction loop (the closing sum adds exactly eight).
const LANES: usize = 8;

/// What a gradient loop does with each element.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `g.W[i][j] = ...`
    Into,
    /// `p.W[i][j] -= lr * (...)`
    Step,
    /// `momentum_update(&mut p.W[i][j], &mut s.buf.W[i][j], ..)`
    Momentum,
    /// `adam_update(&mut p.W[i][j], &mut s.m.W[i][j], &mut s.v.W[i][j], ..)`
    Adam,
}

/// One function body under construction.
pub struct Body<'c, 'a> {
    ctx: &'c Ctx<'a>,
    plan: &'c Plan,
    /// The straight-line part; loops are pushed into its statements in order.
    pub code: CodeGen<'a>,
    /// Arrays bound so far.
    arrays: HashSet<(Family, usize)>,
    /// The letters of the index variables of the loop being written.
    letters: std::cell::RefCell<Vec<(IndexVar, char)>>,
}

/// Which array of a vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Its values: `h_values`.
    Values,
    /// Its deltas: `h_deltas`.
    Deltas,
    /// The argument of its element-wise function: `h_inner`.
    Inner,
}

/// The array of a vector's values, deltas or inner values. Element bindings end in
/// a digit or in `_delta` and temporaries have no `_`, so no other binding can share these
/// names.
pub fn array_ident(names: &Names, name: &str, family: Family) -> Ident {
    let suffix = match family {
        Family::Values => "values",
        Family::Deltas => "deltas",
        Family::Inner => "inner",
    };
    names.local(&format!("{name}_{suffix}"))
}

impl<'c, 'a> Body<'c, 'a> {
    /// An empty body.
    pub fn new(ctx: &'c Ctx<'a>) -> Body<'c, 'a> {
        Body {
            ctx,
            plan: &ctx.plan,
            code: ctx.codegen(),
            arrays: HashSet::new(),
            letters: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// Starts a loop whose own indices have these letters.
    fn name_indices(&self, own: &[(IndexVar, char)]) {
        *self.letters.borrow_mut() = own.to_vec();
    }

    /// The identifier of an index variable; a summed one gets the next free letter.
    fn ident(&self, var: IndexVar) -> Ident {
        let mut letters = self.letters.borrow_mut();
        if let Some(&(_, c)) = letters.iter().find(|(v, _)| *v == var) {
            return index_ident(&self.ctx.names, c);
        }
        let letter = crate::latex::indexed::SUMMED
            .iter()
            .copied()
            .find(|c| !letters.iter().any(|(_, u)| u == c))
            .unwrap_or('z');
        letters.push((var, letter));
        index_ident(&self.ctx.names, letter)
    }

    fn vars(&self, family: Family, v: usize) -> Vec<Var> {
        let layout = &self.ctx.derivation.layout;
        let values = layout.vars(Symbol::Vector(v));
        match family {
            Family::Deltas => values.filter_map(|var| layout.delta_of(var)).collect(),
            _ => values.collect(),
        }
    }

    /// Binds the array of a vector's values, deltas or inner values, if no loop has.
    fn materialize(&mut self, family: Family, v: usize) {
        if !self.arrays.insert((family, v)) {
            return;
        }
        let vars = self.vars(family, v);
        let reads = match family {
            Family::Inner => {
                let derivation = self.ctx.derivation;
                let inner: Vec<NodeId> = vars
                    .iter()
                    .filter_map(|var| {
                        let d = derivation.forward.iter().find(|d| d.var == *var)?;
                        match derivation.graph.node(d.value) {
                            Node::Func(_, a) => Some(*a),
                            _ => None,
                        }
                    })
                    .collect();
                self.code.compute(&inner)
            }
            _ => self.code.define(&vars),
        };
        let vector = &self.ctx.network.vectors[v];
        let name = array_ident(&self.ctx.names, &vector.name, family);
        let (ty, value) = match vector.shape {
            // A named scalar's values and delta live in arrays of one element.
            crate::model::Shape::Scalar => (self.ctx.array(reads.len()), quote! { [#(#reads),*] }),
            shape => (
                self.ctx.array_of(shape),
                crate::rust::context::shaped(&reads, shape),
            ),
        };
        self.code.push(quote! { let #name: #ty = #value; });
    }

    /// Binds every array and scalar a formula reads.
    fn prepare(&mut self, f: NodeId) {
        let program = &self.plan.program;
        let mut needs: Vec<(Family, usize)> = Vec::new();
        let mut loss = false;
        let mut stack = vec![f];
        while let Some(n) = stack.pop() {
            match program.graph.node(n) {
                Node::Var(v) => match program.leaf_of(*v) {
                    Leaf::Sum(_, body)
                    | Leaf::LogSumExp(_, body)
                    | Leaf::Extremum(_, _, body)
                    | Leaf::FirstExtremum(_, _, _, body) => stack.push(*body),
                    Leaf::Guard(..) => {}
                    Leaf::Call(_, args) | Leaf::CallDerivative(_, _, args) => {
                        stack.extend(args.iter().copied())
                    }
                    Leaf::Read(tensor, _) => match tensor {
                        Tensor::Value(Symbol::Vector(v)) => needs.push((Family::Values, *v)),
                        Tensor::Delta(Symbol::Vector(v)) => needs.push((Family::Deltas, *v)),
                        Tensor::Inner(v) => needs.push((Family::Inner, *v)),
                        Tensor::Value(Symbol::Loss) => loss = true,
                        Tensor::Value(_) | Tensor::Delta(_) => {}
                    },
                },
                node => node.for_each_child(|c| stack.push(c)),
            }
        }
        needs.sort_unstable();
        needs.dedup();
        for (family, v) in needs {
            self.materialize(family, v);
        }
        if loss {
            let var = self.ctx.derivation.layout.loss();
            self.code.define(&[var]);
        }
    }

    /// The forward loops, in evaluation order.
    pub fn forward(&mut self) {
        let network = self.ctx.network;
        let mut v = 0;
        while v < network.vectors.len() {
            if let Some(group) = network.recurrence_of(v) {
                self.steps_loop(Family::Values, group.clone());
                v = group.end;
                continue;
            }
            if let Some(f) = self.plan.forward[v] {
                self.vector_loop(Family::Values, v, f);
            }
            v += 1;
        }
    }

    /// The delta loops, from the loss backwards.
    pub fn deltas(&mut self) {
        let network = self.ctx.network;
        let mut v = network.vectors.len();
        while v > 0 {
            if let Some(group) = network.recurrence_of(v - 1) {
                self.steps_loop(Family::Deltas, group.clone());
                v = group.start;
                continue;
            }
            v -= 1;
            if let Some(f) = self.plan.delta[v] {
                self.vector_loop(Family::Deltas, v, f);
            }
        }
    }

    /// Rust for a formula node inside loops.
    fn expr(&self, n: NodeId, needed: u8) -> TokenStream {
        let program = &self.plan.program;
        let node = program.graph.node(n);
        // `[cond] * x` reads x only where cond holds: x may index outside its tensor elsewhere.
        if let Node::Mul(a, b) = node {
            for (guard, other) in [(*a, *b), (*b, *a)] {
                if let Some(Leaf::Guard(affine, lo, hi)) = program.leaf_at(guard) {
                    let x = self.expr(other, 0);
                    let test = self.bracket_test(affine, *lo, *hi);
                    return quote! { (if #test { #x } else { 0.0 }) };
                }
            }
            // A bracket deeper among the factors (`([..] d) [first max]`): the whole product
            // is computed only where it holds, since any factor may read outside its tensor.
            if let Some(guard) = self.nested_guard(n)
                && let Some(Leaf::Guard(affine, lo, hi)) = program.leaf_at(guard)
            {
                let x = self.product_without(n, guard, 0);
                let test = self.bracket_test(affine, *lo, *hi);
                return quote! { (if #test { #x } else { 0.0 }) };
            }
        }
        let tokens = match node {
            Node::Var(v) => return self.leaf(program.leaf_of(*v)),
            _ => code::emit_node(
                node,
                &|c, needed| self.expr(c, needed),
                &|_| TokenStream::new(),
                &|v| self.code.literal(v),
            ),
        };
        if code::level(node) < needed {
            quote! { (#tokens) }
        } else {
            tokens
        }
    }

    /// A bracket among the factors of a product, found through nested products.
    fn nested_guard(&self, n: NodeId) -> Option<NodeId> {
        self.guard_where(n, &|_| true)
    }

    /// The first bracket among the factors of a product (nested products included) whose
    /// index satisfies `test`.
    fn guard_where(&self, n: NodeId, test: &dyn Fn(&Affine) -> bool) -> Option<NodeId> {
        let program = &self.plan.program;
        match program.graph.node(n) {
            Node::Mul(a, b) => self
                .guard_where(*a, test)
                .or_else(|| self.guard_where(*b, test)),
            Node::Var(_) => match program.leaf_at(n) {
                Some(Leaf::Guard(affine, ..)) if test(affine) => Some(n),
                _ => None,
            },
            _ => None,
        }
    }

    /// Every bracket among the factors of the product `n` whose index passes `test`, in the
    /// product's order.
    fn guards_where(&self, n: NodeId, test: &dyn Fn(&Affine) -> bool) -> Vec<NodeId> {
        let program = &self.plan.program;
        match program.graph.node(n) {
            Node::Mul(a, b) => {
                let mut guards = self.guards_where(*a, test);
                guards.extend(self.guards_where(*b, test));
                guards
            }
            Node::Var(_) => match program.leaf_at(n) {
                Some(Leaf::Guard(affine, ..)) if test(affine) => vec![n],
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// A product with the factors `left_out` left out, in its own order of evaluation,
    /// parenthesised below `needed`; `None` when nothing is left.
    fn product_without_all(
        &self,
        n: NodeId,
        left_out: &[NodeId],
        needed: u8,
    ) -> Option<TokenStream> {
        if left_out.contains(&n) {
            return None;
        }
        let program = &self.plan.program;
        let Node::Mul(a, b) = program.graph.node(n) else {
            return Some(self.expr(n, needed));
        };
        let (a, b) = (*a, *b);
        let a_part = self.product_without_all(a, left_out, code::PRODUCT);
        let b_part = self.product_without_all(b, left_out, code::UNARY);
        match (a_part, b_part) {
            (None, None) => None,
            (Some(_), None) => self.product_without_all(a, left_out, needed),
            (None, Some(_)) => self.product_without_all(b, left_out, needed),
            (Some(a), Some(b)) if needed > code::PRODUCT => Some(quote! { (#a * #b) }),
            (Some(a), Some(b)) => Some(quote! { #a * #b }),
        }
    }

    /// Whether `factor` is one of the factors of the product `n` (nested products included).
    fn has_factor(&self, n: NodeId, factor: NodeId) -> bool {
        n == factor
            || matches!(self.plan.program.graph.node(n),
                Node::Mul(a, b) if self.has_factor(*a, factor) || self.has_factor(*b, factor))
    }

    /// A product with one of its (nested) factors left out, in its own order of evaluation,
    /// parenthesised below `needed`.
    fn product_without(&self, n: NodeId, guard: NodeId, needed: u8) -> TokenStream {
        let program = &self.plan.program;
        let Node::Mul(a, b) = program.graph.node(n) else {
            return self.expr(n, needed);
        };
        let (a, b) = (*a, *b);
        if a == guard {
            return self.expr(b, needed);
        }
        if b == guard {
            return self.expr(a, needed);
        }
        let (a, b) = if self.has_factor(a, guard) {
            (
                self.product_without(a, guard, code::PRODUCT),
                self.expr(b, code::UNARY),
            )
        } else {
            (
                self.expr(a, code::PRODUCT),
                self.product_without(b, guard, code::UNARY),
            )
        };
        if needed > code::PRODUCT {
            quote! { (#a * #b) }
        } else {
            quote! { #a * #b }
        }
    }

    /// `lo <= a && a < hi`: whether an Iverson bracket `[lo <= a < hi]` holds.
    fn bracket_test(&self, affine: &Affine, lo: i64, hi: i64) -> TokenStream {
        let at = signed_tokens(affine, &|v| self.ident(v));
        let (lo, hi) = (
            Literal::isize_unsuffixed(lo as isize),
            Literal::isize_unsuffixed(hi as isize),
        );
        quote! { #lo <= #at && #at < #hi }
    }

    fn leaf(&self, leaf: &Leaf) -> TokenStream {
        match leaf {
            // The plan's statements write user functions in place (`program_with(.., false)`):
            // a call by name here is a broken assumption.
            Leaf::Call(..) | Leaf::CallDerivative(..) => {
                panic!("a loop formula calls a user function by name") // ok: a broken internal assumption (the plan never loops such a formula)
            }
            Leaf::Sum(bounds, body) => self.sum(bounds, *body),
            Leaf::Guard(affine, lo, hi) => {
                let test = self.bracket_test(affine, *lo, *hi);
                quote! { (if #test { 1.0 } else { 0.0 }) }
            }
            // The plan leaves formulas with a log-sum-exp to straight-line code, which has
            // its stable two-pass form: reaching one here is a broken assumption.
            Leaf::LogSumExp(..) => panic!("a loop formula holds a log-sum-exp"), // ok: a broken internal assumption (the plan never loops such a formula)
            Leaf::Extremum(f, bound, body) => self.extremum(*f, bound, *body),
            Leaf::FirstExtremum(f, at, bound, body) => self.first_extremum(*f, at, bound, *body),
            Leaf::Read(tensor, indices) => self.read(*tensor, indices),
        }
    }

    /// An element of a tensor at computed indices.
    fn read(&self, tensor: Tensor, indices: &[Affine]) -> TokenStream {
        let network = self.ctx.network;
        let first = indices.first().map(|a| index_tokens(a, &|v| self.ident(v)));
        let mut indices: Vec<TokenStream> = indices
            .iter()
            .map(|a| {
                let i = index_tokens(a, &|v| self.ident(v));
                quote! { [#i] }
            })
            .collect();
        // A named scalar's values and delta live in arrays of one element.
        if let Tensor::Value(Symbol::Vector(v)) | Tensor::Delta(Symbol::Vector(v)) = tensor
            && network.vectors[v].shape == crate::model::Shape::Scalar
        {
            indices = vec![quote! { [0] }];
        }
        match tensor {
            Tensor::Value(Symbol::Loss) => {
                let loss = self.code.var_ident(self.ctx.derivation.layout.loss());
                quote! { #loss }
            }
            Tensor::Value(Symbol::Param(q)) => {
                let (p, field) = (&self.ctx.p, &self.ctx.param_fields[q]);
                quote! { #p.#field #(#indices)* }
            }
            Tensor::Value(Symbol::Vector(v)) => {
                let name = array_ident(&self.ctx.names, &network.vectors[v].name, Family::Values);
                quote! { #name #(#indices)* }
            }
            Tensor::Delta(Symbol::Vector(v)) => {
                let name = array_ident(&self.ctx.names, &network.vectors[v].name, Family::Deltas);
                quote! { #name #(#indices)* }
            }
            Tensor::Inner(v) => {
                let name = array_ident(&self.ctx.names, &network.vectors[v].name, Family::Inner);
                quote! { #name #(#indices)* }
            }
            Tensor::Value(Symbol::Target(t))
                if network.targets[t].kind == chainrule_grammar::TargetKind::Label =>
            {
                // A label is its class index: one element of its one-hot vector.
                let name = self.ctx.names.data(Symbol::Target(t));
                let (f, n) = (
                    &self.ctx.f,
                    Literal::usize_unsuffixed(network.targets[t].size),
                );
                let k = first.unwrap_or_default();
                quote! { ::chainrule::runtime::onehot::<#f>(#name, #k, #n) }
            }
            Tensor::Value(symbol @ (Symbol::Input(_) | Symbol::Target(_))) => {
                let name = self.ctx.names.data(symbol);
                quote! { #name #(#indices)* }
            }
            // A formula never reads a gradient (the plan loops only deltas and gradients
            // of the loss): reaching one is a broken assumption, not a number to guess.
            Tensor::Delta(s) => panic!("a loop formula reads the gradient of {s:?}"), // ok: a broken internal assumption (the plan never loops such a formula)
        }
    }
}

/// The gradient argument `g`.
pub fn gradient_ident(names: &Names) -> Ident {
    names.local("g")
}
