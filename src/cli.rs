//! What the `chainrule` subcommands do, between argument parsing and the engine: reading
//! files, picking a network, printing results, and mapping failures to exit codes.

use std::path::Path;
use std::process::ExitCode;

use chainrule_core::{Diagnostic, Model, Network, SourceFile, Span};

mod check;
pub use check::check;
mod derivative;
pub use derivative::{DerivativeArgs, eval_derivative, latex_derivative};
pub mod init;
mod output;
pub use output::write_output;
pub mod pages;

/// A command that did not succeed: what to print on standard error and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// The rendered message(s).
    pub message: String,
    /// 1: the work found a problem; 2: bad usage or bad input.
    pub code: u8,
}

impl Failure {
    /// Bad input: exit code 2.
    pub fn input(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            code: 2,
        }
    }
}

/// Largest `.nn` file read (64 MiB): a file that gives every value of a 10^6-weight network is
/// about 20 MB.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// Largest `--params` or `--data` JSON file read (256 MiB): parsed, a number takes several
/// times its text's size, and `--params /dev/zero` must stop rather than fill the memory.
pub const MAX_JSON_BYTES: u64 = 256 << 20;

/// Reads at most `limit` bytes of a file; a longer file (or an endless one, `/dev/zero`) is
/// refused once the limit is passed, before anything is parsed.
fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let name = path.display();
    let cannot =
        |e: std::io::Error| Failure::input(format!("{name}: error: cannot read the file: {e}"));
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit + 1).read_to_end(&mut bytes))
        .map_err(cannot)?;
    if bytes.len() as u64 > limit {
        return Err(Failure::input(format!(
            "{name}: error: the file is larger than the limit of {limit} bytes ({} MiB)",
            limit >> 20
        )));
    }
    Ok(bytes)
}

/// Reads a `.nn` file as UTF-8 text.
pub fn read_source(path: &Path) -> Result<SourceFile, Failure> {
    let name = path.display().to_string();
    let bytes = read_bounded(path, MAX_SOURCE_BYTES)?;
    match String::from_utf8(bytes) {
        Ok(text) => Ok(SourceFile::new(name, text)),
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(&e.into_bytes()[..valid]).into_owned();
            let file = SourceFile::new(name, text);
            let at = file.text.len();
            Err(Failure::input(file.render(&Diagnostic::new(
                Span::new(at, at),
                format!("the file is not valid UTF-8 (byte {valid})"),
            ))))
        }
    }
}

/// Parses and checks a file; every error is rendered with `file:line:col` and a caret, and
/// the file's warnings are printed on standard error.
pub fn load(path: &Path) -> Result<(SourceFile, Model), Failure> {
    let file = read_source(path)?;
    match chainrule_core::check_source(&file.text) {
        Ok(model) => {
            // Warnings go to standard error and never change the exit code (nor fail when
            // standard error is closed: not `eprint!`, which would panic).
            use std::io::Write as _;
            for warning in chainrule_core::warnings::warnings(&model) {
                let _ = write!(std::io::stderr(), "{}", file.render_warning(&warning));
            }
            Ok((file, model))
        }
        Err(diagnostics) => Err(Failure::input(file.render_all(&diagnostics))),
    }
}

/// The pipeline's one result for a network `select` picked: every command reads it.
pub fn compile(model: &Model, network: &Network) -> chainrule_core::CompiledNetwork {
    let index = model.position_of(network).unwrap_or(0); // ok: `select` returns an element of `model.networks`
    chainrule_core::compile_network(model, index)
}

/// Picks the network named by `--network`, or the only one in the file.
pub fn select<'m>(
    file: &SourceFile,
    model: &'m Model,
    name: Option<&str>,
) -> Result<&'m Network, Failure> {
    let names = || {
        model
            .networks
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(name) => model.network(name).ok_or_else(|| {
            Failure::input(format!(
                "{}: error: no network named `{name}` in this file (it has: {})",
                file.name,
                names()
            ))
        }),
        None => match model.networks.as_slice() {
            [only] => Ok(only),
            [] => Err(Failure::input(format!(
                "{}: error: the file holds no network",
                file.name
            ))),
            _ => Err(Failure::input(format!(
                "{}: error: the file holds several networks ({}); pick one with --network NAME",
                file.name,
                names()
            ))),
        },
    }
}

