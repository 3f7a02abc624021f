//! The `chainrule` command: a thin clap layer over `chainrule-core` (see ../shared/spec/CLI.md).

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
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
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
            json,
        } => cli::eval(
            &file,
            network.as_deref(),
            params.as_deref(),
            data.as_deref(),
            json,
        ),
    };
    match result {
        Ok(code) => code,
        Err(Failure { message, code }) => {
            eprint!("{message}");
            if !message.ends_with('\n') {
                eprintln!();
            }
            ExitCode::from(code)
        }
    }
}
