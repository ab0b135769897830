//! The `pcs` command. Thin glue: flags are resolved into core and data
//! objects, results are written by the `output` module.

mod args;
mod atomic;
mod failure;
mod generate;
mod output;
mod progress;
mod reports;
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
        Command::Explain(a) => reports::run_explain(&a),
        Command::Customers(a) => reports::run_customers(&a),
        Command::Skilling(a) => reports::run_skilling(&a),
        Command::History(a) => reports::run_history(&a),
        Command::Simulate(a) => reports::run_simulate(&a),
        Command::Recommend(_) | Command::Plan(_) => {
            Err(Failure::Other(anyhow::anyhow!("not built yet")))
        }
        Command::Rulebook(c) => rulebooks::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}
