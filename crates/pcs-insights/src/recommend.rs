//! `pcs recommend`: what to do next, and what to watch, ranked by points.
//!
//! Four kinds of recommendation, each measured by re-scoring modified facts
//! with [`pcs_core::score::score_partner`] (never by a rule written here):
//!
//! - **next threshold**, for each metric below its maximum: the points of one
//!   more unit (one more certified person, customer workload at the
//!   threshold, or deployment; more units when one is not enough to score),
//!   and for usage growth the MCV to add to the latest month for the next
//!   whole point and for the maximum;
//! - **risks**: certifications that stop counting (expiry, or the end of an
//!   eligibility window) up to a horizon date, with the points lost on that
//!   day (the score re-computed with the evaluation date moved); and pairs
//!   counted in the latest month whose amount is less than a margin (10% by
//!   default) above their threshold, with the points lost if they fell just
//!   below it;
//! - **missed prerequisites**: usage growth's baseline below its minimum,
//!   with the MCV missing;
//! - **classification**: when one more large pair would make an SMB partner
//!   Enterprise (or one fewer would make an Enterprise partner SMB) and that
//!   costs points.
//!
//! `points` is always a positive number: the points gained by the action,
//! or the points at risk.

use std::collections::BTreeMap;

use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::display::plural;
use pcs_core::display::{mcv, money, thousands};
use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{Classification, PairSource, Rulebook, Shape, Threshold};
use pcs_core::score::{MetricDetail, PartnerScore, Period, score_partner};
use serde::Serialize;

use crate::plan::{
    ActionKind, Actions, amount_failing, amount_passing, customer_label, first_true,
    pair_threshold, quantity_for_mcv, units_to_max,
};
use crate::scenario::{RevenueAdd, Scenario, ScenarioError};

/// The default margin above a threshold under which a counted pair is a risk: 10%.
pub fn default_margin() -> Decimal {
    Decimal::new(10, 2)
}

/// What `recommend` looks at.
#[derive(Clone, Debug, PartialEq)]
pub struct RecommendOptions {
    /// Certifications that stop counting on or before this date are risks.
    pub until: Date,
    /// A pair counted in the latest month whose amount is less than
    /// `threshold × (1 + margin)` is a risk (a fraction: 0.10 is 10%).
    pub margin: Decimal,
}

impl RecommendOptions {
    /// Risks up to `until`, with the default margin.
    pub fn new(until: Date) -> RecommendOptions {
        RecommendOptions {
            until,
            margin: default_margin(),
        }
    }
}

/// The kind of a recommendation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    /// A prerequisite is not met: the metric scores 0 whatever else happens.
    MissedPrerequisite,
    /// Points that will or may be lost.
    Risk,
    /// A change of classification that would cost points.
    Classification,
    /// The nearest points to gain on a metric.
    NextThreshold,
}

/// One recommendation.
#[derive(Clone, Debug, Serialize)]
pub struct Recommendation {
    /// What kind.
    pub kind: RecommendationKind,
    /// The metric concerned (none for classification or mixed risks).
    pub metric: Option<String>,
    /// One sentence.
    pub title: String,
    /// Points gained by acting, or at risk (positive).
    pub points: Decimal,
    /// The numbers behind the sentence.
    pub detail: Detail,
}

pub use crate::skilling::StopReason;

/// A certification that stops counting.
#[derive(Clone, Debug, Serialize)]
pub struct StoppingCertification {
    /// The metric it counts for.
    pub metric: String,
    /// Person id.
    pub person_id: String,
    /// Person name.
    pub person_name: Option<String>,
    /// Certification id.
    pub certification: String,
    /// Its full name.
    pub certification_name: Option<String>,
    /// The last day it counts.
    pub last_day: Date,
    /// Why it stops.
    pub reason: StopReason,
}

/// Which MCV target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum McvTarget {
    /// The next whole point of usage growth.
    NextPoint,
    /// The metric's maximum.
    Max,
}

