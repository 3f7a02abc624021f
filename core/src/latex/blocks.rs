//! Splits a fragment's lines into `align*` blocks small enough for every renderer's defaults.
//!
//! KaTeX (what Jupyter-style and web renderers use) refuses an expression that needs more
//! than 1000 macro expansions ("Too many expansions") unless the page raises `maxExpand`;
//! one block per weight of a three-layer network's chain form is far past that. Renderers
//! count per block, so the printer breaks where the derivation does (weights, delta vectors,
//! parameters), then wherever a block would outgrow [`EXPANSION_BUDGET`] or [`CHAR_BUDGET`],
//! preferring the start of an equation over a continuation line.

/// KaTeX's default `maxExpand` is 1000; the estimate below counts the commands the printers
/// emit exactly, and the margin covers ones it does not know.
pub const EXPANSION_BUDGET: usize = 600;

/// A block of more than this many characters is hard to read and slow to typeset; MathJax
/// also bounds the text after a macro expansion (its `maxBuffer`, 5 KiB).
pub const CHAR_BUDGET: usize = 4000;

/// The macro expansions KaTeX 0.16 spends on a piece of LaTeX, command by command (measured
/// with `maxExpand`: `\,` expands to `\tmspace` and its arguments, `\operatorname` to three
/// tokens, most symbols and functions to none).
pub fn katex_expansions(latex: &str) -> usize {
    let mut total = 0;
    let mut chars = latex.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '~' => total += 1,
            '\\' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek().filter(|n| n.is_ascii_alphabetic()) {
                    name.push(n);
                    chars.next();
                }
                if name.is_empty() {
                    total += match chars.next() {
                        Some(',' | ':' | ';' | '!') => 3,
                        Some('>') => 1,
                        _ => 0,
                    };
                    continue;
                }
                total += match name.as_str() {
                    "operatorname" if chars.peek() == Some(&'*') => 4,
                    "operatorname" => 3,
                    "neq" | "hspace" => 4,
                    "ne" => 5,
                    "dots" => 2,
                    "quad" | "qquad" | "enspace" | "cdots" | "vdots" | "colon" => 1,
                    _ => 0,
                };
            }
            _ => {}
        }
    }
    total
}

/// Whether a line begins an equation (`lhs &= ...`) rather than continuing one (`&= ...`).
fn starts_equation(line: &str) -> bool {
    !line.starts_with('&')
}

/// The lines as `align*` environments: a new one at every index of `breaks`, and wherever
/// the current one would outgrow the budgets.
pub fn finish(lines: &[String], breaks: &[usize]) -> String {
    // Lines too wide for a page are broken first; the breaks move with them.
    let mut wrapped = Vec::with_capacity(lines.len());
    let mut moved = Vec::with_capacity(breaks.len());
    let mut pending = breaks.iter().copied().peekable();
    for (i, line) in lines.iter().enumerate() {
        while pending.next_if(|&b| b <= i).is_some() {
            moved.push(wrapped.len());
        }
        wrapped.extend(super::wrap::wrap(line, super::wrap::WRAP_LIMIT));
    }
    moved.extend(pending.map(|_| wrapped.len()));
    let (lines, breaks) = (&wrapped[..], &moved[..]);
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    let mut start = 0;
    for end in breaks
        .iter()
        .copied()
        .chain(std::iter::once(lines.len()))
        .filter(|&b| b <= lines.len())
    {
        if end > start {
            split(&lines[start..end], &mut blocks);
            start = end;
        }
    }
    if blocks.is_empty() {
        blocks.push(Vec::new());
    }
    let mut out = String::new();
    for block in &blocks {
        out.push_str("\\begin{align*}\n");
        out.push_str(&block.join(" \\\\\n"));
        if !block.is_empty() {
            out.push('\n');
        }
        out.push_str("\\end{align*}\n");
    }
    out
}

