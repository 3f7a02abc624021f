//! Turns `.nn` source text into the spanned AST, collecting every syntax error it can.

use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::ast::*;
use expr::short;
use syntax::{check_nesting, syntax_error};

mod expr;
// prettyplease formatted it; rustfmt spends minutes on its nested closures.
#[rustfmt::skip]
mod generated;
mod syntax;

use generated::Rule;

/// The parser pest generates from `nn.pest`, committed (`generated.rs`) rather than derived at
/// build time; `tests/generated_parser.rs` keeps the two equal.
struct NnParser;

/// How deeply parentheses and square brackets may nest. The parser is recursive; past this depth a hostile input
/// would exhaust the stack, so it is refused before parsing with an error that names the limit.
pub const MAX_NESTING: usize = 200;

/// Most operators one statement's expression may hold. The tree is processed recursively;
/// past this a hostile input could exhaust the stack, so it is refused with an error.
pub const MAX_OPERATORS: usize = 256;

/// Largest size or index accepted in a `[N]`; larger ones are refused with an error that names
/// the limit rather than allocating or unrolling without bound.
pub const MAX_DIM: usize = 1_000_000;

static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    // Lowest precedence first, as the language page lists it from high to low.
    PrattParser::new()
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
        .op(Op::infix(Rule::matmul, Assoc::Left))
        .op(Op::infix(Rule::pow, Assoc::Right))
});

/// Parses a whole file. On failure every error found is returned, in source order.
pub fn parse_file(source: &str) -> Result<File, Vec<Diagnostic>> {
    if let Some(diagnostic) = check_nesting(source) {
        return Err(vec![diagnostic]);
    }
    pest::set_error_detail(true);
    let mut pairs =
        NnParser::parse(Rule::file, source).map_err(|e| vec![syntax_error(source, &e)])?;
    let mut builder = Builder {
        source,
        errors: Vec::new(),
        in_expression: false,
    };
    let mut file = File {
        networks: Vec::new(),
        functions: Vec::new(),
    };
    let Some(root) = pairs.next() else {
        return Ok(file);
    };
    for item in root.into_inner() {
        match item.as_rule() {
            Rule::network => file.networks.push(builder.network(item)),
            Rule::fn_def => file.functions.push(builder.fn_def(item)),
            _ => {}
        }
    }
    if builder.errors.is_empty() {
        Ok(file)
    } else {
        builder.errors.sort_by_key(|d| d.span);
        Err(builder.errors)
    }
}

/// A pair's span without the blanks and comments pest may leave at its end (a rule ending
/// in a repetition can keep the implicit whitespace it skipped), so that carets and quoted
/// text stop at the last token.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let span = pair.as_span();
    let text = span.as_str();
    let mut end = text.len();
    loop {
        let trimmed = text[..end].trim_end();
        end = trimmed.len();
        // The language has no strings: `#` or `//` always starts a comment.
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        let last_line = &trimmed[line_start..];
        match [last_line.find('#'), last_line.find("//")]
            .into_iter()
            .flatten()
            .min()
        {
            Some(at) if line_start + at > 0 => end = line_start + at,
            _ => break,
        }
    }
    Span::new(
        span.start(),
        span.start() + end.max(usize::from(!text.is_empty())),
    )
}

/// Builds AST nodes from pest pairs, collecting errors pest cannot see (numbers out of range).
struct Builder<'s> {
    source: &'s str,
    errors: Vec<Diagnostic>,
    /// Set while building the inside of an expression whose size was already checked.
    in_expression: bool,
}

