//! explain, customers, skilling and history outside Business Applications
//! alone (`--area`): one read of every area's tables, the reports from
//! [`pcs_insights::app`] and [`pcs_insights::areas`], written as a table,
//! JSON or CSV.

use std::io::Write;

use anyhow::anyhow;
use pcs_core::calendar::Month;
use pcs_core::facts::{DatasetFacts, MonthFilter, PartnerFacts};
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::RulebookSet;
use pcs_core::score::Period;
use pcs_data::{Dataset, LoadOptions};
use pcs_insights::app::{self, AnyScore, AppError, Areas, ToCsv};
use pcs_insights::areas::{self, Level};

use crate::args::{
    CustomerLevel, CustomersArgs, ExplainArgs, HistoryArgs, PartnerArgs, SkillingArgs,
};
use crate::failure::Failure;
use crate::reports::{csv_of, d, emit, when};

/// One partner's facts of every area, read for a report.
struct AreaRun {
    set: RulebookSet,
    when: app::When,
    facts: DatasetFacts,
    partner: String,
}

impl AreaRun {
    fn areas(&self) -> Result<(Areas<'_>, Period), Failure> {
        let (ba, period) = app::resolve(&self.set, self.when)?;
        Ok((Areas::new(&self.set, ba)?, period))
    }

    fn partner(&self) -> &PartnerFacts {
        &self.facts.partners[&self.partner]
    }
}

/// Months of the Business Applications tables, then of acr and licenses.
type Months = Result<(Vec<Month>, Vec<Month>), AppError>;

/// The months a report reads, given the partner's anniversary date once it
/// is known.
type Need<'f> = dyn Fn(&Areas<'_>, &Period, Option<Date>) -> Months + 'f;

fn load(args: &PartnerArgs, need: &Need<'_>) -> Result<AreaRun, Failure> {
    let set = crate::rulebooks::load(&args.rulebook)?;
    let when = when(args);
    let facts = {
        let (areas, period) = app::resolve(&set, when)
            .map_err(Failure::from)
            .and_then(|(ba, p)| Ok((Areas::new(&set, ba)?, p)))?;
        let dataset = Dataset::open_with(&args.dataset, &args.csv.options())?;
        let read = |(ba_months, area_months): (Vec<Month>, Vec<Month>)| {
            let options = LoadOptions {
                months: MonthFilter::Only(ba_months),
                trace: true,
                ..LoadOptions::default()
            };
            dataset
                .load_areas(
                    areas.ba,
                    &areas.vocab,
                    MonthFilter::Only(area_months),
                    &options,
                )
                .map(|(f, _)| f)
        };
        let first = need(&areas, &period, None)?;
        let mut facts = read(first.clone())?;
        crate::areas_cmd::area_warnings(
            &mut facts,
            &areas.vocab,
            areas.ba,
            &dataset,
            args.strict,
            args.quiet,
        )?;
        let Some(p) = facts.partners.get(&args.partner) else {
            return Err(Failure::Other(anyhow!(
                "partner '{}' does not appear in any table of {}",
                args.partner,
                args.dataset.display()
            )));
        };
        // The partners table gives the anniversary: read again when the
        // renewal window needs months the first read left out.
        if p.anniversary_date.is_some() {
            let more = need(&areas, &period, p.anniversary_date)?;
            let missing = more.0.iter().any(|m| !first.0.contains(m))
                || more.1.iter().any(|m| !first.1.contains(m));
            if missing {
                facts = read(more)?;
            }
        }
        facts
    };
    Ok(AreaRun {
        set,
        when,
        facts,
        partner: args.partner.clone(),
    })
}

/// The months scoring `area` for the period reads.
fn period_need(area: &'static str) -> impl Fn(&Areas<'_>, &Period, Option<Date>) -> Months {
    move |a, p, _| {
        let ba = p.data_months().to_vec();
        if area == app::BUSINESS_APPLICATIONS {
            return Ok((ba, Vec::new()));
        }
        let rb = a.rulebook(area, p.evaluation_date)?;
        Ok((ba, rb.data_months(p.month)))
    }
}

