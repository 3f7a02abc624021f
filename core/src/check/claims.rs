//! Checks `claim dA/dB = EXPR` statements: the names they are about, their indices, their formula.

use std::collections::{BTreeMap, HashMap};

use chainrule_grammar::{self as ast, Diagnostic, Span};

use super::infer::Infer;
use super::{Entity, ParamTable, Scope};
use crate::model::{Claim, IndexVar, Network, ScalarRef, Symbol};

/// Checks every claim of a network that passed all other checks.
pub(super) fn check_claims(
    network: &Network,
    claims: &[(&ast::Claim, Span)],
    signatures: &[(String, usize)],
    fn_index: &HashMap<&str, usize>,
    source: &str,
    line_starts: std::rc::Rc<[usize]>,
    errors: &mut Vec<Diagnostic>,
) -> Vec<Claim> {
    let mut names: BTreeMap<&str, Entity> = BTreeMap::new();
    for (i, d) in network.inputs.iter().enumerate() {
        names.insert(&d.name, Entity::Data(Symbol::Input(i), d.size));
    }
    for (i, d) in network.targets.iter().enumerate() {
        names.insert(&d.name, Entity::Data(Symbol::Target(i), d.size));
    }
    for (i, v) in network.vectors.iter().enumerate() {
        names.insert(&v.name, Entity::Vector(i));
    }
    names.insert(&network.loss.name, Entity::Loss);
    for (i, c) in network.consts.iter().enumerate() {
        names.insert(&c.name, Entity::Const(i));
    }
    let scope = Scope {
        names,
        consts: network.consts.iter().map(|c| c.value).collect(),
        functions: signatures,
        fn_index,
    };
    let mut params = ParamTable::new(line_starts);
    for p in &network.params {
        let index = params.add(&p.name, p.span);
        params.entries[index].shape = Some(p.shape);
        params.entries[index].declared = true;
    }
    let vector_sizes: Vec<Option<usize>> = network.vectors.iter().map(|v| Some(v.size)).collect();

    let mut checked = Vec::new();
    for (claim, span) in claims {
        let before = errors.len();
        let mut vars: Vec<IndexVar> = Vec::new();
        let mut infer = Infer::new(
            &scope,
            &mut params,
            &vector_sizes,
            errors,
            &mut vars,
            true,
            true,
        );
        let of = scalar_ref(&mut infer, network, &claim.of, true);
        let wrt = scalar_ref(&mut infer, network, &claim.wrt, false);
        let rhs = infer.expr(&claim.rhs, None);
        if let Some(rhs) = &rhs
            && rhs.shape != crate::model::Shape::Scalar
        {
            errors.push(Diagnostic::new(
                claim.rhs.span,
                format!(
                    "a claimed derivative is a scalar, but this is {}",
                    rhs.shape.describe()
                ),
            ));
        }
        if let (Some(of), Some(wrt), Some(rhs), true) = (of, wrt, rhs, errors.len() == before) {
            checked.push(Claim {
                of,
                wrt,
                rhs,
                vars,
                span: *span,
                text: source
                    .get(span.start..span.end)
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            });
        }
    }
    checked
}

fn scalar_ref(
    infer: &mut Infer<'_>,
    network: &Network,
    r: &ast::ScalarRef,
    is_of: bool,
) -> Option<ScalarRef> {
    let Some(symbol) = network.lookup(&r.name.name) else {
        infer.errors.push(Diagnostic::new(
            r.name.span,
            format!(
                "the claim is about `{}`, which is not a name in network `{}`",
                r.name.name, network.name
            ),
        ));
        return None;
    };
    let allowed = match symbol {
        Symbol::Loss | Symbol::Vector(_) => true,
        Symbol::Param(_) | Symbol::Input(_) => !is_of,
        Symbol::Target(_) => false,
    };
    if !allowed {
        let what = if is_of {
            "a claim differentiates the loss or an element of a named vector"
        } else {
            "a claim differentiates with respect to a parameter, input or named-vector element"
        };
        infer.errors.push(Diagnostic::new(
            r.name.span,
            format!("`{}` cannot stand here: {what}", r.name.name),
        ));
        return None;
    }
    let indices = infer.indices(&r.name, network.shape_of(symbol), &r.indices)?;
    Some(ScalarRef {
        symbol,
        indices,
        span: r.span,
    })
}
