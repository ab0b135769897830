//! The `pcs` command. Thin glue: flags are resolved into core and data
//! objects, results are written by the `output` module.

mod area_load;
mod area_reports;
mod areas_cmd;
mod args;
mod atomic;
mod cluster;
mod failure;
mod generate;
mod import_cmd;
mod output;
mod plan_cmd;
mod progress;
mod reports;
mod rulebooks;
mod score_cmd;
mod serve_cmd;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use failure::Failure;

/// mimalloc instead of the system allocator: scoring builds many small
/// explanation values on every core, where glibc's malloc spent a quarter of
/// the run (see ARCHITECTURE.md, "Performance").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `pcs convert`: validate every value (the same errors as `pcs score`),
/// then write the Parquet dataset.
fn convert(args: &args::ConvertArgs) -> Result<(), Failure> {
    let dataset = pcs_data::Dataset::open_with(&args.source, &args.csv.options())?;
    for note in dataset.notes() {
        eprintln!("note: {note}");
    }
    let set = pcs_core::rulebook::RulebookSet::builtin();
    let rb = set.versions().last().expect("a built-in rulebook");
    let options = pcs_data::LoadOptions {
        months: pcs_core::facts::MonthFilter::Only(Vec::new()),
        ..pcs_data::LoadOptions::default()
    };
    dataset.load(rb, &options)?;
    let stats = pcs_data::convert::to_parquet(&dataset, &args.out, args.force)?;
    for (table, rows, months) in &stats.tables {
        let sorted = if *months > 0 {
            format!(", {months} months in order")
        } else {
            String::new()
        };
        eprintln!("{}: {rows} rows{sorted}", table.name());
    }
    eprintln!("wrote {}", stats.destination.display());
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Score(a) => score_cmd::run(&a),
        Command::Generate(a) => generate::run(&a).map_err(Failure::Other),
        Command::Convert(a) => convert(&a),
        Command::Import(c) => import_cmd::run(&c),
        Command::Explain(a) => reports::run_explain(&a),
        Command::Customers(a) => reports::run_customers(&a),
        Command::Skilling(a) => reports::run_skilling(&a),
        Command::History(a) => reports::run_history(&a),
        Command::Simulate(a) => reports::run_simulate(&a),
        Command::Recommend(a) => plan_cmd::run_recommend(&a),
        Command::Plan(a) => plan_cmd::run_plan(&a),
        Command::Rulebook(c) => rulebooks::run(c),
        Command::Serve(a) => serve_cmd::run(&a),
        Command::Token(c) => serve_cmd::run_token(c),
        Command::Cluster(c) => cluster::run(&c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}