fn area_score(run: &AreaRun, area: &str) -> Result<(pcs_core::area::AreaScore, String), Failure> {
    let (areas, p) = run.areas()?;
    let s = areas.score(
        area,
        &run.partner,
        run.partner(),
        p.month,
        p.evaluation_date,
    )?;
    let title = areas.title(area, p.evaluation_date);
    match s {
        AnyScore::Area(a) => Ok((*a, title)),
        AnyScore::Ba(_) => Err(Failure::Other(anyhow!(
            "{area} is scored by the Business Applications engine"
        ))),
    }
}

fn head(out: &mut dyn Write, what: &str, e: &areas::AreaExplanation) -> std::io::Result<()> {
    let who = match &e.partner_name {
        Some(n) => format!("{n} ({})", e.partner_id),
        None => e.partner_id.clone(),
    };
    writeln!(
        out,
        "{what}: {who} · {} · month {} (latest {}, baseline {}) · evaluated {} · total {} of 100{}",
        e.title,
        e.period.month,
        e.period.latest_month,
        e.period.baseline_month,
        e.period.evaluation_date,
        d(e.total_points),
        if e.qualified { " · qualified" } else { "" }
    )
}

fn track_title(t: &areas::TrackExplanation) -> Option<String> {
    let name = t.track.as_deref()?;
    let name = match name {
        "enterprise" => "Enterprise",
        "smb" => "SMB",
        other => other,
    };
    Some(format!(
        "{name} track: {} points{}{}",
        d(t.total_points),
        if t.qualified { ", qualifies" } else { "" },
        if t.reported { ", reported" } else { "" }
    ))
}

fn metric_block(
    out: &mut dyn Write,
    m: &pcs_core::area::AreaMetric,
    period: &Period,
    indent: &str,
) -> std::io::Result<()> {
    writeln!(
        out,
        "{indent}{} — {} of {} points",
        m.label,
        d(m.points),
        d(m.max_points)
    )?;
    writeln!(out, "{indent}  {}", areas::summary(m, period))?;
    let mut elsewhere = 0;
    for i in areas::items(&m.detail) {
        // Certifications of other areas only: counted, not listed.
        if i.reason == Some(pcs_core::area::AreaReason::UnknownCertification) {
            elsewhere += 1;
            continue;
        }
        let mark = if i.counted { "✓" } else { "✗" };
        writeln!(out, "{indent}  {mark} {}", areas::describe_item(i))?;
    }
    if elsewhere > 0 {
        writeln!(
            out,
            "{indent}  ({elsewhere} certification row{} of other solution areas not listed; --format json lists them)",
            if elsewhere == 1 { "" } else { "s" }
        )?;
    }
    for sub in m.options.iter().chain(&m.parts) {
        metric_block(out, sub, period, &format!("{indent}  · "))?;
    }
    Ok(())
}

/// `pcs explain --area AREA` (not Business Applications).
pub fn run_explain(args: &ExplainArgs, area: &'static str) -> Result<(), Failure> {
    let run = load(&args.common, &period_need(area))?;
    let (s, title) = area_score(&run, area)?;
    let e = areas::explain(&s, &title, args.metric.as_deref())?;
    emit(
        args.common.format,
        &e,
        || csv_of(e.to_csv()),
        |out| {
            head(out, "Explain", &e)?;
            for t in &e.tracks {
                if let Some(tt) = track_title(t) {
                    writeln!(out)?;
                    writeln!(out, "{tt}")?;
                }
                for m in &t.metrics {
                    writeln!(out)?;
                    let indent = if t.track.is_some() { "  " } else { "" };
                    metric_block(out, &m.metric, &e.period, indent)?;
                }
            }
            Ok(())
        },
    )
}

