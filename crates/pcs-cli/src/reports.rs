//! The report commands: explain, customers, skilling, history, simulate,
//! recommend, plan. Each loads one partner's facts, asks pcs-insights for
//! the report data, and writes it as a table, JSON or CSV.

use std::io::Write;

use anyhow::{Context as _, anyhow};
use pcs_core::Decimal;
use pcs_core::contract::tidy_numbers;
use pcs_core::facts::{DatasetFacts, MonthFilter, PartnerFacts};
use pcs_core::jiff::civil::Date;
use pcs_core::jiff::{Timestamp, ToSpan, tz::TimeZone};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{MetricDetail, PartnerScore, Period, score_partner};
use pcs_data::{Dataset, LoadOptions};
use pcs_insights::{customers, explain, history, scenario, skilling};
use serde::Serialize;

use crate::args::{
    CustomersArgs, ExplainArgs, HistoryArgs, PartnerArgs, ReportFormat, SimulateArgs, SkillingArgs,
};
use crate::failure::Failure;
use crate::output::ignore_broken_pipe;
use crate::score_cmd::report_warnings;
use pcs_core::display::thousands;
use pcs_insights::app::{self, ToCsv};

/// One partner's data, read for a period.
pub(crate) struct Loaded {
    pub rb: Rulebook,
    pub period: Period,
    pub facts: DatasetFacts,
    pub partner: String,
}

impl Loaded {
    pub fn partner(&self) -> &PartnerFacts {
        &self.facts.partners[&self.partner]
    }

    pub fn score(&self) -> PartnerScore {
        score_partner(&self.rb, &self.partner, self.partner(), self.period)
    }
}

/// Today's date (UTC): the default evaluation date of the reports. The
/// CLI's one clock read; the application layer is given the date.
pub(crate) fn today() -> Date {
    TimeZone::UTC.to_datetime(Timestamp::now()).date()
}

/// `--month` / `--date` / today.
pub(crate) fn when(args: &PartnerArgs) -> app::When {
    app::When::of(args.when.month, args.when.date, today())
}

/// The Business Applications rulebook and period of a report: `--month`,
/// `--date`, or today (the application layer's one resolver of "when").
pub(crate) fn report_when<'s>(
    set: &'s pcs_core::rulebook::RulebookSet,
    when: &crate::args::WhenArgs,
) -> Result<(&'s Rulebook, Period), Failure> {
    Ok(app::resolve(
        set,
        app::When::of(when.month, when.date, today()),
    )?)
}

pub(crate) fn load(
    args: &PartnerArgs,
    months: impl Fn(&Rulebook, &Period, Option<Date>) -> MonthFilter,
) -> Result<Loaded, Failure> {
    let set = crate::rulebooks::load(&args.rulebook)?;
    let (rb, period) = app::resolve(&set, when(args))?;
    let dataset = Dataset::open_with(&args.dataset, &args.csv.options())?;
    // The partners table is small: read the anniversary first when a report needs it.
    let filter = months(rb, &period, None);
    let options = LoadOptions {
        months: filter,
        trace: true,
        ..LoadOptions::default()
    };
    let mut facts = dataset.load(rb, &options)?;
    report_warnings(&facts, &dataset, rb, args.strict, args.quiet)?;
    let Some(p) = facts.partners.get(&args.partner) else {
        return Err(Failure::Other(anyhow!(
            "partner '{}' does not appear in any table of {}",
            args.partner,
            args.dataset.display()
        )));
    };
    let wanted = months(rb, &period, p.anniversary_date);
    if let (MonthFilter::Only(now), MonthFilter::Only(more)) = (&options.months, &wanted)
        && more.iter().any(|m| !now.contains(m))
    {
        facts = dataset.load(
            rb,
            &LoadOptions {
                months: wanted,
                trace: true,
                ..LoadOptions::default()
            },
        )?;
    }
    Ok(Loaded {
        rb: rb.clone(),
        period,
        facts,
        partner: args.partner.clone(),
    })
}

pub(crate) fn period_months(_: &Rulebook, p: &Period, _: Option<Date>) -> MonthFilter {
    MonthFilter::Only(p.data_months().to_vec())
}

