//! The statements form of a batch: the plan's tensor-level statements (the formulas `latex
//! --form general` prints) run over a chunk of rows at once. Every tensor of a chunk is one
//! buffer with an element's rows side by side (`h[t][k]` of row r at `(t * 64 + k) * m +
//! r`), so a statement is its loops over its indices around one loop over the rows, and a
//! contraction with a parameter is one GEMM over the chunk (`gemm.rs`). It serves the
//! networks the layer plan (`layers.rs`) does not read: index notation, convolutions,
//! pooling, recurrences (one step of every row at a time).

mod gemm;
mod lift;
mod rows;

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use self::rows::{Rows, Store, buffer_ident, index_ident, label_ident, param_ident};
use super::matrix::Emitted;
use crate::CompiledNetwork;
use crate::ir::{Node, NodeId};
use crate::model::{Network, Symbol};
use crate::rust::Float;
use crate::tensor::{Affine, IndexVar, Leaf, Program, Statement, Tensor};

/// The statements of a network, if every one of them can run over a chunk; else why not.
pub fn form<'a>(network: &Network, compiled: &'a CompiledNetwork) -> Result<&'a Program, String> {
    if !compiled.derivation.inner.is_empty() {
        return Err("it takes `grad` inside the network".into());
    }
    let program = compiled
        .code_program()
        .as_ref()
        .map_err(|u| format!("the tensor level does not cover {}", u.0))?;
    if program.checked_at == 0 {
        return Err("its statements could not be checked at a finite point".into());
    }
    if let Some(s) = program.statements().find(|s| !s.verified) {
        return Err(format!(
            "a statement ({:?}) does not reproduce every element",
            s.defines
        ));
    }
    for v in 0..network.vectors.len() {
        if program.forward_of(Symbol::Vector(v)).is_none() {
            return Err(format!("`{}` has no statement", network.vectors[v].name));
        }
    }
    if program.forward_of(Symbol::Loss).is_none() {
        return Err("the loss has no statement".into());
    }
    let unsupported = program.statements().any(|s| {
        program.any_leaf(s.formula, |leaf| {
            matches!(
                leaf,
                Leaf::Call(..)
                    | Leaf::CallDerivative(..)
                    | Leaf::Read(Tensor::Delta(Symbol::Param(_) | Symbol::Loss), _)
                    | Leaf::Read(Tensor::Delta(Symbol::Input(_) | Symbol::Target(_)), _)
            )
        })
    });
    if unsupported {
        return Err("a formula calls a function by name or reads a gradient".into());
    }
    Ok(program)
}

/// Multiply-adds per sample of the statements' contractions (forward only): the work the
/// statements form speeds up.
pub fn contraction_work(network: &Network, program: &Program) -> usize {
    let _ = network;
    program
        .forward
        .iter()
        .map(|s| {
            s.len()
                .saturating_mul(gemm::summed_terms(program, s.formula))
        })
        .fold(0, usize::saturating_add)
}

