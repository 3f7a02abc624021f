//! The gradient loops of a body: each parameter's verified gradient formula, written into
//! `g`, or applied to `p` as an SGD, momentum or Adam step, element by element.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::{Body, Write, gradient_ident};
use crate::ir::NodeId;
use crate::model::Symbol;
use crate::tensor::{IndexVar, Leaf, Tensor};

impl Body<'_, '_> {
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
                Write::Step | Write::Momentum | Write::Adam => {
                    let p = &self.ctx.p;
                    quote! { #p.#field }
                }
            };
            let own = self.plan.indices_of(Tensor::Delta(Symbol::Param(q)));
            let named: Vec<(IndexVar, char)> =
                own.iter().copied().zip(['i', 'j', 'k', 'l']).collect();
            self.name_indices(&named);
            if write == Write::Into
                && let Some(summed) = self.summed_outermost(&target, q, f)
            {
                loops.push(summed);
                continue;
            }
            if write == Write::Step
                && let Some(hoisted) = self.hoisted_step(&target, q, f)
            {
                loops.push(hoisted);
                continue;
            }
            let body = self.expr(f, 0);
            let ident = |d: usize| own.get(d).map(|&v| self.ident(v));
            let bounds: Vec<(Option<Ident>, usize)> = param
                .shape
                .dims()
                .into_iter()
                .enumerate()
                .map(|(d, n)| (ident(d), n))
                .collect();
            let axes = bounds.iter().map(|(i, _)| i);
            let index = quote! { #([#axes])* };
            let element = quote! { #target #index };
            let mut statement = match write {
                Write::Into => quote! { #element = #body; },
                Write::Step | Write::Momentum | Write::Adam => super::super::updates::update(
                    self.ctx,
                    write,
                    field,
                    &index,
                    quote! { (#body) },
                ),
            };
            for (index, bound) in bounds.into_iter().rev() {
                let bound = Literal::usize_unsuffixed(bound);
                statement = quote! { for #index in 0..#bound { #statement } };
            }
            loops.push(statement);
        }
        loops
    }

    /// `g[i][j] = sum_t x` written with the sum outermost: `g` set to zero, then for each
    /// `t` every element adds its term, so the inner loop walks the last axis of `g` and of
    /// what the term reads at it (a shared weight's gradient over time: `d_t,i h_t-1,j` adds
    /// one outer product per step, instead of one strided dot product per element). A
    /// bracket on `t` alone is tested once per `t`. `None` for any other formula.
    fn summed_outermost(&self, target: &TokenStream, q: usize, f: NodeId) -> Option<TokenStream> {
        let program = &self.plan.program;
        let Some(Leaf::Sum(bounds, body)) = program.leaf_at(f) else {
            return None;
        };
        let ([bound], body) = (&bounds[..], *body) else {
            return None;
        };
        let dims = self.ctx.network.params[q].shape.dims();
        let own = self.plan.indices_of(Tensor::Delta(Symbol::Param(q)));
        if own.len() != dims.len() || own.is_empty() {
            return None;
        }
        let t = self.ident(bound.var);
        let ks: Vec<Ident> = own.iter().map(|&v| self.ident(v)).collect();
        let var = bound.var;
        let guard = self.guard_where(body, &|a| a.terms.iter().all(|(v, _)| *v == var));
        let term = match guard {
            Some(guard) => self.product_without(body, guard, 0),
            None => self.expr(body, 0),
        };
        let index = quote! { #([#ks])* };
        let mut zero = quote! { #target #index = 0.0; };
        let mut add = quote! { #target #index += #term; };
        for (k, &n) in ks.iter().zip(&dims).rev() {
            let n = Literal::usize_unsuffixed(n);
            zero = quote! { for #k in 0..#n { #zero } };
            add = quote! { for #k in 0..#n { #add } };
        }
        if let Some(Leaf::Guard(affine, lo, hi)) = guard.and_then(|g| program.leaf_at(g)) {
            let test = self.bracket_test(affine, *lo, *hi);
            add = quote! { if #test { #add } };
        }
        let steps = Literal::usize_unsuffixed(bound.size);
        Some(quote! {
            #zero
            for #t in 0..#steps { #add }
        })
    }

    /// `p.W[i][j] -= lr * (d_i x_j)` with the factors that do not vary along the last axis
    /// scaled by `lr` once per row: `let s = lr * d_i; for j { p.W[i][j] -= s * x_j }`, one
    /// multiplication per element instead of two, as a hand-written step keeps it (the
    /// update rounds as `(lr d_i) x_j` where the gradient's `lr (d_i x_j)` would: the same
    /// number within an ulp of the product). `None` for a
    /// parameter of fewer than two axes, a formula that is not a product with factors on
    /// both sides, or one with a bracket among its factors.
    fn hoisted_step(&self, target: &TokenStream, q: usize, f: NodeId) -> Option<TokenStream> {
        let program = &self.plan.program;
        let dims = self.ctx.network.params[q].shape.dims();
        let own = self.plan.indices_of(Tensor::Delta(Symbol::Param(q)));
        if dims.len() < 2 || own.len() != dims.len() {
            return None;
        }
        let last = *own.last()?;
        let mut factors = Vec::new();
        self.factors(f, &mut factors);
        if factors
            .iter()
            .any(|&n| matches!(program.leaf_at(n), Some(Leaf::Guard(..))))
        {
            return None;
        }
        let (varying, row): (Vec<NodeId>, Vec<NodeId>) = factors
            .into_iter()
            .partition(|&n| program.mentions(n, last));
        if varying.is_empty() || row.is_empty() {
            return None;
        }
        let product = |first: TokenStream, items: &[NodeId]| {
            items.iter().fold(first, |out, &n| {
                let next = self.expr(n, super::code::UNARY);
                quote! { #out * #next }
            })
        };
        let ks: Vec<Ident> = own.iter().map(|&v| self.ident(v)).collect();
        let (scale, lr) = (self.ctx.names.local("scale"), self.ctx.names.local("lr"));
        let row = product(quote! { #lr }, &row);
        let varying = product(quote! { #scale }, &varying);
        let index = quote! { #([#ks])* };
        let (j, n) = (
            &ks[ks.len() - 1],
            Literal::usize_unsuffixed(dims[dims.len() - 1]),
        );
        let mut statement = quote! {
            let #scale: F = #row;
            for #j in 0..#n { #target #index -= #varying; }
        };
        for (k, &n) in ks.iter().zip(&dims).rev().skip(1) {
            let n = Literal::usize_unsuffixed(n);
            statement = quote! { for #k in 0..#n { #statement } };
        }
        Some(statement)
    }

    /// The factors of a product, nested products flattened, in order.
    fn factors(&self, n: NodeId, out: &mut Vec<NodeId>) {
        match self.plan.program.graph.node(n) {
            crate::ir::Node::Mul(a, b) => {
                let (a, b) = (*a, *b);
                self.factors(a, out);
                self.factors(b, out);
            }
            _ => out.push(n),
        }
    }
}
