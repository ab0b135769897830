//! The "why" reports in every solution area: explain, customers, skilling
//! and history, read from the area engine's explanation data
//! ([`AreaScore`], [`AreaMetric`], [`AreaDetail`], [`AreaItem`]) and, for
//! Business Applications inside cross-area reports, from its
//! [`PartnerScore`]. Nothing here implements a rule: every number is the
//! engine's, every item is an item the engine produced.
//!
//! Modern Work's two tracks are both shown (each with its own metrics and
//! total; the reported one marked), Security's Azure and Microsoft 365 sides
//! are the parts of its summed metrics.

use std::collections::BTreeMap;

use pcs_core::Decimal;
use pcs_core::area::{AreaDetail, AreaItem, AreaMetric, AreaRulebook, AreaScore};
use pcs_core::calendar::Month;
use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{QualificationRules, Rulebook};
use pcs_core::score::{MetricDetail, PartnerScore, Period};
use serde::Serialize;

use crate::app::{AnyScore, AppError, Areas, BUSINESS_APPLICATIONS, CsvTable, ToCsv, dec, opt};
use crate::customers::Effect;
use crate::history::{Status, scored_months, status};

/// The items of a detail (none for a combined metric: they are in its
/// options or parts).
pub fn items(d: &AreaDetail) -> &[AreaItem] {
    match d {
        AreaDetail::EntityCount { items, .. }
        | AreaDetail::CertifiedPeople { items, .. }
        | AreaDetail::Growth { items, .. } => items,
        AreaDetail::Combined => &[],
    }
}

/// Every track of a score with its metrics: `(None, reported metrics)` for
/// an area without tracks.
/// A track as the reports walk it: id, reported, total, qualified, metrics.
type TrackView<'a> = (Option<&'a str>, bool, Decimal, bool, &'a [AreaMetric]);

fn tracks(s: &AreaScore) -> Vec<TrackView<'_>> {
    if s.tracks.is_empty() {
        vec![(None, true, s.total_points, s.qualified, &s.metrics[..])]
    } else {
        s.tracks
            .iter()
            .map(|t| {
                (
                    Some(t.track.as_str()),
                    s.classification.as_deref() == Some(t.track.as_str()),
                    t.total_points,
                    t.qualified,
                    &t.metrics[..],
                )
            })
            .collect()
    }
}

/// Calls `f` for a metric and each of its options and parts, depth first,
/// with the path of option/part ids below the metric (`""` for the metric).
fn walk<'m>(m: &'m AreaMetric, path: &str, f: &mut impl FnMut(&'m AreaMetric, &str)) {
    f(m, path);
    for sub in m.options.iter().chain(&m.parts) {
        let p = if path.is_empty() {
            sub.id.clone()
        } else {
            format!("{path}/{}", sub.id)
        };
        walk(sub, &p, f);
    }
}

// ------------------------------------------------------------------ explain

/// One metric in words, with the engine's data.
#[derive(Clone, Debug, Serialize)]
pub struct MetricExplanation {
    /// Metric id.
    pub id: String,
    /// Label.
    pub label: String,
    /// One sentence: how the value and the points came about.
    pub summary: String,
    /// The metric as the engine scored it (value, points, options, parts,
    /// every item with its reason and source lines).
    pub metric: AreaMetric,
}

/// One track's explanation (`track` is none for an area without tracks).
#[derive(Clone, Debug, Serialize)]
pub struct TrackExplanation {
    /// The track id, if the area has tracks.
    pub track: Option<String>,
    /// Whether this is the track reported in the score.
    pub reported: bool,
    /// The track's total.
    pub total_points: Decimal,
    /// Whether the track qualifies.
    pub qualified: bool,
    /// Its metrics.
    pub metrics: Vec<MetricExplanation>,
}

/// `pcs explain --area AREA` for an area of the shape engine.
#[derive(Clone, Debug, Serialize)]
pub struct AreaExplanation {
    /// The partner.
    pub partner_id: String,
    /// Its name.
    pub partner_name: Option<String>,
    /// The area id.
    pub solution_area: String,
    /// The area's title.
    pub title: String,
    /// `area/version`.
    pub rulebook: String,
    /// When.
    #[serde(flatten)]
    pub period: Period,
    /// The reported track, if the area has tracks.
    pub classification: Option<String>,
    /// The reported total.
    pub total_points: Decimal,
    /// Qualified.
    pub qualified: bool,
    /// The minimum total.
    pub min_total_points: Decimal,
    /// Every track (one, without a name, for an area without tracks).
    pub tracks: Vec<TrackExplanation>,
}

fn thousands(x: Decimal) -> String {
    pcs_core::display::thousands(x)
}

/// One sentence for a metric (and, for combined metrics, its options or parts).
pub fn summary(m: &AreaMetric, p: &Period) -> String {
    let value = m.value.map(dec).unwrap_or_else(|| "undefined".into());
    let how = match &m.detail {
        AreaDetail::EntityCount {
            latest_count,
            baseline_count,
            excluded_new,
            ..
        } => {
            let mut s = match baseline_count {
                Some(b) => format!(
                    "{latest_count} counted in {} minus {b} in {} = {value}",
                    p.latest_month, p.baseline_month
                ),
                None => format!("{latest_count} counted in {} = {value}", p.latest_month),
            };
            if *excluded_new > 0 {
                s.push_str(&format!(
                    " ({excluded_new} left out: associated in the last 12 months and already active)"
                ));
            }
            s
        }
        AreaDetail::CertifiedPeople {
            steps,
            prerequisites_met,
            ..
        } => {
            let mut s = format!("{value} certified people");
            for st in steps {
                s.push_str(&format!(
                    "; prerequisite step {}: {} of {} people ({})",
                    st.step,
                    st.people,
                    st.min_people,
                    if st.met { "met" } else { "not met" }
                ));
            }
            if !prerequisites_met {
                s.push_str(": no points until every step is met");
            }
            s
        }
        AreaDetail::Growth {
            latest,
            baseline,
            baseline_minimum,
            prerequisite_met,
            ..
        } => {
            let mut s = format!(
                "{} in {} against {} in {}: growth {value}",
                thousands(*latest),
                p.latest_month,
                thousands(*baseline),
                p.baseline_month
            );
            if let Some(t) = baseline_minimum {
                s.push_str(&format!(
                    "; the baseline must be {} {}: {}",
                    t.comparison.symbol(),
                    thousands(t.value),
                    if *prerequisite_met {
                        "met"
                    } else {
                        "not met, no points"
                    }
                ));
            }
            s
        }
        AreaDetail::Combined if !m.options.is_empty() => {
            let opts: Vec<String> = m
                .options
                .iter()
                .map(|o| format!("{} {} points", o.label, dec(o.points)))
                .collect();
            format!(
                "the best of: {}; taken: {}",
                opts.join(", "),
                m.chosen_option.as_deref().unwrap_or("none")
            )
        }
        AreaDetail::Combined => {
            let parts: Vec<String> = m
                .parts
                .iter()
                .map(|o| {
                    format!(
                        "{} {} ({} points)",
                        o.label,
                        o.value.map(dec).unwrap_or_else(|| "undefined".into()),
                        dec(o.points)
                    )
                })
                .collect();
            format!("the sum of: {}", parts.join(" + "))
        }
    };
    format!("{how} → {} of {} points", dec(m.points), dec(m.max_points))
}

