//! Turns `.nn` source text into the spanned AST, collecting every syntax error it can.

use std::sync::LazyLock;

use pest::Parser;
use pest::iterators::Pair;
use pest::pratt_parser::{Assoc, Op, PrattParser};

use crate::ast::*;

#[derive(pest_derive::Parser)]
#[grammar = "nn.pest"]
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

/// Refuses inputs whose brackets nest deeper than [`MAX_NESTING`].
fn check_nesting(source: &str) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut in_comment = false;
    let bytes = source.as_bytes();
    for (at, &byte) in bytes.iter().enumerate() {
        if in_comment {
            in_comment = byte != b'\n';
            continue;
        }
        match byte {
            b'#' => in_comment = true,
            b'/' if bytes.get(at + 1) == Some(&b'/') => in_comment = true,
            b'(' | b'[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some(Diagnostic::new(
                        Span::new(at, at + 1),
                        format!("brackets nest deeper than the limit of {MAX_NESTING}"),
                    ));
                }
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// A readable name for a token the parser expected.
fn describe_rule(rule: Rule) -> Option<&'static str> {
    // Keywords and punctuation come through as literal tokens; only classes of token need a name.
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::ident => "a name",
        Rule::number | Rule::signed_number => "a number",
        Rule::integer => "a whole number",
        Rule::expr | Rule::reduction | Rule::call | Rule::indexed | Rule::paren => "an expression",
        Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul | Rule::pow => "an operator",
        Rule::value => "a number or `[`",
        Rule::derivative => "a derivative `dA/dB`",
        Rule::index | Rule::index_expr | Rule::index_term => "an index",
        Rule::index_op => "`+` or `-`",
        _ => return None,
    })
}

const KEYWORDS: [&str; 11] = [
    "network", "fn", "input", "target", "loss", "batch", "param", "claim", "sum", "mean", "const",
];