/// The numbers behind a recommendation.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Detail {
    /// More units of an action.
    MoreUnits {
        /// The action.
        #[serde(flatten)]
        action: ActionKind,
        /// How many units (the fewest that gain points).
        units: u32,
        /// The metric's points now.
        points_before: Decimal,
        /// The metric's points with the units added.
        points_after: Decimal,
        /// The records simulated.
        scenario: Scenario,
    },
    /// MCV to add to the latest month.
    AddMcv {
        /// Which target.
        target: McvTarget,
        /// MCV to add.
        mcv: Decimal,
        /// The usage quantity that makes it.
        quantity: Decimal,
        /// The workload it is added on.
        workload: String,
        /// The tenant it is added on.
        customer_tenant_id: String,
        /// The month.
        month: Month,
        /// The metric's points now.
        points_before: Decimal,
        /// The metric's points with the MCV added.
        points_after: Decimal,
    },
    /// Certifications stopping on one day.
    CertificationsStop {
        /// The first day without them.
        date: Date,
        /// Which.
        certifications: Vec<StoppingCertification>,
        /// Total points the day before.
        total_before: Decimal,
        /// Total points that day.
        total_after: Decimal,
    },
    /// A counted pair close to its threshold.
    NearThreshold {
        /// Revenue (USD) or usage (MCV).
        source: PairSource,
        /// Tenant id.
        tenant_id: String,
        /// Customer name.
        customer_name: Option<String>,
        /// Workload.
        workload: String,
        /// The latest month.
        month: Month,
        /// Its amount (USD or MCV).
        amount: Decimal,
        /// The threshold it passes.
        threshold: Threshold,
        /// How far above the threshold.
        above_by: Decimal,
        /// Total points if it fell just below.
        total_after: Decimal,
    },
    /// Usage growth's baseline prerequisite is not met.
    BaselineBelowMinimum {
        /// The baseline month.
        baseline_month: Month,
        /// Its total MCV.
        baseline_mcv: Decimal,
        /// The minimum.
        minimum: Threshold,
        /// MCV missing to meet it.
        missing_mcv: Decimal,
        /// The metric's points had the baseline met the minimum.
        points_if_met: Decimal,
    },
    /// A change of classification.
    ClassificationFlip {
        /// The classification now.
        from: Classification,
        /// The classification after the change.
        to: Classification,
        /// Pairs counting for classification now.
        counted_pairs: u32,
        /// Enterprise from this many pairs.
        enterprise_min_pairs: u32,
        /// The change simulated.
        change: String,
        /// Total points now.
        total_before: Decimal,
        /// Total points after the change.
        total_after: Decimal,
    },
}

fn person_label(id: &str, name: Option<&str>) -> String {
    match name {
        Some(n) if n != id => format!("{n} ({id})"),
        _ => id.to_string(),
    }
}

/// Recommendations for a partner and period, ranked by points (most first).
///
/// ```
/// use pcs_core::facts::PartnerFacts;
/// use pcs_core::rulebook::RulebookSet;
/// use pcs_core::score::Period;
/// use pcs_insights::recommend::{recommend, RecommendOptions};
///
/// let set = RulebookSet::builtin();
/// let rb = &set.versions()[0];
/// let period = Period::for_month(rb, "2023-11".parse().unwrap());
/// let until = pcs_core::calendar::parse_date("2024-02-29").unwrap();
/// let recs = recommend(rb, "P1", &PartnerFacts::default(), period, &RecommendOptions::new(until)).unwrap();
/// assert!(recs.iter().any(|r| r.title.starts_with("Baseline MCV 0 is below 25,000")));
/// ```
pub fn recommend(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    period: Period,
    options: &RecommendOptions,
) -> Result<Vec<Recommendation>, ScenarioError> {
    let actions = Actions::new(rb, partner_id, facts, period);
    let mut out = Vec::new();
    next_thresholds(&actions, &mut out)?;
    certification_risks(&actions, options.until, &mut out);
    near_thresholds(&actions, options.margin, &mut out);
    missed_prerequisites(&actions, &mut out)?;
    classification(&actions, &mut out)?;
    let order = |r: &Recommendation| {
        r.metric
            .as_ref()
            .and_then(|m| rb.metrics.iter().position(|x| &x.id == m))
            .unwrap_or(usize::MAX)
    };
    out.sort_by(|a, b| {
        (std::cmp::Reverse(a.points), a.kind, order(a), &a.title).cmp(&(
            std::cmp::Reverse(b.points),
            b.kind,
            order(b),
            &b.title,
        ))
    });
    Ok(out)
}

