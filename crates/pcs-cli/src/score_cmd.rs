//! `pcs score`: resolve the flags, read the dataset, score, print.

use std::io::{IsTerminal, Write};

use anyhow::anyhow;
use pcs_core::facts::{DatasetFacts, MonthFilter, Table};
use pcs_core::rulebook::{Rulebook, RulebookSet};
use pcs_core::score::{BaEngine, Detail, Period};
use pcs_data::{Dataset, LoadOptions};

use crate::args::{ScoreArgs, ScoreFormat, WhenArgs};
use crate::failure::Failure;
use crate::output;
use pcs_insights::app::When;

/// The solution area of the single-area path.
pub const SOLUTION_AREA: &str = pcs_insights::app::BUSINESS_APPLICATIONS;

/// Picks the rulebook and the period from `--month` or `--date` (one of
/// them is required: `pcs score` has no "today").
pub fn resolve_when<'s>(
    set: &'s RulebookSet,
    when: &WhenArgs,
) -> Result<(&'s Rulebook, Period), Failure> {
    let when = match (when.month, when.date) {
        (Some(m), _) => When::Month(m),
        (None, Some(d)) => When::Date(d),
        (None, None) => {
            return Err(Failure::BadInput(anyhow!(
                "give --month YYYY-MM or --date YYYY-MM-DD"
            )));
        }
    };
    Ok(pcs_insights::app::resolve(set, when)?)
}

/// Prints the warnings summary; under `strict`, warnings are an error.
pub fn report_warnings(
    facts: &DatasetFacts,
    dataset: &Dataset,
    rb: &Rulebook,
    strict: bool,
    quiet: bool,
) -> Result<(), Failure> {
    let title = rb
        .title
        .as_deref()
        .map(short_title)
        .unwrap_or("this solution area");
    report_warnings_titled(facts, dataset, |_| title, strict, quiet)
}

/// [`report_warnings`] with the title each warning's sentence names.
pub fn report_warnings_titled<'t>(
    facts: &DatasetFacts,
    dataset: &Dataset,
    title_of: impl Fn(&pcs_core::facts::Warning) -> &'t str,
    strict: bool,
    quiet: bool,
) -> Result<(), Failure> {
    if !quiet {
        let mut err = std::io::stderr().lock();
        for note in dataset.notes() {
            let _ = writeln!(err, "note: {note}");
        }
    }
    if facts.warnings.is_empty() {
        return Ok(());
    }
    let file_of = |t: Table| {
        dataset
            .tables()
            .iter()
            .find(|f| f.table == t)
            .map(|f| f.path.display().to_string())
            .unwrap_or_else(|| t.name().to_string())
    };
    let lines: Vec<String> = facts
        .warnings
        .iter()
        .map(|w| format!("{}: {}", file_of(w.table), w.describe(title_of(w))))
        .collect();
    if strict {
        return Err(Failure::BadInput(anyhow!(
            "--strict: {} warning{} in the data:\n  {}",
            lines.len(),
            if lines.len() == 1 { "" } else { "s" },
            lines.join("\n  ")
        )));
    }
    if !quiet {
        let rows: u64 = facts.warnings.iter().map(|w| w.rows).sum();
        // anstream drops the style when stderr is not a terminal, under
        // NO_COLOR or with --color never (crate::ui::apply_color).
        let mut err = anstream::stderr().lock();
        let style = crate::ui::WARNING;
        let _ = writeln!(
            err,
            "{style}warning:{style:#} {rows} rows counted for nothing:"
        );
        for l in &lines {
            let _ = writeln!(err, "  {l}");
        }
    }
    Ok(())
}

pub use pcs_insights::app::short_title;

/// The areas `--area` asks for, in the contract's order (default: all).
pub fn selected_areas(given: &[String]) -> Result<Vec<&'static str>, Failure> {
    pcs_insights::app::areas(given, &pcs_core::rulebook::AREAS)
        .map_err(|e| Failure::BadInput(anyhow!("--area {e}")))
}

/// Runs `pcs score`.
pub fn run(args: &ScoreArgs) -> Result<(), Failure> {
    let areas = selected_areas(&args.areas)?;
    if areas != [SOLUTION_AREA] {
        return crate::areas_cmd::run(args, &areas);
    }
    let set = crate::rulebooks::load(&args.rulebook)?;
    let (rb, period) = resolve_when(&set, &args.when)?;
    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        ScoreFormat::Table
    } else {
        ScoreFormat::Jsonl
    });
    let (facts, dataset) = match &args.cluster {
        Some(cluster) => crate::cluster::load(cluster, &args.dataset, rb, &period, args.explain)?,
        None => {
            let dataset = Dataset::open_with(&args.dataset, &args.csv.options())?;
            let (progress, display) = crate::progress::start(dataset.total_bytes(), args.quiet);
            let options = LoadOptions {
                months: MonthFilter::Only(period.data_months().to_vec()),
                trace: args.explain,
                // Only explanations and scorecards read the rows that
                // counted for nothing ([`write_scores`]'s detail).
                excluded: args.explain || format == ScoreFormat::Table,
                progress,
                ..LoadOptions::default()
            };
            let facts = dataset.load(rb, &options);
            drop(display);
            (facts?, dataset)
        }
    };
    report_warnings(&facts, &dataset, rb, args.strict, args.quiet)?;

    for p in &args.partners {
        if !facts.partners.contains_key(p) {
            return Err(Failure::Other(anyhow!(
                "partner '{p}' does not appear in any table of {}",
                args.dataset.display()
            )));
        }
    }
    let selected: Vec<(&String, &pcs_core::facts::PartnerFacts)> = facts
        .partners
        .iter()
        .filter(|(id, _)| args.partners.is_empty() || args.partners.contains(id))
        .collect();

    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = write_scores(&mut out, format, rb, period, &selected, args.explain);
    let result = written
        .and_then(|()| out.flush().map_err(Into::into))
        .or_else(output::ignore_broken_pipe)
        .map_err(Failure::Other);
    drop(selected);
    // The process ends next: freeing every partner's maps one by one took
    // about 3% of a 20,000-partner run (perf: B-tree drops and `mi_free`),
    // and the system takes the memory back at once anyway.
    std::mem::forget(facts);
    result
}

/// Scores and renders partners in parallel, in chunks so that memory stays
/// bounded, and writes them in partner order.
fn write_scores(
    out: &mut impl Write,
    format: ScoreFormat,
    rb: &Rulebook,
    period: Period,
    partners: &[(&String, &pcs_core::facts::PartnerFacts)],
    explain: bool,
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 2048;
    // The scorecard's sentences and --explain read the items; the score
    // object alone needs only the numbers.
    let detail = if explain || format == ScoreFormat::Table {
        Detail::Full
    } else {
        Detail::Totals
    };
    output::begin(out, format, rb)?;
    // The rules bound once for every partner.
    let engine = BaEngine::new(rb);
    for (c, chunk) in partners.chunks(CHUNK).enumerate() {
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, (id, f))| {
                let score = engine.score(id, f, period, detail);
                output::render(format, rb, &score, explain, c == 0 && i == 0)
            })
            .collect::<anyhow::Result<_>>()?;
        for r in rendered {
            out.write_all(&r)?;
        }
    }
    output::end(out, format, !partners.is_empty())
}