/// Whether an expected literal is worth naming: not blanks, comment starters, or the single
/// letters and digits that only occur inside names and numbers.
fn worth_naming(token: &str) -> bool {
    !token.trim().is_empty()
        && !token.contains('\u{feff}')
        && !matches!(token, "#" | "//" | "_" | "." | "d")
        && (token.chars().count() != 1 || !token.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The identifier-like word starting at `at`.
fn word_at(source: &str, at: usize) -> &str {
    let rest = &source[at.min(source.len())..];
    let len = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    &rest[..len]
}

/// Whether a `{` before `at` is still open, not counting braces in comments.
fn inside_block(source: &str, at: usize) -> bool {
    let mut depth = 0i64;
    for line in source[..at.min(source.len())].lines() {
        let code = line.split('#').next().unwrap_or("");
        let code = code.split("//").next().unwrap_or("");
        depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
    }
    depth > 0
}

/// Converts a pest error into one diagnostic saying what was expected and what was found.
fn syntax_error(source: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
    let reported = match error.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let word = word_at(source, reported);
    let positives: &[Rule] = match &error.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives,
        _ => &[],
    };
    let span_of_word = |at: usize, word: &str| {
        Span::new(
            at,
            if word.is_empty() {
                next_char_boundary(source, at)
            } else {
                at + word.len()
            },
        )
    };
    // The detailed attempts know the furthest position any token was tried at, which is
    // where the writer's intent broke down (`loss L sum(y)` fails at `sum`, not at `loss`).
    let attempts = error.parse_attempts();
    // Attempts that only looked past the end of the word itself (a keyword's lookahead) do
    // not count as getting further.
    let further = attempts.as_ref().map_or(reported, |a| a.max_position) > reported + word.len();
    if !further || (word == "network" || word == "fn") {
        if (word == "network" || word == "fn") && inside_block(source, reported) {
            return Diagnostic::new(
                span_of_word(reported, word),
                format!("expected `}}` to close the network before `{word}`"),
            );
        }
        if KEYWORDS.contains(&word) && positives.contains(&Rule::ident) {
            return Diagnostic::new(
                span_of_word(reported, word),
                format!("`{word}` is a keyword and cannot be used as a name"),
            );
        }
    }
    let (at, positives) = match &attempts {
        Some(a) if further => (a.max_position, &[][..]),
        _ => (reported, positives),
    };
    if let Some(diagnostic) = misleading_syntax(source, at) {
        return diagnostic;
    }
    let mut expected: Vec<String> = Vec::new();
    let mut push = |text: String| {
        if !expected.contains(&text) {
            expected.push(text);
        }
    };
    if let Some(attempts) = &attempts {
        for token in attempts.expected_tokens() {
            // `ParsingToken` is not exported by name; only literal tokens read well here.
            let text = token.to_string();
            if format!("{token:?}").starts_with("Sensitive") && worth_naming(&text) {
                push(format!("`{text}`"));
            }
        }
    }
    for rule in positives {
        if let Some(text) = describe_rule(*rule) {
            push(text.to_string());
        }
    }
    collapse(&mut expected);
    let word = word_at(source, at);
    let found = match source[at.min(source.len())..].split_whitespace().next() {
        None => "end of file".to_string(),
        Some(text) => format!("`{}`", text.chars().take(20).collect::<String>()),
    };
    let message = if !word.is_empty()
        && expected.iter().any(|e| e == "`network`")
        && !KEYWORDS.contains(&word)
        && word.starts_with(|c: char| !c.is_ascii_digit())
    {
        format!(
            "unknown keyword `{word}`: a file holds `network` and `fn` items{}",
            suggest_keyword(word)
        )
    } else if expected.is_empty() {
        format!("syntax error: unexpected {found}")
    } else {
        format!(
            "syntax error: expected {}, found {found}",
            join_alternatives(&expected)
        )
    };
    Diagnostic::new(span_of_word(at, word), message)
}

/// Syntax errors whose plain "expected X" would send the writer the wrong way: `**` for a
/// power, and a stray word after a declaration, which the parser only notices on the next
/// line.
fn misleading_syntax(source: &str, at: usize) -> Option<Diagnostic> {
    let at = at.min(source.len());
    if source[..at].ends_with('*') && source[at..].starts_with('*') {
        let exponent = match word_at(source, at + 1) {
            "" => "2",
            word => word,
        };
        return Some(Diagnostic::new(
            Span::new(at - 1, at + 1),
            format!(
                "`**` is not an operator: write a power with `^` (`^{exponent}`, not `**{exponent}`)"
            ),
        ));
    }
    let line_start = source[..at].rfind('\n').map_or(0, |i| i + 1);
    if !source[line_start..at].trim().is_empty() || line_start == 0 {
        return None;
    }
    // The failure is at the start of a line: look for a stray word on the previous lines'
    // last declaration.
    let mut starts = vec![0];
    starts.extend(source[..line_start].match_indices('\n').map(|(i, _)| i + 1));
    let (previous_start, previous) = starts
        .windows(2)
        .map(|w| (w[0], &source[w[0]..w[1] - 1]))
        .rev()
        .find(|(_, l)| !strip_comment(l).trim().is_empty())?;
    let (offset, word, keyword) = stray_after_declaration(strip_comment(previous))?;
    let form = match keyword {
        "input" => "an input is declared `input NAME[N]`, optionally with `= [values]`",
        "target" => {
            "a target is declared `target NAME[N]`, optionally followed by `onehot` or `probabilities` (a class label is a one-hot target)"
        }
        _ => {
            "a parameter is declared `param NAME`, `param NAME[N]` or `param NAME[R][C]`, optionally with `= values`"
        }
    };
    let start = previous_start + offset;
    Some(Diagnostic::new(
        Span::new(start, start + word.len()),
        format!("unexpected `{word}` after the declaration: {form}"),
    ))
}

/// A line without its `#` or `//` comment.
fn strip_comment(line: &str) -> &str {
    let end = [line.find('#'), line.find("//")]
        .into_iter()
        .flatten()
        .min()
        .unwrap_or(line.len());
    &line[..end]
}

/// In `target c int`, the offset and text of `int` and the keyword `target`.
fn stray_after_declaration(line: &str) -> Option<(usize, &str, &'static str)> {
    let trimmed = line.trim_start();
    let mut at = line.len() - trimmed.len();
    let keyword = ["input", "target", "param"]
        .into_iter()
        .find(|k| trimmed.starts_with(k) && word_at(trimmed, 0) == *k)?;
    at += keyword.len();
    let skip_blanks = |at: usize| at + (line[at..].len() - line[at..].trim_start().len());
    at = skip_blanks(at);
    at += word_at(line, at).len();
    at = skip_blanks(at);
    while line[at..].starts_with('[') {
        at += line[at..].find(']')? + 1;
        at = skip_blanks(at);
    }
    let mut word = word_at(line, at);
    if matches!(word, "onehot" | "probabilities") {
        at = skip_blanks(at + word.len());
        word = word_at(line, at);
    }
    (!word.is_empty()).then_some((at, word, keyword))
}

/// Folds token lists into the classes a reader thinks in: operators, statements, expressions.
fn collapse(expected: &mut Vec<String>) {
    let has = |expected: &Vec<String>, what: &str| expected.iter().any(|e| e == what);
    let fold = |members: &[&str], class: &str, expected: &mut Vec<String>| {
        if members
            .iter()
            .filter(|m| has(expected, &format!("`{m}`")))
            .count()
            >= 2
            || has(expected, class)
        {
            expected.retain(|e| !members.iter().any(|m| *e == format!("`{m}`")));
            if !has(expected, class) {
                expected.push(class.to_string());
            }
        }
    };
    fold(&["+", "-", "*", "/", "@", "^"], "an operator", expected);
    fold(
        &[
            "input", "target", "param", "const", "loss", "batch", "claim",
        ],
        "a statement",
        expected,
    );
    if has(expected, "an expression") {
        expected.retain(|e| {
            !matches!(
                e.as_str(),
                "`(`" | "`-`" | "`mean`" | "`sum`" | "a name" | "a number"
            )
        });
    }
}

fn suggest_keyword(word: &str) -> &'static str {
    let close = |k: &str| {
        let mut a: Vec<char> = word.chars().collect();
        let mut b: Vec<char> = k.chars().collect();
        a.sort_unstable();
        b.sort_unstable();
        a == b
    };
    if close("network") {
        " (did you mean `network`?)"
    } else {
        ""
    }
}

