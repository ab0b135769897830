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
mod ui;

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};
use failure::Failure;

/// mimalloc instead of the system allocator: scoring builds many small
/// explanation values on every core, where glibc's malloc spent a quarter of
/// the run (see ARCHITECTURE.md, "Performance"). The `system-alloc` feature
/// leaves it out, for heap profilers that hook malloc.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `pcs convert`: validate every value (the same errors as `pcs score`),
/// then write the Parquet dataset.
fn convert(args: &args::ConvertArgs) -> Result<(), Failure> {
    let dataset = pcs_data::Dataset::open_with(&args.source, &args.csv.options())?;
    if !ui::quiet() {
        for note in dataset.notes() {
            eprintln!("note: {note}");
        }
    }
    let set = pcs_core::rulebook::RulebookSet::builtin();
    let rb = set.versions().last().expect("a built-in rulebook");
    let options = pcs_data::LoadOptions {
        months: pcs_core::facts::MonthFilter::Only(Vec::new()),
        ..pcs_data::LoadOptions::default()
    };
    dataset.load(rb, &options)?;
    let stats = pcs_data::convert::to_parquet(&dataset, &args.out, args.force)?;
    if ui::quiet() {
        return Ok(());
    }
    for (table, rows, months) in &stats.tables {
        let sorted = if *months > 0 {
            let plural = if *months == 1 { "" } else { "s" };
            format!(", {months} month{plural} in order")
        } else {
            String::new()
        };
        eprintln!("{}: {rows} rows{sorted}", table.name());
    }
    eprintln!("wrote {}", stats.destination.display());
    Ok(())
}

/// `pcs completions SHELL`: the script clap_complete generates from the
/// flags' definition, on stdout.
fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    let mut command = Cli::command();
    // Into memory first: clap_complete panics on a failed write (a closed pipe).
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "pcs", &mut script);
    write_stdout(&script)
}

/// Writes `bytes` on stdout; a closed pipe (`pcs man | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Other(e.into())),
        _ => Ok(()),
    }
}

/// `pcs man [--dir DIR]`: pcs(1) on stdout, or a page per command (pcs.1,
/// pcs-score.1, pcs-rulebook-list.1, ...) written into DIR.
fn man(dir: Option<&std::path::Path>) -> Result<(), Failure> {
    let command = Cli::command();
    match dir {
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| Failure::Other(e.into()))?;
            write_stdout(&page)
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command, dir))
                .map_err(|e| {
                    Failure::Other(anyhow::Error::new(e).context(format!(
                        "cannot write the manual pages into {}",
                        dir.display()
                    )))
                })?;
            if !ui::quiet() {
                eprintln!("wrote the manual pages into {}", dir.display());
            }
            Ok(())
        }
    }
}

/// Gives the commands that take `quiet` in their own arguments the global flag.
fn spread_quiet(command: &mut Command, quiet: bool) {
    match command {
        Command::Score(a) => a.quiet = quiet,
        Command::Explain(a) => a.common.quiet = quiet,
        Command::Customers(a) => a.common.quiet = quiet,
        Command::Skilling(a) => a.common.quiet = quiet,
        Command::History(a) => a.common.quiet = quiet,
        Command::Simulate(a) => a.common.quiet = quiet,
        Command::Recommend(a) => a.common.quiet = quiet,
        Command::Plan(a) => a.common.quiet = quiet,
        _ => {}
    }
}

fn main() -> ExitCode {
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let color = ui::color_from_args(&argv);
    ui::apply_color(color);
    let matches = Cli::command().color(color).get_matches_from(&argv);
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let started = std::time::Instant::now();
    ui::set_quiet(cli.global.quiet);
    spread_quiet(&mut cli.command, cli.global.quiet);
    cluster::VERBOSE.store(cli.global.verbose, std::sync::atomic::Ordering::Relaxed);
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
        Command::Completions { shell } => completions(shell),
        Command::Man { dir } => man(dir.as_deref()),
    };
    if cli.global.verbose {
        let memory = ui::peak_memory()
            .map(|b| format!(", peak memory {:.1} MiB", b as f64 / (1024.0 * 1024.0)))
            .unwrap_or_default();
        eprintln!(
            "pcs: {} in {:.2} s{memory}",
            if result.is_ok() { "done" } else { "failed" },
            started.elapsed().as_secs_f64()
        );
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => f.report(),
    }
}
