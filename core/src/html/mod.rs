//! `chainrule html`: one self-contained page about a network: its source, its shapes, a
//! diagram, every form of the derivation rendered by KaTeX, the worked numeric example as
//! tables, and the claims with their verdicts.
//!
//! The page needs no network to display: KaTeX's script and stylesheet (fonts as `data:` URLs)
//! are vendored in `core/assets/katex/` and inlined, so a page mailed or opened from `file://` renders the
//! same. Formulas are `<div class="tex">` elements holding their LaTeX as text; the inlined
//! script renders each in place, and without script the LaTeX source stays readable.

mod source;
mod tables;

use std::fmt::Write as _;

use chainrule_grammar::BatchRule;

use crate::CompiledNetwork;
use crate::claims::{Decided, check_claims};
use crate::derive::Derivation;
use crate::eval::{Sample, evaluate_batch};
use crate::ir::Var;
use crate::latex::{Form, Latex, NumericPoint};
use crate::model::{Model, Network, Shape, Symbol};

const KATEX_JS: &str = include_str!("../../assets/katex/katex.min.js");
const KATEX_CSS: &str = include_str!("../../assets/katex/katex.inline.css");

/// With more trainable scalars than this, the chain, delta and numeric forms show one element
/// of each parameter (the general form covers them all): 784-128-10 would be 10^5 lines.
pub const ALL_WEIGHTS_LIMIT: usize = 200;
/// A form whose LaTeX is longer than this is left out with a note, not sent to the browser.
pub const MAX_FORM_BYTES: usize = 400_000;

/// What a page shows.
pub struct PageInput<'a> {
    /// The file's name as the user gave it.
    pub file_name: &'a str,
    /// The whole `.nn` text (the page shows the network's part of it).
    pub source: &'a str,
    /// The checked file.
    pub model: &'a Model,
    /// The network the page is about.
    pub network: &'a Network,
    /// Its derivations, as `compile` made them.
    pub compiled: &'a CompiledNetwork,
    /// The point of the worked example (parameters, samples), if the file or the user gave one.
    pub point: Option<(Vec<Vec<f64>>, Vec<Sample>)>,
    /// A learning rate: the worked example then ends with one gradient step.
    pub lr: Option<f64>,
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A formula to render: its LaTeX as the text of a `.tex` element.
fn formula(latex: &str) -> String {
    format!("<div class=\"tex\">{}</div>\n", escape(latex.trim_end()))
}

/// An `align*` fragment cut at its `\\[1ex]` gaps into one `align*` per group (a vector's
/// deltas, a weight's chain), so that the browser renders many small formulas rather than
/// one that exceeds KaTeX's limits.
fn blocks(fragment: &str) -> Vec<String> {
    let inner = fragment
        .trim()
        .trim_start_matches("\\begin{align*}")
        .trim_end_matches("\\end{align*}")
        .trim();
    inner
        .split(" \\\\[1ex]\n")
        .filter(|b| !b.trim().is_empty())
        .map(|b| format!("\\begin{{align*}}\n{}\n\\end{{align*}}", b.trim()))
        .collect()
}

/// The weights the long forms show, and a note when that is not all of them.
fn shown_weights(network: &Network, derivation: &Derivation) -> (Vec<Var>, Option<String>) {
    let all: Vec<Var> = derivation.gradients.iter().map(|(v, _)| *v).collect();
    if network.param_count() <= ALL_WEIGHTS_LIMIT {
        return (all, None);
    }
    let (firsts, names) = first_elements(network, derivation);
    let note = format!(
        "The network has {} trainable parameters: this form shows the first element of each \
         parameter ({names}); the general form above covers every element. \
         <code>chainrule latex FILE --weight REF</code> prints any other.",
        network.param_count(),
    );
    (firsts, Some(note))
}

