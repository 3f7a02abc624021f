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
use crate::tensor::{Affine, Bound, IndexVar, Leaf, Program, Tensor, tensor_dims};

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
struct Scope {
    lifted: Vec<(NodeId, TokenStream)>,
    rows: Vec<(NodeId, Ident)>,
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
    substitutes: RefCell<Vec<(NodeId, TokenStream)>>,
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
        }
    }

    /// Starts a statement: its temporaries are numbered from 0.
    pub fn start_statement(&self) {
        self.temps.set(0);
        self.hoists.borrow_mut().clear();
        self.substitutes.borrow_mut().clear();
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
                let keeps = match f {
                    Pairwise::Minimum => quote! { #best[__r] <= __v },
                    _ => quote! { #best[__r] >= __v },
                };
                quote! {
                    let __v: F = #value;
                    if !(#keeps) {
                        #best[__r] = __v;
                        #first[__r] = #j as F;
                    }
                }
            }
            Store::ExpAdd(sum, max) => {
                quote! { #sum[__r] += (#value - #max[__r]).exp(); }
            }
        };
        quote! {
            #pre
            for __r in 0..__m {
                #store
            }
        }
    }

    /// Lifts the reductions of `node` (outside other reductions) and binds its row reads. A
    /// reduction that stands only among the factors of products with brackets is computed
    /// only where those brackets hold (a max pool's derivative over every window is computed
    /// for the one window that holds the element).
    fn collect(&self, node: NodeId, scope: &mut Scope, pre: &mut TokenStream) {
        let mut found: Vec<(NodeId, Vec<Vec<NodeId>>)> = Vec::new();
        let mut visited: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
        self.visit(node, Vec::new(), &mut found, &mut visited);
        for (n, contexts) in found {
            let substitute = self
                .substitutes
                .borrow()
                .iter()
                .find(|(m, _)| *m == n)
                .map(|(_, s)| s.clone());
            if let Some(rows) = substitute {
                let slice = format_ident!("__a{}", n.index());
                pre.extend(quote! { let #slice = #rows; });
                scope.rows.push((n, slice));
                continue;
            }
            let Node::Var(v) = self.program.graph.node(n) else {
                continue;
            };
            match self.program.leaf_of(*v) {
                Leaf::Read(tensor, indices) => {
                    let (buffer, at) = (
                        buffer_ident(self.network, *tensor),
                        self.element(*tensor, indices),
                    );
                    let slice = format_ident!("__a{}", n.index());
                    pre.extend(quote! { let #slice = &#buffer[#at * __m..][..__m]; });
                    scope.rows.push((n, slice));
                }
                leaf => {
                    let (code, value) = self.lift(leaf);
                    // One set of brackets around every occurrence: computed where they hold.
                    let guards = match &contexts[..] {
                        [only, rest @ ..] if rest.iter().all(|c| c == only) => only.clone(),
                        _ => Vec::new(),
                    };
                    if guards.is_empty() {
                        pre.extend(code);
                    } else {
                        let test = self.guards_test(&guards);
                        pre.extend(quote! { if #test { #code } });
                    }
                    scope.lifted.push((n, value));
                }
            }
        }
    }

    /// The lifted reductions, row reads and substituted nodes under `n`, each with the
    /// brackets among whose factors it stands, per occurrence.
    fn visit(
        &self,
        n: NodeId,
        guards: Vec<NodeId>,
        found: &mut Vec<(NodeId, Vec<Vec<NodeId>>)>,
        visited: &mut Vec<(NodeId, Vec<NodeId>)>,
    ) {
        if visited.iter().any(|(m, g)| *m == n && *g == guards) {
            return;
        }
        visited.push((n, guards.clone()));
        let interesting = self.is_substituted(n)
            || match self.program.leaf_at(n) {
                Some(Leaf::Read(tensor, _)) => self.by_rows(*tensor),
                Some(
                    Leaf::Sum(..)
                    | Leaf::LogSumExp(..)
                    | Leaf::Extremum(..)
                    | Leaf::FirstExtremum(..),
                ) => true,
                _ => false,
            };
        if interesting {
            match found.iter_mut().find(|(m, _)| *m == n) {
                Some((_, contexts)) => contexts.push(guards),
                None => found.push((n, vec![guards])),
            }
            return;
        }
        match self.program.graph.node(n) {
            Node::Mul(..) => {
                let (brackets, others) = self.split_brackets(n);
                let mut inner = guards;
                inner.extend(brackets);
                inner.sort_unstable();
                inner.dedup();
                for f in others {
                    self.visit(f, inner.clone(), found, visited);
                }
            }
            Node::Var(_) => {}
            other => other.for_each_child(|c| self.visit(c, guards.clone(), found, visited)),
        }
    }

    /// The bracket factors of a product and its other factors (nested products flattened).
    fn split_brackets(&self, n: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
        let mut brackets = Vec::new();
        let mut others = Vec::new();
        let mut stack = vec![n];
        while let Some(m) = stack.pop() {
            match self.program.graph.node(m) {
                Node::Mul(a, b) => {
                    stack.push(*b);
                    stack.push(*a);
                }
                _ if matches!(self.program.leaf_at(m), Some(Leaf::Guard(..))) => brackets.push(m),
                _ => others.push(m),
            }
        }
        (brackets, others)
    }

    /// `t1 && t2 && ...` for bracket nodes.
    fn guards_test(&self, guards: &[NodeId]) -> TokenStream {
        let tests = guards.iter().filter_map(|&g| match self.program.leaf_at(g) {
            Some(Leaf::Guard(affine, lo, hi)) => Some(bracket_test(affine, *lo, *hi)),
            _ => None,
        });
        quote! { #(#tests)&&* }
    }

    /// Whether a tensor's reads are rows of a buffer (else a parameter or a label).
    fn by_rows(&self, tensor: Tensor) -> bool {
        match tensor {
            Tensor::Value(Symbol::Param(_)) => false,
            Tensor::Value(Symbol::Target(t)) => !self.is_label(t),
            _ => true,
        }
    }

    fn is_label(&self, t: usize) -> bool {
        self.network.targets[t].kind == chainrule_grammar::TargetKind::Label
    }

    /// The code computing a reduction into row temporaries, and its value in row `__r`.
    fn lift(&self, leaf: &Leaf) -> (TokenStream, TokenStream) {
        match leaf {
            Leaf::Sum(bounds, body) => {
                let t = self.temp();
                let inner = self.nested(bounds, &|| self.row_loop(*body, Store::Add(&t)));
                (quote! { #t.fill(0.0); #inner }, quote! { #t[__r] })
            }
            Leaf::Extremum(f, bound, body) => {
                let t = self.temp();
                let (first, rest) = self.first_and_rest(bound, &|| {
                    (
                        self.row_loop(*body, Store::Assign(&t)),
                        self.row_loop(*body, Store::Fold(&t, *f)),
                    )
                });
                (quote! { #first #rest }, quote! { #t[__r] })
            }
            Leaf::FirstExtremum(f, at, bound, body) => {
                let (best, first) = (self.temp(), self.temp());
                let j = index_ident(bound.var);
                let (start, rest) = self.first_and_rest(bound, &|| {
                    (
                        self.row_loop(*body, Store::Assign(&best)),
                        self.row_loop(*body, Store::First(&best, &first, &j, *f)),
                    )
                });
                let at = signed_tokens(at, &|v| index_ident(v));
                (
                    quote! { #start #first.fill(0.0); #rest },
                    quote! { (if #first[__r] == (#at as F) { 1.0 } else { 0.0 }) },
                )
            }
            Leaf::LogSumExp(bound, body) => {
                let (max, sum, out) = (self.temp(), self.temp(), self.temp());
                let bounds = std::slice::from_ref(bound);
                let fold = self.nested(bounds, &|| {
                    self.row_loop(*body, Store::Fold(&max, Pairwise::Maximum))
                });
                let add = self.nested(bounds, &|| self.row_loop(*body, Store::ExpAdd(&sum, &max)));
                let code = quote! {
                    #max.fill(F::NEG_INFINITY);
                    #fold
                    #sum.fill(0.0);
                    #add
                    for __r in 0..__m {
                        #out[__r] = if #max[__r].is_finite() { #max[__r] + #sum[__r].ln() } else { #max[__r] };
                    }
                };
                (code, quote! { #out[__r] })
            }
            // `collect` lifts only the four reductions.
            _ => (TokenStream::new(), quote! { 0.0 }),
        }
    }

    /// Loops over every bound variable around `body`.
    fn nested(&self, bounds: &[Bound], body: &dyn Fn() -> TokenStream) -> TokenStream {
        match bounds {
            [] => body(),
            [first, rest @ ..] => {
                self.for_var(first.var, first.size, false, || self.nested(rest, body))
            }
        }
    }

    /// A fold's first element (`j = 0`) and the loop over the rest.
    fn first_and_rest(
        &self,
        bound: &Bound,
        bodies: &dyn Fn() -> (TokenStream, TokenStream),
    ) -> (TokenStream, TokenStream) {
        self.bind(bound.var, bound.size);
        let (j, n) = (
            index_ident(bound.var),
            Literal::usize_unsuffixed(bound.size),
        );
        let (first, rest) = bodies();
        (
            quote! { { let #j = 0usize; #first } },
            quote! { for #j in 1..#n { #rest } },
        )
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
fn bracket_test(affine: &Affine, lo: i64, hi: i64) -> TokenStream {
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