impl<'s> Builder<'s> {
    fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(span, message));
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_string(),
            span: span_of(&pair),
        }
    }

    fn network(&mut self, pair: Pair<'_, Rule>) -> Network {
        let span = span_of(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(inner.next().expect("grammar: network has a name")); // ok: grammar guarantees it
        let statements = inner.filter_map(|s| self.statement(s)).collect();
        Network {
            name,
            statements,
            span,
        }
    }

    fn fn_def(&mut self, pair: Pair<'_, Rule>) -> FnDef {
        let span = span_of(&pair);
        let mut inner = pair.into_inner().skip(1);
        let name = self.ident(inner.next().expect("grammar: fn has a name")); // ok: grammar guarantees it
        let params = inner
            .next()
            .map(|p| p.into_inner().map(|i| self.ident(i)).collect())
            .unwrap_or_default();
        let body = match inner.next() {
            Some(body) => self.expr(body),
            None => Expr {
                kind: ExprKind::Number(0.0),
                span,
            },
        };
        FnDef {
            name,
            params,
            body,
            span,
        }
    }

    fn statement(&mut self, pair: Pair<'_, Rule>) -> Option<Statement> {
        let span = span_of(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        let kind = match rule {
            Rule::input_decl => StatementKind::Input(self.decl(inner.skip(1))),
            Rule::target_decl => StatementKind::Target(self.decl(inner.skip(1))),
            Rule::param_decl => StatementKind::Param(self.decl(inner.skip(1))),
            Rule::loss_def => {
                let mut inner = inner.skip(1);
                let name = self.ident(inner.next()?);
                let expr = self.expr(inner.next()?);
                StatementKind::Loss { name, expr }
            }
            Rule::const_decl => {
                let mut inner = inner.skip(1);
                let name = self.ident(inner.next()?);
                let value = self.expr(inner.next()?);
                StatementKind::Const { name, value }
            }
            Rule::batch_decl => {
                let rule = inner.nth(1)?.as_rule();
                StatementKind::Batch(if rule == Rule::kw_sum {
                    BatchRule::Sum
                } else {
                    BatchRule::Mean
                })
            }
            Rule::vector_def => {
                let name = self.ident(inner.next()?);
                let (dims, index) = self.def_dims(inner.next()?);
                let expr = self.expr(inner.next()?);
                StatementKind::Vector {
                    name,
                    dims,
                    index,
                    expr,
                }
            }
            Rule::claim => {
                let mut derivative = inner.nth(1)?.into_inner();
                let of = self.scalar_ref(derivative.next()?);
                let wrt = self.scalar_ref(derivative.next()?);
                let rhs = self.expr(inner.next()?);
                StatementKind::Claim(Claim { of, wrt, rhs })
            }
            Rule::unknown_statement => {
                let word = self.ident(inner.next()?);
                self.error(
                    word.span,
                    format!(
                        "unknown keyword `{}`: a statement starts with input, target, param, const, loss, batch, claim or `NAME =`",
                        word.name
                    ),
                );
                return None;
            }
            _ => return None,
        };
        Some(Statement { kind, span })
    }

    fn decl<'i>(&mut self, mut inner: impl Iterator<Item = Pair<'i, Rule>>) -> Decl {
        let name = self.ident(inner.next().expect("grammar: declaration has a name")); // ok: grammar guarantees it
        let mut dims = Vec::new();
        let mut kind = TargetKind::Plain;
        let mut value = None;
        for pair in inner {
            match pair.as_rule() {
                Rule::label_kw => kind = TargetKind::Label,
                Rule::dims => dims = self.dims(pair),
                Rule::target_kind if kind == TargetKind::Label => self.error(
                    span_of(&pair),
                    format!(
                        "a label target is one class index per sample; `{}` describes a vector target",
                        pair.as_str()
                    ),
                ),
                Rule::target_kind if pair.as_str() == "onehot" => kind = TargetKind::OneHot,
                Rule::target_kind => kind = TargetKind::Probabilities,
                _ => value = Some(self.value(pair)),
            }
        }
        Decl {
            name,
            dims,
            value,
            kind,
        }
    }

    fn dims(&mut self, pair: Pair<'_, Rule>) -> Vec<Dim> {
        pair.into_inner()
            .filter_map(|dim| dim.into_inner().next())
            .map(|int| {
                let span = span_of(&int);
                let size = self.whole_number(&int);
                Dim { size, span }
            })
            .collect()
    }

    fn whole_number(&mut self, pair: &Pair<'_, Rule>) -> usize {
        match pair.as_str().parse::<usize>() {
            Ok(n) if n <= MAX_DIM => n,
            _ => {
                self.error(
                    span_of(pair),
                    format!(
                        "`{}` is larger than the limit of {MAX_DIM} for a size or an index",
                        short(pair.as_str())
                    ),
                );
                0
            }
        }
    }

    fn number(&mut self, pair: &Pair<'_, Rule>) -> f64 {
        match pair.as_str().parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                self.error(
                    span_of(pair),
                    format!(
                        "the number `{}` is out of the range of a 64-bit float",
                        short(pair.as_str())
                    ),
                );
                0.0
            }
        }
    }

    fn value(&mut self, pair: Pair<'_, Rule>) -> Value {
        let span = span_of(&pair);
        let mut inner = pair.into_inner().peekable();
        match inner.peek().map(|p| p.as_rule()) {
            Some(Rule::signed_number) => {
                let signed = inner.next().expect("peeked"); // ok: peeked just above
                let mut parts = signed.into_inner();
                let mut sign = 1.0;
                let mut number = 0.0;
                for part in parts.by_ref() {
                    match part.as_rule() {
                        Rule::minus => sign = -1.0,
                        _ => number = self.number(&part),
                    }
                }
                Value::Number(sign * number, span)
            }
            _ => Value::List(inner.map(|v| self.value(v)).collect(), span),
        }
    }
}