/// Explains `s` (every track); `metric` limits it to one metric id.
pub fn explain(
    s: &AreaScore,
    title: &str,
    metric: Option<&str>,
) -> Result<AreaExplanation, AppError> {
    let mut known: Vec<&str> = Vec::new();
    for (.., ms) in tracks(s) {
        for m in ms {
            if !known.contains(&m.id.as_str()) {
                known.push(&m.id);
            }
        }
    }
    crate::app::check_metric(known, metric)?;
    let tracks = tracks(s)
        .into_iter()
        .map(
            |(track, reported, total_points, qualified, ms)| TrackExplanation {
                track: track.map(str::to_string),
                reported,
                total_points,
                qualified,
                metrics: ms
                    .iter()
                    .filter(|m| metric.is_none_or(|x| x == m.id))
                    .map(|m| MetricExplanation {
                        id: m.id.clone(),
                        label: m.label.clone(),
                        summary: summary(m, &s.period),
                        metric: m.clone(),
                    })
                    .collect(),
            },
        )
        .collect();
    Ok(AreaExplanation {
        partner_id: s.partner_id.clone(),
        partner_name: s.partner_name.clone(),
        solution_area: s.solution_area.clone(),
        title: title.to_string(),
        rulebook: s.rulebook.clone(),
        period: s.period,
        classification: s.classification.clone(),
        total_points: s.total_points,
        qualified: s.qualified,
        min_total_points: s.min_total_points,
        tracks,
    })
}

