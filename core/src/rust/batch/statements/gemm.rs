//! The contractions of the statements form as GEMMs over the chunk. Two shapes occur in
//! every layer, recurrent or not:
//!
//! - a sum of a parameter times rows, `sum_j W[k][j] x_j` (or `W[j][k]`, the delta's
//!   `W^T`): for every `k` at once, `C = W X` with `X` the rows of the other factors,
//!   computed once before the loop over `k` and read by it;
//! - a weight's gradient, `sum_t a_{t,i} b_{t,j}` with `a` free of `j` and `b` free of `i`:
//!   summed over the rows too, `G += A B^T` for each `t`.
//!
//! Anything else stays loops over the rows (`rows.rs`).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::rows::{Rows, Store, index_ident, param_ident};
use crate::ir::{Node, NodeId};
use crate::model::Symbol;
use crate::tensor::{Bound, IndexVar, Leaf, Program, Statement, Tensor, tensor_dims};

/// Multiply-adds of the sums in a formula, per element.
pub(super) fn summed_terms(program: &Program, n: NodeId) -> usize {
    let mut total = 0usize;
    let mut stack = vec![n];
    while let Some(n) = stack.pop() {
        match program.graph.node(n) {
            Node::Var(v) => {
                if let Leaf::Sum(bounds, body) = program.leaf_of(*v) {
                    let size: usize = bounds.iter().map(|b| b.size).product();
                    total =
                        total.saturating_add(size.saturating_mul(1 + summed_terms(program, *body)));
                }
            }
            other => other.for_each_child(|c| stack.push(c)),
        }
    }
    total
}

/// A sum's bound variables and body, with sums directly nested in its body merged into it
/// (`sum_c sum_p sum_q k x` is one contraction over `c, p, q`).
fn flattened(program: &Program, bounds: &[Bound], body: NodeId) -> (Vec<Bound>, NodeId) {
    let mut all = bounds.to_vec();
    let mut body = body;
    while let Some(Leaf::Sum(inner, next)) = program.leaf_at(body) {
        all.extend(inner.iter().copied());
        body = *next;
    }
    (all, body)
}

/// The terms of a sum of nodes (`a + b + c`), or the node itself.
pub(super) fn terms(program: &Program, n: NodeId) -> Vec<NodeId> {
    match program.graph.node(n) {
        Node::Add(a, b) => {
            let mut t = terms(program, *a);
            t.extend(terms(program, *b));
            t
        }
        Node::Sum(items) => items.iter().flat_map(|&i| terms(program, i)).collect(),
        _ => vec![n],
    }
}

/// The factors of a product (nested products flattened), with the sign of a negation
/// around it.
fn factors(program: &Program, n: NodeId) -> (bool, Vec<NodeId>) {
    match program.graph.node(n) {
        Node::Neg(a) => {
            let (negative, f) = factors(program, *a);
            (!negative, f)
        }
        Node::Mul(a, b) => {
            let (na, mut fa) = factors(program, *a);
            let (nb, fb) = factors(program, *b);
            fa.extend(fb);
            (na != nb, fa)
        }
        _ => (false, vec![n]),
    }
}

/// A parameter's matrix in a contraction: rows along some index variables, columns along
/// others, each group flattened row-major.
struct Weight {
    param: usize,
    offset: usize,
    rows: (usize, usize),
    cols: (usize, usize),
}

/// The stride of a flattened group of axes: `None` unless they form a row-major block.
fn group_stride(strides: &[usize], vars: &[(IndexVar, usize)]) -> Option<usize> {
    for w in 0..strides.len().saturating_sub(1) {
        if strides[w] != strides[w + 1] * vars[w + 1].1 {
            return None;
        }
    }
    Some(strides.last().copied().unwrap_or(1))
}