/// Writes a report: JSON (numbers tidied), CSV rows, or the table text.
pub(crate) fn emit<T: Serialize>(
    format: ReportFormat,
    data: &T,
    csv: impl FnOnce() -> (Vec<String>, Vec<Vec<String>>),
    table: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), Failure> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let result: anyhow::Result<()> = (|| {
        match format {
            ReportFormat::Json => {
                let mut v = serde_json::to_value(data)?;
                tidy_numbers(&mut v);
                serde_json::to_writer_pretty(&mut out, &v)?;
                writeln!(out)?;
            }
            ReportFormat::Csv => {
                let (header, rows) = csv();
                let mut w = ::csv::Writer::from_writer(&mut out);
                w.write_record(&header)?;
                for r in rows {
                    w.write_record(&r)?;
                }
                w.flush()?;
            }
            ReportFormat::Table => table(&mut out)?,
        }
        out.flush()?;
        Ok(())
    })();
    result.or_else(ignore_broken_pipe).map_err(Failure::Other)
}

/// A CSV table of the application layer as the header and records [`emit`] writes.
pub(crate) fn csv_of(t: app::CsvTable) -> (Vec<String>, Vec<Vec<String>>) {
    (t.header.iter().map(|h| h.to_string()).collect(), t.rows)
}

pub(crate) fn d(x: Decimal) -> String {
    x.normalize().to_string()
}

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(ToString::to_string).unwrap_or_default()
}

pub(crate) fn header(out: &mut dyn Write, s: &PartnerScore, what: &str) -> std::io::Result<()> {
    let who = match &s.partner_name {
        Some(n) => format!("{n} ({})", s.partner_id),
        None => s.partner_id.clone(),
    };
    writeln!(
        out,
        "{what}: {who} · month {} (latest {}, baseline {}) · evaluated {} · {} · total {} of 100{}",
        s.period.month,
        s.period.latest_month,
        s.period.baseline_month,
        s.period.evaluation_date,
        s.classification,
        d(s.total_points),
        if s.qualified { " · qualified" } else { "" }
    )
}

// ------------------------------------------------------------------ explain

/// `pcs explain`.
pub fn run_explain(args: &ExplainArgs) -> Result<(), Failure> {
    let area = app::area(&args.area.area).map_err(|e| Failure::BadInput(anyhow!("--area {e}")))?;
    if area != app::BUSINESS_APPLICATIONS {
        return crate::area_reports::run_explain(args, area);
    }
    let l = load(&args.common, period_months)?;
    let score = l.score();
    app::check_metric(
        score.metrics.iter().map(|m| m.id.as_str()),
        args.metric.as_deref(),
    )?;
    let e = explain::explain(&score, args.metric.as_deref());
    emit(
        args.common.format,
        &e,
        || explain_csv(&e),
        |out| explain_table(out, &e),
    )
}

fn explain_csv(e: &explain::Explanation) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "metric",
        "kind",
        "month",
        "tenant_id",
        "customer_name",
        "workload",
        "association",
        "amount",
        "quantity",
        "person_id",
        "certification",
        "counted",
        "reason",
        "lines",
    ]
    .map(String::from)
    .to_vec();
    let mut rows = Vec::new();
    for m in &e.metrics {
        match &m.metric.detail {
            MetricDetail::PairGrowth {
                items, excluded, ..
            }
            | MetricDetail::ConsumptionGrowth {
                items, excluded, ..
            } => {
                for (kind, list) in [("pair", items), ("excluded", excluded)] {
                    for i in list {
                        rows.push(vec![
                            m.id.clone(),
                            kind.to_string(),
                            i.month.to_string(),
                            i.tenant_id.clone(),
                            opt(&i.customer_name),
                            i.workload.clone(),
                            opt(&i.association),
                            d(i.amount),
                            i.quantity.map(d).unwrap_or_default(),
                            String::new(),
                            String::new(),
                            i.counted.to_string(),
                            i.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
                            i.lines
                                .iter()
                                .map(u64::to_string)
                                .collect::<Vec<_>>()
                                .join(" "),
                        ]);
                    }
                }
            }
            MetricDetail::CertifiedPeople { items, .. } => {
                for i in items {
                    rows.push(vec![
                        m.id.clone(),
                        "certification".to_string(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        String::new(),
                        i.person_id.clone(),
                        i.certification.clone(),
                        i.counted.to_string(),
                        i.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
                        i.line.to_string(),
                    ]);
                }
            }
        }
    }
    (header, rows)
}

