//! `pcs score` over several solution areas: Business Applications through
//! its own engine, the other areas through the shape engine
//! ([`pcs_core::area`]), from one read of the dataset.

use std::io::{IsTerminal, Write};

use anyhow::anyhow;
use pcs_core::Decimal;
use pcs_core::area::{AreaEngine, AreaMetric, AreaRulebook, AreaScore, score_areas_with};
use pcs_core::contract::{AreaObject, ScoreObject};
use pcs_core::facts::{MonthFilter, PartnerFacts, WarningKind};
use pcs_core::json::write_compact;
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{BaEngine, Detail, Period};
use pcs_core::summary::AreaRead;
use pcs_data::{Dataset, LoadOptions};
use pcs_insights::app::AnyScore;

use crate::args::{ScoreArgs, ScoreFormat};
use crate::failure::Failure;
use crate::output::{self, bar, points};
use crate::score_cmd::{SOLUTION_AREA, resolve_when, short_title};

/// One partner's score in one area, from either engine (the application
/// layer's).
type Scored = AnyScore;

/// What the run scores: Business Applications (always read: its rulebook
/// resolves certification names) and the area engines asked for.
struct Plan<'a> {
    ba: &'a Rulebook,
    ba_period: Period,
    with_ba: bool,
    areas: Vec<(&'a AreaRulebook, Period)>,
}

/// Prints the warnings of a read of every area's tables: a certification
/// is a warning only when no area of the run knows it; the other warnings
/// name their tables.
pub(crate) fn area_warnings(
    facts: &mut pcs_core::facts::DatasetFacts,
    vocab: &pcs_core::vocab::Vocabulary,
    ba: &Rulebook,
    dataset: &Dataset,
    strict: bool,
    quiet: bool,
) -> Result<(), Failure> {
    pcs_core::summary::drop_known_certifications(facts, vocab);
    let ba_title = ba
        .title
        .as_deref()
        .map(short_title)
        .unwrap_or("Business Applications");
    let title_of = |w: &pcs_core::facts::Warning| {
        if w.kind == WarningKind::UnknownCertification {
            "any solution area"
        } else {
            ba_title
        }
    };
    crate::score_cmd::report_warnings_titled(facts, dataset, title_of, strict, quiet)
}

