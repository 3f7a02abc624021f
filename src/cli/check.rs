//! `chainrule check`: one line per claim, coloured on a terminal, the diagnosis under each
//! failure.

use std::path::Path;
use std::process::ExitCode;

use super::{Failure, load, print_out, select};

/// `chainrule check FILE`: one line per claim, the diagnosis under each failure; exit 1 if
/// any claim fails.
pub fn check(path: &Path, network: Option<&str>) -> Result<ExitCode, Failure> {
    use std::io::IsTerminal;
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    let reports = chainrule_core::claims::check_claims(network, &model.functions);
    let colour = std::io::stdout().is_terminal();
    let paint = |text: &str, code: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    if reports.is_empty() {
        print_out(&format!(
            "{}: network `{}` has no claims\n",
            file.name, network.name
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut failed = 0;
    let mut out = String::new();
    use std::fmt::Write as _;
    for report in &reports {
        let (line, column) = file.line_col(report.span.start);
        let verdict = match &report.holds {
            Some(chainrule_core::claims::Decided::Symbolically) => {
                paint("holds", "32") + " (symbolically, and at every random point)"
            }
            Some(chainrule_core::claims::Decided::Numerically) => {
                paint("holds", "32")
                    + &format!(
                        " (numerically, at {} random points)",
                        chainrule_core::claims::POINTS
                    )
            }
            None => {
                failed += 1;
                paint("FAILS", "1;31")
            }
        };
        let _ = writeln!(
            out,
            "{}:{line}:{column}: {verdict}: {}",
            file.name, report.text
        );
        if report.holds.is_none() && report.instances > 1 {
            let _ = writeln!(
                out,
                "    fails for {} of {} index values: {}",
                report.failing.len(),
                report.instances,
                abbreviate(&report.failing)
            );
            if !report.holding.is_empty() {
                let _ = writeln!(out, "    holds for: {}", abbreviate(&report.holding));
            }
        } else if report.instances > 1 {
            let _ = writeln!(out, "    for all {} index values", report.instances);
        }
        for line in &report.diagnosis {
            let _ = writeln!(out, "    {line}");
        }
    }
    let _ = writeln!(
        out,
        "{} claims: {} hold, {failed} fail",
        reports.len(),
        reports.len() - failed
    );
    print_out(&out)?;
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn abbreviate(labels: &[String]) -> String {
    let shown: Vec<&str> = labels.iter().take(8).map(String::as_str).collect();
    let more = labels.len().saturating_sub(shown.len());
    let mut text = shown.join("; ");
    if more > 0 {
        text.push_str(&format!("; and {more} more"));
    }
    text
}