/// How a parameter read lays out over the `cols` variables (flattened in order) and those of
/// `free` it reads (its rows, in the order of its axes): `None` unless every index is one
/// variable (coefficient 1, no offset) or a constant and both groups are evenly strided.
fn weight(
    rows: &Rows,
    leaf: &Leaf,
    free: &[(IndexVar, usize)],
    cols: &[(IndexVar, usize)],
) -> Option<(Weight, Vec<(IndexVar, usize)>)> {
    let Leaf::Read(tensor @ Tensor::Value(Symbol::Param(q)), indices) = leaf else {
        return None;
    };
    let dims = tensor_dims(rows.network, *tensor);
    let mut strides = vec![0usize; dims.len()];
    let mut s = 1;
    for (axis, d) in dims.iter().enumerate().rev() {
        strides[axis] = s;
        s *= d;
    }
    let mut offset = 0usize;
    let mut row_vars = Vec::new();
    let mut row_strides = Vec::new();
    let mut col_strides = vec![None; cols.len()];
    for (axis, a) in indices.iter().enumerate() {
        match (&a.terms[..], a.offset) {
            ([], c) if c >= 0 && (c as usize) < dims[axis] => offset += c as usize * strides[axis],
            ([(v, 1)], 0) => {
                if let Some(at) = cols.iter().position(|(c, _)| c == v) {
                    if cols[at].1 > dims[axis] || col_strides[at].is_some() {
                        return None;
                    }
                    col_strides[at] = Some(strides[axis]);
                } else {
                    let &(_, size) = free.iter().find(|(f, _)| f == v)?;
                    if size > dims[axis] || row_vars.iter().any(|(r, _)| r == v) {
                        return None;
                    }
                    row_vars.push((*v, size));
                    row_strides.push(strides[axis]);
                }
            }
            _ => return None,
        }
    }
    let col_strides: Vec<usize> = col_strides.into_iter().collect::<Option<_>>()?;
    if row_vars.is_empty() {
        return None;
    }
    let weight = Weight {
        param: *q,
        offset,
        rows: (
            row_vars.iter().map(|r| r.1).product(),
            group_stride(&row_strides, &row_vars)?,
        ),
        cols: (
            cols.iter().map(|c| c.1).product(),
            group_stride(&col_strides, cols)?,
        ),
    };
    Some((weight, row_vars))
}

