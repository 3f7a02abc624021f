//! `chainrule html`, `notebook` and `numpy`: the outputs people read beside the mathematics.
//! They share their arguments: the file, the network, and the point of the worked example.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chainrule_core::eval::Sample;
use chainrule_core::{CompiledNetwork, Model, Network, SourceFile};

use super::{Failure, compile, emit, load, point, select};

/// The arguments of `html`, `notebook` and `numpy`.
#[derive(clap::Args, Debug)]
pub struct PageArgs {
    /// The `.nn` file.
    pub file: PathBuf,
    /// Which network of the file.
    #[arg(long)]
    pub network: Option<String>,
    /// Parameter values for the worked example (JSON object); defaults come from the file.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Samples for the worked example (JSON object); defaults come from the file.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Learning rate of the gradient step shown (default 0.1).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
}

/// The file, its network, and the worked example's point: `None` when the file gives no
/// default point and the user none either (a page without numbers is still a page).
type Loaded = (
    SourceFile,
    Model,
    CompiledNetwork,
    Option<(Vec<Vec<f64>>, Vec<Sample>)>,
    f64,
);

fn prepare(args: &PageArgs) -> Result<Loaded, Failure> {
    let (file, model) = load(&args.file)?;
    let network = select(&file, &model, args.network.as_deref())?;
    let lr = args.lr.unwrap_or(0.1);
    if !lr.is_finite() {
        return Err(Failure::input(format!(
            "error: --lr must be a finite number, not {lr}"
        )));
    }
    let given = args.params.is_some() || args.data.is_some();
    let at = match point(&file, network, args.params.as_deref(), args.data.as_deref()) {
        Ok(p) => Some(p),
        Err(e) if given => return Err(e),
        Err(_) => None,
    };
    let compiled = compile(&model, network);
    // Every page writes every expression out: refuse at once what would take minutes.
    chainrule_core::written::check(network, &compiled.derivation)
        .map_err(|e| Failure::input(format!("{}: error: {e}", file.name)))?;
    Ok((file, model, compiled, at, lr))
}

fn network(model: &Model, index: usize) -> &Network {
    &model.networks[index]
}

fn output(args: &PageArgs) -> Option<&Path> {
    args.output.as_deref()
}

/// `chainrule html FILE [-o OUT]`.
pub fn html(args: &PageArgs) -> Result<ExitCode, Failure> {
    let (file, model, compiled, at, lr) = prepare(args)?;
    let page = chainrule_core::html::page(&chainrule_core::html::PageInput {
        file_name: &file.name,
        source: &file.text,
        model: &model,
        network: network(&model, compiled.index),
        compiled: &compiled,
        point: at,
        lr: Some(lr),
    });
    emit(output(args), &page)
}

/// `chainrule notebook FILE [-o OUT]`.
pub fn notebook(args: &PageArgs) -> Result<ExitCode, Failure> {
    let (file, model, compiled, at, lr) = prepare(args)?;
    let network = network(&model, compiled.index);
    refuse_numpy(&file.name, network, &compiled)?;
    let drawn = at.is_none();
    let at = at.unwrap_or_else(|| {
        let positive = ["log(", "sqrt("].iter().any(|f| file.text.contains(f));
        chainrule_core::notebook::drawn_point(network, positive)
    });
    let text = chainrule_core::notebook::notebook(network, &compiled, &file.name, &at, drawn, lr);
    emit(output(args), &text)
}

/// `chainrule numpy FILE [-o OUT]`.
pub fn numpy(args: &PageArgs) -> Result<ExitCode, Failure> {
    let (file, model, compiled, _, _) = prepare(args)?;
    let network = network(&model, compiled.index);
    refuse_numpy(&file.name, network, &compiled)?;
    let module = chainrule_core::numpy::module(network, &compiled, &file.name);
    emit(output(args), &module)
}

/// An error, before anything is written, for a network the NumPy statements do not cover.
fn refuse_numpy(
    file: &str,
    network: &chainrule_core::model::Network,
    compiled: &CompiledNetwork,
) -> Result<(), Failure> {
    match chainrule_core::numpy::unsupported(network, compiled) {
        Some(reason) => Err(Failure::input(format!("{file}: error: {reason}"))),
        None => Ok(()),
    }
}