fn next_char_boundary(source: &str, at: usize) -> usize {
    if at >= source.len() {
        return source.len();
    }
    let mut end = at + 1;
    while !source.is_char_boundary(end) {
        end += 1;
    }
    end
}

fn join_alternatives(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
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
        let dims = inner.next().map(|d| self.dims(d)).unwrap_or_default();
        let mut kind = TargetKind::Plain;
        let mut value = None;
        for pair in inner {
            match pair.as_rule() {
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

    fn index(&mut self, pair: Pair<'_, Rule>) -> Index {
        let inner = pair
            .into_inner()
            .next()
            .expect("grammar: index has a token"); // ok: grammar guarantees it
        match inner.as_rule() {
            Rule::integer => Index::Const(self.whole_number(&inner), span_of(&inner)),
            _ => Index::Var(self.ident(inner)),
        }
    }

    /// The sizes and index names in the brackets after a defined name.
    fn def_dims(&mut self, pair: Pair<'_, Rule>) -> (Vec<Dim>, Vec<Ident>) {
        let mut dims = Vec::new();
        let mut index = Vec::new();
        for dim in pair.into_inner() {
            let Some(inner) = dim.into_inner().next() else {
                continue;
            };
            if inner.as_rule() == Rule::integer {
                dims.push(Dim {
                    size: self.whole_number(&inner),
                    span: span_of(&inner),
                });
            } else {
                index.push(self.ident(inner));
            }
        }
        (dims, index)
    }

    /// `p` or `p < 2` in a reduction.
    fn bound_name(&mut self, pair: Pair<'_, Rule>) -> BoundName {
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: a bound name has a name")); // ok: grammar guarantees it
        let below = inner.next().map(|n| Dim {
            size: self.whole_number(&n),
            span: span_of(&n),
        });
        BoundName { name, below }
    }

    /// An index in an expression: a constant, a name, or an affine combination of names.
    fn index_expr(&mut self, pair: Pair<'_, Rule>) -> Index {
        let span = span_of(&pair);
        let mut terms: Vec<(i64, Ident)> = Vec::new();
        let mut offset: i64 = 0;
        let mut sign = 1;
        let mut count = 0;
        for part in pair.into_inner() {
            if part.as_rule() == Rule::index_op {
                sign = if part.as_str() == "-" { -1 } else { 1 };
                continue;
            }
            count += 1;
            let mut inner = part.into_inner().peekable();
            let first = inner.next().expect("grammar: an index term has a token"); // ok: grammar guarantees it
            if first.as_rule() == Rule::integer {
                let value = i64::try_from(self.whole_number(&first)).unwrap_or(i64::MAX); // ok: sizes are far below i64::MAX
                match inner.next() {
                    Some(name) => terms.push((sign * value, self.ident(name))),
                    None => offset += sign * value,
                }
            } else {
                terms.push((sign, self.ident(first)));
            }
        }
        match (count, terms.as_slice()) {
            (1, []) if offset >= 0 => Index::Const(offset as usize, span),
            (1, [(1, _)]) => Index::Var(terms.remove(0).1),
            _ => Index::Affine {
                terms,
                offset,
                span,
            },
        }
    }

    fn scalar_ref(&mut self, pair: Pair<'_, Rule>) -> ScalarRef {
        let span = span_of(&pair);
        let mut inner = pair.into_inner();
        let name = self.ident(inner.next().expect("grammar: reference has a name")); // ok: grammar guarantees it
        let indices = inner.map(|i| self.index(i)).collect();
        ScalarRef {
            name,
            indices,
            span,
        }
    }

    fn expr(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        if !self.in_expression {
            let operators = pair
                .clone()
                .into_inner()
                .flatten()
                .filter(|p| is_operator(p.as_rule()))
                .count();
            if operators > MAX_OPERATORS {
                self.error(span, format!("this expression has {operators} operators, more than the limit of {MAX_OPERATORS}: split it into named vectors"));
                return Expr {
                    kind: ExprKind::Number(0.0),
                    span,
                };
            }
        }
        let outer = std::mem::replace(&mut self.in_expression, true);
        let e = self.expr_inner(pair);
        self.in_expression = outer;
        e
    }

    fn expr_inner(&mut self, pair: Pair<'_, Rule>) -> Expr {
        // The Pratt parser's closures cannot all borrow `self` mutably, so errors found inside
        // primaries are gathered in a local builder and merged afterwards.
        let cell = std::cell::RefCell::new(std::mem::take(&mut self.errors));
        let result = PRATT
            .map_primary(|primary| {
                let mut builder = Builder {
                    source: self.source,
                    errors: std::mem::take(&mut *cell.borrow_mut()),
                    in_expression: true,
                };
                let e = builder.primary(primary);
                *cell.borrow_mut() = builder.errors;
                e
            })
            .map_prefix(|op, operand| {
                let span = span_of(&op).join(operand.span);
                Expr {
                    kind: ExprKind::Neg(Box::new(operand)),
                    span,
                }
            })
            .map_infix(|lhs, op, rhs| {
                let op = match op.as_rule() {
                    Rule::add => BinOp::Add,
                    Rule::sub => BinOp::Sub,
                    Rule::mul => BinOp::Mul,
                    Rule::div => BinOp::Div,
                    Rule::matmul => BinOp::MatMul,
                    _ => BinOp::Pow,
                };
                let span = lhs.span.join(rhs.span);
                Expr {
                    kind: ExprKind::Binary {
                        op,
                        lhs: Box::new(lhs),
                        rhs: Box::new(rhs),
                    },
                    span,
                }
            })
            .parse(pair.into_inner());
        self.errors = cell.into_inner();
        result
    }

    fn primary(&mut self, pair: Pair<'_, Rule>) -> Expr {
        let span = span_of(&pair);
        let kind = match pair.as_rule() {
            Rule::number => ExprKind::Number(self.number(&pair)),
            Rule::ident => ExprKind::Name(self.ident(pair)),
            Rule::paren => {
                let inner = pair
                    .into_inner()
                    .next()
                    .expect("grammar: a group holds an expression"); // ok: grammar guarantees it
                let mut e = self.expr(inner);
                e.span = span;
                return e;
            }
            Rule::expr => return self.expr(pair),
            Rule::indexed => {
                let mut inner = pair.into_inner();
                let name = self.ident(inner.next().expect("grammar: indexed has a name")); // ok: grammar guarantees it
                let indices = inner.map(|i| self.index_expr(i)).collect();
                ExprKind::Indexed { name, indices }
            }
            Rule::call => {
                let mut inner = pair.into_inner();
                let func = self.ident(inner.next().expect("grammar: call has a name")); // ok: grammar guarantees it
                let args = inner.map(|a| self.expr(a)).collect();
                ExprKind::Call { func, args }
            }
            Rule::reduction => {
                let mut inner = pair.into_inner();
                let op = match inner.next().map(|k| k.as_rule()) {
                    Some(Rule::kw_mean) => Reduction::Mean,
                    _ => Reduction::Sum,
                };
                let mut rest: Vec<_> = inner.collect();
                let arg = rest.pop().map(|a| self.expr(a));
                let vars = rest.into_iter().map(|v| self.bound_name(v)).collect();
                let arg = arg.unwrap_or(Expr {
                    kind: ExprKind::Number(0.0),
                    span,
                });
                ExprKind::Reduce {
                    op,
                    vars,
                    arg: Box::new(arg),
                }
            }
            _ => ExprKind::Number(0.0),
        };
        Expr { kind, span }
    }
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::neg | Rule::add | Rule::sub | Rule::mul | Rule::div | Rule::matmul | Rule::pow
    )
}

fn short(text: &str) -> String {
    if text.chars().count() > 24 {
        let head: String = text.chars().take(20).collect();
        format!("{head}...")
    } else {
        text.to_string()
    }
}
