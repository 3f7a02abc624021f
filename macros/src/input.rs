//! Reads the macro's input, runs the core pipeline, and turns diagnostics into compile errors
//! at the right tokens, with stub items so that user code sees no follow-on errors.

use std::path::PathBuf;

use chainrule_core::check::NetworkOutline;
use chainrule_core::diagnostic::SourceFile;
use chainrule_core::rust::{BatchMode, EmitError, Float, Unroll, expand_network_with};
use chainrule_core::{Diagnostic, Model};
use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::quote_spanned;

use crate::stub;

/// The macro's options: `file = "..."`, `network = NAME`, `float = f32|f64`,
/// `unroll = auto|always|never`, `batch = per_sample|matrix|auto`.
#[derive(Default)]
struct Options {
    file: Option<(String, Span)>,
    network: Option<(String, Span)>,
    float: Float,
    unroll: Unroll,
    batch: BatchMode,
}

/// Where the network text came from, to map byte offsets back to something to point at.
enum Source {
    /// Inline tokens: each piece of the reconstructed text and its span.
    Inline(Vec<(usize, usize, Span)>),
    /// A file: errors name `file:line:col` and point at the `file = "..."` literal.
    File(SourceFile, Span, String),
}

impl Source {
    /// The first token a diagnostic is about (the `file = "..."` literal for a file), and the
    /// message to show there (with `file:line:col` for a file).
    fn place(&self, diagnostic: &Diagnostic) -> (Span, String) {
        match self {
            Source::Inline(pieces) => {
                let first = pieces
                    .iter()
                    .find(|(start, end, _)| {
                        *end > diagnostic.span.start
                            && *start < diagnostic.span.end.max(diagnostic.span.start + 1)
                    })
                    .or(pieces.last())
                    .map_or(Span::call_site(), |p| p.2);
                (first, diagnostic.message.clone())
            }
            Source::File(file, span, _) => {
                let (line, column) = file.line_col(diagnostic.span.start);
                (
                    *span,
                    format!("{}:{line}:{column}: {}", file.name, diagnostic.message),
                )
            }
        }
    }

    fn error(&self, diagnostic: &Diagnostic) -> syn::Error {
        match self {
            Source::Inline(pieces) => {
                let covering: Vec<Span> = pieces
                    .iter()
                    .filter(|(start, end, _)| {
                        *end > diagnostic.span.start
                            && *start < diagnostic.span.end.max(diagnostic.span.start + 1)
                    })
                    .map(|(_, _, span)| *span)
                    .collect();
                let (first, last) = match (covering.first(), covering.last()) {
                    (Some(f), Some(l)) => (*f, *l),
                    // Past the end of the text (a missing `}`): point at the last token.
                    _ => {
                        let last = pieces.last().map_or(Span::call_site(), |p| p.2);
                        (last, last)
                    }
                };
                let tokens = quote_spanned!(first=> a)
                    .into_iter()
                    .chain(quote_spanned!(last=> b))
                    .collect::<TokenStream>();
                syn::Error::new_spanned(tokens, &diagnostic.message)
            }
            Source::File(file, span, _) => {
                syn::Error::new(*span, file.render(diagnostic).trim_end())
            }
        }
    }
}

/// Everything the macro produces for its input.
pub fn expand(input: TokenStream) -> TokenStream {
    let (options, rest) = match parse_options(input) {
        Ok(parsed) => parsed,
        Err(e) => return e.into_compile_error(),
    };
    let (text, source) = match &options.file {
        Some((path, span)) => {
            if !rest.is_empty() {
                return syn::Error::new(
                    *span,
                    "give either `file = \"...\"` or the networks inline, not both",
                )
                .into_compile_error();
            }
            match read_file(path, *span) {
                Ok((file, absolute)) => (file.text.clone(), Source::File(file, *span, absolute)),
                Err(e) => return e.into_compile_error(),
            }
        }
        None => {
            if rest.is_empty() {
                return syn::Error::new(Span::call_site(), "chainrule::derive! needs a network: `network NAME { ... }`, or `file = \"path.nn\"`").into_compile_error();
            }
            let (text, pieces) = reconstruct(rest.clone());
            (text, Source::Inline(pieces))
        }
    };
    let model = match chainrule_core::check_source(&text) {
        Ok(model) => model,
        Err(diagnostics) => {
            return errors_with_stubs(&source, &diagnostics, &text, &rest, &options);
        }
    };
    let networks: Vec<&chainrule_core::Network> = match &options.network {
        Some((name, span)) => match model.network(name) {
            Some(n) => vec![n],
            None => {
                let names: Vec<&str> = model.networks.iter().map(|n| n.name.as_str()).collect();
                return syn::Error::new(
                    *span,
                    format!(
                        "no network named `{name}` here (networks: {})",
                        names.join(", ")
                    ),
                )
                .into_compile_error();
            }
        },
        None => model.networks.iter().collect(),
    };
    if networks.is_empty() {
        return syn::Error::new(Span::call_site(), "the input holds no network")
            .into_compile_error();
    }
    let mut out = expand_networks(&model, &networks, &options, &source);
    // The networks this call expands, each warning once (a file's other networks may be
    // expanded by other calls, which report theirs).
    let mut warnings: Vec<Diagnostic> = networks
        .iter()
        .flat_map(|n| chainrule_core::warnings::network_warnings(n))
        .collect();
    chainrule_core::diagnostic::dedup(&mut warnings);
    for warning in &warnings {
        out.extend(warning_item(&source, warning));
    }
    out
}

