//! The `chainrule` command: a thin clap layer over `chainrule-core` (see ../shared/spec/CLI.md).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use chainrule::cli::{self, Failure};

#[derive(Parser)]
#[command(
    name = "chainrule",
    version,
    about = "Derives the chain rule of a network's loss for every weight"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Inputs, targets, named vectors and parameters with their shapes.
    Shapes {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Loss and gradient of every parameter at the given point.
    Eval {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
        /// Parameter values (JSON object); defaults come from the file.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Samples (JSON object, one sample or a batch per name); defaults come from the file.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Draw parameters without values as the generated `Params::init(SEED)` does.
        #[arg(long, value_name = "SEED")]
        init: Option<u64>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Evaluate d(REF)/d(--wrt) instead: any named scalar, such as `y[0]` or `L`.
        #[arg(long, value_name = "REF")]
        of: Option<String>,
        /// With --of: an input (the default when there is one), a named vector or a parameter.
        #[arg(long, value_name = "NAME", requires = "of")]
        wrt: Option<String>,
    },
    /// The chain-rule derivation as LaTeX.
    Latex {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
        /// A weight to derive, `W1[0][1]` (one element) or `W1` (all); repeatable.
        #[arg(long)]
        weight: Vec<String>,
        /// chain (default with --weight), delta (default without), general, or numeric.
        #[arg(long)]
        form: Option<String>,
        /// A whole LaTeX document instead of an align* fragment.
        #[arg(long)]
        standalone: bool,
        /// Every weight and delta, even past 200 of them (by default a large network's chain,
        /// delta and numeric forms show the first element of each parameter and vector).
        #[arg(long)]
        all: bool,
        /// Write to this file (whole or not at all) instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
        /// Parameter values for --form numeric (JSON object); defaults come from the file.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Samples for --form numeric (JSON object); defaults come from the file.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Learning rate: --form numeric also shows each updated weight.
        #[arg(long)]
        lr: Option<f64>,
        /// Derive d(REF)/d(--wrt) instead of the loss's gradient: any named scalar, `y[0]`.
        #[arg(long, value_name = "REF", conflicts_with_all = ["weight", "lr"])]
        of: Option<String>,
        /// With --of: an input (the default when there is one), a named vector or a parameter.
        #[arg(long, value_name = "NAME", requires = "of")]
        wrt: Option<String>,
    },
    /// A worked numeric example: forward values, loss, every chain-rule factor, gradients.
    Explain {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
        /// Parameter values (JSON object); defaults come from the file.
        #[arg(long)]
        params: Option<PathBuf>,
        /// Samples (JSON object); defaults come from the file.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Draw parameters without values as the generated `Params::init(SEED)` does.
        #[arg(long, value_name = "SEED")]
        init: Option<u64>,
        /// Learning rate: also show each updated parameter and its change.
        #[arg(long)]
        lr: Option<f64>,
        /// A weight whose factors and gradient to show, `W1[0][1]` or `W1` (all); repeatable.
        #[arg(long)]
        weight: Vec<String>,
        /// Every row of every table, even past 200 (by default a large network's tables show
        /// the first elements of each name).
        #[arg(long)]
        all: bool,
    },
    /// The generated Rust module, formatted, as `derive!` would expand it.
    Rust {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
        /// Generate `f32` code instead of `f64`.
        #[arg(long)]
        f32: bool,
        /// Loops or straight-line code: `auto` loops the large layers, `always` unrolls
        /// everything, `never` loops wherever a general index form exists.
        #[arg(long, default_value = "auto", value_parser = ["auto", "always", "never"])]
        unroll: String,
        /// How the batch functions compute a batch: `per_sample`, `matrix` (GEMMs over the
        /// batch where the layers allow it) or `auto` (matrix where it is faster).
        #[arg(long, default_value = "auto", value_parser = ["per_sample", "matrix", "auto"])]
        batch: String,
        /// Write to this file (whole or not at all) instead of standard output.
        #[arg(short = 'o', long = "output")]
        output: Option<PathBuf>,
    },
    /// Checks every `claim`; exit 1 if any does not hold.
    Check {
        /// The `.nn` file.
        file: PathBuf,
        /// Which network of the file.
        #[arg(long)]
        network: Option<String>,
    },
    /// One self-contained HTML page: source, shapes, diagram, derivation, worked example, claims.
    Html {
        #[command(flatten)]
        page: cli::pages::PageArgs,
    },
    /// A Jupyter notebook (nbformat 4): the derivation beside NumPy cells that check it.
    Notebook {
        #[command(flatten)]
        page: cli::pages::PageArgs,
    },
    /// A Python module needing only NumPy: forward, loss and gradient over a batch.
    Numpy {
        #[command(flatten)]
        page: cli::pages::PageArgs,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Shapes {
            file,
            network,
            json,
        } => cli::shapes(&file, network.as_deref(), json),
        Command::Eval {
            file,
            network,
            params,
            data,
            init,
            json,
            of: Some(of),
            wrt,
        } => cli::eval_derivative(
            &file,
            network.as_deref(),
            (&of, wrt.as_deref()),
            (params.as_deref(), data.as_deref(), init),
            json,
        ),
        Command::Eval {
            file,
            network,
            params,
            data,
            init,
            json,
            of: None,
            ..
        } => cli::eval(
            &file,
            network.as_deref(),
            (params.as_deref(), data.as_deref(), init),
            json,
        ),
        Command::Latex {
            file,
            network,
            weight,
            form,
            standalone,
            all,
            output,
            params,
            data,
            lr,
            of,
            wrt,
        } => {
            if let Some(of) = of {
                let args = cli::DerivativeArgs {
                    of: &of,
                    wrt: wrt.as_deref(),
                    form: form.as_deref(),
                    standalone,
                    params: params.as_deref(),
                    data: data.as_deref(),
                };
                cli::latex_derivative(&file, network.as_deref(), &args, output.as_deref())
            } else {
                let args = cli::LatexArgs {
                    weights: &weight,
                    form: form.as_deref(),
                    standalone,
                    all,
                    params: params.as_deref(),
                    data: data.as_deref(),
                    lr,
                };
                cli::latex(&file, network.as_deref(), &args, output.as_deref())
            }
        }
        Command::Explain {
            file,
            network,
            params,
            data,
            init,
            lr,
            weight,
            all,
        } => cli::explain(
            &file,
            network.as_deref(),
            (params.as_deref(), data.as_deref(), init),
            lr,
            (&weight, all),
        ),
        Command::Rust {
            file,
            network,
            f32,
            unroll,
            batch,
            output,
        } => cli::rust(
            &file,
            network.as_deref(),
            f32,
            &unroll,
            &batch,
            output.as_deref(),
        ),
        Command::Check { file, network } => cli::check(&file, network.as_deref()),
        Command::Html { page } => cli::pages::html(&page),
        Command::Notebook { page } => cli::pages::notebook(&page),
        Command::Numpy { page } => cli::pages::numpy(&page),
    };
    match result {
        Ok(code) => code,
        Err(Failure { message, code }) => {
            // Not `eprint!`, which panics when standard error is a closed pipe.
            let newline = if message.ends_with('\n') { "" } else { "\n" };
            let _ = write!(std::io::stderr(), "{message}{newline}");
            ExitCode::from(code)
        }
    }
}