/// `chainrule shapes FILE [--network NAME] [--json]`.
pub fn shapes(path: &Path, network: Option<&str>, json: bool) -> Result<ExitCode, Failure> {
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    if json {
        print_out(&format!(
            "{}\n",
            chainrule_core::report::shapes_json(network)
        ))?;
    } else {
        print_out(&chainrule_core::report::shapes_text(network))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads a `--params` or `--data` JSON file.
fn read_json(path: Option<&Path>) -> Result<Option<serde_json::Value>, Failure> {
    let Some(path) = path else { return Ok(None) };
    let name = path.display();
    let text = String::from_utf8(read_bounded(path, MAX_JSON_BYTES)?)
        .map_err(|e| Failure::input(format!("{name}: error: cannot read the file: {e}")))?;
    chainrule_core::point::parse_json(&text)
        .map(Some)
        .map_err(|e| Failure::input(format!("{name}: error: {e}")))
}

/// The parameters and samples to evaluate at, from JSON files or the `.nn` defaults.
pub fn point(
    file: &SourceFile,
    network: &Network,
    params: Option<&Path>,
    data: Option<&Path>,
) -> Result<(Vec<Vec<f64>>, Vec<chainrule_core::eval::Sample>), Failure> {
    point_init(file, network, params, data, None)
}

/// [`point`], with `--init SEED`: parameters without values drawn as `Params::init(SEED)`
/// draws them (the derivation gives each layer's fan-in), which standard error says.
pub fn point_init(
    file: &SourceFile,
    network: &Network,
    params: Option<&Path>,
    data: Option<&Path>,
    init: Option<(&chainrule_core::derive::Derivation, u64)>,
) -> Result<(Vec<Vec<f64>>, Vec<chainrule_core::eval::Sample>), Failure> {
    let label =
        |path: Option<&Path>| path.map_or_else(|| file.name.clone(), |p| p.display().to_string());
    let params_json = read_json(params)?;
    let data_json = read_json(data)?;
    let params_error = |e| Failure::input(format!("{}: error: {e}", label(params)));
    let (values, note) = match init {
        None => (
            chainrule_core::point::params(network, params_json.as_ref()).map_err(params_error)?,
            None,
        ),
        Some((derivation, seed)) => {
            let given = chainrule_core::point::params_or_missing(network, params_json.as_ref())
                .map_err(params_error)?;
            let (values, note) = init::fill(network, derivation, given, seed);
            (values, Some(note))
        }
    };
    let samples =
        chainrule_core::point::samples(network, data_json.as_ref()).map_err(|mut e| {
            // Drawn inputs would give a loss about nothing: the data stay the user's to give.
            if init.is_some() && e.message.starts_with("no value") {
                e.message.push_str("; --init draws parameters, not data");
            }
            Failure::input(format!("{}: error: {e}", label(data)))
        })?;
    if let Some(note) = note {
        warn(&format!("{}: note: {note}", file.name));
    }
    Ok((values, samples))
}

/// `chainrule eval FILE [--params P.json] [--data D.json] [--init SEED] [--json]`.
pub fn eval(
    path: &Path,
    network: Option<&str>,
    (params, data, init): (Option<&Path>, Option<&Path>, Option<u64>),
    json: bool,
) -> Result<ExitCode, Failure> {
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    let compiled = compile(&model, network);
    let derivation = &compiled.derivation;
    let init = init.map(|seed| (derivation, seed));
    let (values, samples) = point_init(&file, network, params, data, init)?;
    let result = chainrule_core::eval::evaluate_batch(derivation, network, &values, &samples);
    let gradient = result.gradient.concat();
    note_not_finite(
        &file,
        &[
            ("loss", std::slice::from_ref(&result.loss)),
            ("gradient", &gradient),
        ],
        json,
    );
    if json {
        print_out(&format!(
            "{}\n",
            chainrule_core::report::eval_json(
                network,
                samples.len(),
                result.loss,
                &result.gradient
            )
        ))?;
    } else {
        print_out(&chainrule_core::report::eval_text(
            network,
            samples.len(),
            result.loss,
            &result.gradient,
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Says on standard error which results are NaN or infinite: JSON has no such numbers
/// (`--json` prints them as `null`), and a table's `NaN` is easily missed. The exit code stays
/// 0 (README, Commands): the evaluation ran, and the point is what produced them.
pub fn note_not_finite(file: &SourceFile, parts: &[(&str, &[f64])], json: bool) {
    let bad: Vec<String> = parts
        .iter()
        .filter_map(|(what, values)| {
            let count = values.iter().filter(|v| !v.is_finite()).count();
            let first = values.iter().find(|v| !v.is_finite())?;
            Some(if values.len() == 1 {
                format!("the {what} is {first}")
            } else {
                format!(
                    "{count} of {} {what} elements (the first {first})",
                    values.len()
                )
            })
        })
        .collect();
    if bad.is_empty() {
        return;
    }
    let shown = if json {
        "; JSON has no NaN or infinity, so they are printed as null"
    } else {
        ""
    };
    warn(&format!(
        "{}: warning: not finite: {}{shown} (exit code 0: the evaluation ran; an overflow or \
         a log of a non-positive number at this point gives these)",
        file.name,
        bad.join(", ")
    ));
}

/// Writes a line to standard error; a closed standard error is ignored, as in `main`.
pub fn warn(text: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Writes to standard output. A reader that stops early (`chainrule latex F | head`) closes
/// the pipe: that ends the output quietly, where `print!` would panic.
pub fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::input(format!(
            "error: cannot write to standard output: {e}"
        ))),
        _ => Ok(()),
    }
}

/// Prints to standard output, or writes the file given with `-o`.
pub fn emit(out: Option<&Path>, contents: &str) -> Result<ExitCode, Failure> {
    match out {
        Some(path) => write_output(path, contents)?,
        None => print_out(contents)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// What `chainrule latex` is asked for.
pub struct LatexArgs<'a> {
    /// `--weight` references.
    pub weights: &'a [String],
    /// `--form`.
    pub form: Option<&'a str>,
    /// `--standalone`.
    pub standalone: bool,
    /// `--all`: every weight and delta, however many.
    pub all: bool,
    /// `--params`, `--data` and `--lr` for the numeric form.
    pub params: Option<&'a Path>,
    /// See `params`.
    pub data: Option<&'a Path>,
    /// See `params`.
    pub lr: Option<f64>,
}

/// `chainrule latex FILE [--weight REF]... [--form F] [--standalone] [-o OUT]`.
pub fn latex(
    path: &Path,
    network: Option<&str>,
    args: &LatexArgs<'_>,
    out: Option<&Path>,
) -> Result<ExitCode, Failure> {
    use chainrule_core::latex::sample::render_selected;
    use chainrule_core::latex::{Form, NumericPoint, parse_weight};
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    if let Some(lr) = args.lr.filter(|lr| !lr.is_finite()) {
        return Err(Failure::input(format!(
            "error: --lr must be a finite number, not {lr}"
        )));
    }
    let compiled = compile(&model, network);
    let derivation = &compiled.derivation;
    if args.form == Some("matrix") {
        let program = compiled.program().as_ref().map_err(|why| {
            Failure::input(format!(
                "error: --form matrix: {why}; the delta and chain forms cover this network"
            ))
        })?;
        let text = chainrule_core::latex::render_matrix(network, program, args.standalone);
        return emit(out, &text);
    }
    let form = match args.form {
        Some(name) => Form::from_name(name).ok_or_else(|| {
            Failure::input(format!(
                "error: unknown --form `{name}`: use chain, delta, general, matrix or numeric"
            ))
        })?,
        None if args.weights.is_empty() => Form::Delta,
        None => Form::Chain,
    };
    if form == Form::General {
        chainrule_core::written::check(network, derivation)
            .map_err(|e| Failure::input(format!("{}: error: {e}", file.name)))?;
    }
    let mut weights = Vec::new();
    for text in args.weights {
        let vars = parse_weight(network, derivation, text)
            .map_err(|e| Failure::input(format!("error: --weight {e}")))?;
        weights.extend(vars);
    }
    let point = if form == Form::Numeric {
        let (values, samples) = point(&file, network, args.params, args.data)?;
        let result = chainrule_core::eval::evaluate_batch(derivation, network, &values, &samples);
        let first = &result.samples[0];
        Some(NumericPoint {
            slots: first.slots.clone(),
            gradient: first.gradient.concat(),
            lr: args.lr,
            batch: (samples.len() > 1).then(|| (samples.len(), result.gradient.concat())),
        })
    } else {
        None
    };
    let selection =
        chainrule_core::latex::sample::select(network, derivation, form, &weights, args.all);
    let text = render_selected(
        network,
        &compiled,
        form,
        &selection,
        point.as_ref(),
        args.standalone,
    );
    emit(out, &text)?;
    note(selection.note.as_deref());
    Ok(ExitCode::SUCCESS)
}

/// Tells the reader on standard error what a command left out and how to ask for it.
fn note(note: Option<&str>) {
    if let Some(note) = note {
        use std::io::Write;
        let _ = writeln!(std::io::stderr(), "note: {note}");
    }
}

/// `chainrule explain FILE [--params P.json] [--data D.json] [--init SEED] [--lr R]
/// [--weight REF]... [--all]`.
pub fn explain(
    path: &Path,
    network: Option<&str>,
    (params, data, init): (Option<&Path>, Option<&Path>, Option<u64>),
    lr: Option<f64>,
    (weights, all): (&[String], bool),
) -> Result<ExitCode, Failure> {
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    if let Some(lr) = lr.filter(|lr| !lr.is_finite()) {
        return Err(Failure::input(format!(
            "error: --lr must be a finite number, not {lr}"
        )));
    }
    let compiled = compile(&model, network);
    let derivation = &compiled.derivation;
    let init = init.map(|seed| (derivation, seed));
    let (values, samples) = point_init(&file, network, params, data, init)?;
    let mut chosen = Vec::new();
    for text in weights {
        let vars = chainrule_core::latex::parse_weight(network, derivation, text)
            .map_err(|e| Failure::input(format!("error: --weight {e}")))?;
        chosen.extend(vars);
    }
    let shown = chainrule_core::explain::Shown::new(network, derivation, &chosen, all);
    print_out(&chainrule_core::explain::explain_shown(
        network, derivation, &values, &samples, lr, &shown,
    ))?;
    note(shown.note.as_deref());
    Ok(ExitCode::SUCCESS)
}

/// `chainrule rust FILE [--batch MODE] [-o OUT]`: the module `derive!` would generate, formatted.
pub fn rust(
    path: &Path,
    network: Option<&str>,
    f32: bool,
    unroll: &str,
    batch: &str,
    out: Option<&Path>,
) -> Result<ExitCode, Failure> {
    use chainrule_core::rust::{BatchMode, EmitError, Float, Unroll, expand_network_with, format};
    let unroll: Unroll = unroll.parse().map_err(Failure::input)?;
    let (file, model) = load(path)?;
    let network = select(&file, &model, network)?;
    let float = if f32 { Float::F32 } else { Float::F64 };
    let batch = BatchMode::from_name(batch).unwrap_or_default();
    let tokens =
        expand_network_with(&model, network, float, unroll, batch, None).map_err(|e| match e {
            EmitError::Name(_, span, reason) | EmitError::Value(span, reason) => {
                Failure::input(file.render(&Diagnostic::new(span, reason)))
            }
            EmitError::TooLarge(t) => Failure::input(format!("{}: error: {t}", file.name)),
            EmitError::Written(reason) => Failure::input(format!("{}: error: {reason}", file.name)),
        })?;
    let text = format(tokens).map_err(|e| Failure::input(format!("{}: error: {e}", file.name)))?;
    emit(out, &text)
}