/// One explained item in words (`Adventure Works / Storage 2023-10: 5,500`),
/// with its reason when it did not count and its source lines.
pub fn describe_item(i: &AreaItem) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(p) = &i.person_id {
        let who = i.person_name.clone().unwrap_or_else(|| p.clone());
        let cert = i.certification.clone().unwrap_or_default();
        let step = i
            .step
            .map(|s| format!(" (prerequisite step {s})"))
            .unwrap_or_default();
        parts.push(format!("{who}: {cert}{step}"));
    } else {
        let who = i
            .customer_name
            .clone()
            .or_else(|| i.tenant_id.clone())
            .unwrap_or_default();
        let what = [&i.service, &i.workload, &i.association, &i.offer]
            .into_iter()
            .flatten()
            .cloned()
            .collect::<Vec<_>>()
            .join(" / ");
        let head = [who, what]
            .into_iter()
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(" / ");
        let when = match (i.from_month, i.month) {
            (Some(f), Some(m)) if f != m => format!(" {f}..{m}"),
            (_, Some(m)) => format!(" {m}"),
            _ => String::new(),
        };
        let period = i.period.map(|p| format!(" [{p}]")).unwrap_or_default();
        let amount = match (i.paid_seats, i.active_users, i.amount) {
            (Some(p), Some(a), _) => format!(": {a} active of {p} paid seats"),
            (_, _, Some(x)) => format!(": {}", thousands(x)),
            _ => String::new(),
        };
        parts.push(format!("{head}{when}{period}{amount}"));
    }
    if let Some(r) = &i.reason {
        parts.push(r.describe());
    }
    // The table the lines are of: a person's row is a certification, a
    // service's an ACR row, anything else a licenses row.
    let table = if i.person_id.is_some() {
        "certifications"
    } else if i.service.is_some() || (i.paid_seats.is_none() && i.workload.is_none()) {
        "acr"
    } else {
        "licenses"
    };
    let lines = if i.lines.is_empty() {
        String::new()
    } else {
        format!(
            " ({table} line{} {})",
            if i.lines.len() == 1 { "" } else { "s" },
            i.lines
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    format!("{}{lines}", parts.join(": "))
}

const ITEM_COLUMNS: [&str; 20] = [
    "period",
    "tenant_id",
    "customer_name",
    "service",
    "workload",
    "association",
    "offer",
    "from_month",
    "month",
    "amount",
    "paid_seats",
    "active_users",
    "person_id",
    "person_name",
    "certification",
    "step",
    "counted",
    "reason",
    "rows",
    "lines",
];

fn item_cells(i: &AreaItem) -> Vec<String> {
    vec![
        i.period.unwrap_or("").to_string(),
        opt(&i.tenant_id),
        opt(&i.customer_name),
        opt(&i.service),
        opt(&i.workload),
        opt(&i.association),
        opt(&i.offer),
        opt(&i.from_month),
        opt(&i.month),
        i.amount.map(dec).unwrap_or_default(),
        opt(&i.paid_seats),
        opt(&i.active_users),
        opt(&i.person_id),
        opt(&i.person_name),
        opt(&i.certification),
        opt(&i.step),
        i.counted.to_string(),
        i.reason.as_ref().map(|r| r.describe()).unwrap_or_default(),
        i.rows.to_string(),
        i.lines
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

impl ToCsv for AreaExplanation {
    /// One record per explained item: track, metric, option or part, then
    /// the item's fields.
    fn to_csv(&self) -> CsvTable {
        let mut header = vec!["track", "metric", "part"];
        header.extend(ITEM_COLUMNS);
        let mut rows = Vec::new();
        for t in &self.tracks {
            for me in &t.metrics {
                walk(&me.metric, "", &mut |m, path| {
                    for i in items(&m.detail) {
                        let mut r = vec![opt(&t.track), me.id.clone(), path.to_string()];
                        r.extend(item_cells(i));
                        rows.push(r);
                    }
                });
            }
        }
        CsvTable { header, rows }
    }
}

// ------------------------------------------------------------------ customers

/// How deep a customer report goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// One line per customer name and metric (tenants of one customer added up).
    Customer,
    /// One line per tenant, metric and explained item (the default).
    #[default]
    Tenant,
    /// Tenant lines, each followed by its subscriptions (ACR rows name them).
    Subscription,
}

/// One customer tenant's item in one metric of an area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaCustomerLine {
    /// Tenant id (empty at customer level when several tenants are added up).
    pub tenant_id: String,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Subscription (subscription level only).
    pub subscription_id: Option<String>,
    /// The track, in an area with tracks.
    pub track: Option<String>,
    /// Metric id.
    pub metric: String,
    /// The option or part of the metric the item belongs to (`azure/...`).
    pub part: Option<String>,
    /// `latest`, `baseline` or `start`, or none for rows left out.
    pub period: Option<String>,
    /// Azure service.
    pub service: Option<String>,
    /// Microsoft 365 workload.
    pub workload: Option<String>,
    /// Association type.
    pub association: Option<String>,
    /// Month (the window's last month).
    pub month: Option<Month>,
    /// USD or users.
    pub amount: Option<Decimal>,
    /// Paid seats.
    pub paid_seats: Option<u64>,
    /// Active users.
    pub active_users: Option<u64>,
    /// Whether it counted.
    pub counted: bool,
    /// The effect on the metric.
    pub effect: Effect,
    /// Why it did not count.
    pub reason: Option<String>,
    /// One sentence for people.
    pub sentence: String,
}

/// `pcs customers --area AREA` for an area of the shape engine.
#[derive(Clone, Debug, Serialize)]
pub struct AreaCustomers {
    /// The partner.
    pub partner_id: String,
    /// The area id.
    pub solution_area: String,
    /// The month scored.
    pub month: Month,
    /// The latest month.
    pub latest_month: Month,
    /// The baseline month.
    pub baseline_month: Month,
    /// The level of the lines.
    pub level: Level,
    /// The lines, by customer then track, metric and period.
    pub lines: Vec<AreaCustomerLine>,
}

fn effect_of(detail: &AreaDetail, i: &AreaItem, all: &[AreaItem]) -> Effect {
    if !i.counted {
        return Effect::None;
    }
    let same = |o: &&AreaItem| {
        o.counted && o.tenant_id == i.tenant_id && o.service == i.service && o.period != i.period
    };
    match (detail, i.period) {
        // A tenant counted in both windows changes nothing.
        (AreaDetail::EntityCount { .. }, Some("latest")) => {
            if all.iter().any(|o| same(&o) && o.period == Some("baseline")) {
                Effect::None
            } else {
                Effect::Positive
            }
        }
        (AreaDetail::EntityCount { .. }, Some("baseline")) => {
            if all.iter().any(|o| same(&o) && o.period == Some("latest")) {
                Effect::None
            } else {
                Effect::Negative
            }
        }
        // Growth: the latest total raises it, the baseline lowers it.
        (AreaDetail::Growth { .. }, Some("latest")) => Effect::Positive,
        (AreaDetail::Growth { .. }, Some(_)) => Effect::Negative,
        _ => Effect::None,
    }
}

fn customer_sentence(i: &AreaItem, label: &str, effect: Effect) -> String {
    let who = i
        .customer_name
        .clone()
        .or_else(|| i.tenant_id.clone())
        .unwrap_or_default();
    let what = i
        .service
        .clone()
        .or_else(|| i.workload.clone())
        .map(|w| format!(" / {w}"))
        .unwrap_or_default();
    let when = match (i.from_month, i.month) {
        (Some(f), Some(m)) if f != m => format!(" {f}..{m}"),
        (_, Some(m)) => format!(" {m}"),
        _ => String::new(),
    };
    let how_much = match (i.amount, i.paid_seats, i.active_users) {
        (_, Some(p), Some(a)) => format!(": {a} active of {p} paid seats"),
        (Some(x), _, _) => format!(": {}", thousands(x)),
        _ => String::new(),
    };
    let verdict = match (&i.reason, effect) {
        (Some(r), _) => format!("does not count for {label} ({})", r.describe()),
        (None, Effect::Positive) => format!("counts for {label} (raises it)"),
        (None, Effect::Negative) => format!("counts for {label} in the baseline (lowers it)"),
        (None, Effect::None) => format!("counts for {label} in both periods (no net change)"),
    };
    format!("{who}{what}{when}{how_much}: {verdict}")
}

/// The customer lines of `s` (every track); `search` keeps customers whose
/// tenant id or name contains it (case-insensitive). At subscription level
/// each ACR line is followed by its subscriptions, as the engine's items
/// hold them.
pub fn customers(s: &AreaScore, search: Option<&str>, level: Level) -> AreaCustomers {
    let needle = search
        .map(|x| x.trim().to_lowercase())
        .filter(|x| !x.is_empty());
    let mut lines: Vec<(AreaCustomerLine, &[(String, Decimal)])> = Vec::new();
    for (track, _, _, _, ms) in tracks(s) {
        for top in ms {
            walk(top, "", &mut |m, path| {
                let all = items(&m.detail);
                for i in all {
                    let Some(tenant) = &i.tenant_id else { continue };
                    if let Some(n) = &needle {
                        let name = i.customer_name.as_deref().unwrap_or("").to_lowercase();
                        if !tenant.to_lowercase().contains(n) && !name.contains(n) {
                            continue;
                        }
                    }
                    let effect = effect_of(&m.detail, i, all);
                    lines.push((
                        AreaCustomerLine {
                            tenant_id: tenant.clone(),
                            customer_name: i.customer_name.clone(),
                            subscription_id: None,
                            track: track.map(str::to_string),
                            metric: top.id.clone(),
                            part: (!path.is_empty()).then(|| path.to_string()),
                            period: i.period.map(str::to_string),
                            service: i.service.clone(),
                            workload: i.workload.clone(),
                            association: i.association.clone(),
                            month: i.month,
                            amount: i.amount,
                            paid_seats: i.paid_seats,
                            active_users: i.active_users,
                            counted: i.counted,
                            effect,
                            reason: i.reason.as_ref().map(|r| r.describe()),
                            sentence: customer_sentence(i, &m.label.to_lowercase(), effect),
                        },
                        &i.subscriptions[..],
                    ));
                }
            });
        }
    }
    // Stable: by customer, keeping the engine's order within one.
    lines.sort_by(|(a, _), (b, _)| {
        (&a.customer_name, &a.tenant_id).cmp(&(&b.customer_name, &b.tenant_id))
    });
    let lines = match level {
        Level::Tenant => lines.into_iter().map(|(l, _)| l).collect(),
        Level::Subscription => {
            let mut out = Vec::new();
            for (l, subs) in lines {
                let parent = l.clone();
                out.push(l);
                for (sub, amount) in subs {
                    out.push(AreaCustomerLine {
                        subscription_id: Some(sub.clone()),
                        amount: Some(*amount),
                        effect: Effect::None,
                        sentence: format!(
                            "subscription {sub}: {} of the tenant's ACR in {}",
                            thousands(*amount),
                            parent.month.map(|m| m.to_string()).unwrap_or_default()
                        ),
                        ..parent.clone()
                    });
                }
            }
            out
        }
        Level::Customer => by_customer(lines.into_iter().map(|(l, _)| l).collect()),
    };
    AreaCustomers {
        partner_id: s.partner_id.clone(),
        solution_area: s.solution_area.clone(),
        month: s.period.month,
        latest_month: s.period.latest_month,
        baseline_month: s.period.baseline_month,
        level,
        lines,
    }
}

/// Customer level: per (customer name, track, metric, part, period), the
/// counted tenants and their amounts and seats added up.
fn by_customer(lines: Vec<AreaCustomerLine>) -> Vec<AreaCustomerLine> {
    type Key = (
        String,
        Option<String>,
        String,
        Option<String>,
        Option<String>,
    );
    let mut groups: BTreeMap<Key, (Vec<String>, AreaCustomerLine, u32, u32)> = BTreeMap::new();
    for l in lines.into_iter().filter(|l| l.period.is_some()) {
        let who = l
            .customer_name
            .clone()
            .unwrap_or_else(|| l.tenant_id.clone());
        let key = (
            who,
            l.track.clone(),
            l.metric.clone(),
            l.part.clone(),
            l.period.clone(),
        );
        let g = groups
            .entry(key)
            .or_insert_with(|| (Vec::new(), l.clone(), 0, 0));
        if !g.0.contains(&l.tenant_id) {
            g.0.push(l.tenant_id.clone());
        }
        g.2 += 1;
        if l.counted {
            g.3 += 1;
        }
        if g.2 > 1 {
            let add = |a: Option<Decimal>, b: Option<Decimal>| match (a, b) {
                (Some(x), Some(y)) => Some(x + y),
                (x, y) => x.or(y),
            };
            let add_u = |a: Option<u64>, b: Option<u64>| match (a, b) {
                (Some(x), Some(y)) => Some(x + y),
                (x, y) => x.or(y),
            };
            g.1.amount = add(g.1.amount, l.amount);
            g.1.paid_seats = add_u(g.1.paid_seats, l.paid_seats);
            g.1.active_users = add_u(g.1.active_users, l.active_users);
            g.1.service = None;
            g.1.workload = None;
            g.1.association = None;
        }
    }
    groups
        .into_values()
        .map(|(tenants, mut l, n, counted)| {
            if tenants.len() > 1 {
                l.tenant_id = String::new();
            }
            l.counted = counted > 0;
            l.sentence = format!(
                "{}: {counted} of {n} item{} counted in {} ({} tenant{})",
                l.customer_name
                    .clone()
                    .unwrap_or_else(|| l.tenant_id.clone()),
                if n == 1 { "" } else { "s" },
                l.period.clone().unwrap_or_default(),
                tenants.len(),
                if tenants.len() == 1 { "" } else { "s" }
            );
            l
        })
        .collect()
}

impl ToCsv for AreaCustomers {
    fn to_csv(&self) -> CsvTable {
        let header = vec![
            "tenant_id",
            "customer_name",
            "subscription_id",
            "track",
            "metric",
            "part",
            "period",
            "service",
            "workload",
            "association",
            "month",
            "amount",
            "paid_seats",
            "active_users",
            "counted",
            "effect",
            "reason",
            "sentence",
        ];
        let rows = self
            .lines
            .iter()
            .map(|l| {
                vec![
                    l.tenant_id.clone(),
                    opt(&l.customer_name),
                    opt(&l.subscription_id),
                    opt(&l.track),
                    l.metric.clone(),
                    opt(&l.part),
                    opt(&l.period),
                    opt(&l.service),
                    opt(&l.workload),
                    opt(&l.association),
                    opt(&l.month),
                    l.amount.map(dec).unwrap_or_default(),
                    opt(&l.paid_seats),
                    opt(&l.active_users),
                    l.counted.to_string(),
                    l.effect.as_str().to_string(),
                    opt(&l.reason),
                    l.sentence.clone(),
                ]
            })
            .collect();
        CsvTable { header, rows }
    }
}

// ------------------------------------------------------------------ skilling

/// Where a certification counts: an area, its track, a metric (with the
/// option or part) and the prerequisite step, if it is one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CountsIn {
    /// The area id.
    pub solution_area: String,
    /// The track, in an area with tracks.
    pub track: Option<String>,
    /// The metric id.
    pub metric: String,
    /// The option or part (`azure`, `m365`), if any.
    pub part: Option<String>,
    /// The prerequisite step (1-based), or none for the metric's scoring set.
    pub step: Option<usize>,
}