/// Tokens for one network's statements form.
pub fn emit(
    network: &Network,
    program: &Program,
    float: Float,
    data: &[&Ident],
    labels: &[bool],
    p: &Ident,
) -> Emitted {
    let rows = Rows::new(network, program, float);
    let mut buffers: Vec<(Ident, usize)> = Vec::new();
    for s in program.forward.iter().chain(&program.deltas) {
        buffers.push((buffer_ident(network, s.defines), s.len().max(1)));
    }
    for (i, d) in network.inputs.iter().chain(&network.targets).enumerate() {
        let label = i >= network.inputs.len() && labels.get(i).copied().unwrap_or(false);
        if !label {
            buffers.push((format_ident!("__sx{}", i), d.size.max(1)));
        }
    }
    let mut most_temps = Scratch::default();
    let mut steps = Vec::new();
    let mut v = 0;
    let forward: Vec<&Statement> = program.forward.iter().collect();
    while v < forward.len() {
        let s = forward[v];
        let group = match s.defines {
            Tensor::Value(Symbol::Vector(u)) => network.recurrence_of(u),
            _ => None,
        };
        if let Some(group) = group {
            let members: Vec<&Statement> = group
                .clone()
                .filter_map(|u| program.forward_of(Symbol::Vector(u)))
                .collect();
            steps.push(block(&rows, &members, false, &mut most_temps));
            v += members.len();
            continue;
        }
        steps.push(fill(&rows, s, &mut most_temps));
        v += 1;
    }
    let loss = quote! { *__loss += ::chainrule::runtime::lane_sum(&__sl[..__m]); };
    steps.push(loss);
    let mut done = Vec::new();
    for s in &program.deltas {
        if done.contains(&s.defines) {
            continue;
        }
        let group = match s.defines {
            Tensor::Delta(Symbol::Vector(u)) => network.recurrence_of(u),
            _ => None,
        };
        if let Some(group) = group {
            let members: Vec<&Statement> = group
                .clone()
                .rev()
                .filter_map(|u| program.delta_of(Symbol::Vector(u)))
                .collect();
            done.extend(members.iter().map(|m| m.defines));
            steps.push(block(&rows, &members, true, &mut most_temps));
            continue;
        }
        steps.push(fill(&rows, s, &mut most_temps));
    }
    let mut offset = 0;
    for (q, param) in network.params.iter().enumerate() {
        if let Some(s) = program.gradient_of(Symbol::Param(q)) {
            steps.push(accumulate(&rows, s, offset, &mut most_temps));
        }
        offset += param.shape.len();
    }

    let mut fields = TokenStream::new();
    let mut prepare = TokenStream::new();
    let mut binds = Vec::new();
    for (ident, len) in &buffers {
        let field = field_of(ident);
        let n = Literal::usize_unsuffixed(*len);
        fields.extend(quote! { #field: Vec<F>, });
        prepare.extend(quote! { __part.#field.resize(__chunk * #n, 0.0); });
        binds.push(quote! { #field: #ident });
    }
    let temps = Literal::usize_unsuffixed(most_temps.temps.max(1));
    let hoisted = Literal::usize_unsuffixed(most_temps.hoisted.max(1));
    fields.extend(quote! { s_temps: Vec<F>, s_hoist: Vec<F>, });
    prepare.extend(quote! {
        __part.s_temps.resize(__chunk * #temps, 0.0);
        __part.s_hoist.resize(__chunk * #hoisted, 0.0);
    });
    binds.push(quote! { s_temps: __temps });
    binds.push(quote! { s_hoist: __hoist });
    let mut label_fields = TokenStream::new();
    for (t, _) in network.targets.iter().enumerate() {
        let i = network.inputs.len() + t;
        if labels.get(i).copied().unwrap_or(false) {
            let label = label_ident(t);
            let field = field_of(&label);
            label_fields.extend(quote! { #field: Vec<usize>, });
            prepare.extend(quote! { __part.#field.resize(__chunk, 0); });
            binds.push(quote! { #field: #label });
        }
    }
    fields.extend(label_fields);

    let f = match float {
        Float::F64 => quote! { f64 },
        Float::F32 => quote! { f32 },
    };
    let (data_args, chunk_views) = super::data::chunk_inputs(data, labels, &f);
    let copies = data.iter().enumerate().map(|(i, ident)| {
        let chunk = super::fields::chunk_ident(ident);
        if labels.get(i).copied().unwrap_or(false) {
            let label = label_ident(i - network.inputs.len());
            quote! {
                for (__r, __c) in #chunk.iter().enumerate() {
                    #label[__r] = *__c;
                }
            }
        } else {
            let buffer = format_ident!("__sx{}", i);
            quote! {
                for (__r, __row) in #chunk.outer_iter().enumerate() {
                    for (__e, __x) in __row.iter().enumerate() {
                        #buffer[__e * __m + __r] = *__x;
                    }
                }
            }
        }
    });
    let params = network.params.iter().enumerate().map(|(q, param)| {
        let field = format_ident!("{}", param.name);
        let flat = crate::rust::context::flat_slice(quote! { #p.#field }, param.shape, false);
        let ident = param_ident(q);
        quote! { let #ident: &[F] = #flat; }
    });
    let function = quote! {
        /// The statements form over rows `__start..__end`: adds their loss to `__part.loss`
        /// and their gradient, times `__scale`, to `__part.acc`.
        #[allow(clippy::too_many_arguments, unused_parens, clippy::identity_op, clippy::erasing_op)]
        #[inline(always)]
        fn __chunk_statements(#p: &Params, #(#data_args,)* __start: usize, __end: usize, __part: &mut __Part, __scale: F) {
            let __m = __end - __start;
            #(#chunk_views)*
            let __Part { loss: __loss, acc: __acc, #(#binds,)* .. } = __part;
            #(#params)*
            #(#copies)*
            #(#steps)*
        }
    };
    let dispatch = super::widest::dispatch(
        &format_ident!("__chunk_statements"),
        &format_ident!("__ChunkStatementsWork"),
        p,
        data,
        labels,
        &f,
    );
    let items = dispatch.items;
    let function = quote! {
        #function
        #items
    };
    let call = dispatch.call;
    Emitted {
        fields,
        prepare,
        function,
        call,
    }
}

/// `__Part`'s field behind a buffer's binding (`__sv0` -> `s_sv0`).
fn field_of(ident: &Ident) -> Ident {
    format_ident!("s_{}", ident.to_string().trim_start_matches("__s"))
}

/// The row temporaries and hoisted buffers a statement's code uses, split from the chunk's
/// scratch.
fn with_temps(rows: &Rows, body: TokenStream, most: &mut Scratch) -> TokenStream {
    let used = rows.temps_used();
    let hoists = rows.hoists_used();
    most.temps = most.temps.max(used);
    most.hoisted = most.hoisted.max(hoists.iter().sum());
    let splits = (0..used).map(|k| {
        let t = rows::temp_ident(k);
        quote! { let (#t, __rest) = __rest.split_at_mut(__m); }
    });
    let hoisted = hoists.iter().enumerate().map(|(k, &n)| {
        let (h, n) = (rows::hoisted_ident(k), Literal::usize_unsuffixed(n));
        quote! { let (#h, __hrest) = __hrest.split_at_mut(#n * __m); }
    });
    quote! {
        {
            let __rest = &mut __temps[..];
            let __hrest = &mut __hoist[..];
            #(#splits)*
            #(#hoisted)*
            #body
        }
    }
}

/// The most row temporaries and hoisted rows any statement uses.
#[derive(Default)]
struct Scratch {
    temps: usize,
    hoisted: usize,
}

/// Loops over a statement's own indices `vars` around its rows, the first one backwards if
/// asked. The GEMMs of its sums run before the loops, or, where their rows read the
/// statement's own tensor (an earlier step), just outside the loop over the last index.
fn own_loops(
    rows: &Rows,
    s: &Statement,
    vars: &[(IndexVar, usize)],
    reverse_first: bool,
) -> TokenStream {
    let hoisted = gemm::hoist(rows, s, vars);
    let own: Vec<IndexVar> = vars.iter().map(|&(v, _)| v).collect();
    let loops = rows.with_invariants(s.formula, &own, || {
        inner_loops(rows, s, vars, reverse_first)
    });
    quote! { #hoisted #loops }
}

fn inner_loops(
    rows: &Rows,
    s: &Statement,
    vars: &[(IndexVar, usize)],
    reverse_first: bool,
) -> TokenStream {
    match vars {
        [] => row_block(rows, s),
        [last] => {
            let hoisted = gemm::hoist(rows, s, vars);
            let inner = rows.for_var(last.0, last.1, reverse_first, || row_block(rows, s));
            quote! { #hoisted #inner }
        }
        [(v, n), rest @ ..] => {
            rows.for_var(*v, *n, reverse_first, || inner_loops(rows, s, rest, false))
        }
    }
}

/// The code filling one row-block of `s`'s buffer at its own indices, which the caller has
/// bound. A formula that applies a built-in with a slice kernel last (`tanh(...)`) computes
/// its argument by rows, then the built-in over the whole block on the widest vector unit.
fn row_block(rows: &Rows, s: &Statement) -> TokenStream {
    let network = rows.network;
    let buffer = buffer_ident(network, s.defines);
    // At its own indices, or at a reshape's positions (`flat[9c + 3u + v]`).
    let at = rows.element(s.defines, &s.at());
    let (formula, kernel) = match rows.program.graph.node(s.formula) {
        Node::Func(f, arg) if let Some(kernel) = super::kernels::kernel(*f) => (*arg, Some(kernel)),
        _ => (s.formula, None),
    };
    let apply = |out: &Ident| {
        kernel.as_ref().map(|kernel| {
            quote! {
                ::chainrule::runtime::vmath::map_in_place(
                    ::chainrule::runtime::vmath::Kernel::#kernel,
                    &mut #out[..__m],
                );
            }
        })
    };
    if rows.program.reads(s.formula, s.defines) {
        // It reads its own buffer (an earlier step): fill a temporary, then copy.
        let t = rows.temp();
        let fill = rows.row_loop(formula, Store::Assign(&t));
        let apply = apply(&t);
        quote! {
            #fill
            #apply
            #buffer[#at * __m..][..__m].copy_from_slice(&#t[..__m]);
        }
    } else {
        let out = format_ident!("__o");
        let fill = rows.row_loop(formula, Store::Assign(&out));
        let apply = apply(&out);
        quote! {
            let #out = &mut #buffer[#at * __m..][..__m];
            #fill
            #apply
        }
    }
}

/// A statement over every element of its tensor.
fn fill(rows: &Rows, s: &Statement, most: &mut Scratch) -> TokenStream {
    rows.start_statement();
    let vars: Vec<(IndexVar, usize)> = s.indices.iter().copied().zip(s.shape.clone()).collect();
    // A recurrence's deltas read the next step's: the step axis runs backwards.
    let backwards =
        matches!(s.defines, Tensor::Delta(_)) && rows.program.reads(s.formula, s.defines);
    let body = own_loops(rows, s, &vars, backwards);
    with_temps(rows, body, most)
}

/// The statements of a mutual recurrence, one step of every member at a time (forwards, or
/// backwards for the deltas, members in reverse order).
fn block(rows: &Rows, members: &[&Statement], backwards: bool, most: &mut Scratch) -> TokenStream {
    let Some(first) = members.first() else {
        return TokenStream::new();
    };
    let steps = first.shape.first().copied().unwrap_or(1);
    let step = format_ident!("__step");
    let mut bodies = Vec::new();
    for s in members {
        rows.start_statement();
        let Some((&t, rest_vars)) = s.indices.split_first() else {
            continue;
        };
        rows.bind(t, steps);
        let vars: Vec<(IndexVar, usize)> = rest_vars
            .iter()
            .copied()
            .zip(s.shape.iter().skip(1).copied())
            .collect();
        let t = index_ident(t);
        let body = own_loops(rows, s, &vars, false);
        bodies.push(with_temps(rows, quote! { let #t = #step; #body }, most));
    }
    let n = Literal::usize_unsuffixed(steps);
    let range = if backwards {
        quote! { (0..#n).rev() }
    } else {
        quote! { 0..#n }
    };
    quote! { for #step in #range { #(#bodies)* } }
}

/// Loops over `vars` around `body`.
fn plain_loops(
    rows: &Rows,
    vars: &[(IndexVar, usize)],
    body: &dyn Fn() -> TokenStream,
) -> TokenStream {
    match vars {
        [] => body(),
        [(v, n), rest @ ..] => rows.for_var(*v, *n, false, || plain_loops(rows, rest, body)),
    }
}

/// A parameter's gradient statement: each element summed over the chunk's rows, times the
/// batch rule's scale, into the part's accumulator at the parameter's `offset`.
fn accumulate(rows: &Rows, s: &Statement, offset: usize, most: &mut Scratch) -> TokenStream {
    rows.start_statement();
    // Each term that is a product split between the first index and the others is a GEMM;
    // the rest (a weight decay's `2 c W`) is summed over the rows.
    let mut code = TokenStream::new();
    let mut rest = Vec::new();
    for term in gemm::terms(rows.program, s.formula) {
        match gemm::gradient(rows, s, term, offset) {
            Some(gemm) => code.extend(gemm),
            None => rest.push(term),
        }
    }
    if !rest.is_empty() {
        // A term that reads no row (`2 c W`) is the same in every row: computed once, times
        // the chunk's rows.
        let (free, by_rows): (Vec<NodeId>, Vec<NodeId>) =
            rest.iter().partition(|&&term| rows.row_free(term));
        let vars: Vec<(IndexVar, usize)> = s.indices.iter().copied().zip(s.shape.clone()).collect();
        let (t, u) = (rows.temp(), rows.temp());
        let offset = Literal::usize_unsuffixed(offset);
        code.extend(plain_loops(rows, &vars, &|| {
            let own: Vec<Affine> = s.indices.iter().map(|&k| Affine::var(k)).collect();
            let at = rows.element(s.defines, &own);
            let summed = (!by_rows.is_empty()).then(|| {
                let fill = by_rows
                    .iter()
                    .map(|&term| rows.row_loop(term, Store::Add(&t)));
                quote! {
                    #t.fill(0.0);
                    #(#fill)*
                    __acc[#offset + #at] += __scale * ::chainrule::runtime::lane_sum(&#t[..__m]);
                }
            });
            let once = (!free.is_empty()).then(|| {
                let fill = free
                    .iter()
                    .map(|&term| rows.loop_over(&[term], Store::Add(&u), true));
                quote! {
                    #u[0] = 0.0;
                    #(#fill)*
                    __acc[#offset + #at] += __scale * (__m as F) * #u[0];
                }
            });
            quote! { #summed #once }
        }));
    }
    with_temps(rows, code, most)
}