/// A compiler warning at the diagnostic's tokens that never fails a build (unless the user
/// denies warnings). Stable proc macros cannot emit warnings, so this uses the deprecation
/// lint: a deprecated constant whose note is the message, read at the user's token.
fn warning_item(source: &Source, warning: &Diagnostic) -> TokenStream {
    let (span, message) = source.place(warning);
    let note = format!("chainrule: {message}");
    let name = proc_macro2::Ident::new("chainrule_warning", span);
    quote::quote! {
        const _: () = {
            #[deprecated(note = #note)]
            #[allow(non_upper_case_globals)]
            const chainrule_warning: () = ();
            #name
        };
    }
}

fn expand_networks(
    model: &Model,
    networks: &[&chainrule_core::Network],
    options: &Options,
    source: &Source,
) -> TokenStream {
    let tracked = match source {
        Source::File(_, _, absolute) => Some(absolute.as_str()),
        Source::Inline(_) => None,
    };
    let mut out = TokenStream::new();
    let mut errors: Option<syn::Error> = None;
    for network in networks {
        match expand_network_with(
            model,
            network,
            options.float,
            options.unroll,
            options.batch,
            tracked,
        ) {
            Ok(tokens) => out.extend(tokens),
            Err(e) => {
                let error = match &e {
                    EmitError::Name(_, span, reason) | EmitError::Value(span, reason) => {
                        source.error(&Diagnostic::new(*span, reason.clone()))
                    }
                    EmitError::TooLarge(_) | EmitError::Written(_) => {
                        source.error(&Diagnostic::new(network.span, e.to_string()))
                    }
                };
                match &mut errors {
                    Some(all) => all.combine(error),
                    None => errors = Some(error),
                }
                out.extend(stub::outlined(&NetworkOutline::of(network), options.float));
            }
        }
    }
    if let Some(errors) = errors {
        out.extend(errors.into_compile_error());
    }
    out
}

/// Compile errors for every diagnostic, plus a stand-in module for each network of the
/// input (the chosen one, with `network = NAME`) with every item it still determines, so that
/// code using them reports nothing more.
fn errors_with_stubs(
    source: &Source,
    diagnostics: &[Diagnostic],
    text: &str,
    tokens: &TokenStream,
    options: &Options,
) -> TokenStream {
    let mut errors = diagnostics.iter().map(|d| source.error(d));
    let Some(mut all) = errors.next() else {
        return TokenStream::new();
    };
    for e in errors {
        all.combine(e);
    }
    let mut out = all.into_compile_error();
    let chosen = |name: &str| options.network.as_ref().is_none_or(|(n, _)| n == name);
    match chainrule_grammar::parse_file(text) {
        Ok(file) => chainrule_core::check::outline(&file, text)
            .iter()
            .filter(|n| chosen(&n.name))
            .for_each(|n| out.extend(stub::outlined(n, options.float))),
        Err(_) => network_names(tokens)
            .iter()
            .filter(|name| chosen(name))
            .for_each(|name| out.extend(stub::named_only(name))),
    }
    out
}

/// `network NAME` pairs in raw tokens, for stubs when the text does not even parse.
fn network_names(tokens: &TokenStream) -> Vec<String> {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees
        .windows(2)
        .filter_map(|w| match (&w[0], &w[1]) {
            (TokenTree::Ident(k), TokenTree::Ident(name)) if k == "network" => {
                Some(name.to_string())
            }
            _ => None,
        })
        .collect()
}