/// `pcs customers --area AREA` (not Business Applications).
pub fn run_customers(args: &CustomersArgs, area: &'static str) -> Result<(), Failure> {
    let run = load(&args.common, &period_need(area))?;
    let (s, title) = area_score(&run, area)?;
    let level = match args.level {
        Some(CustomerLevel::Customer) => Level::Customer,
        Some(CustomerLevel::Tenant) | None => Level::Tenant,
        Some(CustomerLevel::Subscription) => Level::Subscription,
    };
    let r = areas::customers(&s, args.search.as_deref(), level);
    emit(
        args.common.format,
        &r,
        || csv_of(r.to_csv()),
        |out| {
            writeln!(
                out,
                "Customers: {} · {title} · month {} (latest {}, baseline {})",
                r.partner_id, r.month, r.latest_month, r.baseline_month
            )?;
            let mut last = None;
            for l in &r.lines {
                let key = (&l.customer_name, &l.tenant_id);
                if last != Some(key) {
                    writeln!(out)?;
                    writeln!(
                        out,
                        "{} ({})",
                        l.customer_name
                            .clone()
                            .unwrap_or_else(|| l.tenant_id.clone()),
                        if l.tenant_id.is_empty() {
                            "several tenants"
                        } else {
                            &l.tenant_id
                        }
                    )?;
                    last = Some(key);
                }
                let effect = match l.effect {
                    pcs_insights::customers::Effect::Positive => "+",
                    pcs_insights::customers::Effect::Negative => "-",
                    pcs_insights::customers::Effect::None => " ",
                };
                let track = l
                    .track
                    .as_deref()
                    .map(|t| format!("[{t}] "))
                    .unwrap_or_default();
                let metric = match &l.part {
                    Some(p) => format!("{}/{p}", l.metric),
                    None => l.metric.clone(),
                };
                writeln!(
                    out,
                    "  {effect} {:<11} {track}{metric}: {}",
                    if l.counted { "counted" } else { "not counted" },
                    l.sentence
                )?;
            }
            if r.lines.is_empty() {
                writeln!(out, "No customer matches.")?;
            }
            Ok(())
        },
    )
}