fn next_thresholds(actions: &Actions, out: &mut Vec<Recommendation>) -> Result<(), ScenarioError> {
    let rb = actions.rb;
    let current = &actions.current;
    for (mi, (metric, ms)) in rb.metrics.iter().zip(&current.metrics).enumerate() {
        if ms.points >= ms.max_points {
            continue;
        }
        let (kind, scenario_of): (ActionKind, Box<dyn Fn(u32) -> Scenario + '_>) =
            match &metric.shape {
                Shape::CertifiedPeople { level, .. } => {
                    if actions.certification_for(level).is_none() {
                        continue;
                    }
                    let level = level.clone();
                    (
                        ActionKind::Certification {
                            level: level.clone(),
                        },
                        Box::new(move |n| {
                            let mut s = Scenario::default();
                            actions.push_people(&mut s, &level, n);
                            s
                        }),
                    )
                }
                Shape::PairGrowth {
                    source: PairSource::Revenue,
                    ..
                } => {
                    let Some(t) = pair_threshold(ms) else {
                        continue;
                    };
                    if actions.revenue_choice().is_none() {
                        continue;
                    }
                    (
                        ActionKind::CustomerWorkload,
                        Box::new(move |n| {
                            let mut s = Scenario::default();
                            actions.push_customer_workloads(&mut s, t, n);
                            s
                        }),
                    )
                }
                Shape::PairGrowth {
                    source: PairSource::Usage,
                    ..
                } => {
                    if actions.deployment().is_none() {
                        continue;
                    }
                    (
                        ActionKind::Deployment,
                        Box::new(|n| {
                            let mut s = Scenario::default();
                            actions.push_deployments(&mut s, n);
                            s
                        }),
                    )
                }
                Shape::ConsumptionGrowth { .. } => {
                    mcv_targets(actions, mi, out)?;
                    continue;
                }
            };
        let bound = units_to_max(ms);
        if bound == 0 {
            continue;
        }
        // The fewest units that gain points on the metric.
        let mut error = None;
        let mut score_of = |n: u32| match actions.score(&scenario_of(n)) {
            Ok(s) => Some(s),
            Err(e) => {
                error.get_or_insert(e);
                None
            }
        };
        let gains =
            |s: &Option<PartnerScore>| s.as_ref().is_some_and(|s| s.metrics[mi].points > ms.points);
        if !gains(&score_of(bound)) {
            if let Some(e) = error {
                return Err(e);
            }
            continue;
        }
        let units = first_true(bound, &mut |n| n > 0 && gains(&score_of(n)));
        if let Some(e) = error {
            return Err(e);
        }
        let scenario = scenario_of(units);
        let after = actions.score(&scenario)?;
        let gained = after.total_points - current.total_points;
        let what = match &kind {
            ActionKind::Certification { level } => {
                let cert = actions
                    .certification_for(level)
                    .map(|c| c.name.clone())
                    .unwrap_or_default();
                format!(
                    "{} certified at level {level} (e.g. {cert})",
                    plural(units as usize, "more person", "more people")
                )
            }
            ActionKind::CustomerWorkload => {
                let t = pair_threshold(ms).expect("checked above");
                format!(
                    "{} at {} {}",
                    plural(
                        units as usize,
                        "more customer workload",
                        "more customer workloads"
                    ),
                    t.comparison.symbol(),
                    money(t.value)
                )
            }
            ActionKind::Deployment => {
                let t = pair_threshold(ms).expect("a deployment metric has a threshold");
                format!(
                    "{} at {} {}",
                    plural(units as usize, "more deployment", "more deployments"),
                    t.comparison.symbol(),
                    mcv(t.value)
                )
            }
            ActionKind::McvGrowth => unreachable!("MCV is handled by mcv_targets"),
        };
        let mut title = format!(
            "{what} would add {} {} ({} {} → {})",
            thousands(gained),
            if gained == Decimal::ONE {
                "point"
            } else {
                "points"
            },
            ms.label,
            thousands(ms.points),
            thousands(after.metrics[mi].points)
        );
        if units > 1 {
            title.push_str(&format!(
                "; fewer would not score, the value is {} today",
                thousands(ms.value.unwrap_or_default())
            ));
        }
        out.push(Recommendation {
            kind: RecommendationKind::NextThreshold,
            metric: Some(ms.id.clone()),
            title,
            points: gained,
            detail: Detail::MoreUnits {
                action: kind,
                units,
                points_before: ms.points,
                points_after: after.metrics[mi].points,
                scenario,
            },
        });
    }
    Ok(())
}

/// The least whole MCV with `reached` (doubling, then bisection), up to 2^48.
fn least_mcv(mut reached: impl FnMut(Decimal) -> bool) -> Option<Decimal> {
    let (mut lo, mut hi) = (0u64, 1u64);
    while !reached(Decimal::from(hi)) {
        lo = hi;
        hi *= 2;
        if hi > 1 << 48 {
            return None;
        }
    }
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(Decimal::from(mid)) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(Decimal::from(hi))
}

/// Usage growth: the MCV for the next whole point and for the maximum.
fn mcv_targets(
    actions: &Actions,
    mi: usize,
    out: &mut Vec<Recommendation>,
) -> Result<(), ScenarioError> {
    let current = &actions.current;
    let ms = &current.metrics[mi];
    let MetricDetail::ConsumptionGrowth {
        prerequisite_met: true,
        ..
    } = &ms.detail
    else {
        return Ok(());
    };
    let Some(pair) = actions.growth_pair() else {
        return Ok(());
    };
    let month = actions.period.latest_month;
    let with = |m: Decimal| -> Result<PartnerScore, ScenarioError> {
        let mut s = Scenario::default();
        actions.push_mcv(&mut s, m, month);
        actions.score(&s)
    };
    let next = (ms.points.floor() + Decimal::ONE).min(ms.max_points);
    let mut targets = vec![(McvTarget::NextPoint, next)];
    if next < ms.max_points {
        targets.push((McvTarget::Max, ms.max_points));
    }
    for (target, goal) in targets {
        let mut error = None;
        let found = least_mcv(|m| match with(m) {
            Ok(s) => s.metrics[mi].points >= goal,
            Err(e) => {
                error.get_or_insert(e);
                true
            }
        });
        if let Some(e) = error {
            return Err(e);
        }
        let Some(m) = found else { continue };
        let quantity = quantity_for_mcv(m, pair.rate);
        let added = (quantity * pair.rate).normalize();
        let after = with(m)?;
        let gained = after.total_points - current.total_points;
        let what = match target {
            McvTarget::NextPoint => "the next whole point",
            McvTarget::Max => "the maximum",
        };
        out.push(Recommendation {
            kind: RecommendationKind::NextThreshold,
            metric: Some(ms.id.clone()),
            title: format!(
                "Add {} in {month} (e.g. {} {} of {} at {}) for {what} of {}: {} → {} (+{} in total)",
                mcv(added),
                thousands(quantity),
                pair.unit.as_deref().unwrap_or("units"),
                pair.workload,
                pair.customer(),
                ms.label.to_lowercase(),
                thousands(ms.points),
                thousands(after.metrics[mi].points),
                points_text(gained)
            ),
            points: gained,
            detail: Detail::AddMcv {
                target,
                mcv: added,
                quantity,
                workload: pair.workload.clone(),
                customer_tenant_id: pair.tenant_id.clone(),
                month,
                points_before: ms.points,
                points_after: after.metrics[mi].points,
            },
        });
    }
    Ok(())
}

/// Certifications that stop counting by `until`: one recommendation per day
/// on which points are lost.
fn certification_risks(actions: &Actions, until: Date, out: &mut Vec<Recommendation>) {
    let rb = actions.rb;
    let period = actions.period;
    let d = period.evaluation_date;
    let mut by_day: BTreeMap<Date, Vec<StoppingCertification>> = BTreeMap::new();
    for ms in &actions.current.metrics {
        let MetricDetail::CertifiedPeople { items, .. } = &ms.detail else {
            continue;
        };
        for item in items {
            let Some(cert) = rb
                .certification(&item.certification)
                .map(|c| &rb.certifications[c as usize])
            else {
                continue;
            };
            // Held and eligible today (counted, or a second certification of
            // a counted person, which may take over), until `stop`.
            let Some(crate::skilling::Stop {
                last_day,
                on: stop,
                reason,
            }) = crate::skilling::stop(item, Some(cert))
            else {
                continue;
            };
            if stop <= d || stop > until {
                continue;
            }
            by_day.entry(stop).or_default().push(StoppingCertification {
                metric: ms.id.clone(),
                person_id: item.person_id.clone(),
                person_name: item.person_name.clone(),
                certification: cert.id.clone(),
                certification_name: Some(cert.name.clone()),
                last_day,
                reason,
            });
        }
    }
    let at = |day: Date| {
        score_partner(
            rb,
            actions.partner_id,
            actions.facts,
            Period {
                evaluation_date: day,
                ..period
            },
        )
    };
    for (day, certs) in by_day {
        let Ok(eve) = day.yesterday() else { continue };
        let before = at(eve);
        let after = at(day);
        let lost = before.total_points - after.total_points;
        if lost <= Decimal::ZERO {
            continue;
        }
        let metric = certs
            .iter()
            .all(|c| c.metric == certs[0].metric)
            .then(|| certs[0].metric.clone());
        let title = match certs.as_slice() {
            [c] => format!(
                "{} of {} {} {}: {} at risk from {day}",
                c.certification_name.as_deref().unwrap_or(&c.certification),
                person_label(&c.person_id, c.person_name.as_deref()),
                match c.reason {
                    StopReason::Expires => "expires on",
                    StopReason::EligibilityEnds => "counts only through",
                },
                c.last_day,
                points_text(lost)
            ),
            _ => format!(
                "{} certifications stop counting on {day} ({}): {} at risk",
                certs.len(),
                certs
                    .iter()
                    .map(|c| person_label(&c.person_id, c.person_name.as_deref()))
                    .collect::<Vec<_>>()
                    .join(", "),
                points_text(lost)
            ),
        };
        out.push(Recommendation {
            kind: RecommendationKind::Risk,
            metric,
            title,
            points: lost,
            detail: Detail::CertificationsStop {
                date: day,
                certifications: certs,
                total_before: before.total_points,
                total_after: after.total_points,
            },
        });
    }
}

fn points_text(p: Decimal) -> String {
    if p == Decimal::ONE {
        "1 point".to_string()
    } else {
        format!("{} points", thousands(p))
    }
}

/// Sets a latest-month pair just below its threshold in a copy of the facts.
fn lowered(
    actions: &Actions,
    source: PairSource,
    tenant_id: &str,
    workload: &str,
    threshold: Threshold,
) -> Option<PartnerFacts> {
    let rb = actions.rb;
    let mut facts = actions.facts.clone();
    let t = facts.tenant_index(tenant_id)?;
    let month = actions.period.latest_month;
    let fail = amount_failing(threshold);
    match source {
        PairSource::Revenue => {
            let w = rb.revenue_workload(workload)?;
            facts.revenue.get_mut(&(t, w, month))?.amount = fail;
        }
        PairSource::Usage => {
            let w = rb.usage_workload(workload)?.workload;
            let rate = rb.usage.workloads[w as usize].rate?;
            let step = Decimal::new(1, 6);
            let mut q = ((fail / rate) / step).floor() * step;
            while threshold.passes(q * rate) && q > Decimal::ZERO {
                q -= step;
            }
            let q = q.max(Decimal::ZERO).normalize();
            facts.usage.get_mut(&(t, w, month))?.total.amount = q;
            facts.set_by_product((t, w, month), vec![(None, q)]);
        }
    }
    Some(facts)
}

/// Pairs counted in the latest month less than `margin` above their threshold.
fn near_thresholds(actions: &Actions, margin: Decimal, out: &mut Vec<Recommendation>) {
    let current = &actions.current;
    let period = actions.period;
    for ms in &current.metrics {
        let MetricDetail::PairGrowth {
            source,
            threshold,
            items,
            ..
        } = &ms.detail
        else {
            continue;
        };
        for item in items {
            if !item.counted || item.month != period.latest_month {
                continue;
            }
            let above = item.amount - threshold.value;
            if above >= threshold.value * margin {
                continue;
            }
            let Some(facts) = lowered(
                actions,
                *source,
                &item.tenant_id,
                &item.workload,
                *threshold,
            ) else {
                continue;
            };
            let after = score_partner(actions.rb, actions.partner_id, &facts, period);
            let lost = current.total_points - after.total_points;
            if lost <= Decimal::ZERO {
                continue;
            }
            let fmt = |d: Decimal| match source {
                PairSource::Revenue => money(d),
                PairSource::Usage => mcv(d),
            };
            let position = if above.is_zero() {
                format!("exactly at the {} threshold", fmt(threshold.value))
            } else {
                format!(
                    "{} above the {} threshold",
                    fmt(above),
                    fmt(threshold.value)
                )
            };
            out.push(Recommendation {
                kind: RecommendationKind::Risk,
                metric: Some(ms.id.clone()),
                title: format!(
                    "Customer {} ({}) is {position} in {}: {} at risk if it falls below",
                    customer_label(&item.tenant_id, item.customer_name.as_deref()),
                    item.workload,
                    item.month,
                    points_text(lost)
                ),
                points: lost,
                detail: Detail::NearThreshold {
                    source: *source,
                    tenant_id: item.tenant_id.clone(),
                    customer_name: item.customer_name.clone(),
                    workload: item.workload.clone(),
                    month: item.month,
                    amount: item.amount,
                    threshold: *threshold,
                    above_by: above,
                    total_after: after.total_points,
                },
            });
        }
    }
}

/// Usage growth's baseline below its minimum.
fn missed_prerequisites(
    actions: &Actions,
    out: &mut Vec<Recommendation>,
) -> Result<(), ScenarioError> {
    let period = actions.period;
    for (mi, ms) in actions.current.metrics.iter().enumerate() {
        let MetricDetail::ConsumptionGrowth {
            baseline_mcv,
            baseline_minimum,
            prerequisite_met: false,
            ..
        } = &ms.detail
        else {
            continue;
        };
        let missing = amount_passing(*baseline_minimum) - *baseline_mcv;
        // What the metric would score had the baseline met the minimum: the
        // missing MCV added to the baseline month, re-scored.
        let mut s = Scenario::default();
        let points_if_met = match actions.push_mcv(&mut s, missing, period.baseline_month) {
            Some(_) => actions.score(&s)?.metrics[mi].points,
            None => Decimal::ZERO,
        };
        let mut title = format!(
            "Baseline MCV {} is below {}: {} scores 0 ({} missing in {})",
            thousands(*baseline_mcv),
            thousands(baseline_minimum.value),
            ms.label.to_lowercase(),
            mcv(missing),
            period.baseline_month
        );
        if points_if_met > Decimal::ZERO {
            title.push_str(&format!(
                "; with it, the latest month would score {}",
                points_text(points_if_met)
            ));
        }
        out.push(Recommendation {
            kind: RecommendationKind::MissedPrerequisite,
            metric: Some(ms.id.clone()),
            title,
            points: points_if_met,
            detail: Detail::BaselineBelowMinimum {
                baseline_month: period.baseline_month,
                baseline_mcv: *baseline_mcv,
                minimum: *baseline_minimum,
                missing_mcv: missing,
                points_if_met,
            },
        });
    }
    Ok(())
}

/// One more (or one fewer) pair counting for classification, when that
/// changes the classification and costs points.
fn classification(actions: &Actions, out: &mut Vec<Recommendation>) -> Result<(), ScenarioError> {
    let rb = actions.rb;
    let current = &actions.current;
    let period = actions.period;
    let detail = &current.classification_detail;
    let rule = detail.pair_revenue;
    let (after, change) = match current.classification {
        Classification::Smb if detail.counted_pairs + 1 >= detail.enterprise_min_pairs => {
            // A pair already large in the baseline month, raised in the
            // latest month; else a new pair large in both months.
            let raised = detail
                .pairs
                .iter()
                .filter(|p| !p.counted && rule.passes(p.baseline_amount))
                .max_by(|a, b| a.latest_amount.cmp(&b.latest_amount))
                .and_then(|p| {
                    let mut facts = actions.facts.clone();
                    let t = facts.tenant_index(&p.tenant_id)?;
                    let w = rb.revenue_workload(&p.workload)?;
                    let amount = amount_passing(rule);
                    match facts.revenue.get_mut(&(t, w, period.latest_month)) {
                        Some(agg) => agg.amount = amount,
                        None => {
                            facts.add_revenue_pair(&p.tenant_id, w, period.latest_month, amount, 1)
                        }
                    }
                    Some((
                        score_partner(rb, actions.partner_id, &facts, period),
                        format!(
                            "customer {} ({}) at {} {} in {} as in {}",
                            customer_label(&p.tenant_id, p.customer_name.as_deref()),
                            p.workload,
                            rule.comparison.symbol(),
                            money(rule.value),
                            period.latest_month,
                            period.baseline_month
                        ),
                    ))
                });
            match raised {
                Some(x) => x,
                None => {
                    let Some((workload, association)) = actions.revenue_choice() else {
                        return Ok(());
                    };
                    let tenant = actions.fresh_tenant("large-customer");
                    let mut s = Scenario::default();
                    for month in [period.latest_month, period.baseline_month] {
                        s.revenue.push(RevenueAdd {
                            customer_tenant_id: Some(tenant.clone()),
                            customer_name: None,
                            workload: workload.clone(),
                            month: Some(month.to_string()),
                            revenue_usd: amount_passing(rule),
                            association: association.clone(),
                        });
                    }
                    (
                        actions.score(&s)?,
                        format!(
                            "one more customer workload {} {} in both {} and {}",
                            rule.comparison.symbol(),
                            money(rule.value),
                            period.latest_month,
                            period.baseline_month
                        ),
                    )
                }
            }
        }
        Classification::Enterprise if detail.counted_pairs == detail.enterprise_min_pairs => {
            // The counted pair with the smallest latest amount, falling to
            // the threshold.
            let Some(p) = detail
                .pairs
                .iter()
                .filter(|p| p.counted)
                .min_by(|a, b| a.latest_amount.cmp(&b.latest_amount))
            else {
                return Ok(());
            };
            let mut facts = actions.facts.clone();
            let (Some(t), Some(w)) = (
                facts.tenant_index(&p.tenant_id),
                rb.revenue_workload(&p.workload),
            ) else {
                return Ok(());
            };
            let Some(agg) = facts.revenue.get_mut(&(t, w, period.latest_month)) else {
                return Ok(());
            };
            agg.amount = amount_failing(rule);
            (
                score_partner(rb, actions.partner_id, &facts, period),
                format!(
                    "customer {} ({}) falling from {} to {} in {}",
                    customer_label(&p.tenant_id, p.customer_name.as_deref()),
                    p.workload,
                    money(p.latest_amount),
                    money(amount_failing(rule)),
                    period.latest_month
                ),
            )
        }
        _ => return Ok(()),
    };
    let diff = after.total_points - current.total_points;
    if after.classification == current.classification || diff >= Decimal::ZERO {
        return Ok(());
    }
    out.push(Recommendation {
        kind: RecommendationKind::Classification,
        metric: None,
        title: format!(
            "With {change}, the partner would be {} instead of {} and lose {} (total {} → {})",
            after.classification,
            current.classification,
            points_text(-diff),
            thousands(current.total_points),
            thousands(after.total_points)
        ),
        points: -diff,
        detail: Detail::ClassificationFlip {
            from: current.classification,
            to: after.classification,
            counted_pairs: detail.counted_pairs,
            enterprise_min_pairs: detail.enterprise_min_pairs,
            change,
            total_before: current.total_points,
            total_after: after.total_points,
        },
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Case;
    use pcs_core::calendar::parse_date;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn recs_with(c: &Case, options: &RecommendOptions) -> Vec<Recommendation> {
        recommend(&c.rb, "P", &c.facts(), c.period("2023-11"), options).unwrap()
    }

    fn recs(c: &Case) -> Vec<Recommendation> {
        recs_with(c, &RecommendOptions::new(parse_date("2024-01-31").unwrap()))
    }

    fn find<'a>(
        rs: &'a [Recommendation],
        kind: RecommendationKind,
        text: &str,
    ) -> &'a Recommendation {
        rs.iter()
            .find(|r| r.kind == kind && r.title.contains(text))
            .unwrap_or_else(|| panic!("no {kind:?} with '{text}' in {:#?}", titles(rs)))
    }

    fn titles(rs: &[Recommendation]) -> Vec<String> {
        rs.iter()
            .map(|r| format!("{} | {}", r.points, r.title))
            .collect()
    }

    /// `n` pairs above $5,000 in both months (Finance, DPOR).
    fn large_pairs(mut c: Case, n: usize) -> Case {
        for i in 0..n {
            let t = format!("E{i}");
            c = c
                .rev(&t, "Finance", "2023-10", "6000")
                .rev(&t, "Finance", "2022-10", "6000");
        }
        c
    }

    #[test]
    fn an_expiring_certification_is_a_risk_with_its_points() {
        let c = Case::new()
            .cert(
                "ana",
                "data-analyst-associate",
                "2022-01-01",
                Some("2023-12-15"),
            )
            .cert(
                "bo",
                "power-platform-developer-associate",
                "2022-01-01",
                None,
            );
        let rs = recs(&c);
        let r = find(&rs, RecommendationKind::Risk, "expires on 2023-12-15");
        assert_eq!(r.points, d("4"), "SMB: 4 points per intermediate person");
        assert_eq!(r.metric.as_deref(), Some("intermediate_certifications"));
        assert_eq!(
            r.title,
            "Microsoft Certified: Data Analyst Associate of ana expires on 2023-12-15: \
             4 points at risk from 2023-12-16"
        );
        let Detail::CertificationsStop {
            date,
            total_before,
            total_after,
            ..
        } = &r.detail
        else {
            panic!("{:?}", r.detail)
        };
        assert_eq!(date.to_string(), "2023-12-16");
        assert_eq!((*total_before, *total_after), (d("8"), d("4")));
        // Beyond the horizon: no risk.
        let rs = recs_with(
            &c,
            &RecommendOptions::new(parse_date("2023-12-15").unwrap()),
        );
        assert!(
            rs.iter().all(|r| r.kind != RecommendationKind::Risk),
            "{:#?}",
            titles(&rs)
        );
    }

    #[test]
    fn the_end_of_an_eligibility_window_is_a_risk() {
        // Power Platform App Maker counts through 2023-11-30.
        let c = Case::new().cert("cy", "power-platform-app-maker", "2022-01-01", None);
        let rs = recs(&c);
        let r = find(
            &rs,
            RecommendationKind::Risk,
            "counts only through 2023-11-30",
        );
        assert_eq!(r.points, d("4"));
        assert!(
            r.title.ends_with("4 points at risk from 2023-12-01"),
            "{}",
            r.title
        );
    }

    #[test]
    fn a_certification_backed_by_another_is_no_risk_until_both_stop() {
        // dee holds two intermediate certifications: losing the first costs nothing.
        let c = Case::new()
            .cert(
                "dee",
                "data-analyst-associate",
                "2022-01-01",
                Some("2023-12-15"),
            )
            .cert(
                "dee",
                "d365-functional-consultant-sales",
                "2022-01-01",
                Some("2024-01-10"),
            );
        let rs = recs(&c);
        let risks: Vec<&Recommendation> = rs
            .iter()
            .filter(|r| r.kind == RecommendationKind::Risk)
            .collect();
        assert_eq!(risks.len(), 1, "{:#?}", titles(&rs));
        assert!(
            risks[0].title.contains("expires on 2024-01-10"),
            "{}",
            risks[0].title
        );
        assert_eq!(risks[0].points, d("4"));
    }

    #[test]
    fn a_pair_120_above_the_threshold_is_a_risk() {
        // Enterprise: the net-adds threshold is $1,500, so $1,620 is $120
        // (8%) above it. Falling below loses the only net add: 3 points.
        let c = large_pairs(Case::new(), 5).rev("c1", "Sales", "2023-10", "1620");
        let rs = recs(&c);
        let r = find(&rs, RecommendationKind::Risk, "is $120 above");
        assert_eq!(
            r.title,
            "Customer c1 (Sales) is $120 above the $1,500 threshold in 2023-10: \
             3 points at risk if it falls below"
        );
        assert_eq!(r.points, d("3"));
        let Detail::NearThreshold {
            above_by,
            total_after,
            ..
        } = &r.detail
        else {
            panic!("{:?}", r.detail)
        };
        assert_eq!((*above_by, *total_after), (d("120"), d("0")));
        // SMB, $370: $120 above $250 is 48%: a risk only with a wider margin.
        let c = Case::new().rev("c1", "Sales", "2023-10", "370");
        assert!(recs(&c).iter().all(|r| r.kind != RecommendationKind::Risk));
        let wide = RecommendOptions {
            margin: d("0.5"),
            ..RecommendOptions::new(parse_date("2024-01-31").unwrap())
        };
        let rs = recs_with(&c, &wide);
        let r = find(
            &rs,
            RecommendationKind::Risk,
            "is $120 above the $250 threshold",
        );
        assert_eq!(r.points, d("3"));
    }

    #[test]
    fn a_deployment_near_its_threshold_is_a_risk() {
        // 26 MAU of Power BI = 5,200 MCV, 200 above the SMB 5,000 threshold.
        let c = Case::new().usage("u1", "Power BI", "2023-10", "26");
        let rs = recs(&c);
        let r = find(
            &rs,
            RecommendationKind::Risk,
            "is 200 MCV above the 5,000 MCV threshold",
        );
        assert_eq!(r.points, d("4"));
        assert_eq!(r.metric.as_deref(), Some("deployments"));
    }

    #[test]
    fn a_baseline_below_the_minimum_is_a_missed_prerequisite() {
        // Baseline 119.5 MAU x 200 = 23,900 MCV; latest 40,000 MCV.
        let c = Case::new()
            .usage("u1", "Power BI", "2022-10", "119.5")
            .usage("u1", "Power BI", "2023-10", "200");
        let rs = recs(&c);
        let r = find(&rs, RecommendationKind::MissedPrerequisite, "");
        assert_eq!(
            r.title,
            "Baseline MCV 23,900 is below 25,000: usage growth scores 0 \
             (1,100 MCV missing in 2022-10); with it, the latest month would score 30 points"
        );
        let Detail::BaselineBelowMinimum {
            missing_mcv,
            points_if_met,
            ..
        } = &r.detail
        else {
            panic!("{:?}", r.detail)
        };
        assert_eq!((*missing_mcv, *points_if_met), (d("1100"), d("30")));
        // No MCV targets while the prerequisite is missed.
        assert!(
            rs.iter()
                .all(|r| !matches!(r.detail, Detail::AddMcv { .. }))
        );
    }

    #[test]
    fn next_thresholds_are_simulated_and_ranked() {
        // Zero points everywhere, baseline 25,000 MCV met.
        let c = Case::new()
            .usage("base", "Power BI", "2023-10", "125")
            .usage("base", "Power BI", "2022-10", "125");
        let rs = recs(&c);
        let got: Vec<(String, Decimal)> = rs
            .iter()
            .map(|r| (r.metric.clone().unwrap_or_default(), r.points))
            .collect();
        let want: Vec<(String, Decimal)> = [
            ("usage_growth", "30"), // 7,500 MCV to the maximum
            ("deployments", "24"),  // 4 points, and 5,000 MCV = 20% growth
            ("advanced_certifications", "7.5"),
            ("intermediate_certifications", "4"),
            ("net_customer_adds", "3"),
            ("usage_growth", "1"), // 250 MCV = 1%
        ]
        .iter()
        .map(|(m, p)| (m.to_string(), d(p)))
        .collect();
        assert_eq!(got, want, "{:#?}", titles(&rs));
        let next = find(&rs, RecommendationKind::NextThreshold, "next whole point");
        assert!(
            next.title
                .starts_with("Add 250 MCV in 2023-10 (e.g. 1.25 MAU of Power BI at base)"),
            "{}",
            next.title
        );
        let max = find(&rs, RecommendationKind::NextThreshold, "for the maximum");
        assert!(max.title.starts_with("Add 7,500 MCV"), "{}", max.title);
        let one = find(
            &rs,
            RecommendationKind::NextThreshold,
            "more person certified at level intermediate",
        );
        assert!(one.title.starts_with("1 more person"), "{}", one.title);
        let json = serde_json::to_value(&rs).unwrap();
        assert_eq!(json[1]["kind"], "next_threshold");
        assert_eq!(json[1]["detail"]["type"], "more_units");
        assert_eq!(json[1]["detail"]["action"], "deployment");
        assert_eq!(json[1]["detail"]["units"], 1);
        // The scenario in the detail reproduces the gain.
        let Detail::MoreUnits { scenario, .. } = &one.detail else {
            panic!()
        };
        let cmp = crate::scenario::simulate(&c.rb, "P", &c.facts(), c.period("2023-11"), scenario)
            .unwrap();
        assert_eq!(
            cmp.simulated.total_points - cmp.current.total_points,
            one.points
        );
    }

    #[test]
    fn a_negative_value_needs_several_units_to_score() {
        // Two pairs lost since the baseline: net adds is -2.
        let c = Case::new()
            .rev("a", "Sales", "2022-10", "300")
            .rev("b", "Sales", "2022-10", "300");
        let rs = recs(&c);
        let r = find(
            &rs,
            RecommendationKind::NextThreshold,
            "more customer workloads",
        );
        assert!(
            r.title
                .starts_with("3 more customer workloads at ≥ $250 would add 3 points"),
            "{}",
            r.title
        );
        assert!(r.title.contains("the value is -2 today"), "{}", r.title);
        assert!(matches!(r.detail, Detail::MoreUnits { units: 3, .. }));
    }

    #[test]
    fn becoming_enterprise_is_flagged_when_it_costs_points() {
        // SMB with 4 large pairs and two intermediate people (8 points). One
        // more large pair makes the partner Enterprise: 1 point per person.
        let c = large_pairs(Case::new(), 4)
            .cert("a", "data-analyst-associate", "2022-01-01", None)
            .cert("b", "data-analyst-associate", "2022-01-01", None);
        let rs = recs(&c);
        let r = find(
            &rs,
            RecommendationKind::Classification,
            "Enterprise instead of SMB",
        );
        assert_eq!(r.points, d("6"), "{}", r.title);
        assert!(
            r.title.contains("lose 6 points (total 8 → 2)"),
            "{}",
            r.title
        );
        // With 3 large pairs, one more does not flip anything.
        let c = large_pairs(Case::new(), 3).cert("a", "data-analyst-associate", "2022-01-01", None);
        assert!(
            recs(&c)
                .iter()
                .all(|r| r.kind != RecommendationKind::Classification)
        );
    }

    #[test]
    fn losing_enterprise_is_not_flagged_when_it_gains_points() {
        // Enterprise at exactly 5 pairs: becoming SMB would raise skilling points.
        let c = large_pairs(Case::new(), 5).cert("a", "data-analyst-associate", "2022-01-01", None);
        assert!(
            recs(&c)
                .iter()
                .all(|r| r.kind != RecommendationKind::Classification)
        );
    }
}
