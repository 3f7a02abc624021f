//! One formula over every row of a chunk: the reads of the rows become slices of the chunk's
//! buffers, the reductions inside it (sums, maxima, log-sum-exps) are lifted into rows of
//! their own computed first, and what remains is one loop over the rows that the compiler
//! vectorizes, since each buffer holds an element's rows side by side.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::builtin::Pairwise;
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};
use crate::rust::Float;
use crate::rust::code;
use crate::rust::indices::{index_tokens, signed_tokens};
use crate::tensor::{Affine, IndexVar, Leaf, Program, Tensor, tensor_dims};

/// What the loop over the rows does with each row's value.
pub(super) enum Store<'s> {
    /// `out[r] = value`
    Assign(&'s Ident),
    /// `out[r] += value`
    Add(&'s Ident),
    /// `out[r] = maximum(out[r], value)` (or `minimum`)
    Fold(&'s Ident, Pairwise),
    /// The first-extremum fold: replace `best[r]` and record `j` in `first[r]` where the
    /// fold of `maximum` would take the new value.
    First(&'s Ident, &'s Ident, &'s Ident, Pairwise),
    /// `sum[r] += exp(value - max[r])`
    ExpAdd(&'s Ident, &'s Ident),
}

/// The reads and lifted reductions of one loop over the rows.
#[derive(Default)]
pub(super) struct Scope {
    pub(super) lifted: Vec<(NodeId, TokenStream)>,
    pub(super) rows: Vec<(NodeId, Ident)>,
}

/// Writes the loops of one statement's formulas over a chunk.
pub(super) struct Rows<'a> {
    pub network: &'a Network,
    pub program: &'a Program,
    pub float: Float,
    /// The range of every index variable bound by an enclosing loop (looked up, never
    /// iterated).
    sizes: RefCell<HashMap<IndexVar, usize>>,
    /// Row temporaries used so far by the statement being written.
    temps: Cell<usize>,
    /// The rows (a multiple of the chunk's) of each hoisted buffer of that statement.
    hoists: RefCell<Vec<usize>>,
    /// Formula nodes the statement reads from a hoisted GEMM's result instead: the slice of
    /// the current element's rows.
    pub(super) substitutes: RefCell<Vec<(NodeId, TokenStream)>>,
    /// Reductions computed before the loops being written, with their values.
    pub(super) prelifted: RefCell<Vec<(NodeId, TokenStream)>>,
    /// Which formula nodes read no row (looked up, never iterated).
    pub(super) free_of_rows: RefCell<HashMap<NodeId, bool>>,
}

/// The Rust name of an index variable: unique in the whole program.
pub(super) fn index_ident(v: IndexVar) -> Ident {
    format_ident!("__i{}", v.0)
}

/// The `k`-th row temporary of a statement.
pub(super) fn temp_ident(k: usize) -> Ident {
    format_ident!("__t{}", k)
}

/// The `k`-th hoisted buffer of a statement.
pub(super) fn hoisted_ident(k: usize) -> Ident {
    format_ident!("__h{}", k)
}

/// The chunk's buffer of a tensor: element `e` of row `r` at `e * m + r`.
pub(super) fn buffer_ident(network: &Network, tensor: Tensor) -> Ident {
    match tensor {
        Tensor::Value(Symbol::Vector(v)) => format_ident!("__sv{}", v),
        Tensor::Delta(Symbol::Vector(v)) => format_ident!("__sd{}", v),
        Tensor::Inner(v) => format_ident!("__si{}", v),
        Tensor::Value(Symbol::Input(i)) => format_ident!("__sx{}", i),
        Tensor::Value(Symbol::Target(t)) => format_ident!("__sx{}", network.inputs.len() + t),
        Tensor::Value(Symbol::Loss) => format_ident!("__sl"),
        // A parameter is read element by element, not by rows.
        Tensor::Value(Symbol::Param(q)) => param_ident(q),
        // The form is refused for programs whose formulas read gradients (`statements::form`).
        Tensor::Delta(s) => format_ident!("__unread_{}", symbol_tag(s)),
    }
}

fn symbol_tag(s: Symbol) -> String {
    match s {
        Symbol::Input(i) => format!("x{i}"),
        Symbol::Target(i) => format!("y{i}"),
        Symbol::Vector(i) => format!("v{i}"),
        Symbol::Param(i) => format!("p{i}"),
        Symbol::Loss => "l".into(),
    }
}

/// A parameter's elements as one flat slice.
pub(super) fn param_ident(q: usize) -> Ident {
    format_ident!("__pf{}", q)
}

/// A label target's class per row.
pub(super) fn label_ident(t: usize) -> Ident {
    format_ident!("__lab{}", t)
}

impl<'a> Rows<'a> {
    pub fn new(network: &'a Network, program: &'a Program, float: Float) -> Rows<'a> {
        Rows {
            network,
            program,
            float,
            sizes: RefCell::new(HashMap::new()),
            temps: Cell::new(0),
            hoists: RefCell::new(Vec::new()),
            substitutes: RefCell::new(Vec::new()),
            prelifted: RefCell::new(Vec::new()),
            free_of_rows: RefCell::new(HashMap::new()),
        }
    }

    /// Starts a statement: its temporaries are numbered from 0.
    pub fn start_statement(&self) {
        self.temps.set(0);
        self.hoists.borrow_mut().clear();
        self.substitutes.borrow_mut().clear();
        self.prelifted.borrow_mut().clear();
        self.free_of_rows.borrow_mut().clear();
    }

    /// A fresh buffer of `elements` rows of the chunk, for a GEMM's operand or result.
    pub fn hoisted(&self, elements: usize) -> Ident {
        let mut hoists = self.hoists.borrow_mut();
        hoists.push(elements);
        hoisted_ident(hoists.len() - 1)
    }

    /// The sizes of the hoisted buffers of the statement being written.
    pub fn hoists_used(&self) -> Vec<usize> {
        self.hoists.borrow().clone()
    }

    /// Whether the statement reads `node` from a hoisted GEMM's result.
    pub fn is_substituted(&self, node: NodeId) -> bool {
        self.substitutes.borrow().iter().any(|(m, _)| *m == node)
    }

    /// From here on, the statement reads `node` as the rows `slice`.
    pub fn substitute(&self, node: NodeId, slice: TokenStream) {
        self.substitutes.borrow_mut().push((node, slice));
    }

    /// How many temporaries the statement written since [`Rows::start_statement`] uses.
    pub fn temps_used(&self) -> usize {
        self.temps.get()
    }

    /// A fresh row temporary.
    pub fn temp(&self) -> Ident {
        let k = self.temps.get();
        self.temps.set(k + 1);
        temp_ident(k)
    }

    /// Records that `v` ranges over `0..size` in the code that follows.
    pub fn bind(&self, v: IndexVar, size: usize) {
        self.sizes.borrow_mut().insert(v, size);
    }

    /// `for v in 0..size { body }`, with `v` bound while `body` is written.
    pub fn for_var(
        &self,
        v: IndexVar,
        size: usize,
        reverse: bool,
        body: impl FnOnce() -> TokenStream,
    ) -> TokenStream {
        self.bind(v, size);
        let (i, n) = (index_ident(v), Literal::usize_unsuffixed(size));
        let body = body();
        if reverse {
            quote! { for #i in (0..#n).rev() { #body } }
        } else {
            quote! { for #i in 0..#n { #body } }
        }
    }

    /// The flat element of `tensor` at `indices`, an index that could leave its axis (only
    /// where a bracket discards the read) clamped into it.
    pub fn element(&self, tensor: Tensor, indices: &[Affine]) -> TokenStream {
        let dims = tensor_dims(self.network, tensor);
        let sizes = self.sizes.borrow();
        let size = |v: IndexVar| sizes.get(&v).map_or(i64::MAX / 4, |&n| n as i64);
        let mut terms = Vec::new();
        let mut stride = 1usize;
        for (a, &dim) in indices.iter().zip(&dims).rev() {
            let (lo, hi) = a.bounds(&size);
            let index = if lo >= 0 && hi < dim as i64 {
                index_tokens(a, &|v| index_ident(v))
            } else {
                let signed = signed_tokens(a, &|v| index_ident(v));
                let dim = Literal::usize_unsuffixed(dim);
                quote! { ::chainrule::runtime::clamp_index(#signed, #dim) }
            };
            terms.push(if stride == 1 {
                index
            } else {
                let s = Literal::usize_unsuffixed(stride);
                quote! { #index * #s }
            });
            stride *= dim;
        }
        match terms.len() {
            0 => quote! { 0usize },
            _ => {
                terms.reverse();
                quote! { (#(#terms)+*) }
            }
        }
    }

    /// The loop over the rows that stores `node`'s value of each row, after the reductions
    /// it holds.
    pub fn row_loop(&self, node: NodeId, store: Store<'_>) -> TokenStream {
        self.product_loop(&[node], store)
    }

    /// [`Rows::row_loop`] of the product of `factors`.
    pub fn product_loop(&self, factors: &[NodeId], store: Store<'_>) -> TokenStream {
        self.loop_over(factors, store, false)
    }

    /// [`Rows::product_loop`], over row 0 alone if `one_row` (a value the same in every row,
    /// stored for row 0). Brackets among the factors of a sum's term hold or fail for every
    /// row alike: tested once around the loop.
    pub(super) fn loop_over(
        &self,
        factors: &[NodeId],
        store: Store<'_>,
        one_row: bool,
    ) -> TokenStream {
        if let Store::Add(_) = store {
            let (mut brackets, mut others) = (Vec::new(), Vec::new());
            for &f in factors {
                let (b, o) = self.split_brackets(f);
                brackets.extend(b);
                others.extend(o);
            }
            if !brackets.is_empty() {
                let test = self.guards_test(&brackets);
                let inner = self.loop_over(&others, store, one_row);
                return quote! { if #test { #inner } };
            }
        }
        let mut scope = Scope::default();
        let mut pre = TokenStream::new();
        for &f in factors {
            self.collect(f, &mut scope, &mut pre);
        }
        let value = match factors {
            [single] => self.expr(*single, 0, &scope),
            _ => {
                let mut each = factors.iter().map(|&f| self.expr(f, code::UNARY, &scope));
                let first = each.next().unwrap_or_else(|| quote! { 1.0 });
                each.fold(first, |product, f| quote! { #product * #f })
            }
        };
        let store = match store {
            Store::Assign(out) => quote! { #out[__r] = #value; },
            Store::Add(out) => quote! { #out[__r] += #value; },
            Store::Fold(out, f) => {
                let pick = pick(f);
                quote! { #out[__r] = #pick(#out[__r], #value); }
            }
            Store::First(best, first, j, f) => {
                // `best` keeps its value where `[best >= v]` (`[v >= best]` for a minimum),
                // else takes `v` and `first` takes `j`: arithmetic on that bracket, exact
                // (one side is times 0), not a branch that random data mispredicts.
                let keeps = match f {
                    Pairwise::Minimum => {
                        quote! { ::chainrule::runtime::Real::at_least(__v, #best[__r]) }
                    }
                    _ => quote! { ::chainrule::runtime::Real::at_least(#best[__r], __v) },
                };
                let pick = pick(f);
                quote! {
                    let __v: F = #value;
                    let __keep: F = #keeps;
                    #best[__r] = #pick(#best[__r], __v);
                    #first[__r] = __keep * #first[__r] + (1.0 - __keep) * (#j as F);
                }
            }
            Store::ExpAdd(sum, max) => {
                quote! { #sum[__r] += (#value - #max[__r]).exp(); }
            }
        };
        let range = if one_row {
            quote! { 0..1 }
        } else {
            quote! { 0..__m }
        };
        quote! {
            #pre
            for __r in #range {
                #store
            }
        }
    }

    /// Rust for a formula node in row `__r`.
    fn expr(&self, n: NodeId, needed: u8, scope: &Scope) -> TokenStream {
        let program = self.program;
        let node = program.graph.node(n);
        // `[cond] * x` computes x only where cond holds, as the per-sample loops do: the
        // rows of x may be stale (its reduction skipped) or clamped elsewhere.
        if let Node::Mul(..) = node {
            let (brackets, others) = self.split_brackets(n);
            if !brackets.is_empty() {
                let test = self.guards_test(&brackets);
                let mut each = others.iter().map(|&f| self.expr(f, code::UNARY, scope));
                let first = each.next().unwrap_or_else(|| quote! { 1.0 });
                let x = each.fold(first, |product, f| quote! { #product * #f });
                return quote! { (if #test { #x } else { 0.0 }) };
            }
        }
        if let Some((_, value)) = scope.lifted.iter().find(|(m, _)| *m == n) {
            return value.clone();
        }
        if let Some((_, slice)) = scope.rows.iter().find(|(m, _)| *m == n) {
            return quote! { #slice[__r] };
        }
        let tokens = match node {
            Node::Var(v) => return self.leaf(program.leaf_of(*v)),
            _ => code::emit_node(
                node,
                &|c, needed| self.expr(c, needed, scope),
                &|_| TokenStream::new(),
                &|v| code::literal(self.float, v),
            ),
        };
        if code::level(node) < needed {
            quote! { (#tokens) }
        } else {
            tokens
        }
    }

    /// A leaf that is neither lifted nor a row read: a parameter's element, a label's
    /// one-hot element, a bracket.
    fn leaf(&self, leaf: &Leaf) -> TokenStream {
        match leaf {
            Leaf::Read(tensor @ Tensor::Value(Symbol::Param(q)), indices) => {
                let (flat, at) = (param_ident(*q), self.element(*tensor, indices));
                quote! { #flat[#at] }
            }
            Leaf::Read(Tensor::Value(Symbol::Target(t)), indices) => {
                let label = label_ident(*t);
                let k = indices
                    .first()
                    .map_or(quote! { 0usize }, |a| index_tokens(a, &|v| index_ident(v)));
                quote! { (if #label[__r] == #k { 1.0 } else { 0.0 }) }
            }
            Leaf::Guard(affine, lo, hi) => {
                let test = bracket_test(affine, *lo, *hi);
                quote! { (if #test { 1.0 } else { 0.0 }) }
            }
            // `statements::form` refuses programs with any other leaf here.
            _ => quote! { 0.0 },
        }
    }
}

/// `lo <= a && a < hi`.
pub(super) fn bracket_test(affine: &Affine, lo: i64, hi: i64) -> TokenStream {
    let at = signed_tokens(affine, &|v| index_ident(v));
    let (lo, hi) = (
        Literal::isize_unsuffixed(lo as isize),
        Literal::isize_unsuffixed(hi as isize),
    );
    quote! { #lo <= #at && #at < #hi }
}

fn pick(f: Pairwise) -> TokenStream {
    match f {
        Pairwise::Minimum => quote! { ::chainrule::runtime::Real::minimum },
        _ => quote! { ::chainrule::runtime::Real::maximum },
    }
}
