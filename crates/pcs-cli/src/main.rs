//! The `pcs` command. Thin glue: flags are resolved into core and data
//! objects, results are written by the `output` module.

mod args;
mod failure;
mod generate;
mod output;
mod rulebooks;
mod score_cmd;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::Failure;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score(a) => score_cmd::run(&a),
        Command::Generate(a) => generate::run(&a).map_err(Failure::Other),
        Command::Rulebook(c) => rulebooks::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}