/// Why a certification the area knows does not count in a metric.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NotCounted {
    /// Where.
    #[serde(flatten)]
    pub place: CountsIn,
    /// Why.
    pub reason: String,
}

/// One certification record of a person, across the areas of the report.
#[derive(Clone, Debug, Serialize)]
pub struct CertAcross {
    /// The certification (its id where a rulebook knows it, else as written).
    pub certification: String,
    /// Earned on.
    pub earned_on: Date,
    /// Expires on.
    pub expires_on: Option<Date>,
    /// The source line in the certifications table.
    pub line: u64,
    /// Every area, metric and step it counts in.
    pub counts_in: Vec<CountsIn>,
    /// Where an area knows it but it does not count, and why.
    pub not_counted: Vec<NotCounted>,
}

/// A person and their certifications across areas.
#[derive(Clone, Debug, Serialize)]
pub struct PersonAcross {
    /// Person id.
    pub person_id: String,
    /// Name.
    pub person_name: Option<String>,
    /// The areas the person counts in.
    pub areas: Vec<String>,
    /// Their certification records.
    pub certifications: Vec<CertAcross>,
}

/// A skilling metric of an area.
#[derive(Clone, Debug, Serialize)]
pub struct SkillMetric {
    /// The area id.
    pub solution_area: String,
    /// The track, in an area with tracks.
    pub track: Option<String>,
    /// The metric id.
    pub metric: String,
    /// The option or part.
    pub part: Option<String>,
    /// Label.
    pub label: String,
    /// Certified people counted.
    pub people: Decimal,
    /// Points.
    pub points: Decimal,
    /// The cap.
    pub max_points: Decimal,
    /// Whether the prerequisite steps are met (true without steps).
    pub prerequisites_met: bool,
}

/// `pcs skilling --area AREA|all` outside Business Applications alone:
/// for each person, which areas and metrics each certification counts in.
#[derive(Clone, Debug, Serialize)]
pub struct SkillingAcross {
    /// The partner.
    pub partner_id: String,
    /// The evaluation date.
    pub evaluation_date: Date,
    /// The areas of the report.
    pub areas: Vec<String>,
    /// Every skilling metric of those areas.
    pub metrics: Vec<SkillMetric>,
    /// People, by id.
    pub people: Vec<PersonAcross>,
    /// Skilling points lost ahead, per area and day (see [`Areas::skilling_risks`]).
    pub risks: Vec<AreaRisk>,
}

/// Skilling points an area loses on a day when certifications stop counting.
#[derive(Clone, Debug, Serialize)]
pub struct AreaRisk {
    /// The area id.
    pub solution_area: String,
    /// The first day without them.
    pub date: Date,
    /// (metric, person) that stop counting that day; a prerequisite step
    /// reads `metric step N`.
    pub people: Vec<(String, String)>,
    /// Skilling points lost that day (a positive number).
    pub points_lost: Decimal,
}

/// The skilling points of a score (its certified-people metrics, reported
/// track) and who counts in them, by metric (steps included).
fn skilling_now(s: &AnyScore) -> (Decimal, Vec<(String, String)>) {
    let mut points = Decimal::ZERO;
    let mut people = Vec::new();
    match s {
        AnyScore::Ba(b) => {
            for m in &b.metrics {
                if let MetricDetail::CertifiedPeople { items, .. } = &m.detail {
                    points += m.points;
                    people.extend(
                        items
                            .iter()
                            .filter(|i| i.counted)
                            .map(|i| (m.id.clone(), i.person_id.clone())),
                    );
                }
            }
        }
        AnyScore::Area(a) => {
            for top in &a.metrics {
                walk(top, "", &mut |m, path| {
                    let AreaDetail::CertifiedPeople { items, .. } = &m.detail else {
                        return;
                    };
                    if path.is_empty() {
                        points += m.points;
                    }
                    let id = if path.is_empty() {
                        top.id.clone()
                    } else {
                        format!("{}/{path}", top.id)
                    };
                    for i in items.iter().filter(|i| i.counted) {
                        let place = match i.step {
                            Some(n) => format!("{id} step {n}"),
                            None => id.clone(),
                        };
                        if let Some(p) = &i.person_id {
                            people.push((place, p.clone()));
                        }
                    }
                });
            }
        }
    }
    (points, people)
}

struct CertRow {
    person_id: String,
    person_name: Option<String>,
    certification: String,
    earned_on: Date,
    expires_on: Option<Date>,
    line: u64,
    place: CountsIn,
    counted: bool,
    reason: Option<String>,
    known: bool,
}

fn ba_rows(s: &PartnerScore, out: &mut Vec<CertRow>, metrics: &mut Vec<SkillMetric>) {
    for m in &s.metrics {
        let MetricDetail::CertifiedPeople { items, .. } = &m.detail else {
            continue;
        };
        metrics.push(SkillMetric {
            solution_area: s.solution_area.clone(),
            track: None,
            metric: m.id.clone(),
            part: None,
            label: m.label.clone(),
            people: m.value.unwrap_or_default(),
            points: m.points,
            max_points: m.max_points,
            prerequisites_met: true,
        });
        for i in items {
            out.push(CertRow {
                person_id: i.person_id.clone(),
                person_name: i.person_name.clone(),
                certification: i.certification.clone(),
                earned_on: i.earned_on,
                expires_on: i.expires_on,
                line: i.line,
                place: CountsIn {
                    solution_area: s.solution_area.clone(),
                    track: None,
                    metric: m.id.clone(),
                    part: None,
                    step: None,
                },
                counted: i.counted,
                reason: i.reason.as_ref().map(|r| r.describe()),
                known: i.reason != Some(pcs_core::score::Reason::UnknownCertification),
            });
        }
    }
}

