//! Function bodies that mix fixed-size loops with straight-line code: the loops come from the
//! plan's general formulas, everything else from [`CodeGen`], and the two meet in arrays
//! (`z1_values`, `z1_deltas`) that hold a whole vector.

use std::collections::HashSet;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::code::{self, CodeGen};
use super::context::Ctx;
use super::names::Names;
use super::plan::Plan;
use crate::ir::{Node, NodeId, Var};
use crate::latex::general::{Index, Leaf, SlotKind};
use crate::model::{Shape, Symbol};

/// Partial sums of a reduction loop (the closing sum adds exactly eight).
const LANES: usize = 8;

/// What a gradient loop does with each element.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// `g.W[i][j] = ...`
    Into,
    /// `p.W[i][j] -= lr * (...)`
    Step,
}

/// One function body under construction.
pub struct Body<'c, 'a> {
    ctx: &'c Ctx<'a>,
    plan: &'c Plan<'a>,
    /// The straight-line part; loops are pushed into its statements in order.
    pub code: CodeGen<'a>,
    /// Arrays bound so far.
    arrays: HashSet<(Family, usize)>,
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

/// The name of a loop's or a sum's index variable.
fn index_ident(names: &Names, letter: char) -> Ident {
    names.local(&format!("ix_{letter}"))
}

/// The array of a vector's values, deltas or inner values. Element bindings end in a digit or
/// in `_delta` and temporaries have no `_`, so no other binding can share these names.
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
        }
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
        let name = array_ident(&self.ctx.names, &self.ctx.network.vectors[v].name, family);
        let ty = self.ctx.array(reads.len());
        self.code.push(quote! { let #name: #ty = [#(#reads),*]; });
    }

    /// Binds every array and scalar a formula reads.
    fn prepare(&mut self, f: NodeId) {
        let formulas = &self.plan.formulas;
        let mut needs: Vec<(Family, usize)> = Vec::new();
        let mut loss = false;
        let mut stack = vec![f];
        while let Some(n) = stack.pop() {
            match formulas.graph.node(n) {
                Node::Var(v) => match formulas.leaf_of(*v) {
                    Leaf::SumOver(_, _, body) => stack.push(*body),
                    Leaf::Element { slot_of, .. } => match slot_of {
                        SlotKind::Value(Symbol::Vector(v)) => needs.push((Family::Values, *v)),
                        SlotKind::Delta(v) => needs.push((Family::Deltas, *v)),
                        SlotKind::Inner(v) => needs.push((Family::Inner, *v)),
                        SlotKind::Value(Symbol::Loss) => loss = true,
                        SlotKind::Value(_) => {}
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
        for v in 0..self.ctx.network.vectors.len() {
            if let Some(f) = self.plan.forward[v] {
                self.vector_loop(Family::Values, v, f);
            }
        }
    }

    /// The delta loops, from the loss backwards.
    pub fn deltas(&mut self) {
        for v in (0..self.ctx.network.vectors.len()).rev() {
            if let Some(f) = self.plan.delta[v] {
                self.vector_loop(Family::Deltas, v, f);
            }
        }
    }

    /// `name[k] = f` for every element of vector `v`.
    fn vector_loop(&mut self, family: Family, v: usize, f: NodeId) {
        self.prepare(f);
        let vector = &self.ctx.network.vectors[v];
        let name = array_ident(&self.ctx.names, &vector.name, family);
        let (n, ty) = (
            Literal::usize_unsuffixed(vector.size),
            self.ctx.array(vector.size),
        );
        let k = index_ident(&self.ctx.names, 'k');
        let formulas = &self.plan.formulas;
        // A sum over the rows of a matrix read by column (`sum_i delta_i W_ik`) runs row by
        // row instead, so the inner loop walks memory in order; each element still adds its
        // terms in the same order, so the result is the same to the bit.
        let interchanged = match formulas.graph.node(f) {
            Node::Var(leaf) => match formulas.leaf_of(*leaf) {
                Leaf::SumOver(s, count, body) if reads_by_column(self.plan, *body, *s) => {
                    Some((*s, *count, *body))
                }
                _ => None,
            },
            _ => None,
        };
        let statement = match interchanged {
            Some((s, count, body)) => {
                let (si, m) = (
                    index_ident(&self.ctx.names, s),
                    Literal::usize_unsuffixed(count),
                );
                let body = self.expr(body, 0);
                quote! {
                    let mut #name: #ty = [0.0; #n];
                    for #si in 0..#m {
                        for #k in 0..#n {
                            #name[#k] += #body;
                        }
                    }
                }
            }
            None => match formulas.graph.node(f) {
                // An element-wise function of an argument that is not a leaf: the argument
                // gets its own array too, for the formulas that read it (relu's derivative).
                node @ Node::Func(_, a)
                    if family == Family::Values
                        && !matches!(formulas.graph.node(*a), Node::Var(_) | Node::Const(_)) =>
                {
                    let inner = array_ident(&self.ctx.names, &vector.name, Family::Inner);
                    let argument = self.expr(*a, 0);
                    let outer = code::emit_node(
                        node,
                        &|_, _| quote! { #inner[#k] },
                        &|_| TokenStream::new(),
                        &|v| self.code.literal(v),
                    );
                    self.arrays.insert((Family::Inner, v));
                    quote! {
                        let mut #inner: #ty = [0.0; #n];
                        let mut #name: #ty = [0.0; #n];
                        for #k in 0..#n {
                            #inner[#k] = #argument;
                            #name[#k] = #outer;
                        }
                    }
                }
                _ => {
                    let body = self.expr(f, 0);
                    quote! {
                        let mut #name: #ty = [0.0; #n];
                        for #k in 0..#n {
                            #name[#k] = #body;
                        }
                    }
                }
            },
        };
        self.code.push(statement);
        self.arrays.insert((family, v));
        for (e, var) in self.vars(family, v).into_iter().enumerate() {
            let e = Literal::usize_unsuffixed(e);
            self.code.store(var, quote! { #name[#e] });
        }
    }

    /// The gradient loops, which write `g` or update `p`; their inputs are bound first.
    /// The caller emits them after the straight-line part, so that in a step every value
    /// is computed before the first weight changes.
    pub fn gradient_loops(&mut self, write: Write) -> Vec<TokenStream> {
        let network = self.ctx.network;
        let mut loops = Vec::new();
        for (q, param) in network.params.iter().enumerate() {
            let Some(f) = self.plan.gradient[q] else {
                continue;
            };
            self.prepare(f);
            let field = &self.ctx.param_fields[q];
            let target = match write {
                Write::Into => {
                    let g = gradient_ident(&self.ctx.names);
                    quote! { #g.#field }
                }
                Write::Step => {
                    let p = &self.ctx.p;
                    quote! { #p.#field }
                }
            };
            let body = self.expr(f, 0);
            let (i, j) = (
                index_ident(&self.ctx.names, 'i'),
                index_ident(&self.ctx.names, 'j'),
            );
            let (element, bounds): (TokenStream, Vec<(Ident, usize)>) = match param.shape {
                Shape::Scalar => (target, vec![]),
                Shape::Vector(n) => (quote! { #target[#i] }, vec![(i, n)]),
                Shape::Matrix(r, c) => (quote! { #target[#i][#j] }, vec![(i, r), (j, c)]),
            };
            let mut statement = match write {
                Write::Into => quote! { #element = #body; },
                Write::Step => {
                    let lr = self.ctx.names.local("lr");
                    quote! { #element -= #lr * (#body); }
                }
            };
            for (index, bound) in bounds.into_iter().rev() {
                let bound = Literal::usize_unsuffixed(bound);
                statement = quote! { for #index in 0..#bound { #statement } };
            }
            loops.push(statement);
        }
        loops
    }

    /// Rust for a formula node inside loops.
    fn expr(&self, n: NodeId, needed: u8) -> TokenStream {
        let formulas = &self.plan.formulas;
        let node = formulas.graph.node(n);
        let tokens = match node {
            Node::Var(v) => return self.leaf(formulas.leaf_of(*v)),
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

    fn leaf(&self, leaf: &Leaf) -> TokenStream {
        let network = self.ctx.network;
        match leaf {
            Leaf::SumOver(letter, count, body) => {
                let i = index_ident(&self.ctx.names, *letter);
                let body = self.expr(*body, 0);
                let acc = self.ctx.names.local("acc");
                // Blocks in parentheses: an operand wherever they stand.
                if *count < 2 * LANES {
                    let count = Literal::usize_unsuffixed(*count);
                    return quote! { ({ let mut #acc: F = 0.0; for #i in 0..#count { #acc += #body; } #acc }) };
                }
                // LANES independent partial sums, as a careful hand-written dot product keeps:
                // with one running sum IEEE order chains every add, and LLVM may not vectorize.
                let (lane, chunk) = (self.ctx.names.local("lane"), self.ctx.names.local("chunk"));
                let lanes = Literal::usize_unsuffixed(LANES);
                let chunks = Literal::usize_unsuffixed(count / LANES);
                let tail = (count % LANES != 0).then(|| {
                    let (start, end) = (
                        Literal::usize_unsuffixed(count / LANES * LANES),
                        Literal::usize_unsuffixed(*count),
                    );
                    quote! { for #i in #start..#end { #acc[0] += #body; } }
                });
                quote! {
                    ({
                        let mut #acc: [F; #lanes] = [0.0; #lanes];
                        for #chunk in 0..#chunks {
                            for #lane in 0..#lanes {
                                let #i = #chunk * #lanes + #lane;
                                #acc[#lane] += #body;
                            }
                        }
                        #tail
                        ((#acc[0] + #acc[1]) + (#acc[2] + #acc[3])) + ((#acc[4] + #acc[5]) + (#acc[6] + #acc[7]))
                    })
                }
            }
            Leaf::Element { slot_of, indices } => {
                let indices: Vec<TokenStream> = indices
                    .iter()
                    .map(|i| match i {
                        Index::Const(c) => {
                            let c = Literal::usize_unsuffixed(*c);
                            quote! { [#c] }
                        }
                        Index::Var(letter) => {
                            let i = index_ident(&self.ctx.names, *letter);
                            quote! { [#i] }
                        }
                    })
                    .collect();
                match slot_of {
                    SlotKind::Value(Symbol::Loss) => {
                        let loss = self.code.var_ident(self.ctx.derivation.layout.loss());
                        quote! { #loss }
                    }
                    SlotKind::Value(Symbol::Param(q)) => {
                        let (p, field) = (&self.ctx.p, &self.ctx.param_fields[*q]);
                        quote! { #p.#field #(#indices)* }
                    }
                    SlotKind::Value(Symbol::Vector(v)) => {
                        let name =
                            array_ident(&self.ctx.names, &network.vectors[*v].name, Family::Values);
                        quote! { #name #(#indices)* }
                    }
                    SlotKind::Delta(v) => {
                        let name =
                            array_ident(&self.ctx.names, &network.vectors[*v].name, Family::Deltas);
                        quote! { #name #(#indices)* }
                    }
                    SlotKind::Inner(v) => {
                        let name =
                            array_ident(&self.ctx.names, &network.vectors[*v].name, Family::Inner);
                        quote! { #name #(#indices)* }
                    }
                    SlotKind::Value(symbol) => {
                        let name = self.ctx.names.data(*symbol);
                        quote! { #name #(#indices)* }
                    }
                }
            }
        }
    }
}

/// The gradient argument `g`.
pub fn gradient_ident(names: &Names) -> Ident {
    names.local("g")
}

/// Whether a sum's body reads a matrix as `M[s][k]`: the summation index first, the element's
/// own last.
fn reads_by_column(plan: &Plan<'_>, body: NodeId, s: char) -> bool {
    let formulas = &plan.formulas;
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match formulas.graph.node(n) {
            Node::Var(v) => match formulas.leaf_of(*v) {
                Leaf::Element { indices, .. } => {
                    if indices[..] == [Index::Var(s), Index::Var('k')] {
                        return true;
                    }
                }
                Leaf::SumOver(..) => {}
            },
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    false
}
