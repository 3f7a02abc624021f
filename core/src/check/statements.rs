//! A network's statements sorted by kind, the first thing checking does with them.

use chainrule_grammar::{self as ast, BatchRule, Diagnostic, Span, StatementKind};

/// The statements of one network, sorted by kind.
#[derive(Default)]
pub(super) struct Statements<'a> {
    pub(super) inputs: Vec<&'a ast::Decl>,
    pub(super) targets: Vec<&'a ast::Decl>,
    pub(super) params: Vec<&'a ast::Decl>,
    pub(super) vectors: Vec<(&'a ast::Ident, &'a [ast::Dim], &'a ast::Expr)>,
    /// Each vector's index names on the left (`z[i] = ...`), empty outside index notation.
    pub(super) vector_index: Vec<&'a [ast::Ident]>,
    pub(super) losses: Vec<(&'a ast::Ident, &'a ast::Expr)>,
    pub(super) batch: Option<(BatchRule, Span)>,
    pub(super) claims: Vec<(&'a ast::Claim, Span)>,
    pub(super) consts: Vec<(&'a ast::Ident, &'a ast::Expr)>,
}

pub(super) fn sort_statements<'a>(
    network: &'a ast::Network,
    errors: &mut Vec<Diagnostic>,
) -> Statements<'a> {
    let mut s = Statements::default();
    for statement in &network.statements {
        match &statement.kind {
            StatementKind::Input(d) => s.inputs.push(d),
            StatementKind::Target(d) => s.targets.push(d),
            StatementKind::Param(d) => s.params.push(d),
            StatementKind::Vector {
                name,
                dims,
                index,
                expr,
            } => {
                s.vectors.push((name, dims, expr));
                s.vector_index.push(index);
            }
            StatementKind::Loss { name, expr } => s.losses.push((name, expr)),
            StatementKind::Const { name, value } => s.consts.push((name, value)),
            StatementKind::Batch(rule) => {
                if s.batch.is_some() {
                    errors.push(Diagnostic::new(statement.span, "`batch` is given twice"));
                }
                s.batch = Some((*rule, statement.span));
            }
            StatementKind::Claim(c) => s.claims.push((c, statement.span)),
        }
    }
    s
}
