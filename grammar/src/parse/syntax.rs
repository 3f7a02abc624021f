//! Syntax errors a reader can act on: what was expected in the classes a reader thinks in,
//! misspelt keywords, `**` for a power, stray words after a declaration, nesting too deep.

use crate::ast::*;

use super::{MAX_NESTING, Rule};

/// Refuses inputs whose brackets nest deeper than [`MAX_NESTING`].
pub(super) fn check_nesting(source: &str) -> Option<Diagnostic> {
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
        Rule::expr
        | Rule::claim_expr
        | Rule::reduction
        | Rule::claim_reduction
        | Rule::call
        | Rule::claim_call
        | Rule::indexed
        | Rule::paren
        | Rule::claim_paren
        | Rule::delta_ref => "an expression",
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
pub(super) fn syntax_error(source: &str, error: &pest::error::Error<Rule>) -> Diagnostic {
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
            "a target is declared `target NAME[N]`, optionally followed by `onehot` or `probabilities`, or `target NAME label[N]` for a class index"
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
                "`(`" | "`-`" | "`mean`" | "`sum`" | "`max`" | "`min`" | "a name" | "a number"
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