/// The first element of each parameter, and their names (escaped, comma-separated).
fn first_elements(network: &Network, derivation: &Derivation) -> (Vec<Var>, String) {
    let firsts: Vec<Var> = network
        .params
        .iter()
        .enumerate()
        .filter_map(|(p, _)| derivation.layout.vars(Symbol::Param(p)).next())
        .collect();
    let names: Vec<String> = firsts
        .iter()
        .map(|v| derivation.layout.describe(network, *v))
        .collect();
    (firsts, escape(&names.join(", ")))
}

/// Parameters with more elements than this get their general formula from a sample of them.
pub const GENERAL_SAMPLE_LIMIT: usize = 2000;

/// The elements the general form unifies. All of them for a small network; for a parameter
/// past [`GENERAL_SAMPLE_LIMIT`], its corners and a strided sample, because the general form's
/// search is quadratic in the number of weights asked for (784x120 takes minutes).
pub fn general_weights(network: &Network, derivation: &Derivation) -> (Vec<Var>, Option<String>) {
    let mut out = Vec::new();
    let mut sampled = Vec::new();
    for (p, param) in network.params.iter().enumerate() {
        let vars: Vec<Var> = derivation.layout.vars(Symbol::Param(p)).collect();
        if vars.len() <= GENERAL_SAMPLE_LIMIT {
            out.extend(vars);
            continue;
        }
        let (rows, cols) = match param.shape {
            Shape::Matrix(r, c) => (r, c),
            other => (1, other.len()),
        };
        let edge = |n: usize| [0, 1, 2, n - 1];
        let mut chosen: Vec<usize> = Vec::new();
        for i in edge(rows).into_iter().filter(|&i| i < rows) {
            for j in edge(cols).into_iter().filter(|&j| j < cols) {
                chosen.push(i * cols + j);
            }
        }
        let stride = vars.len() / 97;
        chosen.extend((0..vars.len()).step_by(stride.max(1)));
        chosen.sort_unstable();
        chosen.dedup();
        sampled.push(format!(
            "{} of the {} elements of <code>{}</code>",
            chosen.len(),
            vars.len(),
            escape(&param.name)
        ));
        out.extend(chosen.into_iter().map(|e| vars[e]));
    }
    let note = (!sampled.is_empty()).then(|| {
        format!(
            "The parameters' formulas are found from {} (its corners and a strided sample); \
             <code>chainrule latex FILE --form general</code> unifies every element.",
            sampled.join(", ")
        )
    });
    (out, note)
}

/// One form's section: collapsible, open for the general form.
fn form_section(
    out: &mut String,
    title: &str,
    open: bool,
    latex: &str,
    note: Option<&str>,
    command: &str,
) {
    let _ = writeln!(
        out,
        "<details class=\"form\"{}><summary>{title}</summary>",
        if open { " open" } else { "" }
    );
    if let Some(note) = note {
        let _ = writeln!(out, "<p class=\"note\">{note}</p>");
    }
    if latex.len() > MAX_FORM_BYTES {
        let _ = writeln!(
            out,
            "<p class=\"note\">This form is {} KB of LaTeX, too long to read on a page: \
             <code>{}</code> prints it.</p>",
            latex.len() / 1000,
            escape(command)
        );
    } else {
        for block in blocks(latex) {
            out.push_str(&formula(&block));
        }
    }
    out.push_str("</details>\n");
}

fn shapes_table(network: &Network) -> String {
    let mut out =
        String::from("<table class=\"shapes\"><tr><th>kind</th><th>name</th><th>shape</th></tr>\n");
    let mut row = |kind: &str, name: &str, shape: String| {
        let _ = writeln!(
            out,
            "<tr><td>{kind}</td><td><code>{}</code></td><td>{shape}</td></tr>",
            escape(name)
        );
    };
    for v in &network.inputs {
        row("input", &v.name, format!("[{}]", v.size));
    }
    for v in &network.targets {
        row("target", &v.name, format!("[{}]", v.size));
    }
    for v in &network.vectors {
        row("vector", &v.name, format!("[{}]", v.size));
    }
    for p in &network.params {
        let shape = match p.shape {
            Shape::Scalar => "scalar".to_string(),
            other => other.dims().iter().map(|d| format!("[{d}]")).collect(),
        };
        row("parameter", &p.name, shape);
    }
    row("loss", &network.loss.name, "scalar".to_string());
    out.push_str("</table>\n");
    let batch = match network.batch {
        BatchRule::Mean => "mean",
        BatchRule::Sum => "sum",
    };
    let _ = writeln!(
        out,
        "<p>{} trainable parameters; samples combine by their <b>{batch}</b>.</p>",
        network.param_count()
    );
    out
}

