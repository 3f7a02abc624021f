//! Breaks an `align*` line that is still too wide after the printer broke its sums
//! ([`crate::print::break_terms`] breaks only between top-level terms): a single product such
//! as `\delta_{h_0} \operatorname{step}\left(w_{00} x_0 + ... + b_0\right) x_0` of a 784-input
//! unit, or a general formula. A page (pdflatex's `--standalone` document) cannot scroll, so
//! such a line ran hundreds of points past the margin.
//!
//! A line breaks at a `+` or `-` outside braces, even inside `\left( ... \right)` (the line
//! ends with `\right.` and the next begins with `\left.` for each delimiter left open), else
//! between the factors of a product; continuation lines start with `&\quad`, as the printer's.

use crate::print::visual_width;

/// Visual characters a line's right-hand side may take (a little above the printer's own
/// [`super::LINE_LIMIT`], so lines it broke stay as they are): about the width of a 6.5in
/// page in 10pt math.
pub const WRAP_LIMIT: usize = 72;

/// A place a line may break: before `at` (a space), inside `depth` open `\left`s.
#[derive(Clone, Copy)]
struct Break {
    at: usize,
    depth: usize,
    sign: bool,
}

/// The line as one or more lines whose right-hand sides fit in `limit` where a break allows.
pub fn wrap(line: &str, limit: usize) -> Vec<String> {
    let Some(body) = body_start(line) else {
        return vec![line.to_string()];
    };
    if visual_width(&line[body..]) <= limit {
        return vec![line.to_string()];
    }
    let breaks = breaks(line, body);
    let mut out = Vec::new();
    let mut start = 0;
    let mut prefix = String::new();
    let mut next = 0;
    loop {
        // The break that keeps this line within the limit, preferring (in its second half)
        // the fewest open delimiters, then a sign, then the latest.
        let from = if start == 0 { body } else { start };
        let mut width = visual_width(&prefix);
        let mut last = from;
        let mut fitting: Vec<(usize, usize)> = Vec::new();
        let mut fits_to_end = true;
        while next < breaks.len() {
            let b = breaks[next];
            width += visual_width(&line[last..b.at]);
            last = b.at;
            if width > limit {
                fits_to_end = false;
                break;
            }
            fitting.push((next, width));
            next += 1;
        }
        if fits_to_end && width + visual_width(&line[last..]) <= limit {
            out.push(format!("{prefix}{}", &line[start..]));
            return out;
        }
        let late = fitting.iter().filter(|&&(_, w)| w >= limit / 2);
        let best = late
            .min_by_key(|&&(k, _)| (breaks[k].depth, !breaks[k].sign, usize::MAX - k))
            .or(fitting.last())
            .map(|&(k, _)| k);
        let chosen = best.or((next < breaks.len()).then_some(next));
        let Some(chosen) = chosen else {
            out.push(format!("{prefix}{}", &line[start..]));
            return out;
        };
        let b = breaks[chosen];
        out.push(format!(
            "{prefix}{}{}",
            &line[start..b.at],
            " \\right.".repeat(b.depth)
        ));
        prefix = format!("&\\quad {}", "\\left. ".repeat(b.depth));
        start = b.at + 1;
        next = chosen + 1;
    }
}

/// Where the right-hand side begins: after the first `&` outside braces and the token that
/// follows it (`=`, `\quad`, `\leftarrow`), so a line never breaks right after it.
fn body_start(line: &str) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in line.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth = depth.saturating_sub(1),
            '&' if depth == 0 => {
                let rest = &line[i + 1..];
                let token = rest.find(' ').map_or(rest.len(), |s| s + 1);
                return Some(i + 1 + token);
            }
            _ => {}
        }
    }
    None
}

/// Every place the line may break after `from`: spaces outside braces, before a binary sign
/// or between factors (not around `\,`, after an operator, or after `\sum_{k}`, whose body
/// must stay beside it).
fn breaks(line: &str, from: usize) -> Vec<Break> {
    let bytes = line.as_bytes();
    let mut out = Vec::new();
    let (mut braces, mut lefts) = (0usize, 0usize);
    let mut word_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                let name: String = line[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                if braces == 0 && name == "left" {
                    lefts += 1;
                } else if braces == 0 && name == "right" {
                    lefts = lefts.saturating_sub(1);
                }
                // `\{`, `\,`: the escaped character is not structure.
                i += 1 + name.len().max(1);
                continue;
            }
            b'{' => braces += 1,
            b'}' => braces = braces.saturating_sub(1),
            b' ' if braces == 0 && i > from => {
                let rest = &line[i + 1..];
                let before = bytes[i - 1];
                let sign = rest.starts_with("+ ") || rest.starts_with("- ");
                let word = &line[word_start..i];
                let factor = !sign
                    && !matches!(before, b'=' | b'&' | b'+' | b'-' | b',' | b'(')
                    && !word.starts_with("\\sum")
                    && !word.starts_with("\\prod")
                    && !["\\,", "\\right", "\\cdot", "\\times", "=", "&", "\\quad"]
                        .iter()
                        .any(|t| rest.starts_with(t));
                if sign || factor {
                    out.push(Break {
                        at: i,
                        depth: lefts,
                        sign,
                    });
                }
                word_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_product_breaks_inside_its_parentheses() {
        let terms: Vec<String> = (0..40).map(|j| format!("w_{{0{j}}} x_{{{j}}}")).collect();
        let line = format!(
            "\\frac{{\\partial L}}{{\\partial w_{{00}}}} &= \\delta_{{h_{{0}}}} \\operatorname{{step}}\\left({}\\right) x_{{0}}",
            terms.join(" + ")
        );
        let lines = wrap(&line, WRAP_LIMIT);
        assert!(lines.len() > 3, "{lines:?}");
        for l in &lines {
            let body = body_start(l).expect("an &"); // ok: a test
            assert!(visual_width(&l[body..]) <= WRAP_LIMIT, "{l}");
            // Every line's delimiters balance on their own.
            assert_eq!(
                l.matches("\\left").count(),
                l.matches("\\right").count(),
                "{l}"
            );
        }
        assert!(lines[0].ends_with("\\right."), "{}", lines[0]);
        assert!(
            lines[1].starts_with("&\\quad \\left. + w_{0"),
            "{}",
            lines[1]
        );
        // Nothing is lost: the pieces hold every term once.
        let joined = lines.join(" ");
        for t in &terms {
            assert_eq!(joined.matches(t.as_str()).count(), 1, "{t}");
        }
    }

    #[test]
    fn short_lines_and_text_stay_whole() {
        let line = "y &= a + b";
        assert_eq!(wrap(line, WRAP_LIMIT), vec![line.to_string()]);
        let text = format!("&\\text{{{}}}", "word ".repeat(40));
        assert_eq!(wrap(&text, WRAP_LIMIT), vec![text.clone()]);
    }

    #[test]
    fn a_sum_keeps_its_body() {
        let line = format!("y &= \\sum_{{k}} {}", "a_{k} b_{k} ".repeat(30).trim_end());
        let lines = wrap(&line, WRAP_LIMIT);
        assert!(lines[0].starts_with("y &= \\sum_{k} a_{k}"), "{lines:?}");
    }
}