/// `pcs skilling --area AREA…|all` (more than Business Applications alone):
/// where each certification counts, across the areas named.
pub fn run_skilling(args: &SkillingArgs, wanted: &[&'static str]) -> Result<(), Failure> {
    let need = |a: &Areas<'_>, p: &Period, _: Option<Date>| {
        let mut other = Vec::new();
        for area in wanted.iter().filter(|x| **x != app::BUSINESS_APPLICATIONS) {
            other.extend(a.rulebook(area, p.evaluation_date)?.data_months(p.month));
        }
        other.sort_unstable();
        other.dedup();
        Ok((p.data_months().to_vec(), other))
    };
    let run = load(&args.common, &need)?;
    let (areas, p) = run.areas()?;
    let scores = wanted
        .iter()
        .map(|a| areas.score(a, &run.partner, run.partner(), p.month, p.evaluation_date))
        .collect::<Result<Vec<_>, _>>()?;
    let mut r = areas::skilling_across(&run.partner, p.evaluation_date, &scores);
    let horizon = p
        .evaluation_date
        .checked_add(pcs_core::jiff::Span::new().days(i64::from(args.within)))
        .map_err(|e| Failure::Other(anyhow!("--within: {e}")))?;
    r.risks = areas.skilling_risks(
        wanted,
        &run.partner,
        run.partner(),
        p.month,
        p.evaluation_date,
        horizon,
    )?;
    emit(
        args.common.format,
        &r,
        || csv_of(r.to_csv()),
        |out| {
            writeln!(
                out,
                "Skilling: {} on {} · {}",
                r.partner_id,
                r.evaluation_date,
                r.areas.join(", ")
            )?;
            for m in &r.metrics {
                let track = m
                    .track
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default();
                let part = m
                    .part
                    .as_deref()
                    .map(|x| format!("/{x}"))
                    .unwrap_or_default();
                writeln!(
                    out,
                    "  {}{track} {}{part}: {} people, {} of {} points{}",
                    m.solution_area,
                    m.metric,
                    d(m.people),
                    d(m.points),
                    d(m.max_points),
                    if m.prerequisites_met {
                        ""
                    } else {
                        " (prerequisites not met)"
                    }
                )?;
            }
            for person in &r.people {
                writeln!(out)?;
                let counts = if person.areas.is_empty() {
                    "counts in no area".to_string()
                } else {
                    format!("counts in {}", person.areas.join(", "))
                };
                writeln!(
                    out,
                    "{} ({}) — {counts}",
                    person
                        .person_name
                        .clone()
                        .unwrap_or_else(|| person.person_id.clone()),
                    person.person_id
                )?;
                for c in &person.certifications {
                    writeln!(
                        out,
                        "  {} — earned {}{} (line {})",
                        c.certification,
                        c.earned_on,
                        c.expires_on
                            .map(|e| format!(", expires {e}"))
                            .unwrap_or_default(),
                        c.line
                    )?;
                    for x in &c.counts_in {
                        writeln!(out, "    ✓ {}", x.describe())?;
                    }
                    for n in &c.not_counted {
                        writeln!(out, "    ✗ {}: {}", n.place.describe(), n.reason)?;
                    }
                    if c.counts_in.is_empty() && c.not_counted.is_empty() {
                        writeln!(out, "    ✗ no area of the report knows it")?;
                    }
                }
            }
            writeln!(out)?;
            if r.risks.is_empty() {
                writeln!(out, "Nothing stops counting before {horizon}.")?;
            }
            for risk in &r.risks {
                let who: Vec<String> = risk
                    .people
                    .iter()
                    .map(|(m, id)| {
                        let name = r
                            .people
                            .iter()
                            .find(|x| &x.person_id == id)
                            .and_then(|x| x.person_name.clone())
                            .unwrap_or_else(|| id.clone());
                        format!("{name} ({m})")
                    })
                    .collect();
                writeln!(
                    out,
                    "Risk in {}: from {} {} stop counting: -{} points",
                    risk.solution_area,
                    risk.date,
                    who.join(", "),
                    d(risk.points_lost)
                )?;
            }
            Ok(())
        },
    )
}

/// `pcs history --area AREA…|all` (more than Business Applications alone).
pub fn run_history(args: &HistoryArgs, wanted: &[&'static str]) -> Result<(), Failure> {
    let count = args.months.max(1);
    let need = |a: &Areas<'_>, p: &Period, anniversary: Option<Date>| {
        a.history_months(wanted, p.month, count, anniversary)
    };
    let run = load(&args.common, &need)?;
    let (areas, p) = run.areas()?;
    let h = areas.history_across(wanted, &run.partner, run.partner(), p.month, count)?;
    emit(
        args.common.format,
        &h,
        || csv_of(h.to_csv()),
        |out| {
            writeln!(
                out,
                "History: {} · {} months to {} · anniversary {}",
                h.partner_id,
                count,
                h.month,
                h.anniversary_date
                    .map(|a| a.to_string())
                    .unwrap_or_else(|| "none (not enrolled)".into())
            )?;
            for a in &h.areas {
                writeln!(out)?;
                writeln!(out, "{}", a.title)?;
                writeln!(
                    out,
                    "  {:<8} {:<11} {:>8}  {:<9} tracks",
                    "month", "class", "total", "qualified"
                )?;
                for m in &a.months {
                    writeln!(
                        out,
                        "  {:<8} {:<11} {:>8}  {:<9} {}",
                        m.month.to_string(),
                        m.classification.clone().unwrap_or_else(|| "-".into()),
                        d(m.total_points),
                        if m.qualified { "yes" } else { "no" },
                        m.tracks
                            .iter()
                            .map(|(t, p, q)| format!("{t} {}{}", d(*p), if *q { " ✓" } else { "" }))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )?;
                }
                writeln!(out, "  Status: {}", a.status.describe())?;
            }
            Ok(())
        },
    )
}