/// Splits one block's lines by the budgets: whole equations while they fit, and an
/// equation too large on its own line by line.
fn split<'a>(lines: &'a [String], blocks: &mut Vec<Vec<&'a str>>) {
    let fits = |block: &[&str], extra: &[String]| {
        let text = || {
            block
                .iter()
                .copied()
                .chain(extra.iter().map(String::as_str))
        };
        text().map(katex_expansions).sum::<usize>() <= EXPANSION_BUDGET
            && text().map(str::len).sum::<usize>() <= CHAR_BUDGET
    };
    let mut current: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let end = (i + 1..lines.len())
            .find(|&j| starts_equation(&lines[j]))
            .unwrap_or(lines.len());
        let equation = &lines[i..end];
        if fits(&current, equation) {
            current.extend(equation.iter().map(String::as_str));
        } else {
            if !current.is_empty() {
                blocks.push(std::mem::take(&mut current));
            }
            for line in equation {
                if !current.is_empty() && !fits(&current, std::slice::from_ref(line)) {
                    blocks.push(std::mem::take(&mut current));
                }
                current.push(line);
            }
        }
        i = end;
    }
    if !current.is_empty() {
        blocks.push(current);
    }
}

/// The `align*` blocks of a fragment, each to be rendered on its own (a notebook cell or an
/// HTML page gives each block its own display).
pub fn blocks(fragment: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = fragment;
    while let Some(start) = rest.find("\\begin{align*}") {
        let Some(len) = rest[start..].find("\\end{align*}") else {
            break;
        };
        let end = start + len + "\\end{align*}".len();
        out.push(&rest[start..end]);
        rest = &rest[end..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansions_are_counted_as_katex_counts_them() {
        // Figures measured with KaTeX 0.16.47's `maxExpand` (tests/katex).
        assert_eq!(
            katex_expansions("\\frac{\\partial L}{\\partial w^{(1)}_{00}}"),
            0
        );
        assert_eq!(katex_expansions("a \\, b \\, c"), 6);
        assert_eq!(katex_expansions("\\operatorname{relu}\\left(z\\right)"), 3);
        assert_eq!(katex_expansions("&\\quad + x \\neq y"), 5);
        assert_eq!(katex_expansions("\\leftarrow \\cdot \\times \\sigma"), 0);
    }

    fn lines(n: usize, text: &str) -> Vec<String> {
        (0..n).map(|i| format!("{text}_{{{i}}} &= 1")).collect()
    }

    #[test]
    fn breaks_start_blocks_and_budgets_split_them() {
        let small = lines(4, "x");
        let text = finish(&small, &[2]);
        let found = blocks(&text);
        assert_eq!(found.len(), 2, "{text}");
        assert!(found[1].contains("x_{2} &= 1 \\\\\nx_{3} &= 1\n"), "{text}");
        // 300 equations of 6 expansions each: 1800 in all, so at least three blocks.
        let wide = lines(300, "a \\, b \\, c");
        let text = finish(&wide, &[]);
        let found = blocks(&text);
        assert!(found.len() >= 3, "{}", found.len());
        for block in &found {
            assert!(katex_expansions(block) <= EXPANSION_BUDGET);
            assert!(block.len() <= CHAR_BUDGET + 100);
        }
        assert_eq!(text.matches("&= 1").count(), 300);
    }

    #[test]
    fn a_long_equation_splits_between_its_lines() {
        let mut equation = vec!["y &= a \\, b".to_string()];
        equation.extend((0..400).map(|_| "&\\quad + a \\, b".to_string()));
        let text = finish(&equation, &[]);
        let found = blocks(&text);
        assert!(found.len() >= 3);
        assert!(found[0].starts_with("\\begin{align*}\ny &= a"));
        assert!(found[1].starts_with("\\begin{align*}\n&\\quad + a"));
    }

    #[test]
    fn an_empty_fragment_is_one_empty_block() {
        assert_eq!(finish(&[], &[]), "\\begin{align*}\n\\end{align*}\n");
    }
}