/// Runs `pcs score` for `areas` (more than Business Applications alone).
pub fn run(args: &ScoreArgs, areas: &[&str]) -> Result<(), Failure> {
    let set = crate::rulebooks::load(&args.rulebook)?;
    let (ba, ba_period) = resolve_when(&set, &args.when)?;
    let d = ba_period.evaluation_date;
    let mut plan = Plan {
        ba,
        ba_period,
        with_ba: areas.contains(&SOLUTION_AREA),
        areas: Vec::new(),
    };
    for a in areas.iter().filter(|a| **a != SOLUTION_AREA) {
        let rb = set
            .area_in_force(a, d)
            .map_err(|e| Failure::Other(e.into()))?;
        let period = Period::with_calendar(&rb.calendar, ba_period.month, d);
        plan.areas.push((rb, period));
    }
    // The names of every area in force, scored or not: a name another area
    // knows is not an unknown name.
    let in_force = set.areas_in_force(d);
    let scored: Vec<&AreaRulebook> = plan.areas.iter().map(|(rb, _)| *rb).collect();
    let read = AreaRead::new(
        &[ba],
        &in_force,
        AreaRead::months_for(&scored, ba_period.month),
    )?;
    let vocab = &read.vocab;

    let stdout = std::io::stdout();
    let format = args.format.unwrap_or(if stdout.is_terminal() {
        ScoreFormat::Table
    } else {
        ScoreFormat::Jsonl
    });
    let (mut facts, dataset) = match &args.cluster {
        Some(cluster) => crate::cluster::load_areas(
            cluster,
            &args.dataset,
            ba,
            &ba_period,
            vocab,
            &read.area_months,
            args.explain,
        )?,
        None => {
            let dataset = Dataset::open_with(&args.dataset, &args.csv.options())?;
            let (progress, display) = crate::progress::start(dataset.total_bytes(), args.quiet);
            let options = LoadOptions {
                months: MonthFilter::Only(ba_period.data_months().to_vec()),
                trace: args.explain,
                // Only explanations and scorecards read the rows that
                // counted for nothing ([`write_all`]'s detail).
                excluded: args.explain || format == ScoreFormat::Table,
                progress,
                ..LoadOptions::default()
            };
            let loaded = dataset.load_areas(ba, vocab, read.area_months.clone(), &options);
            drop(display);
            (loaded?.0, dataset)
        }
    };

    area_warnings(&mut facts, vocab, ba, &dataset, args.strict, args.quiet)?;

    for p in &args.partners {
        if !facts.partners.contains_key(p) {
            return Err(Failure::Other(anyhow!(
                "partner '{p}' does not appear in any table of {}",
                args.dataset.display()
            )));
        }
    }
    let selected: Vec<(&String, &PartnerFacts)> = facts
        .partners
        .iter()
        .filter(|(id, _)| args.partners.is_empty() || args.partners.contains(id))
        .collect();
    let engines: Vec<(AreaEngine<'_>, Period)> = plan
        .areas
        .iter()
        .map(|(rb, p)| (AreaEngine::new(rb, vocab, ba), *p))
        .collect();

    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let scorecards = !args.partners.is_empty();
    let written = write_all(
        &mut out,
        format,
        &plan,
        &engines,
        &selected,
        args.explain,
        scorecards,
    );
    let result = written
        .and_then(|()| out.flush().map_err(Into::into))
        .or_else(output::ignore_broken_pipe)
        .map_err(Failure::Other);
    drop(selected);
    std::mem::forget(facts);
    result
}

fn write_all(
    out: &mut impl Write,
    format: ScoreFormat,
    plan: &Plan<'_>,
    engines: &[(AreaEngine<'_>, Period)],
    partners: &[(&String, &PartnerFacts)],
    explain: bool,
    scorecards: bool,
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    const CHUNK: usize = 1024;
    let detail = if explain || (format == ScoreFormat::Table && scorecards) {
        Detail::Full
    } else {
        Detail::Totals
    };
    match format {
        ScoreFormat::Json => out.write_all(b"[")?,
        ScoreFormat::Csv => out.write_all(
            b"partner_id,partner_name,solution_area,month,latest_month,baseline_month,evaluation_date,classification,total_points,qualified,weakest_metric,points_to_qualify,rulebook\n",
        )?,
        _ => {}
    }
    let mut first = true;
    // Business Applications' rules bound once for every partner.
    let ba = BaEngine::new(plan.ba);
    for chunk in partners.chunks(CHUNK) {
        let rendered: Vec<Vec<u8>> = chunk
            .par_iter()
            .enumerate()
            .map(|(i, (id, f))| {
                let mut scores = Vec::new();
                if plan.with_ba {
                    scores.push(Scored::Ba(Box::new(ba.score(
                        id,
                        f,
                        plan.ba_period,
                        detail,
                    ))));
                }
                // Every area in one call: a metric several areas define
                // alike is computed once.
                for s in score_areas_with(engines, id, f, detail) {
                    scores.push(Scored::Area(Box::new(s)));
                }
                render(
                    format,
                    plan,
                    id,
                    f,
                    &scores,
                    explain,
                    scorecards,
                    first && i == 0,
                )
            })
            .collect::<anyhow::Result<_>>()?;
        for r in rendered {
            out.write_all(&r)?;
        }
        first = false;
    }
    if format == ScoreFormat::Json {
        out.write_all(if partners.is_empty() {
            b"]\n"
        } else {
            b"\n]\n"
        })?;
    }
    Ok(())
}

/// Writes one score object (with its explanation when `explain`), compact
/// or pretty.
fn write_object(out: &mut Vec<u8>, s: &Scored, explain: bool, pretty: bool) -> anyhow::Result<()> {
    match (s, pretty) {
        (Scored::Ba(b), false) => write_compact(out, &ScoreObject::explained(b, explain))?,
        (Scored::Ba(b), true) => {
            serde_json::to_writer_pretty(out, &ScoreObject::explained(b, explain))?
        }
        (Scored::Area(a), false) => write_compact(out, &AreaObject::explained(a, explain))?,
        (Scored::Area(a), true) => {
            serde_json::to_writer_pretty(out, &AreaObject::explained(a, explain))?
        }
    }
    Ok(())
}

fn area_title(s: &Scored, plan: &Plan<'_>) -> String {
    match s {
        Scored::Ba(_) => plan
            .ba
            .title
            .as_deref()
            .map(short_title)
            .unwrap_or("Business Applications")
            .to_string(),
        Scored::Area(a) => plan
            .areas
            .iter()
            .find(|(rb, _)| rb.solution_area == a.solution_area)
            .and_then(|(rb, _)| rb.title.as_deref())
            .map(short_title)
            .unwrap_or(&a.solution_area)
            .to_string(),
    }
}

#[allow(clippy::too_many_arguments)]
fn render(
    format: ScoreFormat,
    plan: &Plan<'_>,
    id: &str,
    facts: &PartnerFacts,
    scores: &[Scored],
    explain: bool,
    scorecards: bool,
    first: bool,
) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(2048);
    match format {
        ScoreFormat::Jsonl => {
            for s in scores {
                write_object(&mut out, s, explain, false)?;
                out.push(b'\n');
            }
        }
        ScoreFormat::Json => {
            for (i, s) in scores.iter().enumerate() {
                out.extend_from_slice(if first && i == 0 { b"\n" } else { b",\n" });
                write_object(&mut out, s, explain, true)?;
            }
        }
        ScoreFormat::Csv => {
            let mut w = ::csv::Writer::from_writer(&mut out);
            for s in scores {
                let (area, rulebook, period, class) = match s {
                    Scored::Ba(b) => (
                        b.solution_area.clone(),
                        b.rulebook.clone(),
                        b.period,
                        b.classification.as_str().to_string(),
                    ),
                    Scored::Area(a) => (
                        a.solution_area.clone(),
                        a.rulebook.clone(),
                        a.period,
                        a.classification.clone().unwrap_or_default(),
                    ),
                };
                let to_go = s.summary().points_to_qualify();
                w.write_record([
                    id.to_string(),
                    facts.name.clone().unwrap_or_default(),
                    area,
                    period.month.to_string(),
                    period.latest_month.to_string(),
                    period.baseline_month.to_string(),
                    period.evaluation_date.to_string(),
                    class,
                    s.total_points().normalize().to_string(),
                    s.qualified().to_string(),
                    s.weakest().map(|w| w.0).unwrap_or_default(),
                    to_go.normalize().to_string(),
                    rulebook,
                ])?;
            }
            w.flush()?;
        }
        ScoreFormat::Table => {
            if !first {
                out.push(b'\n');
            }
            summary(&mut out, plan, id, facts, scores)?;
            if scorecards {
                for s in scores {
                    writeln!(out)?;
                    match s {
                        Scored::Ba(b) => output::table_one(&mut out, plan.ba, b)?,
                        Scored::Area(a) => scorecard(&mut out, &area_title(s, plan), a)?,
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The qualification summary: one row per area.
fn summary(
    out: &mut impl Write,
    plan: &Plan<'_>,
    id: &str,
    facts: &PartnerFacts,
    scores: &[Scored],
) -> anyhow::Result<()> {
    let who = match &facts.name {
        Some(n) => format!("{n} ({id})"),
        None => id.to_string(),
    };
    let p = plan.ba_period;
    writeln!(out, "{who}")?;
    writeln!(
        out,
        "  month {} (latest {}, baseline {}) · skilling on {}",
        p.month, p.latest_month, p.baseline_month, p.evaluation_date
    )?;
    let titles: Vec<String> = scores
        .iter()
        .map(|s| {
            let track = match s {
                Scored::Area(a) => a
                    .classification
                    .as_deref()
                    .map(|c| format!(" ({})", track_label(c)))
                    .unwrap_or_default(),
                Scored::Ba(b) => format!(" ({})", b.classification),
            };
            format!("{}{track}", area_title(s, plan))
        })
        .collect();
    let w = titles
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(4)
        .max(13);
    writeln!(
        out,
        "  {:<w$}  {:>10}  {:<9}  {:<38}  {:>6}",
        "Solution area", "Total", "Qualified", "Weakest metric", "To 70"
    )?;
    for (s, t) in scores.iter().zip(&titles) {
        let to_go = s.summary().points_to_qualify();
        let weakest = s
            .weakest()
            .map(|(l, pts, max)| format!("{l} {} / {}", points(pts), max.normalize()))
            .unwrap_or_default();
        writeln!(
            out,
            "  {:<w$}  {:>10}  {:<9}  {:<38}  {:>6}",
            t,
            format!(
                "{} {}",
                points(s.total_points()),
                bar(s.total_points(), Decimal::ONE_HUNDRED, 4)
            ),
            if s.qualified() { "yes" } else { "no" },
            weakest,
            if to_go.is_zero() {
                "—".to_string()
            } else {
                points(to_go)
            }
        )?;
    }
    Ok(())
}

fn track_label(t: &str) -> String {
    match t {
        "enterprise" => "Enterprise".into(),
        "smb" => "SMB".into(),
        other => other.to_string(),
    }
}

fn value_text(m: &AreaMetric) -> String {
    pcs_core::display::area_value(m)
}

fn metric_rows(out: &mut impl Write, metrics: &[AreaMetric], indent: &str) -> anyhow::Result<()> {
    let w = metrics
        .iter()
        .map(|m| m.label.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    writeln!(
        out,
        "{indent}{:<w$}  {:>10}  {:>13}",
        "Metric", "Value", "Points"
    )?;
    for m in metrics {
        writeln!(
            out,
            "{indent}{:<w$}  {:>10}  {:>13}  {}",
            m.label,
            value_text(m),
            format!("{} / {}", points(m.points), m.max_points.normalize()),
            bar(m.points, m.max_points, 20)
        )?;
        for sub in m.options.iter().chain(&m.parts) {
            let chosen = if m.chosen_option.as_deref() == Some(sub.id.as_str()) {
                " (taken)"
            } else {
                ""
            };
            writeln!(
                out,
                "{indent}  · {:<width$}  {:>10}  {:>13}",
                format!("{}{chosen}", sub.label),
                value_text(sub),
                points(sub.points),
                width = w.saturating_sub(4)
            )?;
        }
        if let pcs_core::area::AreaDetail::CertifiedPeople { steps, .. } = &m.detail {
            for s in steps.iter().filter(|s| !s.met) {
                writeln!(
                    out,
                    "{indent}  · prerequisite step {} not met: {} of {} people ({})",
                    s.step,
                    s.people,
                    s.min_people,
                    s.certifications.join(" or ")
                )?;
            }
        }
    }
    Ok(())
}

/// One area's scorecard (both tracks where the area has tracks).
fn scorecard(out: &mut impl Write, title: &str, s: &AreaScore) -> anyhow::Result<()> {
    writeln!(out, "  {title}")?;
    if s.tracks.is_empty() {
        metric_rows(out, &s.metrics, "    ")?;
    } else {
        for t in &s.tracks {
            let reported = if s.classification.as_deref() == Some(t.track.as_str()) {
                ", reported"
            } else {
                ""
            };
            writeln!(
                out,
                "    {} track: {} points{}{reported}",
                track_label(&t.track),
                points(t.total_points),
                if t.qualified { ", qualifies" } else { "" }
            )?;
            metric_rows(out, &t.metrics, "      ")?;
        }
    }
    let zero: Vec<&str> = s
        .metrics
        .iter()
        .filter(|m| m.points.is_zero())
        .map(|m| m.label.as_str())
        .collect();
    if s.qualified {
        writeln!(
            out,
            "    QUALIFIED: {} points ≥ {} and every metric above zero",
            points(s.total_points),
            s.min_total_points
        )?;
    } else {
        let mut why = Vec::new();
        if s.total_points < s.min_total_points {
            why.push(format!(
                "{} more points to reach {}",
                points(s.min_total_points - s.total_points),
                s.min_total_points
            ));
        }
        if !zero.is_empty() {
            why.push(format!("at zero: {}", zero.join(", ")));
        }
        writeln!(out, "    NOT QUALIFIED: {}", why.join("; "))?;
    }
    writeln!(out, "    Rulebook: {}", s.rulebook)?;
    Ok(())
}
