//! Renders diagnostics as `FILE:LINE:COL: error: REASON` (or `warning:`), the source line, and
//! a caret.

use std::fmt::Write as _;

use chainrule_grammar::{Diagnostic, Span};

/// A source text with its display name, able to turn byte offsets into lines and columns.
#[derive(Clone, Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics (usually the path as given).
    pub name: String,
    /// The whole text.
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Wraps `text`, shown as `name`.
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceFile {
        let text = text.into();
        let line_starts = line_starts(&text);
        SourceFile {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let column = self
            .text
            .get(start..offset)
            .map_or(offset - start, |s| s.chars().count());
        (line + 1, column + 1)
    }

    /// The text of a 1-based line, without its line break.
    pub fn line_text(&self, line: usize) -> &str {
        let start = self
            .line_starts
            .get(line - 1)
            .copied()
            .unwrap_or(self.text.len());
        let end = self
            .line_starts
            .get(line)
            .copied()
            .unwrap_or(self.text.len());
        self.text
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\n', '\r'])
    }

    /// `FILE:LINE:COL: error: REASON`, then the source line and a caret under the span.
    pub fn render(&self, diagnostic: &Diagnostic) -> String {
        self.render_as(diagnostic, "error")
    }

    /// `FILE:LINE:COL: warning: REASON`, then the source line and a caret under the span.
    pub fn render_warning(&self, diagnostic: &Diagnostic) -> String {
        self.render_as(diagnostic, "warning")
    }

    fn render_as(&self, diagnostic: &Diagnostic, severity: &str) -> String {
        let (line, column) = self.line_col(diagnostic.span.start);
        let mut out = format!(
            "{}:{line}:{column}: {severity}: {}\n",
            self.name, diagnostic.message
        );
        let text = self.line_text(line);
        let shown: String = text
            .chars()
            .map(|c| if c == '\t' { ' ' } else { c })
            .collect();
        let width = caret_width(self, diagnostic.span, line, column, text);
        let gutter = line.to_string();
        let _ = writeln!(out, "{gutter} | {shown}");
        let _ = writeln!(
            out,
            "{} | {}{}",
            " ".repeat(gutter.len()),
            " ".repeat(column - 1),
            "^".repeat(width)
        );
        out
    }

    /// Every diagnostic, rendered one after another.
    pub fn render_all(&self, diagnostics: &[Diagnostic]) -> String {
        diagnostics.iter().map(|d| self.render(d)).collect()
    }
}

/// The byte offsets where lines start. A line ends at `\n`, `\r\n`, or a lone `\r` (classic
/// Mac OS files, which editors still show as separate lines): counting only `\n` would put a
/// whole CR-only file on line 1.
pub fn line_starts(text: &str) -> Vec<usize> {
    let bytes = text.as_bytes();
    std::iter::once(0)
        .chain(bytes.iter().enumerate().filter_map(|(i, &b)| {
            let ends = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            ends.then_some(i + 1)
        }))
        .collect()
}

/// Sorts diagnostics by position and keeps one of each (span, message): a problem that two
/// typing paths both see (an expression typed again with a size hint, a name resolved by two
/// checks) is still one problem. Equal diagnostics need not be adjacent (two messages at one
/// span, each found twice), so this removes every repeat, keeping the first one's place.
pub fn dedup(diagnostics: &mut Vec<Diagnostic>) {
    let mut seen = std::collections::BTreeSet::new();
    diagnostics.retain(|d| seen.insert((d.span, d.message.clone())));
    diagnostics.sort_by_key(|d| d.span);
}

/// The caret covers the span, clipped to the end of its first line, and is at least one wide.
fn caret_width(file: &SourceFile, span: Span, line: usize, column: usize, text: &str) -> usize {
    let (end_line, end_column) = file.line_col(span.end);
    let line_len = text.chars().count();
    let end = if end_line == line {
        end_column
    } else {
        line_len + 1
    };
    end.saturating_sub(column).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_carriage_return_ends_a_line() {
        for (text, at) in [
            ("a\rbb\rccc", "ccc"),
            ("a\nbb\nccc", "ccc"),
            ("a\r\nbb\r\nccc", "ccc"),
            ("a\rbb\r\nccc", "ccc"),
        ] {
            let file = SourceFile::new("f.nn", text);
            let offset = text.find(at).expect("in the text") + 1; // ok: a test
            assert_eq!(file.line_col(offset), (3, 2), "{text:?}");
            assert_eq!(file.line_text(2), "bb", "{text:?}");
            let shown = file.render(&Diagnostic::new(Span::new(offset, offset + 1), "here"));
            assert!(
                shown.starts_with("f.nn:3:2: error: here\n3 | ccc\n"),
                "{shown}"
            );
        }
    }

    #[test]
    fn repeats_go_even_when_not_adjacent() {
        let at = |start, end, message: &str| Diagnostic::new(Span { start, end }, message);
        let mut all = vec![
            at(9, 11, "`W1` is a 3x2 matrix"),
            at(9, 11, "a second problem at the same place"),
            at(2, 4, "earlier"),
            at(9, 11, "`W1` is a 3x2 matrix"),
            at(2, 4, "earlier"),
            at(9, 12, "`W1` is a 3x2 matrix"),
        ];
        dedup(&mut all);
        let shown: Vec<(usize, &str)> = all
            .iter()
            .map(|d| (d.span.start, d.message.as_str()))
            .collect();
        assert_eq!(
            shown,
            [
                (2, "earlier"),
                (9, "`W1` is a 3x2 matrix"),
                (9, "a second problem at the same place"),
                (9, "`W1` is a 3x2 matrix"),
            ]
        );
        assert_eq!(all[3].span.end, 12, "another span is another diagnostic");
    }
}