fn parse_options(input: TokenStream) -> Result<(Options, TokenStream), syn::Error> {
    // `macro_rules!` hands fragments such as `$file:literal` over wrapped in invisible groups.
    let trees: Vec<TokenTree> = input
        .into_iter()
        .flat_map(|tree| match tree {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                g.stream().into_iter().collect::<Vec<_>>()
            }
            other => vec![other],
        })
        .collect();
    let mut options = Options::default();
    let mut at = 0;
    while let (Some(TokenTree::Ident(key)), Some(TokenTree::Punct(eq))) =
        (trees.get(at), trees.get(at + 1))
    {
        let key_name = key.to_string();
        if eq.as_char() != '='
            || !matches!(
                key_name.as_str(),
                "file" | "network" | "float" | "unroll" | "batch"
            )
        {
            break;
        }
        let value = trees
            .get(at + 2)
            .ok_or_else(|| syn::Error::new(eq.span(), format!("`{key_name} =` needs a value")))?;
        match (key_name.as_str(), value) {
            ("file", TokenTree::Literal(lit)) => {
                let parsed: syn::LitStr = syn::parse2(TokenTree::Literal(lit.clone()).into())
                    .map_err(|_| {
                        syn::Error::new(
                            lit.span(),
                            "`file` takes a string: `file = \"nets/net.nn\"`",
                        )
                    })?;
                options.file = Some((parsed.value(), lit.span()));
            }
            ("network", TokenTree::Ident(name)) => {
                options.network = Some((name.to_string(), name.span()))
            }
            ("float", TokenTree::Ident(kind)) if kind == "f32" => options.float = Float::F32,
            ("float", TokenTree::Ident(kind)) if kind == "f64" => options.float = Float::F64,
            ("batch", TokenTree::Ident(mode))
                if BatchMode::from_name(&mode.to_string()).is_some() =>
            {
                options.batch = BatchMode::from_name(&mode.to_string()).unwrap_or_default()
            }
            ("batch", other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "`batch` is `per_sample`, `matrix` or `auto`",
                ));
            }
            ("float", other) => {
                return Err(syn::Error::new(other.span(), "`float` is `f32` or `f64`"));
            }
            ("unroll", TokenTree::Ident(mode)) if mode.to_string().parse::<Unroll>().is_ok() => {
                options.unroll = mode.to_string().parse().unwrap_or_default();
            }
            ("unroll", other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "`unroll` is `auto`, `always` or `never`",
                ));
            }
            ("file", other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "`file` takes a string: `file = \"nets/net.nn\"`",
                ));
            }
            (_, other) => {
                return Err(syn::Error::new(
                    other.span(),
                    "`network` takes a network name: `network = seed004`",
                ));
            }
        }
        at += 3;
        match trees.get(at) {
            Some(TokenTree::Punct(p)) if p.as_char() == ',' || p.as_char() == ';' => at += 1,
            _ => {}
        }
    }
    Ok((options, trees[at..].iter().cloned().collect()))
}

fn read_file(path: &str, span: Span) -> Result<(SourceFile, String), syn::Error> {
    let base = std::env::var("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let full = base.join(path);
    let bytes = std::fs::read(&full)
        .map_err(|e| syn::Error::new(span, format!("cannot read `{}`: {e}", full.display())))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        syn::Error::new(
            span,
            format!(
                "`{path}` is not valid UTF-8 (byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok((SourceFile::new(path, text), full.display().to_string()))
}

/// Rebuilds the network text from tokens, placing each token at its original line and
/// column (so syntax the tokenizer splits, like `.5`, reads back), and records which span
/// each piece of text came from.
fn reconstruct(tokens: TokenStream) -> (String, Vec<(usize, usize, Span)>) {
    let mut pieces: Vec<(String, Span)> = Vec::new();
    flatten(tokens, &mut pieces);
    let mut text = String::new();
    let mut map = Vec::new();
    let origin = pieces.first().map_or(1, |(_, s)| s.start().line);
    let (mut line, mut column) = (origin, 0usize);
    let mut first_column = None;
    for (piece, span) in pieces {
        let start = span.start();
        let base = *first_column.get_or_insert(start.column);
        if start.line > line {
            text.extend(std::iter::repeat_n('\n', start.line - line));
            line = start.line;
            column = 0;
        }
        let target = start.column.saturating_sub(base);
        if start.line == line && target > column {
            text.extend(std::iter::repeat_n(' ', target - column));
            column = target;
        } else if !text.is_empty() && !text.ends_with(['\n', ' ']) {
            // Locations unknown or overlapping: keep tokens apart.
            text.push(' ');
            column += 1;
        }
        let begin = text.len();
        text.push_str(&piece);
        column += piece.chars().count();
        map.push((begin, text.len(), span));
    }
    (text, map)
}

fn flatten(tokens: TokenStream, out: &mut Vec<(String, Span)>) {
    for tree in tokens {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                if !open.is_empty() {
                    out.push((open.to_string(), group.span_open()));
                }
                flatten(group.stream(), out);
                if !close.is_empty() {
                    out.push((close.to_string(), group.span_close()));
                }
            }
            other => out.push((other.to_string(), other.span())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each warning becomes one deprecated item whose note is the message, read at the
    /// user's token (here the `tt` that became a parameter), and the network is still built.
    #[test]
    fn warnings_become_deprecated_items() {
        let input: TokenStream = quote::quote! {
            network typo {
                input x[2]
                target t[2]
                y[2] = W @ x
                loss L = 0.5 * sum((y - tt)^2)
            }
        };
        let out = expand(input).to_string();
        assert_eq!(out.matches("deprecated").count(), 2, "{out}");
        assert!(out.contains("chainrule: target `t` is not used by the loss"));
        assert!(out.contains("`tt` is not declared, so it is a new trainable parameter"));
        assert!(
            out.contains("pub mod typo"),
            "the network is still expanded"
        );
        assert!(!out.contains("compile_error"));
    }
}