fn area_rows(s: &AreaScore, out: &mut Vec<CertRow>, metrics: &mut Vec<SkillMetric>) {
    use pcs_core::area::AreaReason;
    for (track, _, _, _, ms) in tracks(s) {
        for top in ms {
            walk(top, "", &mut |m, path| {
                let AreaDetail::CertifiedPeople {
                    items,
                    prerequisites_met,
                    ..
                } = &m.detail
                else {
                    return;
                };
                let part = (!path.is_empty()).then(|| path.to_string());
                metrics.push(SkillMetric {
                    solution_area: s.solution_area.clone(),
                    track: track.map(str::to_string),
                    metric: top.id.clone(),
                    part: part.clone(),
                    label: m.label.clone(),
                    people: m.value.unwrap_or_default(),
                    points: m.points,
                    max_points: m.max_points,
                    prerequisites_met: *prerequisites_met,
                });
                for i in items {
                    let (Some(person), Some(cert), Some(earned_on)) =
                        (&i.person_id, &i.certification, i.earned_on)
                    else {
                        continue;
                    };
                    out.push(CertRow {
                        person_id: person.clone(),
                        person_name: i.person_name.clone(),
                        certification: cert.clone(),
                        earned_on,
                        expires_on: i.expires_on,
                        line: i.lines.first().copied().unwrap_or_default(),
                        place: CountsIn {
                            solution_area: s.solution_area.clone(),
                            track: track.map(str::to_string),
                            metric: top.id.clone(),
                            part: part.clone(),
                            step: i.step,
                        },
                        counted: i.counted,
                        reason: i.reason.as_ref().map(|r| r.describe()),
                        known: !matches!(
                            i.reason,
                            Some(AreaReason::UnknownCertification | AreaReason::NotInSet)
                        ),
                    });
                }
            });
        }
    }
}

/// The skilling report across `scores` (full detail, one per area, all at
/// one evaluation date): each person, each certification record (one
/// source line), every area and metric it counts in and why not elsewhere.
pub fn skilling_across(
    partner_id: &str,
    evaluation_date: Date,
    scores: &[AnyScore],
) -> SkillingAcross {
    let mut rows = Vec::new();
    let mut metrics = Vec::new();
    let mut areas = Vec::new();
    for s in scores {
        match s {
            AnyScore::Ba(b) => {
                areas.push(b.solution_area.clone());
                ba_rows(b, &mut rows, &mut metrics)
            }
            AnyScore::Area(a) => {
                areas.push(a.solution_area.clone());
                area_rows(a, &mut rows, &mut metrics)
            }
        }
    }
    let mut people: BTreeMap<String, PersonAcross> = BTreeMap::new();
    for r in rows {
        let p = people
            .entry(r.person_id.clone())
            .or_insert_with(|| PersonAcross {
                person_id: r.person_id.clone(),
                person_name: r.person_name.clone(),
                areas: Vec::new(),
                certifications: Vec::new(),
            });
        let i = match p.certifications.iter().position(|c| c.line == r.line) {
            Some(i) => i,
            None => {
                p.certifications.push(CertAcross {
                    certification: r.certification.clone(),
                    earned_on: r.earned_on,
                    expires_on: r.expires_on,
                    line: r.line,
                    counts_in: Vec::new(),
                    not_counted: Vec::new(),
                });
                p.certifications.len() - 1
            }
        };
        let c = &mut p.certifications[i];
        if r.counted {
            if !p.areas.contains(&r.place.solution_area) {
                p.areas.push(r.place.solution_area.clone());
            }
            if !c.counts_in.contains(&r.place) {
                c.counts_in.push(r.place);
            }
        } else if r.known {
            let n = NotCounted {
                place: r.place,
                reason: r.reason.unwrap_or_default(),
            };
            if !c.not_counted.contains(&n) {
                c.not_counted.push(n);
            }
        }
    }
    let mut people: Vec<PersonAcross> = people.into_values().collect();
    for p in &mut people {
        p.certifications.sort_by_key(|c| (c.earned_on, c.line));
        p.areas
            .sort_by_key(|a| areas.iter().position(|x| x == a).unwrap_or(usize::MAX));
    }
    SkillingAcross {
        partner_id: partner_id.to_string(),
        evaluation_date,
        areas,
        metrics,
        people,
        risks: Vec::new(),
    }
}

fn place_text(c: &CountsIn) -> String {
    let mut s = c.solution_area.clone();
    if let Some(t) = &c.track {
        s.push_str(&format!(" ({t})"));
    }
    s.push_str(&format!(" {}", c.metric));
    if let Some(p) = &c.part {
        s.push_str(&format!("/{p}"));
    }
    if let Some(st) = c.step {
        s.push_str(&format!(" step {st}"));
    }
    s
}

impl CountsIn {
    /// `modern_work (smb) certified_people step 1`.
    pub fn describe(&self) -> String {
        place_text(self)
    }
}

impl ToCsv for SkillingAcross {
    /// One record per person, certification record and place it counts in
    /// (or does not count in, with the reason).
    fn to_csv(&self) -> CsvTable {
        let header = vec![
            "person_id",
            "person_name",
            "certification",
            "earned_on",
            "expires_on",
            "line",
            "solution_area",
            "track",
            "metric",
            "part",
            "step",
            "counted",
            "reason",
        ];
        let mut rows = Vec::new();
        for p in &self.people {
            for c in &p.certifications {
                let base = vec![
                    p.person_id.clone(),
                    opt(&p.person_name),
                    c.certification.clone(),
                    c.earned_on.to_string(),
                    opt(&c.expires_on),
                    c.line.to_string(),
                ];
                let place = |x: &CountsIn| {
                    vec![
                        x.solution_area.clone(),
                        opt(&x.track),
                        x.metric.clone(),
                        opt(&x.part),
                        opt(&x.step),
                    ]
                };
                for x in &c.counts_in {
                    let mut r = base.clone();
                    r.extend(place(x));
                    r.extend(["true".to_string(), String::new()]);
                    rows.push(r);
                }
                for n in &c.not_counted {
                    let mut r = base.clone();
                    r.extend(place(&n.place));
                    r.extend(["false".to_string(), n.reason.clone()]);
                    rows.push(r);
                }
                if c.counts_in.is_empty() && c.not_counted.is_empty() {
                    let mut r = base.clone();
                    r.extend(std::iter::repeat_n(String::new(), 5));
                    r.extend([
                        "false".to_string(),
                        "no area of the report knows it".to_string(),
                    ]);
                    rows.push(r);
                }
            }
        }
        CsvTable { header, rows }
    }
}

// ------------------------------------------------------------------ history

/// One month of an area's history.
#[derive(Clone, Debug, Serialize)]
pub struct AreaMonth {
    /// The month scored.
    pub month: Month,
    /// The classification (Business Applications) or reported track.
    pub classification: Option<String>,
    /// Points per reported metric id.
    pub points: Vec<(String, Decimal)>,
    /// The total.
    pub total_points: Decimal,
    /// Qualified that month.
    pub qualified: bool,
    /// Every track's total and whether it qualifies (areas with tracks).
    pub tracks: Vec<(String, Decimal, bool)>,
}

/// The history of one area.
#[derive(Clone, Debug, Serialize)]
pub struct AreaHistory {
    /// The area id.
    pub solution_area: String,
    /// Its title.
    pub title: String,
    /// Oldest first.
    pub months: Vec<AreaMonth>,
    /// The status in M.
    pub status: Status,
}

