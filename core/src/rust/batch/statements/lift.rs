//! Reductions inside a formula lifted out of its loop over the rows: each into row
//! temporaries computed before that loop, where its brackets hold, once before the loops it
//! does not depend on, and over one row when it reads none.

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::rows::{Rows, Scope, Store, bracket_test, buffer_ident, index_ident};
use crate::builtin::Pairwise;
use crate::ir::{Node, NodeId};
use crate::model::Symbol;
use crate::rust::indices::signed_tokens;
use crate::tensor::{Bound, IndexVar, Leaf, Tensor};

impl Rows<'_> {
    /// Lifts the reductions of `node` (outside other reductions) and binds its row reads. A
    /// reduction that stands only among the factors of products with brackets is computed
    /// only where those brackets hold (a max pool's derivative over every window is computed
    /// for the one window that holds the element).
    pub(super) fn collect(&self, node: NodeId, scope: &mut Scope, pre: &mut TokenStream) {
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
            if let Some(value) = self.prelifted_value(n) {
                scope.lifted.push((n, value));
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
                    let (code, value) = self.lift(n, leaf);
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
    pub(super) fn split_brackets(&self, n: NodeId) -> (Vec<NodeId>, Vec<NodeId>) {
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
    pub(super) fn guards_test(&self, guards: &[NodeId]) -> TokenStream {
        let tests = guards
            .iter()
            .filter_map(|&g| match self.program.leaf_at(g) {
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

    /// The code computing a reduction into row temporaries, and its value in row `__r`:
    /// over one row and read from row 0 where it reads no row (a weight decay's `sum(K^2)`),
    /// its own loop-invariant reductions computed before its loops.
    fn lift(&self, n: NodeId, leaf: &Leaf) -> (TokenStream, TokenStream) {
        let one = self.row_free(n);
        let (r, range) = if one {
            (quote! { 0 }, quote! { 0..1 })
        } else {
            (quote! { __r }, quote! { 0..__m })
        };
        let each = |body: NodeId, store: Store<'_>| self.loop_over(&[body], store, one);
        match leaf {
            Leaf::Sum(bounds, body) => {
                let t = self.temp();
                let vars: Vec<IndexVar> = bounds.iter().map(|b| b.var).collect();
                let inner = self.with_invariants(*body, &vars, || {
                    self.nested(bounds, &|| each(*body, Store::Add(&t)))
                });
                (quote! { #t.fill(0.0); #inner }, quote! { #t[#r] })
            }
            Leaf::Extremum(f, bound, body) => {
                let t = self.temp();
                let code = self.with_invariants(*body, &[bound.var], || {
                    let (first, rest) = self.first_and_rest(bound, &|| {
                        (
                            each(*body, Store::Assign(&t)),
                            each(*body, Store::Fold(&t, *f)),
                        )
                    });
                    quote! { #first #rest }
                });
                (code, quote! { #t[#r] })
            }
            Leaf::FirstExtremum(f, at, bound, body) => {
                let (best, first) = (self.temp(), self.temp());
                let j = index_ident(bound.var);
                let code = self.with_invariants(*body, &[bound.var], || {
                    let (start, rest) = self.first_and_rest(bound, &|| {
                        (
                            each(*body, Store::Assign(&best)),
                            each(*body, Store::First(&best, &first, &j, *f)),
                        )
                    });
                    quote! { #start #first.fill(0.0); #rest }
                });
                let at = signed_tokens(at, &|v| index_ident(v));
                (
                    code,
                    quote! { (if #first[#r] == (#at as F) { 1.0 } else { 0.0 }) },
                )
            }
            Leaf::LogSumExp(bound, body) => {
                let (max, sum, out) = (self.temp(), self.temp(), self.temp());
                let bounds = std::slice::from_ref(bound);
                let code = self.with_invariants(*body, &[bound.var], || {
                    let fold = self.nested(bounds, &|| {
                        each(*body, Store::Fold(&max, Pairwise::Maximum))
                    });
                    let add = self.nested(bounds, &|| each(*body, Store::ExpAdd(&sum, &max)));
                    quote! {
                        #max.fill(F::NEG_INFINITY);
                        #fold
                        #sum.fill(0.0);
                        #add
                        for __r in #range {
                            #out[__r] = if #max[__r].is_finite() { #max[__r] + #sum[__r].ln() } else { #max[__r] };
                        }
                    }
                });
                (code, quote! { #out[#r] })
            }
            // `collect` lifts only the four reductions.
            _ => (TokenStream::new(), quote! { 0.0 }),
        }
    }

    /// `inner`'s code after the reductions of `node` that mention none of `vars` (the loops
    /// `inner` writes) and stand outside every bracket: computed once before those loops
    /// and read by `inner`, not once per iteration (a softmax's log-sum-exp in the delta of
    /// each class).
    pub(super) fn with_invariants(
        &self,
        node: NodeId,
        vars: &[IndexVar],
        inner: impl FnOnce() -> TokenStream,
    ) -> TokenStream {
        let mut found: Vec<(NodeId, Vec<Vec<NodeId>>)> = Vec::new();
        let mut visited: Vec<(NodeId, Vec<NodeId>)> = Vec::new();
        self.visit(node, Vec::new(), &mut found, &mut visited);
        let before = self.prelifted.borrow().len();
        let mut code = TokenStream::new();
        for (n, contexts) in found {
            let Node::Var(v) = self.program.graph.node(n) else {
                continue;
            };
            let leaf = self.program.leaf_of(*v);
            let invariant = !matches!(leaf, Leaf::Read(..))
                && !self.is_substituted(n)
                && self.prelifted_value(n).is_none()
                && contexts.iter().all(Vec::is_empty)
                && !vars.iter().any(|&var| self.program.mentions(n, var));
            if invariant {
                let (lifted, value) = self.lift(n, leaf);
                code.extend(lifted);
                self.prelifted.borrow_mut().push((n, value));
            }
        }
        let inner = inner();
        self.prelifted.borrow_mut().truncate(before);
        quote! { #code #inner }
    }

    /// The value of a reduction computed before the loops being written, if it was.
    fn prelifted_value(&self, n: NodeId) -> Option<TokenStream> {
        let prelifted = self.prelifted.borrow();
        prelifted
            .iter()
            .find(|(m, _)| *m == n)
            .map(|(_, v)| v.clone())
    }

    /// Whether `n` has the same value in every row: it reads parameters and brackets only.
    pub(super) fn row_free(&self, n: NodeId) -> bool {
        if let Some(&free) = self.free_of_rows.borrow().get(&n) {
            return free;
        }
        let free = !self.is_substituted(n)
            && match self.program.graph.node(n) {
                Node::Var(v) => match self.program.leaf_of(*v) {
                    Leaf::Read(tensor, _) => matches!(tensor, Tensor::Value(Symbol::Param(_))),
                    Leaf::Guard(..) => true,
                    Leaf::Sum(_, body)
                    | Leaf::LogSumExp(_, body)
                    | Leaf::Extremum(_, _, body)
                    | Leaf::FirstExtremum(_, _, _, body) => self.row_free(*body),
                    _ => false,
                },
                other => {
                    let mut all = true;
                    other.for_each_child(|c| all = all && self.row_free(c));
                    all
                }
            };
        self.free_of_rows.borrow_mut().insert(n, free);
        free
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
}