fn explain_table(out: &mut dyn Write, e: &explain::Explanation) -> std::io::Result<()> {
    let s = &e.score;
    header(out, s, "Explain")?;
    writeln!(out, "Classification: {}", e.classification_summary)?;
    for m in &e.metrics {
        writeln!(out)?;
        writeln!(
            out,
            "{} — {} of {} points",
            m.label,
            d(m.metric.points),
            d(m.metric.max_points)
        )?;
        writeln!(out, "  {}", m.summary)?;
        match &m.metric.detail {
            MetricDetail::PairGrowth { excluded, .. }
            | MetricDetail::ConsumptionGrowth { excluded, .. } => {
                let usage = matches!(m.metric.detail, MetricDetail::ConsumptionGrowth { .. })
                    || matches!(&m.metric.detail, MetricDetail::PairGrowth { source, .. } if *source == pcs_core::rulebook::PairSource::Usage);
                let unit = |x: Option<Decimal>| match x {
                    None => "-".to_string(),
                    Some(v) if usage => format!("{} MCV", thousands(v)),
                    Some(v) => format!("${}", thousands(v)),
                };
                for p in &m.pairs {
                    let mark = match p.change {
                        explain::Change::Added => "+ added",
                        explain::Change::Lost => "- lost ",
                        explain::Change::Kept => "= kept ",
                        explain::Change::NotCounted => "  below",
                    };
                    let mark = if matches!(m.metric.detail, MetricDetail::ConsumptionGrowth { .. })
                    {
                        "  pair "
                    } else {
                        mark
                    };
                    writeln!(
                        out,
                        "  {mark}  {:<28} {:<24} latest {:>16}  baseline {:>16}",
                        p.customer_name
                            .clone()
                            .unwrap_or_else(|| p.tenant_id.clone()),
                        p.workload,
                        unit(p.latest),
                        unit(p.baseline)
                    )?;
                }
                for x in excluded {
                    writeln!(
                        out,
                        "  ✗ not counted  {} {} {} {} ({} row{}{}): {}",
                        x.customer_name
                            .clone()
                            .unwrap_or_else(|| x.tenant_id.clone()),
                        x.workload,
                        x.association.clone().unwrap_or_default(),
                        x.month,
                        x.rows,
                        if x.rows == 1 { "" } else { "s" },
                        if x.lines.is_empty() {
                            String::new()
                        } else {
                            format!(
                                ", lines {}",
                                x.lines
                                    .iter()
                                    .map(u64::to_string)
                                    .collect::<Vec<_>>()
                                    .join(" ")
                            )
                        },
                        x.reason.as_ref().map(|r| r.describe()).unwrap_or_default()
                    )?;
                }
            }
            MetricDetail::CertifiedPeople { items, .. } => {
                for i in items {
                    let who = i.person_name.clone().unwrap_or_else(|| i.person_id.clone());
                    let name = i
                        .certification_name
                        .clone()
                        .unwrap_or_else(|| i.certification.clone());
                    match &i.reason {
                        None => writeln!(out, "  ✓ {who}: {name} (line {})", i.line)?,
                        Some(r) => {
                            writeln!(out, "  ✗ {who}: {name} (line {}): {}", i.line, r.describe())?
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ customers

/// `pcs customers`.
pub fn run_customers(args: &CustomersArgs) -> Result<(), Failure> {
    let area = app::area(&args.area.area).map_err(|e| Failure::BadInput(anyhow!("--area {e}")))?;
    if area != app::BUSINESS_APPLICATIONS {
        return crate::area_reports::run_customers(args, area);
    }
    if args.level.is_some() {
        return Err(Failure::BadInput(anyhow!(
            "--level is for the other solution areas: Business Applications' customer lines are per tenant, workload and subscription already"
        )));
    }
    let l = load(&args.common, period_months)?;
    let score = l.score();
    let r = customers::customers(&l.rb, &score, args.search.as_deref());
    emit(
        args.common.format,
        &r,
        || csv_of(r.to_csv()),
        |out| {
            header(out, &score, "Customers")?;
            let mut last = String::new();
            for x in &r.lines {
                if x.tenant_id != last {
                    writeln!(out)?;
                    writeln!(
                        out,
                        "{} ({})",
                        x.customer_name
                            .clone()
                            .unwrap_or_else(|| x.tenant_id.clone()),
                        x.tenant_id
                    )?;
                    last = x.tenant_id.clone();
                }
                let effect = match x.effect {
                    customers::Effect::Positive => "+",
                    customers::Effect::Negative => "-",
                    customers::Effect::None => " ",
                };
                writeln!(
                    out,
                    "  {effect} {:<8} {}",
                    if x.met { "met" } else { "not met" },
                    x.sentence
                )?;
            }
            if r.lines.is_empty() {
                writeln!(out, "No customer matches.")?;
            }
            Ok(())
        },
    )
}

// ------------------------------------------------------------------ skilling

/// `pcs skilling`.
pub fn run_skilling(args: &SkillingArgs) -> Result<(), Failure> {
    let areas = app::areas(&args.areas.areas, &[app::BUSINESS_APPLICATIONS])
        .map_err(|e| Failure::BadInput(anyhow!("--area {e}")))?;
    if areas != [app::BUSINESS_APPLICATIONS] {
        return crate::area_reports::run_skilling(args, &areas);
    }
    let l = load(&args.common, period_months)?;
    let horizon = l
        .period
        .evaluation_date
        .checked_add((args.within as i64).days())
        .map_err(|e| Failure::Other(anyhow!("--within: {e}")))?;
    let r = skilling::skilling(&l.rb, &l.partner, l.partner(), l.period, horizon);
    emit(
        args.common.format,
        &r,
        || csv_of(r.to_csv()),
        |out| {
            writeln!(
                out,
                "Skilling: {} on {} ({})",
                r.partner_id, r.evaluation_date, r.classification
            )?;
            for (id, people, points, max) in &r.metrics {
                writeln!(
                    out,
                    "  {id}: {} people, {} of {} points",
                    d(*people),
                    d(*points),
                    d(*max)
                )?;
            }
            for p in &r.people {
                writeln!(out)?;
                let counts = if p.counts_for.is_empty() {
                    "counts for nothing".to_string()
                } else {
                    format!("counts for {}", p.counts_for.join(", "))
                };
                writeln!(
                    out,
                    "{} ({}) — {counts}",
                    p.person_name.clone().unwrap_or_else(|| p.person_id.clone()),
                    p.person_id
                )?;
                for c in &p.certifications {
                    let status = match &c.reason {
                        None => "✓ counts".to_string(),
                        Some(r) => format!("✗ {}", r.describe()),
                    };
                    let stops = c
                        .stops_counting_on
                        .map(|s| format!(", stops counting on {s}"))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "  {} — earned {}{}{stops}: {status}",
                        c.name.clone().unwrap_or_else(|| c.certification.clone()),
                        c.earned_on,
                        c.expires_on
                            .map(|e| format!(", expires {e}"))
                            .unwrap_or_default()
                    )?;
                }
            }
            writeln!(out)?;
            if r.risks.is_empty() {
                writeln!(out, "Nothing stops counting before {horizon}.")?;
            }
            for risk in &r.risks {
                let name = |id: &str| {
                    r.people
                        .iter()
                        .find(|p| p.person_id == id)
                        .and_then(|p| p.person_name.clone())
                        .unwrap_or_else(|| id.to_string())
                };
                let who: Vec<String> = risk
                    .people
                    .iter()
                    .map(|(m, p)| format!("{} ({m})", name(p)))
                    .collect();
                writeln!(
                    out,
                    "Risk: from {} {} stop counting: -{} points",
                    risk.date,
                    who.join(", "),
                    d(risk.points_lost)
                )?;
            }
            Ok(())
        },
    )
}

// ------------------------------------------------------------------ history

/// `pcs history`.
pub fn run_history(args: &HistoryArgs) -> Result<(), Failure> {
    let areas = app::areas(&args.areas.areas, &[app::BUSINESS_APPLICATIONS])
        .map_err(|e| Failure::BadInput(anyhow!("--area {e}")))?;
    if areas != [app::BUSINESS_APPLICATIONS] {
        return crate::area_reports::run_history(args, &areas);
    }
    let count = args.months.max(1);
    let l = load(&args.common, |rb, p, anniversary| {
        MonthFilter::Only(history::months_needed(rb, p.month, count, anniversary))
    })?;
    let h = history::history(&l.rb, &l.partner, l.partner(), l.period.month, count);
    emit(
        args.common.format,
        &h,
        || {
            let mut header = vec!["month".to_string(), "classification".to_string()];
            if let Some(first) = h.months.first() {
                header.extend(first.points.iter().map(|(id, _)| format!("{id}_points")));
            }
            header.extend(["total_points", "qualified", "latest_mcv"].map(String::from));
            let rows = h
                .months
                .iter()
                .map(|m| {
                    let mut r = vec![m.month.to_string(), m.classification.clone()];
                    r.extend(m.points.iter().map(|(_, p)| d(*p)));
                    r.extend([
                        d(m.total_points),
                        m.qualified.to_string(),
                        m.latest_mcv.map(d).unwrap_or_default(),
                    ]);
                    r
                })
                .collect();
            (header, rows)
        },
        |out| history_table(out, &h),
    )
}

/// A sparkline of values.
fn sparkline(values: &[Decimal]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().copied().max().unwrap_or_default();
    let min = values
        .iter()
        .copied()
        .min()
        .unwrap_or_default()
        .min(Decimal::ZERO);
    let span = max - min;
    values
        .iter()
        .map(|v| {
            if span.is_zero() {
                BARS[0]
            } else {
                let i = ((*v - min) / span * Decimal::from(7)).round();
                BARS[usize::try_from(i.mantissa() / 10i128.pow(i.scale()))
                    .unwrap_or(0)
                    .min(7)]
            }
        })
        .collect()
}

fn history_table(out: &mut dyn Write, h: &history::History) -> std::io::Result<()> {
    writeln!(
        out,
        "History: {} · {} months to {}",
        h.partner_id,
        h.months.len(),
        h.month
    )?;
    writeln!(out)?;
    let ids: Vec<String> = h
        .months
        .first()
        .map(|m| m.points.iter().map(|(id, _)| id.clone()).collect())
        .unwrap_or_default();
    write!(out, "  {:<8} {:<11}", "month", "class")?;
    for id in &ids {
        write!(out, " {:>10}", id.split('_').next().unwrap_or(id))?;
    }
    writeln!(out, " {:>8}  qualified", "total")?;
    for m in &h.months {
        write!(out, "  {:<8} {:<11}", m.month.to_string(), m.classification)?;
        for (_, p) in &m.points {
            write!(out, " {:>10}", d(*p))?;
        }
        writeln!(
            out,
            " {:>8}  {}",
            d(m.total_points),
            if m.qualified { "yes" } else { "no" }
        )?;
    }
    writeln!(out)?;
    let totals: Vec<Decimal> = h.months.iter().map(|m| m.total_points).collect();
    writeln!(out, "  total        {}", sparkline(&totals))?;
    let mcv: Vec<Decimal> = h
        .months
        .iter()
        .map(|m| m.latest_mcv.unwrap_or_default())
        .collect();
    writeln!(
        out,
        "  MCV          {}  ({} → {})",
        sparkline(&mcv),
        thousands(*mcv.first().unwrap_or(&Decimal::ZERO)),
        thousands(*mcv.last().unwrap_or(&Decimal::ZERO))
    )?;
    if let Some(first) = h.months.first() {
        for (i, (id, _)) in first.qualifying_pairs.iter().enumerate() {
            let v: Vec<Decimal> = h
                .months
                .iter()
                .map(|m| Decimal::from(m.qualifying_pairs[i].1))
                .collect();
            writeln!(
                out,
                "  {:<12} {}  qualifying pairs in the latest month",
                id.split('_').next().unwrap_or(id),
                sparkline(&v)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "Status: {}", h.status.describe())
}

// ------------------------------------------------------------------ simulate

fn read_scenario(path: &std::path::Path) -> Result<scenario::Scenario, Failure> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read scenario {}", path.display()))
        .map_err(Failure::BadInput)?;
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let parsed = if is_json {
        scenario::Scenario::from_json(&text)
    } else {
        scenario::Scenario::from_toml(&text)
    };
    parsed.map_err(|e| Failure::BadInput(anyhow!("{}: {e}", path.display())))
}

/// `pcs simulate`.
pub fn run_simulate(args: &SimulateArgs) -> Result<(), Failure> {
    let sc = read_scenario(&args.scenario)?;
    if !args.areas.is_empty() {
        return run_simulate_areas(args, &sc);
    }
    let l = load(&args.common, period_months)?;
    let c = scenario::simulate(&l.rb, &l.partner, l.partner(), l.period, &sc)
        .map_err(|e| Failure::BadInput(anyhow!("{}: {e}", args.scenario.display())))?;
    emit(
        args.common.format,
        &c.object(),
        || comparison_csv(&c),
        |out| comparison_table(out, &c),
    )
}

/// (metric id, label, current points, current value, simulated points, simulated value)
type MetricRow = (
    String,
    String,
    Decimal,
    Option<Decimal>,
    Decimal,
    Option<Decimal>,
);

/// One area's current and simulated score, for the table and CSV.
struct AreaRows {
    title: String,
    area: String,
    metrics: Vec<MetricRow>,
    totals: (Decimal, Decimal),
    qualified: (bool, bool),
    classification: (Option<String>, Option<String>),
}

/// `pcs simulate --area …`: one application of the scenario, every area.
fn run_simulate_areas(args: &SimulateArgs, sc: &scenario::Scenario) -> Result<(), Failure> {
    crate::area_load::with_areas(&args.common, &args.areas, |run| {
        let c = run
            .set
            .simulate(run.partner, run.facts, sc)
            .map_err(|e| Failure::BadInput(anyhow!("{}: {e}", args.scenario.display())))?;
        let mut rows: Vec<AreaRows> = Vec::new();
        if let Some(b) = &c.business_applications {
            rows.push(AreaRows {
                title: run.ba_title.to_string(),
                area: b.current.solution_area.clone(),
                metrics: b
                    .current
                    .metrics
                    .iter()
                    .zip(&b.simulated.metrics)
                    .map(|(x, y)| {
                        (
                            x.id.clone(),
                            x.label.clone(),
                            x.points,
                            x.value,
                            y.points,
                            y.value,
                        )
                    })
                    .collect(),
                totals: (b.current.total_points, b.simulated.total_points),
                qualified: (b.current.qualified, b.simulated.qualified),
                classification: (
                    Some(b.current.classification.to_string()),
                    Some(b.simulated.classification.to_string()),
                ),
            });
        }
        for (a, (e, _)) in c.areas.iter().zip(&run.set.engines) {
            let title =
                e.rb.title
                    .as_deref()
                    .map(crate::score_cmd::short_title)
                    .unwrap_or(&a.current.solution_area)
                    .to_string();
            rows.push(AreaRows {
                title,
                area: a.current.solution_area.clone(),
                metrics: a
                    .simulated
                    .metrics
                    .iter()
                    .map(|y| {
                        let x = a.current.metric(&y.id);
                        (
                            y.id.clone(),
                            y.label.clone(),
                            x.map_or(Decimal::ZERO, |x| x.points),
                            x.and_then(|x| x.value),
                            y.points,
                            y.value,
                        )
                    })
                    .collect(),
                totals: (a.current.total_points, a.simulated.total_points),
                qualified: (a.current.qualified, a.simulated.qualified),
                classification: (
                    a.current.classification.clone(),
                    a.simulated.classification.clone(),
                ),
            });
        }
        emit(
            args.common.format,
            &c.object(),
            || {
                let header = [
                    "solution_area",
                    "metric",
                    "current_value",
                    "current_points",
                    "simulated_value",
                    "simulated_points",
                    "difference",
                ]
                .map(String::from)
                .to_vec();
                let mut out = Vec::new();
                for r in &rows {
                    for (id, _, cp, cv, sp, sv) in &r.metrics {
                        out.push(vec![
                            r.area.clone(),
                            id.clone(),
                            cv.map(d).unwrap_or_default(),
                            d(*cp),
                            sv.map(d).unwrap_or_default(),
                            d(*sp),
                            d(*sp - *cp),
                        ]);
                    }
                    out.push(vec![
                        r.area.clone(),
                        "total".into(),
                        String::new(),
                        d(r.totals.0),
                        String::new(),
                        d(r.totals.1),
                        d(r.totals.1 - r.totals.0),
                    ]);
                }
                (header, out)
            },
            |out| {
                writeln!(out, "Simulate · partner {}", run.partner)?;
                if let Some(t) = &c.title {
                    writeln!(out, "Scenario: {t}")?;
                }
                for r in &rows {
                    writeln!(out)?;
                    let class = |c: &Option<String>| {
                        c.as_deref().map(|c| format!(" ({c})")).unwrap_or_default()
                    };
                    writeln!(out, "{}{}", r.title, class(&r.classification.1))?;
                    writeln!(
                        out,
                        "  {:<30} {:>16} {:>16} {:>10}",
                        "Metric", "current", "simulated", "change"
                    )?;
                    for (_, label, cp, cv, sp, sv) in &r.metrics {
                        let diff = *sp - *cp;
                        writeln!(
                            out,
                            "  {:<30} {:>16} {:>16} {:>10}",
                            label,
                            format!("{} ({})", d(*cp), cv.map(d).unwrap_or_else(|| "n/a".into())),
                            format!("{} ({})", d(*sp), sv.map(d).unwrap_or_else(|| "n/a".into())),
                            signed(diff)
                        )?;
                    }
                    writeln!(
                        out,
                        "  {:<30} {:>16} {:>16} {:>10}",
                        "Total",
                        d(r.totals.0),
                        d(r.totals.1),
                        signed(r.totals.1 - r.totals.0)
                    )?;
                    let yes = |b: bool| if b { "yes" } else { "no" };
                    writeln!(
                        out,
                        "  Qualified: {} → {}",
                        yes(r.qualified.0),
                        yes(r.qualified.1)
                    )?;
                }
                Ok(())
            },
        )
    })
}

/// `+1.5`, `-2`, or nothing for zero.
fn signed(x: Decimal) -> String {
    if x.is_zero() {
        String::new()
    } else if x > Decimal::ZERO {
        format!("+{}", d(x))
    } else {
        d(x)
    }
}

fn comparison_csv(c: &scenario::Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "metric",
        "current_value",
        "current_points",
        "simulated_value",
        "simulated_points",
        "difference",
    ]
    .map(String::from)
    .to_vec();
    let mut rows: Vec<Vec<String>> = c
        .current
        .metrics
        .iter()
        .zip(&c.simulated.metrics)
        .map(|(a, b)| {
            vec![
                a.id.clone(),
                a.value.map(d).unwrap_or_default(),
                d(a.points),
                b.value.map(d).unwrap_or_default(),
                d(b.points),
                d(b.points - a.points),
            ]
        })
        .collect();
    rows.push(vec![
        "total".into(),
        String::new(),
        d(c.current.total_points),
        String::new(),
        d(c.simulated.total_points),
        d(c.simulated.total_points - c.current.total_points),
    ]);
    (header, rows)
}

fn comparison_table(out: &mut dyn Write, c: &scenario::Comparison) -> std::io::Result<()> {
    header(out, &c.current, "Simulate")?;
    if let Some(t) = &c.title {
        writeln!(out, "Scenario: {t}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  {:<30} {:>16} {:>16} {:>10}",
        "Metric", "current", "simulated", "change"
    )?;
    for (a, b) in c.current.metrics.iter().zip(&c.simulated.metrics) {
        let diff = b.points - a.points;
        writeln!(
            out,
            "  {:<30} {:>16} {:>16} {:>10}",
            a.label,
            format!(
                "{} ({})",
                d(a.points),
                a.value.map(d).unwrap_or_else(|| "n/a".into())
            ),
            format!(
                "{} ({})",
                d(b.points),
                b.value.map(d).unwrap_or_else(|| "n/a".into())
            ),
            if diff.is_zero() {
                String::new()
            } else if diff > Decimal::ZERO {
                format!("+{}", d(diff))
            } else {
                d(diff)
            }
        )?;
    }
    let diff = c.simulated.total_points - c.current.total_points;
    writeln!(
        out,
        "  {:<30} {:>16} {:>16} {:>10}",
        "Total",
        d(c.current.total_points),
        d(c.simulated.total_points),
        if diff > Decimal::ZERO {
            format!("+{}", d(diff))
        } else {
            d(diff)
        }
    )?;
    writeln!(
        out,
        "\n  Classification: {} → {}; qualified: {} → {}",
        c.current.classification,
        c.simulated.classification,
        if c.current.qualified { "yes" } else { "no" },
        if c.simulated.qualified { "yes" } else { "no" }
    )
}