/// `pcs history --area AREA|all`: each area's months and status, with the
/// one anniversary date every designation shares.
#[derive(Clone, Debug, Serialize)]
pub struct HistoryAcross {
    /// The partner.
    pub partner_id: String,
    /// The last month (M).
    pub month: Month,
    /// The partner's anniversary date (the partners table's; one for every area).
    pub anniversary_date: Option<Date>,
    /// One history per area.
    pub areas: Vec<AreaHistory>,
}

enum Rules<'s> {
    Ba(&'s Rulebook),
    Area(&'s AreaRulebook),
}

impl Rules<'_> {
    fn qualification(&self) -> &QualificationRules {
        match self {
            Rules::Ba(r) => &r.qualification,
            Rules::Area(r) => &r.qualification,
        }
    }
}

impl<'s> Areas<'s> {
    fn rules(&self, area: &str, d: Date) -> Result<Rules<'s>, AppError> {
        if area == BUSINESS_APPLICATIONS {
            self.set
                .in_force(area, d)
                .map(Rules::Ba)
                .map_err(|e| AppError::NotFound(e.to_string()))
        } else {
            self.rulebook(area, d).map(Rules::Area)
        }
    }

    /// The score of `area` for month `m` on its last day, under the
    /// rulebook in force then, or under the one in force on `fallback` when
    /// none was (a history reaching back before the first version).
    fn score_month(
        &self,
        area: &str,
        partner: &str,
        facts: &PartnerFacts,
        m: Month,
        fallback: Date,
    ) -> Result<AnyScore, AppError> {
        let rules = self
            .rules(area, m.last_day())
            .or_else(|_| self.rules(area, fallback))?;
        Ok(match rules {
            Rules::Ba(rb) => AnyScore::Ba(Box::new(pcs_core::score::score_partner(
                rb,
                partner,
                facts,
                Period::for_month(rb, m),
            ))),
            Rules::Area(rb) => AnyScore::Area(Box::new(pcs_core::area::score_area(
                &self.engine(rb),
                partner,
                facts,
                Period::with_calendar(&rb.calendar, m, m.last_day()),
            ))),
        })
    }

    /// The days up to `horizon` on which certifications that count for
    /// `partner` in `areas` stop counting (expiry, or the end of a
    /// certification's eligibility in that area), each scored again on that
    /// day: the skilling points and people each area loses. The one
    /// definition of a stop is [`crate::skilling::stop`] for Business
    /// Applications; an area's certification ends the same way.
    pub fn skilling_risks(
        &self,
        areas: &[&str],
        partner: &str,
        facts: &PartnerFacts,
        month: Month,
        date: Date,
        horizon: Date,
    ) -> Result<Vec<AreaRisk>, AppError> {
        let mut out = Vec::new();
        for area in areas {
            let now = self.score(area, partner, facts, month, date)?;
            let mut days: Vec<Date> = Vec::new();
            match &now {
                AnyScore::Ba(b) => {
                    let rb = self
                        .set
                        .in_force(area, date)
                        .map_err(|e| AppError::NotFound(e.to_string()))?;
                    for m in &b.metrics {
                        if let MetricDetail::CertifiedPeople { items, .. } = &m.detail {
                            for i in items.iter().filter(|i| i.counted) {
                                let cert = rb
                                    .certification(&i.certification)
                                    .map(|c| &rb.certifications[c as usize]);
                                if let Some(st) = crate::skilling::stop(i, cert) {
                                    days.push(st.on);
                                }
                            }
                        }
                    }
                }
                AnyScore::Area(a) => {
                    let rb = self.rulebook(area, date)?;
                    for top in &a.metrics {
                        walk(top, "", &mut |m, _| {
                            let AreaDetail::CertifiedPeople { items, .. } = &m.detail else {
                                return;
                            };
                            for i in items.iter().filter(|i| i.counted) {
                                let until = i
                                    .certification
                                    .as_deref()
                                    .and_then(|c| rb.certifications.iter().find(|x| x.id == c))
                                    .and_then(|c| c.eligible_until);
                                let last = [i.expires_on, until].into_iter().flatten().min();
                                if let Some(on) = last.and_then(|d| d.tomorrow().ok()) {
                                    days.push(on);
                                }
                            }
                        });
                    }
                }
            }
            days.retain(|d| *d > date && *d <= horizon);
            days.sort_unstable();
            days.dedup();
            let (mut points, mut people) = skilling_now(&now);
            for d in days {
                let later = self.score(area, partner, facts, month, d)?;
                let (p, who) = skilling_now(&later);
                let gone: Vec<(String, String)> = people
                    .iter()
                    .filter(|x| !who.contains(x))
                    .cloned()
                    .collect();
                if p < points || !gone.is_empty() {
                    out.push(AreaRisk {
                        solution_area: area.to_string(),
                        date: d,
                        people: gone,
                        points_lost: (points - p).max(Decimal::ZERO),
                    });
                }
                (points, people) = (p, who);
            }
        }
        out.sort_by_key(|r| r.date);
        Ok(out)
    }

    /// The months of data (Business Applications tables, then acr and
    /// licenses) that a history of `count` months to `month` reads in `areas`.
    pub fn history_months(
        &self,
        areas: &[&str],
        month: Month,
        count: u32,
        anniversary: Option<Date>,
    ) -> Result<(Vec<Month>, Vec<Month>), AppError> {
        let mut ba = Vec::new();
        let mut other = Vec::new();
        for area in areas {
            let q = self.rules(area, month.last_day())?;
            let scored = scored_months(q.qualification(), month, count, anniversary);
            if *area == BUSINESS_APPLICATIONS {
                if let Rules::Ba(rb) = q {
                    ba.extend(crate::history::months_needed(rb, month, count, anniversary));
                }
            } else {
                for m in scored {
                    let rb = self
                        .rulebook(area, m.last_day())
                        .or_else(|_| self.rulebook(area, month.last_day()))?;
                    other.extend(rb.data_months(m));
                }
            }
        }
        for v in [&mut ba, &mut other] {
            v.sort_unstable();
            v.dedup();
        }
        Ok((ba, other))
    }

    /// The history of `count` months to `month` in one area, and the status
    /// under its qualification rules with the partner's anniversary date.
    pub fn history(
        &self,
        area: &str,
        partner: &str,
        facts: &PartnerFacts,
        month: Month,
        count: u32,
    ) -> Result<AreaHistory, AppError> {
        let now = month.last_day();
        let q = self.rules(area, now)?.qualification().clone();
        let mut cache: BTreeMap<Month, AnyScore> = BTreeMap::new();
        let mut at = |m: Month| -> Result<AnyScore, AppError> {
            if let Some(s) = cache.get(&m) {
                return Ok(s.clone());
            }
            let s = self.score_month(area, partner, facts, m, now)?;
            cache.insert(m, s.clone());
            Ok(s)
        };
        let mut months = Vec::new();
        for i in (0..count).rev() {
            let s = at(month.minus(i))?;
            let tracks = match &s {
                AnyScore::Area(a) => a
                    .tracks
                    .iter()
                    .map(|t| (t.track.clone(), t.total_points, t.qualified))
                    .collect(),
                AnyScore::Ba(_) => Vec::new(),
            };
            months.push(AreaMonth {
                month: s.period().month,
                classification: s.classification(),
                points: s.points(),
                total_points: s.total_points(),
                qualified: s.qualified(),
                tracks,
            });
        }
        let needed = scored_months(&q, month, count, facts.anniversary_date);
        let mut qualified: BTreeMap<Month, bool> = BTreeMap::new();
        for m in needed {
            qualified.insert(m, at(m)?.qualified());
        }
        let status = status(&q, facts.anniversary_date, month, |m| {
            qualified.get(&m).copied().unwrap_or(false)
        });
        Ok(AreaHistory {
            solution_area: area.to_string(),
            title: self.title(area, now),
            months,
            status,
        })
    }

    /// [`Areas::history`] for each of `areas`.
    pub fn history_across(
        &self,
        areas: &[&str],
        partner: &str,
        facts: &PartnerFacts,
        month: Month,
        count: u32,
    ) -> Result<HistoryAcross, AppError> {
        Ok(HistoryAcross {
            partner_id: partner.to_string(),
            month,
            anniversary_date: facts.anniversary_date,
            areas: areas
                .iter()
                .map(|a| self.history(a, partner, facts, month, count))
                .collect::<Result<_, _>>()?,
        })
    }
}