/// The view of a weight's matrix.
fn weight_view(w: &Weight) -> TokenStream {
    let flat = param_ident(w.param);
    let [offset, rows, row_stride, cols, col_stride] =
        [w.offset, w.rows.0, w.rows.1, w.cols.0, w.cols.1].map(Literal::usize_unsuffixed);
    quote! {
        ::chainrule::parallel::strided(#flat, #offset, (#rows, #cols), (#row_stride, #col_stride))
    }
}

/// The top-level sums of a formula (outside other reductions).
fn top_sums(program: &Program, n: NodeId, out: &mut Vec<NodeId>) {
    match program.graph.node(n) {
        Node::Var(v) => {
            if let Leaf::Sum(..) = program.leaf_of(*v)
                && !out.contains(&n)
            {
                out.push(n);
            }
        }
        other => other.for_each_child(|c| top_sums(program, c, out)),
    }
}

/// Before the loops over `free` (a statement's own indices not yet bound): each sum of a
/// parameter times rows as one GEMM for every value of those indices, its result read in
/// place of the sum. The indices the rows read, other than the parameter's, are folded into
/// the GEMM's columns beside the chunk's rows (a convolution's positions: im2col). A sum
/// whose rows read the statement's own tensor (an earlier step) is left to a later call
/// with fewer free indices when `own_read` forbids folding.
pub(super) fn hoist(rows: &Rows, s: &Statement, free: &[(IndexVar, usize)]) -> TokenStream {
    let program = rows.program;
    let mut sums = Vec::new();
    top_sums(program, s.formula, &mut sums);
    let mut code = TokenStream::new();
    for sum in sums {
        if rows.is_substituted(sum) {
            continue;
        }
        let Some(Leaf::Sum(bounds, body)) = program.leaf_at(sum) else {
            continue;
        };
        let (bounds, body) = flattened(program, bounds, *body);
        if let Some(gemm) = hoist_sum(rows, s, sum, &bounds, body, free) {
            code.extend(gemm);
        }
    }
    code
}

/// One sum as `C = W X`, or `None` when it is not a parameter times rows.
fn hoist_sum(
    rows: &Rows,
    s: &Statement,
    sum: NodeId,
    bounds: &[Bound],
    body: NodeId,
    free: &[(IndexVar, usize)],
) -> Option<TokenStream> {
    let program = rows.program;
    let (negative, body_factors) = factors(program, body);
    let cols: Vec<(IndexVar, usize)> = bounds.iter().map(|b| (b.var, b.size)).collect();
    let (at, (w, row_vars)) = body_factors.iter().enumerate().find_map(|(i, &f)| {
        let leaf = program.leaf_at(f)?;
        weight(rows, leaf, free, &cols).map(|w| (i, w))
    })?;
    let others: Vec<NodeId> = body_factors
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at)
        .map(|(_, f)| *f)
        .collect();
    // The rows multiplied must not change with the weight's rows: computed once for all.
    if others.is_empty()
        || others
            .iter()
            .any(|&f| row_vars.iter().any(|&(v, _)| program.mentions(f, v)))
    {
        return None;
    }
    // The other free indices they read become columns of the GEMM: they must not be
    // computed by this very statement's loops.
    let folded: Vec<(IndexVar, usize)> = free
        .iter()
        .copied()
        .filter(|&(v, _)| others.iter().any(|&f| program.mentions(f, v)))
        .collect();
    if !folded.is_empty() && others.iter().any(|&f| program.reads(f, s.defines)) {
        return None;
    }
    let fold: usize = folded.iter().map(|f| f.1).product();
    let (inner, out_rows) = (w.cols.0, w.rows.0);
    let (x, c) = (rows.hoisted(inner * fold), rows.hoisted(out_rows * fold));
    let col_at = flat_index(&cols);
    let fold_at = flat_index(&folded);
    let fold_n = Literal::usize_unsuffixed(fold);
    let mut loop_vars = cols.clone();
    loop_vars.extend(folded.iter().copied());
    let fill = nested(rows, &loop_vars, &|| {
        let out = quote::format_ident!("__x");
        let each = rows.product_loop(&others, Store::Assign(&out));
        quote! {
            let __x = &mut #x[(#col_at * #fold_n + #fold_at) * __m..][..__m];
            #each
        }
    });
    let a = weight_view(&w);
    let (k, n) = (
        Literal::usize_unsuffixed(inner),
        Literal::usize_unsuffixed(out_rows),
    );
    let alpha = if negative {
        quote! { -1.0 }
    } else {
        quote! { 1.0 }
    };
    let row_at = flat_index(&row_vars);
    rows.substitute(
        sum,
        quote! { &#c[(#row_at * #fold_n + #fold_at) * __m..][..__m] },
    );
    Some(quote! {
        #fill
        ::chainrule::parallel::gemm(
            #alpha,
            &#a,
            &::chainrule::parallel::view(&#x[..], #k, #fold_n * __m),
            0.0,
            &mut ::chainrule::parallel::view_mut(&mut #c[..], #n, #fold_n * __m),
        );
    })
}

/// The row-major flat index of index variables of the given sizes (`0` for none).
fn flat_index(vars: &[(IndexVar, usize)]) -> TokenStream {
    let mut terms = Vec::new();
    let mut stride = 1usize;
    for &(v, size) in vars.iter().rev() {
        let i = index_ident(v);
        terms.push(if stride == 1 {
            quote! { #i }
        } else {
            let s = Literal::usize_unsuffixed(stride);
            quote! { #i * #s }
        });
        stride *= size;
    }
    if terms.is_empty() {
        return quote! { 0usize };
    }
    terms.reverse();
    quote! { (#(#terms)+*) }
}

/// Loops over `vars` around `body`.
fn nested(rows: &Rows, vars: &[(IndexVar, usize)], body: &dyn Fn() -> TokenStream) -> TokenStream {
    match vars {
        [] => body(),
        [(v, n), rest @ ..] => rows.for_var(*v, *n, false, || nested(rows, rest, body)),
    }
}

/// A gradient statement `sum_t a * b` as one GEMM, `G += A B^T` with the summed variables
/// folded beside the chunk's rows into the inner dimension, added times the batch rule's
/// scale into the part's accumulator at `offset`; `None` when its factors do not split
/// between the first index and the others.
pub(super) fn gradient(
    rows: &Rows,
    s: &Statement,
    term: NodeId,
    offset: usize,
) -> Option<TokenStream> {
    let program = rows.program;
    let ([first, rest @ ..], [n_first, n_rest @ ..]) = (&s.indices[..], &s.shape[..]) else {
        return None;
    };
    if rest.is_empty() {
        return None;
    }
    let (bounds, body) = match program.leaf_at(term) {
        Some(Leaf::Sum(bounds, body)) => flattened(program, bounds, *body),
        _ => (Vec::new(), term),
    };
    let (negative, all) = factors(program, body);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for f in all {
        let on_first = program.mentions(f, *first);
        let on_rest = rest.iter().any(|&v| program.mentions(f, v));
        match (on_first, on_rest) {
            (true, true) => return None,
            (false, true) => b.push(f),
            _ => a.push(f),
        }
    }
    if b.is_empty() {
        return None;
    }
    let first = (*first, *n_first);
    let rest: Vec<(IndexVar, usize)> = rest.iter().copied().zip(n_rest.iter().copied()).collect();
    let summed: Vec<(IndexVar, usize)> = bounds.iter().map(|b| (b.var, b.size)).collect();
    let cols: usize = n_rest.iter().product();
    let fold: usize = summed.iter().map(|b| b.1).product();
    let (x, y) = (rows.hoisted(n_first * fold), rows.hoisted(cols * fold));
    let fold_at = flat_index(&summed);
    let fold_n = Literal::usize_unsuffixed(fold);
    // One block of rows per (own index, summed indices) pair.
    let fill = |target: &proc_macro2::Ident, own: &[(IndexVar, usize)], factors: &[NodeId]| {
        let own_at = flat_index(own);
        let mut vars = own.to_vec();
        vars.extend(summed.iter().copied());
        nested(rows, &vars, &|| {
            let out = quote::format_ident!("__x");
            let each = rows.product_loop(factors, Store::Assign(&out));
            quote! {
                let __x = &mut #target[(#own_at * #fold_n + #fold_at) * __m..][..__m];
                #each
            }
        })
    };
    let fill_a = fill(&x, &[first], &a);
    let fill_b = fill(&y, &rest, &b);
    let (rows_a, cols_b) = (
        Literal::usize_unsuffixed(first.1),
        Literal::usize_unsuffixed(cols),
    );
    let (start, end) = (
        Literal::usize_unsuffixed(offset),
        Literal::usize_unsuffixed(offset + first.1 * cols),
    );
    let alpha = if negative {
        quote! { -__scale }
    } else {
        quote! { __scale }
    };
    Some(quote! {
        #fill_a
        #fill_b
        ::chainrule::parallel::gemm(
            #alpha,
            &::chainrule::parallel::view(&#x[..], #rows_a, #fold_n * __m),
            &::chainrule::parallel::view(&#y[..], #cols_b, #fold_n * __m).t(),
            1.0,
            &mut ::chainrule::parallel::view_mut(&mut __acc[#start..#end], #rows_a, #cols_b),
        );
    })
}
