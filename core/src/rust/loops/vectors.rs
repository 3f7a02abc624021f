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