impl ToCsv for HistoryAcross {
    /// One record per area and month; the metric points as `id=points`.
    fn to_csv(&self) -> CsvTable {
        let header = vec![
            "solution_area",
            "month",
            "classification",
            "total_points",
            "qualified",
            "points",
            "tracks",
            "status",
            "anniversary_date",
        ];
        let mut rows = Vec::new();
        for a in &self.areas {
            let status = match &a.status {
                Status::Qualified { .. } => "qualified",
                Status::InProgress { .. } => "in_progress",
                Status::Enrolled { .. } => "enrolled",
                Status::RenewalDue { .. } => "renewal_due",
                Status::RenewalJudged { renewed: true, .. } => "renewed",
                Status::RenewalJudged { .. } => "not_renewed",
            };
            for m in &a.months {
                rows.push(vec![
                    a.solution_area.clone(),
                    m.month.to_string(),
                    opt(&m.classification),
                    dec(m.total_points),
                    m.qualified.to_string(),
                    m.points
                        .iter()
                        .map(|(id, p)| format!("{id}={}", dec(*p)))
                        .collect::<Vec<_>>()
                        .join(" "),
                    m.tracks
                        .iter()
                        .map(|(t, p, q)| format!("{t}={}{}", dec(*p), if *q { "*" } else { "" }))
                        .collect::<Vec<_>>()
                        .join(" "),
                    status.to_string(),
                    opt(&self.anniversary_date),
                ]);
            }
        }
        CsvTable { header, rows }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{AnyScore, Areas, When, resolve};
    use pcs_core::calendar::parse_date;
    use pcs_core::facts::{AcrRow, CertificationRow, FactsBuilder, MonthFilter, PartnerFacts};
    use pcs_core::rulebook::RulebookSet;
    use proptest::prelude::*;

    /// (tenant, subscription, service, month, usd)
    type Acr = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        &'static str,
    );

    /// One partner's facts of the acr and certifications tables.
    fn facts(set: &RulebookSet, acr: &[Acr], certs: &[(&str, &str, &str)]) -> PartnerFacts {
        let (ba, _) = resolve(set, When::Month("2024-01".parse().unwrap())).unwrap();
        let a = Areas::new(set, ba).unwrap();
        let mut b =
            FactsBuilder::new(ba, MonthFilter::All, true).with_areas(&a.vocab, MonthFilter::All);
        for (i, r) in acr.iter().enumerate() {
            b.add_acr(&AcrRow {
                partner_id: "P",
                customer_tenant_id: r.0,
                customer_name: Some(r.0),
                subscription_id: Some(r.1),
                service: r.2,
                month: r.3.parse().unwrap(),
                acr_usd: r.4.parse().unwrap(),
                association: "PAL",
                offer: None,
                line: i as u64 + 2,
            });
        }
        for (i, c) in certs.iter().enumerate() {
            b.add_certification(&CertificationRow {
                partner_id: "P",
                person_id: c.0,
                person_name: None,
                certification: c.1,
                earned_on: parse_date(c.2).unwrap(),
                expires_on: None,
                line: i as u64 + 2,
            });
        }
        b.finish().partners.remove("P").unwrap_or_default()
    }

    fn area_score(set: &RulebookSet, area: &str, f: &PartnerFacts) -> AreaScore {
        let (ba, p) = resolve(set, When::Month("2024-01".parse().unwrap())).unwrap();
        let a = Areas::new(set, ba).unwrap();
        match a.score(area, "P", f, p.month, p.evaluation_date).unwrap() {
            AnyScore::Area(s) => *s,
            AnyScore::Ba(_) => unreachable!(),
        }
    }

    #[test]
    fn customer_effects_follow_the_two_windows() {
        let set = RulebookSet::builtin();
        // Latest window 2023-11/12, baseline 2022-11/12; $1,000 in either month counts.
        let f = facts(
            &set,
            &[
                ("new", "s1", "Storage", "2023-12", "600"),
                ("new", "s2", "Storage", "2023-12", "400"),
                ("gone", "s3", "Storage", "2022-11", "1000"),
                ("kept", "s4", "Storage", "2022-12", "1000"),
                ("kept", "s4", "Storage", "2023-11", "1500"),
                ("small", "s5", "Storage", "2023-12", "999.99"),
            ],
            &[],
        );
        let s = area_score(&set, "azure_infrastructure", &f);
        let r = customers(&s, None, Level::Tenant);
        let effect = |t: &str| -> Vec<Effect> {
            r.lines
                .iter()
                .filter(|l| l.tenant_id == t && l.metric == "net_customer_adds")
                .map(|l| l.effect)
                .collect()
        };
        assert_eq!(effect("new"), vec![Effect::Positive]);
        assert_eq!(effect("gone"), vec![Effect::Negative]);
        assert_eq!(effect("kept"), vec![Effect::None, Effect::None]);
        assert_eq!(effect("small"), vec![Effect::None]);
        assert_eq!(
            s.metric("net_customer_adds").unwrap().value,
            Some(Decimal::ZERO)
        );
        // Subscriptions of "new": two lines adding up to the tenant's $1,000.
        let r = customers(&s, Some("NEW"), Level::Subscription);
        let subs: Vec<(String, Decimal)> = r
            .lines
            .iter()
            .filter(|l| l.metric == "net_customer_adds" && l.subscription_id.is_some())
            .map(|l| (l.subscription_id.clone().unwrap(), l.amount.unwrap()))
            .collect();
        assert_eq!(
            subs,
            vec![
                ("s1".to_string(), Decimal::from(600)),
                ("s2".to_string(), Decimal::from(400))
            ]
        );
        assert!(r.lines.iter().all(|l| l.tenant_id == "new"));
        // Customer level: one line per customer, metric and period.
        let c = customers(&s, None, Level::Customer);
        let kept: Vec<_> = c
            .lines
            .iter()
            .filter(|l| {
                l.customer_name.as_deref() == Some("kept") && l.metric == "net_customer_adds"
            })
            .collect();
        assert_eq!(kept.len(), 2);
        let csv = c.to_csv();
        assert!(csv.rows.iter().all(|r| r.len() == csv.header.len()));
    }

