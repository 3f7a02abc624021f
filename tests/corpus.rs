//! One test per file of `tests/corpus/{ok,err}` and `examples/nets`.
//!
//! Expectations are written by hand inside each file, so a test checks the tool against the
//! author's reading of the language, not against the tool's own output:
//! - in `ok/` and `examples/nets`, `# expect: NAME[3][2]` states a shape (`# expect: NAME`
//!   a scalar);
//! - in `err/`, `# expect: LINE:COL: words` states one error the file must produce, and the
//!   file must produce exactly as many errors as it has such lines;
//! - in `ok/` and `examples/nets`, `# warning: LINE:COL: words` states one warning, and an
//!   accepted file must produce exactly as many warnings as it has such lines.
//!
//! Every accepted network's derived gradient is also checked against central finite
//! differences of an independent interpreter (tests/support) at random points.
//!
//! The rendered diagnostics of `err/` files are also insta snapshots, reviewed by eye.

use std::path::Path;

mod support;

use chainrule::core::report::shapes_json;
use chainrule::core::{SourceFile, check_source};

fn expectations(text: &str) -> Vec<&str> {
    marked(text, "expect:")
}

fn marked<'t>(text: &'t str, mark: &str) -> Vec<&'t str> {
    text.lines()
        .filter_map(|line| {
            let line = line.trim();
            line.strip_prefix("# ")
                .or_else(|| line.strip_prefix("// "))
                .and_then(|rest| rest.strip_prefix(mark))
        })
        .map(str::trim)
        .collect()
}

/// Each `LINE:COL: words` expectation must match a line `NAME:LINE:COL: SEVERITY: ...words...`
/// of `rendered`, and there must be exactly as many diagnostics as expectations.
fn match_expected(
    name: &str,
    severity: &str,
    expected: &[&str],
    found: usize,
    rendered: &str,
) -> Result<(), String> {
    for expect in expected {
        let (position, words) = expect
            .split_once(": ")
            .ok_or_else(|| format!("bad expectation `{expect}`"))?;
        let header = format!("{name}:{position}: {severity}: ");
        let ok = rendered
            .lines()
            .any(|line| line.starts_with(&header) && line.contains(words));
        if !ok {
            return Err(format!(
                "expected {severity} `{header}...{words}...`, got:\n{rendered}"
            ));
        }
    }
    if found != expected.len() {
        return Err(format!(
            "expected {} {severity}s, got {found}:\n{rendered}",
            expected.len()
        ));
    }
    Ok(())
}

fn display_name(path: &Path) -> String {
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .map(|p| p.to_string_lossy())
        .unwrap_or_default();
    format!(
        "{parent}/{}",
        path.file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default()
    )
}

fn accepts(path: &Path) -> datatest_stable::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let model = match check_source(&text) {
        Ok(model) => model,
        Err(diagnostics) => {
            let file = SourceFile::new(display_name(path), text.clone());
            return Err(
                format!("expected no error, got:\n{}", file.render_all(&diagnostics)).into(),
            );
        }
    };
    if model.networks.is_empty() {
        return Err("the file holds no network".into());
    }
    let warnings = chainrule::core::warnings::warnings(&model);
    let file = SourceFile::new(display_name(path), text.clone());
    let rendered: String = warnings.iter().map(|w| file.render_warning(w)).collect();
    match_expected(
        &file.name,
        "warning",
        &marked(&text, "warning:"),
        warnings.len(),
        &rendered,
    )?;
    // The derived gradient against central differences of an independent interpreter.
    for network in &model.networks {
        support::check_gradients(&model, network, &text, 0x5eed)?;
        // Every claim in an accepted file was derived by hand to be right: each must hold.
        for report in chainrule::core::claims::check_claims(network, &model.functions) {
            if report.holds.is_none() {
                return Err(format!(
                    "claim `{}` fails:\n{}",
                    report.text,
                    report.diagnosis.join("\n")
                )
                .into());
            }
        }
    }
    for expect in expectations(&text) {
        let (name, dims) = expect.split_once('[').unwrap_or((expect, "]"));
        let dims: Vec<usize> = match dims {
            "]" => Vec::new(),
            dims => dims
                .trim_end_matches(']')
                .split("][")
                .map(|d| d.parse::<usize>())
                .collect::<Result<_, _>>()
                .map_err(|e| format!("bad expectation `{expect}`: {e}"))?,
        };
        let as_dims = |v: &serde_json::Value| match v {
            serde_json::Value::Number(n) => n.as_u64().map(|n| vec![n as usize]),
            serde_json::Value::Array(a) => Some(
                a.iter()
                    .filter_map(|d| d.as_u64())
                    .map(|d| d as usize)
                    .collect(),
            ),
            _ => None,
        };
        let found = model.networks.iter().any(|network| {
            let shapes = shapes_json(network);
            ["inputs", "targets", "vectors"]
                .iter()
                .any(|kind| as_dims(&shapes[kind][name]) == Some(dims.clone()))
                || shapes["params"][name].as_array().map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(|d| d as usize)
                        .collect::<Vec<_>>()
                }) == Some(dims.clone())
        });
        if !found {
            let all: Vec<_> = model.networks.iter().map(shapes_json).collect();
            return Err(format!("expected {expect}, but the shapes are {all:?}").into());
        }
    }
    Ok(())
}

fn rejects(path: &Path) -> datatest_stable::Result<()> {
    let text = std::fs::read_to_string(path)?;
    let name = display_name(path);
    let diagnostics = match check_source(&text) {
        Ok(_) => return Err("expected errors, but the file was accepted".into()),
        Err(diagnostics) => diagnostics,
    };
    let file = SourceFile::new(name.clone(), text.clone());
    let rendered = file.render_all(&diagnostics);
    let expected = expectations(&text);
    if expected.is_empty() {
        return Err("an err/ file needs at least one `# expect: LINE:COL: words` line".into());
    }
    match_expected(&name, "error", &expected, diagnostics.len(), &rendered)?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    insta::with_settings!({ snapshot_path => "corpus/snapshots", prepend_module_to_snapshot => false }, {
        insta::assert_snapshot!(format!("err__{stem}"), rendered);
    });
    Ok(())
}

datatest_stable::harness! {
    { test = accepts, root = "tests/corpus/ok", pattern = r"\.nn$" },
    { test = accepts, root = "examples/nets", pattern = r"\.nn$" },
    { test = rejects, root = "tests/corpus/err", pattern = r"\.nn$" },
}
