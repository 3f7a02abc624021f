//! The loop that fills a vector's values or deltas from its verified formula (with the
//! argument of its element-wise function beside it), a sum over a matrix's rows read by column
//! turned row by row.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::quote;

use super::super::plan::Plan;
use super::{Body, Family, array_ident};
use crate::ir::{Node, NodeId};
use crate::model::Symbol;
use crate::tensor::{Affine, IndexVar, Leaf, Tensor};

impl Body<'_, '_> {
    /// `name[k] = f` for every element of vector `v`.
    pub(super) fn vector_loop(&mut self, family: Family, v: usize, f: NodeId) {
        // The argument's array is filled by this very loop: nothing binds it before.
        if family == Family::Values && self.plan.inner[v].is_some() {
            self.arrays.insert((Family::Inner, v));
        }
        let tensor = match family {
            Family::Deltas => Tensor::Delta(Symbol::Vector(v)),
            _ => Tensor::Value(Symbol::Vector(v)),
        };
        // A recurrence reads the array its loop fills: nothing binds it before either.
        if self.plan.program.reads(f, tensor) {
            self.arrays.insert((family, v));
        }
        self.prepare(f);
        let vector = &self.ctx.network.vectors[v];
        let name = array_ident(&self.ctx.names, &vector.name, family);
        let own = self.plan.indices_of(tensor).to_vec();
        if own.is_empty() {
            return;
        }
        // One letter per axis, as textbooks name them: `k` for a vector, `c, u, v` for a
        // feature map, `f, c, u, v` for four axes.
        let axis_letters: &[char] = match own.len() {
            1 => &['k'],
            2 => &['u', 'v'],
            3 => &['c', 'u', 'v'],
            _ => &['f', 'c', 'u', 'v'],
        };
        let mut letters: Vec<(IndexVar, char)> = own
            .iter()
            .copied()
            .zip(axis_letters.iter().copied())
            .collect();
        if family == Family::Values {
            let inner = self.plan.indices_of(Tensor::Inner(v));
            letters.extend(inner.iter().copied().zip(axis_letters.iter().copied()));
        }
        self.name_indices(&letters);
        let statement = self.vector_statement(family, v, f, &own, &name);
        self.code.push(statement);
        self.arrays.insert((family, v));
        let shape = self.ctx.network.vectors[v].shape;
        for (e, var) in self.vars(family, v).into_iter().enumerate() {
            let at = crate::rust::context::element_index(shape, e);
            self.code.store(var, quote! { #name #at });
        }
    }

    /// The loop filling `name` with `f` over `own` for vector `v`.
    fn vector_statement(
        &mut self,
        family: Family,
        v: usize,
        f: NodeId,
        own: &[IndexVar],
        name: &Ident,
    ) -> TokenStream {
        if let [own] = *own
            && let Some(interchanged) = self.interchanged(family, v, f, own, name)
        {
            return interchanged;
        }
        let vector = &self.ctx.network.vectors[v];
        // One loop per axis around one element, into an array nested likewise.
        let ty = self.ctx.array_of(vector.shape);
        let zero = crate::rust::context::repeated(vector.shape, quote! { 0.0 });
        let ks: Vec<Ident> = own.iter().map(|&k| self.ident(k)).collect();
        let at = quote! { #([#ks])* };
        // A recurrence's deltas read the next step's (`delta h[t + 1]`): the first axis runs
        // backwards, as backpropagation through time does.
        let backwards = family == Family::Deltas
            && self.plan.program.reads(f, Tensor::Delta(Symbol::Vector(v)));
        // A step of a recurrence's deltas whose sums read a matrix by column (`W^T delta`)
        // runs those sums row by row, as the one-axis case does.
        if backwards
            && let [t, _] = own[..]
            && let Some(row) = self.step_row(name, own, f)
        {
            let (ty, n) = (ty.clone(), vector.shape.dims()[0]);
            let (t, n) = (self.ident(t), Literal::usize_unsuffixed(n));
            return quote! {
                let mut #name: #ty = #zero;
                for #t in (0..#n).rev() { #row }
            };
        }
        let wrap = |mut body: TokenStream| {
            for (axis, (k, n)) in ks.iter().zip(vector.shape.dims()).enumerate().rev() {
                let n = Literal::usize_unsuffixed(n);
                body = match axis == 0 && backwards {
                    true => quote! { for #k in (0..#n).rev() { #body } },
                    false => quote! { for #k in 0..#n { #body } },
                };
            }
            body
        };
        match (family, self.plan.inner[v]) {
            // The argument of an element-wise function gets its own array too, for the
            // formulas that read it (relu's derivative); both fill in one loop.
            (Family::Values, Some(argument)) => {
                self.prepare(argument);
                let inner = array_ident(&self.ctx.names, &vector.name, Family::Inner);
                let argument = self.expr(argument, 0);
                let outer = self.expr(f, 0);
                self.arrays.insert((Family::Inner, v));
                let fill = wrap(quote! {
                    #inner #at = #argument;
                    #name #at = #outer;
                });
                quote! {
                    let mut #inner: #ty = #zero;
                    let mut #name: #ty = #zero;
                    #fill
                }
            }
            _ => {
                let body = self.expr(f, 0);
                let fill = wrap(quote! { #name #at = #body; });
                quote! {
                    let mut #name: #ty = #zero;
                    #fill
                }
            }
        }
    }

    /// A sum over the rows of a matrix read by column (`sum_i delta_i W_ik`) run row by row,
    /// so the inner loop walks memory in order; each element still adds its terms in the same
    /// order, so the result is the same to the bit. `None` for any other formula, and for a
    /// recurrence (`s[t] = a * s[t - 1] + x[t]`), which reads its own array in order.
    fn interchanged(
        &mut self,
        family: Family,
        v: usize,
        f: NodeId,
        own: IndexVar,
        name: &Ident,
    ) -> Option<TokenStream> {
        let own_tensor = match family {
            Family::Deltas => Tensor::Delta(Symbol::Vector(v)),
            _ => Tensor::Value(Symbol::Vector(v)),
        };
        if self.plan.program.reads(f, own_tensor) {
            return None;
        }
        let Some(Leaf::Sum(bounds, body)) = self.plan.program.leaf_at(f) else {
            return None;
        };
        let (&[bound], body) = (&bounds[..], *body) else {
            return None;
        };
        if !reads_by_column(self.plan, body, bound.var, own) {
            return None;
        }
        let size = self.ctx.network.vectors[v].size;
        let (n, ty) = (Literal::usize_unsuffixed(size), self.ctx.array(size));
        let k = self.ident(own);
        let (si, m) = (self.ident(bound.var), Literal::usize_unsuffixed(bound.size));
        let body = self.expr(body, 0);
        Some(quote! {
            let mut #name: #ty = [0.0; #n];
            for #si in 0..#m {
                for #k in 0..#n {
                    #name[#k] += #body;
                }
            }
        })
    }
}

impl Body<'_, '_> {
    /// One step `t` of a two-axis value `name[t][k] = f`, where `f` adds terms of which some
    /// are sums over `s` reading a matrix by column (`sum_s d[t+1][s] W[s][k]`, perhaps under
    /// a bracket on `t`): the other terms are written first, then each such sum adds row by
    /// row, so the inner loop walks `W`'s rows in order and the factors that do not move with
    /// `k` are computed once per `s`. `None` when no term is such a sum.
    pub(super) fn step_row(
        &self,
        name: &Ident,
        own: &[IndexVar],
        f: NodeId,
    ) -> Option<TokenStream> {
        let program = &self.plan.program;
        let [t, k] = *own else {
            return None;
        };
        let mut terms = Vec::new();
        additive_terms(program, f, &mut terms);
        let mut rest = Vec::new();
        let mut rows = Vec::new();
        for term in terms {
            match self.by_rows(term, t, k) {
                Some(row) => rows.push(row),
                None => rest.push(term),
            }
        }
        if rows.is_empty() {
            return None;
        }
        let (ti, ki) = (self.ident(t), self.ident(k));
        let n = self.ctx.network.vectors.iter().find_map(|v| {
            let dims = v.shape.dims();
            (array_ident(&self.ctx.names, &v.name, Family::Deltas) == *name
                || array_ident(&self.ctx.names, &v.name, Family::Values) == *name)
                .then(|| dims.get(1).copied())
                .flatten()
        })?;
        let n = Literal::usize_unsuffixed(n);
        let first = match rest.is_empty() {
            true => quote! { 0.0 },
            false => {
                let parts: Vec<TokenStream> = rest.iter().map(|&r| self.expr(r, 0)).collect();
                quote! { #(#parts)+* }
            }
        };
        let adds: Vec<TokenStream> = rows
            .into_iter()
            .map(|(guard, s, size, body)| {
                let (si, m) = (self.ident(s), Literal::usize_unsuffixed(size));
                // The factors that do not move with `k` once per `s`, bound before the inner
                // loop: it then reads the matrix row alone, and vectorizes.
                let mut factors = Vec::new();
                product_factors(program, body, &mut factors);
                let (fixed, moving): (Vec<NodeId>, Vec<NodeId>) =
                    factors.into_iter().partition(|&f| !program.mentions(f, k));
                let product = |parts: &[NodeId]| -> TokenStream {
                    let parts: Vec<TokenStream> = parts
                        .iter()
                        .map(|&p| self.expr(p, super::super::code::PRODUCT))
                        .collect();
                    parts
                        .into_iter()
                        .reduce(|a, b| quote! { #a * #b })
                        .unwrap_or_else(|| quote! { 1.0 })
                };
                let (fixed, moving) = (product(&fixed), product(&moving));
                let c = self.ctx.names.local("scale");
                let add = quote! {
                    for #si in 0..#m {
                        let #c: F = #fixed;
                        for #ki in 0..#n {
                            #name[#ti][#ki] += #c * #moving;
                        }
                    }
                };
                match guard.and_then(|g| program.leaf_at(g)) {
                    Some(Leaf::Guard(affine, lo, hi)) => {
                        let test = self.bracket_test(affine, *lo, *hi);
                        quote! { if #test { #add } }
                    }
                    _ => add,
                }
            })
            .collect();
        Some(quote! {
            for #ki in 0..#n {
                #name[#ti][#ki] = #first;
            }
            #(#adds)*
        })
    }

    /// A term `[bracket on t] sum_s body` whose body reads a matrix as `M[s][k]`: the bracket,
    /// the summed variable, its range and the body.
    fn by_rows(
        &self,
        term: NodeId,
        t: IndexVar,
        k: IndexVar,
    ) -> Option<(Option<NodeId>, IndexVar, usize, NodeId)> {
        let program = &self.plan.program;
        let (guard, sum) = match program.graph.node(term) {
            Node::Mul(a, b) => {
                let on_t = |g: NodeId| {
                    matches!(program.leaf_at(g), Some(Leaf::Guard(affine, ..))
                        if affine.terms.iter().all(|(v, _)| *v == t))
                };
                match (on_t(*a), on_t(*b)) {
                    (true, _) => (Some(*a), *b),
                    (_, true) => (Some(*b), *a),
                    _ => return None,
                }
            }
            _ => (None, term),
        };
        let Some(Leaf::Sum(bounds, body)) = program.leaf_at(sum) else {
            return None;
        };
        let [bound] = bounds[..] else {
            return None;
        };
        reads_by_column(self.plan, *body, bound.var, k)
            .then_some((guard, bound.var, bound.size, *body))
    }
}

/// The factors of a product, left to right.
fn product_factors(program: &crate::tensor::Program, n: NodeId, out: &mut Vec<NodeId>) {
    match program.graph.node(n) {
        Node::Mul(a, b) => {
            let (a, b) = (*a, *b);
            product_factors(program, a, out);
            product_factors(program, b, out);
        }
        _ => out.push(n),
    }
}

/// The terms of a sum, left to right (a formula that is no sum is one term).
fn additive_terms(program: &crate::tensor::Program, n: NodeId, out: &mut Vec<NodeId>) {
    match program.graph.node(n) {
        Node::Add(a, b) => {
            let (a, b) = (*a, *b);
            additive_terms(program, a, out);
            additive_terms(program, b, out);
        }
        Node::Sum(items) => {
            for &item in items.clone().iter() {
                additive_terms(program, item, out);
            }
        }
        _ => out.push(n),
    }
}

/// Whether a sum's body reads a matrix as `M[s][k]`: the summation index first, the element's
/// own last.
fn reads_by_column(plan: &Plan, body: NodeId, s: IndexVar, k: IndexVar) -> bool {
    let program = &plan.program;
    let by_column = [Affine::var(s), Affine::var(k)];
    let mut stack = vec![body];
    while let Some(n) = stack.pop() {
        match program.graph.node(n) {
            Node::Var(v) => {
                if let Leaf::Read(_, indices) = program.leaf_of(*v)
                    && indices[..] == by_column
                {
                    return true;
                }
            }
            node => node.for_each_child(|c| stack.push(c)),
        }
    }
    false
}