    #[test]
    fn one_certification_record_counts_in_every_area_that_takes_it() {
        let set = RulebookSet::builtin();
        let f = facts(
            &set,
            &[],
            &[
                ("ana", "data-analyst-associate", "2023-01-01"),
                ("bo", "data-analyst-associate", "2024-02-01"),
            ],
        );
        let (ba, p) = resolve(&set, When::Month("2024-01".parse().unwrap())).unwrap();
        let a = Areas::new(&set, ba).unwrap();
        let scores: Vec<AnyScore> = ["business_applications", "azure_data_ai", "modern_work"]
            .iter()
            .map(|x| a.score(x, "P", &f, p.month, p.evaluation_date).unwrap())
            .collect();
        let r = skilling_across("P", p.evaluation_date, &scores);
        let ana = r.people.iter().find(|x| x.person_id == "ana").unwrap();
        assert_eq!(ana.certifications.len(), 1, "one record, one line");
        let c = &ana.certifications[0];
        let areas: Vec<&str> = c
            .counts_in
            .iter()
            .map(|x| x.solution_area.as_str())
            .collect();
        assert!(areas.contains(&"business_applications"), "{areas:?}");
        assert!(areas.contains(&"azure_data_ai"), "{areas:?}");
        assert!(!areas.contains(&"modern_work"), "{areas:?}");
        assert_eq!(ana.areas, vec!["business_applications", "azure_data_ai"]);
        // Earned after D: known to both, counted in neither, with the reason.
        let bo = r.people.iter().find(|x| x.person_id == "bo").unwrap();
        assert!(bo.certifications[0].counts_in.is_empty());
        assert!(bo.areas.is_empty());
        let why: Vec<&str> = bo.certifications[0]
            .not_counted
            .iter()
            .map(|n| n.reason.as_str())
            .collect();
        assert!(
            !why.is_empty() && why.iter().all(|w| w.contains("after")),
            "{why:?}"
        );
        let csv = r.to_csv();
        assert!(csv.rows.iter().all(|x| x.len() == csv.header.len()));
    }

    #[test]
    fn every_area_shares_the_anniversary_date_and_its_renewal_window() {
        let set = RulebookSet::builtin();
        let mut f = facts(&set, &[("t", "s", "Storage", "2023-12", "5000")], &[]);
        f.anniversary_date = Some(parse_date("2024-03-15").unwrap());
        let (ba, p) = resolve(&set, When::Month("2024-01".parse().unwrap())).unwrap();
        let a = Areas::new(&set, ba).unwrap();
        let all = [
            "business_applications",
            "azure_infrastructure",
            "modern_work",
            "security",
        ];
        let h = a.history_across(&all, "P", &f, p.month, 1).unwrap();
        assert_eq!(h.anniversary_date, f.anniversary_date);
        for x in &h.areas {
            match &x.status {
                Status::RenewalDue {
                    anniversary_date,
                    renewal_from,
                    ..
                } => {
                    assert_eq!(Some(*anniversary_date), f.anniversary_date);
                    assert_eq!(renewal_from.to_string(), "2023-10");
                }
                other => panic!("{}: {other:?}", x.solution_area),
            }
            // One month: the score of that month.
            let s = a
                .score(&x.solution_area, "P", &f, p.month, p.evaluation_date)
                .unwrap();
            assert_eq!(x.months[0].total_points, s.total_points());
            assert_eq!(x.months[0].qualified, s.qualified());
        }
        let (ba_months, area_months) = a
            .history_months(&all, p.month, 6, f.anniversary_date)
            .unwrap();
        assert!(ba_months.contains(&"2023-12".parse().unwrap()));
        // The Azure areas read 24 months: the baseline window of the oldest month.
        assert!(area_months.len() >= 24, "{}", area_months.len());
    }

    #[test]
    fn explain_shows_both_tracks_and_checks_metric_names() {
        let set = RulebookSet::builtin();
        let f = facts(&set, &[], &[]);
        let s = area_score(&set, "modern_work", &f);
        let e = explain(&s, "Modern Work", None).unwrap();
        assert_eq!(e.tracks.len(), 2);
        assert_eq!(e.tracks.iter().filter(|t| t.reported).count(), 1);
        let one = explain(&s, "Modern Work", Some("deployments")).unwrap();
        assert!(one.tracks.iter().all(|t| t.metrics.len() == 1));
        assert!(matches!(
            explain(&s, "Modern Work", Some("nope")),
            Err(AppError::NotFound(m)) if m.contains("deployments")
        ));
        let sec = area_score(&set, "security", &f);
        let e = explain(&sec, "Security", None).unwrap();
        let parts: Vec<&str> = e.tracks[0].metrics[0]
            .metric
            .parts
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(parts.len(), 2, "Security's two sides: {parts:?}");
        assert!(e.tracks[0].metrics[0].summary.contains("the sum of"));
    }

    fn month() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "2022-10", "2022-11", "2022-12", "2023-01", "2023-11", "2023-12", "2024-01",
        ])
    }

    fn amount() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["0", "999.99", "1000", "1000.01", "5000", "-200"])
    }

    fn cert() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec![
            "data-analyst-associate",
            "azure-administrator",
            "azure-solutions-architect",
            "azure-network-engineer-associate",
            "security-operations-analyst",
            "AZ-900",
        ])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// A history of one month is the score of that month, in every area.
        #[test]
        fn one_month_of_history_is_the_score_in_every_area(
            rows in prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "c"]), month(), amount()),
                0..10,
            ),
            certs in prop::collection::vec(
                (prop::sample::select(vec!["p1", "p2", "p3"]), cert()),
                0..6,
            ),
        ) {
            let set = RulebookSet::builtin();
            let acr: Vec<Acr> = rows.iter().map(|(t, m, x)| (*t, "s", "Storage", *m, *x)).collect();
            let cs: Vec<(&str, &str, &str)> = certs.iter().map(|(p, c)| (*p, *c, "2023-01-01")).collect();
            let f = facts(&set, &acr, &cs);
            let (ba, p) = resolve(&set, When::Month("2024-01".parse().unwrap())).unwrap();
            let a = Areas::new(&set, ba).unwrap();
            let all = pcs_core::rulebook::AREAS;
            let h = a.history_across(&all, "P", &f, p.month, 1).unwrap();
            for x in &h.areas {
                let s = a.score(&x.solution_area, "P", &f, p.month, p.evaluation_date).unwrap();
                prop_assert_eq!(x.months.len(), 1);
                prop_assert_eq!(x.months[0].total_points, s.total_points());
                prop_assert_eq!(x.months[0].qualified, s.qualified());
                prop_assert_eq!(&x.months[0].points, &s.points());
                prop_assert_eq!(x.months[0].classification.clone(), s.classification());
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Net customer adds: the tenants the customer report marks as
        /// raising the metric minus those lowering it are its value, and
        /// every explained item becomes one tenant line.
        #[test]
        fn customer_effects_add_up_to_net_customer_adds(
            rows in prop::collection::vec(
                (prop::sample::select(vec!["a", "b", "c", "d"]), month(), amount()),
                0..14,
            )
        ) {
            let set = RulebookSet::builtin();
            let acr: Vec<Acr> = rows.iter().map(|(t, m, x)| (*t, "s", "Storage", *m, *x)).collect();
            let f = facts(&set, &acr, &[]);
            let s = area_score(&set, "azure_infrastructure", &f);
            let r = customers(&s, None, Level::Tenant);
            let net = |e: Effect| r.lines.iter()
                .filter(|l| l.metric == "net_customer_adds" && l.effect == e)
                .count() as i64;
            let m = s.metric("net_customer_adds").unwrap();
            prop_assert_eq!(
                Decimal::from(net(Effect::Positive) - net(Effect::Negative)),
                m.value.unwrap()
            );
            let items_with_tenant = items(&m.detail).iter().filter(|i| i.tenant_id.is_some()).count();
            let lines = r.lines.iter().filter(|l| l.metric == "net_customer_adds").count();
            prop_assert_eq!(items_with_tenant, lines);
        }
    }
}