fn claims_section(network: &Network, model: &Model) -> String {
    if network.claims.is_empty() && network.refused_claims.is_empty() {
        return "<p>The network states no claims. A <code>claim dL/dW[i][j] = EXPR</code> line \
                states a hand-derived formula; <code>chainrule check</code> decides it.</p>\n"
            .to_string();
    }
    let reports = check_claims(network, &model.functions);
    let mut out = String::from("<ul class=\"claims\">\n");
    for report in &reports {
        let verdict = match &report.holds {
            Some(Decided::Symbolically) => {
                "<span class=\"holds\">holds</span> (symbolically, and at every random point)"
                    .to_string()
            }
            Some(Decided::Numerically) => format!(
                "<span class=\"holds\">holds</span> (numerically, at {} random points)",
                crate::claims::POINTS
            ),
            None => "<span class=\"fails\">fails</span>".to_string(),
        };
        let _ = writeln!(out, "<li><code>{}</code>: {verdict}", escape(&report.text));
        let mut lines = Vec::new();
        if report.holds.is_none() && report.instances > 1 {
            lines.push(format!(
                "fails for {} of {} index values: {}",
                report.failing.len(),
                report.instances,
                report.failing.join("; ")
            ));
        } else if report.instances > 1 {
            lines.push(format!("for all {} index values", report.instances));
        }
        lines.extend(report.diagnosis.iter().cloned());
        if !lines.is_empty() {
            let _ = writeln!(out, "<pre>{}</pre>", escape(&lines.join("\n")));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ul>\n");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}\
pre{background:#f6f6f6;padding:.8em;overflow-x:auto}\
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}\
td.num{text-align:right;font-family:monospace}td.def{font-family:monospace}\
details.form{margin:.6em 0}summary{cursor:pointer;font-weight:bold}\
.tex{overflow-x:auto;padding:.3em 0}.note{color:#555;font-size:.9em}\
.holds{color:#1a7f37;font-weight:bold}.fails{color:#c00;font-weight:bold}\
svg.network{max-width:100%;height:auto}";

/// Renders every `.tex` element in place; a formula KaTeX cannot parse shows as a
/// `.katex-error` element (what the browser test looks for) instead of stopping the others.
const RENDER: &str = "(function(){var n=0;document.querySelectorAll('.tex').forEach(function(e){\
katex.render(e.textContent,e,{displayMode:true,throwOnError:false,maxExpand:Infinity});n++;});\
document.body.setAttribute('data-rendered',String(n));})();";

/// The whole page.
pub fn page(input: &PageInput<'_>) -> String {
    let network = input.network;
    let compiled = input.compiled;
    let derivation = &compiled.derivation;
    let (weights, note) = shown_weights(network, derivation);
    // The commands the page suggests must pick this network in a file of several.
    let file = if input.model.networks.len() > 1 {
        format!("{} --network {}", input.file_name, network.name)
    } else {
        input.file_name.to_string()
    };
    let file = file.as_str();
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<h1>Network <code>{}</code></h1>\n<p>From <code>{}</code>, derived by chainrule {}.</p>",
        escape(&network.name),
        escape(input.file_name),
        env!("CARGO_PKG_VERSION")
    );
    let (shown, left_out) = source::excerpt(input.source, &network.name);
    let _ = writeln!(
        body,
        "<h2>Source</h2>\n{}<pre class=\"source\">{}</pre>",
        if left_out {
            "<p class=\"note\">The network's block and the functions it calls: the file's \
             other networks, and functions this one does not call, are left out.</p>\n"
        } else {
            ""
        },
        escape(&shown)
    );
    let _ = writeln!(body, "<h2>Shapes</h2>\n{}", shapes_table(network));
    let _ = writeln!(
        body,
        "<h2>The network</h2>\n{}",
        crate::diagram::svg(network)
    );

    body.push_str("<h2>The derivation</h2>\n");
    let (general_weights, general_note) = general_weights(network, derivation);
    let general = Latex::new(network, compiled).fragment(Form::General, &general_weights, None);
    form_section(
        &mut body,
        "General form (index notation)",
        true,
        &general,
        general_note.as_deref(),
        &format!("chainrule latex {file} --form general"),
    );
    let delta = Latex::new(network, compiled).fragment(Form::Delta, &weights, None);
    form_section(
        &mut body,
        "Deltas, from the loss backwards, and every gradient",
        false,
        &delta,
        note.as_deref(),
        &format!("chainrule latex {file} --form delta"),
    );
    let mut chain = Latex::new(network, compiled).fragment(Form::Chain, &weights, None);
    let mut chain_note = note.clone();
    if chain.len() > MAX_FORM_BYTES && weights.len() > network.params.len() {
        // Paths through time multiply (a recurrence's weight reaches the loss through every
        // later step): one element of each parameter still shows what the paths are.
        // One element of each parameter, as many as the page holds.
        let (firsts, _) = first_elements(network, derivation);
        let mut shown = Vec::new();
        let mut size = 0;
        for weight in firsts {
            let one = Latex::new(network, compiled).fragment(Form::Chain, &[weight], None);
            if size + one.len() > MAX_FORM_BYTES && !shown.is_empty() {
                break;
            }
            size += one.len();
            shown.push(weight);
        }
        let names: Vec<String> = shown
            .iter()
            .map(|v| derivation.layout.describe(network, *v))
            .collect();
        chain_note = Some(format!(
            "Every weight's chain is {} KB of LaTeX: this form shows {}. \
             <code>chainrule latex FILE --form chain --weight REF</code> prints any other.",
            chain.len() / 1000,
            escape(&names.join(", "))
        ));
        chain = Latex::new(network, compiled).fragment(Form::Chain, &shown, None);
    }
    form_section(
        &mut body,
        "The chain rule for each weight (paths of partials, factors, closed form)",
        false,
        &chain,
        chain_note.as_deref(),
        &format!("chainrule latex {file} --form chain"),
    );

    body.push_str("<h2>A worked example</h2>\n");
    match &input.point {
        Some((params, samples)) => {
            let result = evaluate_batch(derivation, network, params, samples);
            let first = &result.samples[0];
            let point = NumericPoint {
                slots: first.slots.clone(),
                gradient: first.gradient.concat(),
                lr: input.lr,
                batch: (samples.len() > 1).then(|| (samples.len(), result.gradient.concat())),
            };
            let numeric =
                Latex::new(network, compiled).fragment(Form::Numeric, &weights, Some(&point));
            form_section(
                &mut body,
                "The delta form with the numbers substituted (first sample)",
                false,
                &numeric,
                note.as_deref(),
                &format!("chainrule latex {file} --form numeric"),
            );
            body.push_str(&tables::tables(
                network, derivation, &result, params, input.lr,
            ));
        }
        None => body.push_str(
            "<p class=\"note\">The file gives no default parameters or sample, so there is no \
             worked example: pass <code>--params</code> and <code>--data</code>.</p>\n",
        ),
    }
    body.push_str("<h2>Claims</h2>\n");
    body.push_str(&claims_section(network, input.model));

    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>chainrule: {}</title>\n<style>{KATEX_CSS}</style>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n{body}<script>{KATEX_JS}</script>\n<script>{RENDER}</script>\n\
         </body>\n</html>\n",
        escape(&network.name)
    )
}
