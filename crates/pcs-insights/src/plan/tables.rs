//! The point tables of `pcs plan`'s search: what each action gives, by
//! count, scored by the engine.
//!
//! Certifications and customer workloads each move one metric, so each gets
//! a table of points per count ([`Dim`], the smallest count of each distinct
//! points level, found by bisection). Deployments also add MCV, so
//! deployments and MCV units share one two-dimensional table scored on
//! demand ([`UsageTable`]). [`tables`] builds them with their bounds.

use std::collections::{BTreeMap, HashMap};

use pcs_core::Decimal;
use pcs_core::display::{mcv, money, thousands};
use pcs_core::rulebook::{PairSource, Rulebook, Shape, Threshold};
use pcs_core::score::{MetricDetail, MetricScore, PartnerScore};

use super::actions::{Actions, pair_threshold, units_to_max};
use super::{ActionKind, Costs, MAX_MCV_UNITS, MAX_UNITS, Plan, PlanError, SearchBound};
use crate::scenario::{Scenario, ScenarioError};

/// A dimension searched alone.
pub(super) struct Dim {
    pub(super) kind: ActionKind,
    pub(super) metric: usize,
    pub(super) unit_cost: Decimal,
    pub(super) threshold: Option<Threshold>,
    /// Counts 0..=bound are searched.
    pub(super) bound: u32,
    /// The smallest count of each distinct points vector, with the vector
    /// (per-metric points). A larger count with the same points costs more
    /// for nothing, so only these are combined.
    pub(super) levels: Vec<Level>,
}

/// A count and its per-metric points.
pub(super) type Level = (u32, Vec<Decimal>);

/// The smallest count of each distinct points vector in `0..=bound`, by
/// bisection: points never fall when records are added, so the counts
/// scoring like a given count form one run.
pub(super) fn levels(
    bound: u32,
    base: &[Decimal],
    score: &mut dyn FnMut(u32) -> Result<Vec<Decimal>, ScenarioError>,
) -> Result<(Vec<Level>, u64), ScenarioError> {
    let mut memo: HashMap<u32, Vec<Decimal>> = HashMap::from([(0, base.to_vec())]);
    let mut get = |n: u32| -> Result<Vec<Decimal>, ScenarioError> {
        if let Some(v) = memo.get(&n) {
            return Ok(v.clone());
        }
        let v = score(n)?;
        memo.insert(n, v.clone());
        Ok(v)
    };
    let top = get(bound)?;
    let mut out = vec![(0u32, base.to_vec())];
    loop {
        let (c, cur) = out.last().expect("starts with count 0").clone();
        if cur == top || c == bound {
            break;
        }
        let (mut lo, mut hi) = (c, bound);
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if get(mid)? != cur {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        out.push((hi, get(hi)?));
    }
    Ok((out, memo.len() as u64 - 1))
}

pub(super) fn points(s: &PartnerScore) -> Vec<Decimal> {
    s.metrics.iter().map(|m| m.points).collect()
}

/// The qualification test on predicted per-metric points. Only a filter for
/// the search: every plan is confirmed by the engine's own `qualified`.
pub(super) fn predicted_qualified(rb: &Rulebook, v: &[Decimal]) -> bool {
    let q = &rb.qualification;
    v.iter().copied().sum::<Decimal>() >= q.min_total_points
        && (!q.every_metric_above_zero || v.iter().all(|p| *p > Decimal::ZERO))
}

/// Deployments and MCV growth: points per (deployments, MCV units), scored on demand.
pub(super) struct UsageTable<'x, 'a> {
    pub(super) actions: &'x Actions<'a>,
    pub(super) unit: Decimal,
    /// Per number of deployments, the scored MCV unit counts.
    pub(super) memo: HashMap<u32, BTreeMap<u32, Vec<Decimal>>>,
    pub(super) error: Option<ScenarioError>,
}

/// `d` new deployments and `k` units of MCV growth.
pub(super) fn usage_scenario(actions: &Actions, unit: Decimal, d: u32, k: u32) -> Scenario {
    let mut s = Scenario::default();
    actions.push_deployments(&mut s, d);
    if k > 0 {
        actions.push_mcv(&mut s, unit * Decimal::from(k), actions.period.latest_month);
    }
    s
}

/// The smallest `n` in `0..=hi` with `ok(n)`, given `ok(hi)` and a
/// predicate that stays true once true (bisection).
pub(crate) fn first_true(hi: u32, ok: &mut impl FnMut(u32) -> bool) -> u32 {
    if ok(0) {
        return 0;
    }
    let (mut lo, mut hi) = (0u32, hi);
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    hi
}

/// The smallest `n` in `from..=cap` with `reached(n)`, for a predicate that
/// stays true once true (doubling, then bisection); `None` when even `cap`
/// does not reach.
pub(super) fn first_reaching(
    from: u32,
    cap: u32,
    mut reached: impl FnMut(u32) -> bool,
) -> Option<u32> {
    if reached(from) {
        return Some(from);
    }
    let (mut lo, mut step) = (from, 1u32);
    let mut hi = loop {
        let next = lo.saturating_add(step).min(cap);
        if reached(next) {
            break next;
        }
        if next == cap {
            return None;
        }
        lo = next;
        step = step.saturating_mul(2);
    };
    while lo + 1 < hi {
        let mid = lo + (hi - lo) / 2;
        if reached(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

impl UsageTable<'_, '_> {
    pub(super) fn get(&mut self, d: u32, k: u32) -> &[Decimal] {
        let known = self.memo.get(&d).is_some_and(|row| row.contains_key(&k));
        if !known {
            let v = match self
                .actions
                .score(&usage_scenario(self.actions, self.unit, d, k))
            {
                Ok(s) => points(&s),
                Err(e) => {
                    self.error.get_or_insert(e);
                    points(&self.actions.current)
                }
            };
            self.memo.entry(d).or_default().insert(k, v);
        }
        &self.memo[&d][&k]
    }

    /// The fewest MCV units in `0..=cap` with `ok` on the points, with `d`
    /// deployments (`ok` stays true once true). Bisection starts from the
    /// tightest bracket the units already scored give, so the searches of
    /// one row share their probes.
    pub(super) fn min_k(
        &mut self,
        d: u32,
        cap: u32,
        ok: &dyn Fn(&[Decimal]) -> bool,
    ) -> Option<u32> {
        let (mut lo, mut hi): (Option<u32>, Option<u32>) = (None, None);
        if let Some(row) = self.memo.get(&d) {
            for (k, v) in row.range(..=cap) {
                if ok(v) {
                    hi = Some(*k);
                    break;
                }
                lo = Some(*k);
            }
        }
        let mut hi = match hi {
            Some(h) => h,
            None if lo == Some(cap) => return None,
            None if ok(self.get(d, cap)) => cap,
            None => return None,
        };
        let mut lo = match lo {
            Some(l) => l,
            None if ok(self.get(d, 0)) => return Some(0),
            None => 0,
        };
        while lo + 1 < hi {
            let mid = lo + (hi - lo) / 2;
            if ok(self.get(d, mid)) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Some(hi)
    }
}

/// Every table of one search and the bounds of the usage actions.
pub(super) struct Tables {
    /// The separable actions (certifications, customer workloads).
    pub dims: Vec<Dim>,
    /// The points of the partner as the data stands, per metric.
    pub base: Vec<Decimal>,
    /// The deployments metric, if the rulebook has one.
    pub deployments: Option<usize>,
    /// The MCV growth metric, if the rulebook has one.
    pub growth: Option<usize>,
    /// The metrics of the usage table.
    pub usage_metrics: Vec<usize>,
    /// The numbers of deployments combined.
    pub ds: Vec<u32>,
    /// MCV units are searched up to this many.
    pub k_max: u32,
}

/// Builds the tables and their bounds for `actions`' partner; the bounds
/// and remarks go into `plan`. With `exhaustive_only`, every count of every
/// action is tabled (for tests of the pruning).
pub(super) fn tables<'x, 'a>(
    actions: &'x Actions<'a>,
    costs: &Costs,
    exhaustive_only: bool,
    plan: &mut Plan,
    scored: &mut u64,
) -> Result<(Tables, UsageTable<'x, 'a>), PlanError> {
    let rb = actions.rb;
    let period = actions.period;
    let current = &actions.current;
    let base = points(current);
    // The dimensions and their bounds.
    let mut dims: Vec<Dim> = Vec::new();
    let mut deployments: Option<usize> = None;
    let mut growth: Option<usize> = None;
    for (mi, (metric, ms)) in rb.metrics.iter().zip(&current.metrics).enumerate() {
        match &metric.shape {
            Shape::CertifiedPeople { level, .. } => {
                let kind = ActionKind::Certification {
                    level: level.clone(),
                };
                let (max, reason) = match (
                    costs.certification.get(level),
                    actions.certification_for(level),
                ) {
                    (None, _) => (0, format!("no cost is given for level '{level}'")),
                    (_, None) => (
                        0,
                        format!(
                            "no {level} certification is eligible on {}",
                            period.evaluation_date
                        ),
                    ),
                    (Some(_), Some(_)) => (units_to_max(ms), reach_reason(ms)),
                };
                let unit_cost = costs.certification.get(level).copied().unwrap_or_default();
                plan.bounds.push(SearchBound {
                    kind: kind.clone(),
                    metric: metric.id.clone(),
                    max_count: max,
                    reason,
                });
                dims.push(Dim {
                    kind,
                    metric: mi,
                    unit_cost,
                    threshold: None,
                    bound: max,
                    levels: Vec::new(),
                });
            }
            Shape::PairGrowth {
                source: PairSource::Revenue,
                ..
            } => {
                let threshold = pair_threshold(ms);
                let (max, reason) = match (actions.revenue_choice(), threshold) {
                    (Some(_), Some(_)) => (units_to_max(ms), reach_reason(ms)),
                    _ => (
                        0,
                        "the rulebook has no performance workload or association".to_string(),
                    ),
                };
                plan.bounds.push(SearchBound {
                    kind: ActionKind::CustomerWorkload,
                    metric: metric.id.clone(),
                    max_count: max,
                    reason,
                });
                dims.push(Dim {
                    kind: ActionKind::CustomerWorkload,
                    metric: mi,
                    unit_cost: costs.customer_workload,
                    threshold,
                    bound: max,
                    levels: Vec::new(),
                });
            }
            Shape::PairGrowth {
                source: PairSource::Usage,
                ..
            } => {
                if deployments.is_none() {
                    deployments = Some(mi);
                } else {
                    plan.notes.push(format!(
                        "metric '{}': only the first usage pair_growth metric is planned for",
                        metric.id
                    ));
                }
            }
            Shape::ConsumptionGrowth { .. } => {
                if growth.is_none() {
                    growth = Some(mi);
                } else {
                    plan.notes.push(format!(
                        "metric '{}': only the first consumption_growth metric is planned for",
                        metric.id
                    ));
                }
            }
        }
    }

    // Separable tables: one scenario per count tried.
    for dim in &mut dims {
        let (kind, threshold) = (dim.kind.clone(), dim.threshold);
        let mut score = |c: u32| -> Result<Vec<Decimal>, ScenarioError> {
            let mut s = Scenario::default();
            match &kind {
                ActionKind::Certification { level } => actions.push_people(&mut s, level, c),
                ActionKind::CustomerWorkload => actions.push_customer_workloads(
                    &mut s,
                    threshold.expect("a customer workload has a threshold"),
                    c,
                ),
                _ => unreachable!("usage actions are searched jointly"),
            }
            Ok(points(&actions.score(&s)?))
        };
        if exhaustive_only {
            dim.levels = (0..=dim.bound)
                .map(|c| Ok((c, score(c)?)))
                .collect::<Result<_, ScenarioError>>()?;
            *scored += u64::from(dim.bound);
        } else {
            let (found, n) = levels(dim.bound, &base, &mut score)?;
            dim.levels = found;
            *scored += n;
        }
    }

    // The usage table's bounds.
    let mut usage = UsageTable {
        actions,
        unit: costs.mcv_unit,
        memo: HashMap::new(),
        error: None,
    };
    usage.memo.entry(0).or_default().insert(0, base.clone());
    let mut d_max = 0u32;
    let mut every_d = false;
    if let Some(mi) = deployments {
        let ms = &current.metrics[mi];
        let (max, mut reason) = match actions.deployment() {
            Some(_) => (units_to_max(ms), reach_reason(ms)),
            None => (
                0,
                "no usage workload has a rate and an association type".to_string(),
            ),
        };
        d_max = max;
        // A deployment that adds no deployment points only adds MCV, which
        // is never cheaper than the same MCV bought as growth units unless a
        // deployment costs less than those units. Only then are all counts
        // combined, and searched further, until deployments alone also
        // reach the growth maximum; otherwise only the smallest count of each
        // deployments-points level.
        if let (Some(dep), Some(gi)) = (actions.deployment(), growth)
            && max > 0
        {
            let units = (dep.mcv / costs.mcv_unit).ceil();
            let gm = &current.metrics[gi];
            let growth_can_score = matches!(
                &gm.detail,
                MetricDetail::ConsumptionGrowth {
                    prerequisite_met: true,
                    ..
                }
            ) && gm.points < gm.max_points;
            let cheaper_mcv =
                actions.growth_pair().is_none() || costs.deployment < units * costs.mcv_growth;
            if growth_can_score && cheaper_mcv {
                every_d = true;
                d_max = first_reaching(d_max, MAX_UNITS, |d| usage.get(d, 0)[gi] >= gm.max_points)
                    .unwrap_or(MAX_UNITS);
                reason = format!(
                    "{reason}; a deployment ({}) costs less than its {} as growth, so \
                     deployments are searched until they alone reach the maximum of '{}'",
                    money(costs.deployment),
                    mcv(dep.mcv),
                    current.metrics[gi].id
                );
            }
        }
        plan.bounds.push(SearchBound {
            kind: ActionKind::Deployment,
            metric: ms.id.clone(),
            max_count: d_max,
            reason,
        });
    }
    let mut k_max = 0u32;
    if let Some(gi) = growth {
        let ms = &current.metrics[gi];
        let prerequisite_met = matches!(
            &ms.detail,
            MetricDetail::ConsumptionGrowth {
                prerequisite_met: true,
                ..
            }
        );
        let reason = if actions.growth_pair().is_none() {
            "no usage pair or workload to add MCV to".to_string()
        } else if !prerequisite_met {
            "the baseline prerequisite is not met: MCV growth cannot score".to_string()
        } else if ms.points >= ms.max_points {
            "the metric is at its maximum".to_string()
        } else {
            // The fewest units whose simulated growth reaches the maximum:
            // doubling, then bisection, with the engine.
            k_max = first_reaching(0, MAX_MCV_UNITS, |k| usage.get(0, k)[gi] >= ms.max_points)
                .unwrap_or(MAX_MCV_UNITS);
            format!(
                "{} units of {} reach the maximum of {} points (simulated)",
                k_max,
                mcv(costs.mcv_unit),
                thousands(ms.max_points)
            )
        };
        plan.bounds.push(SearchBound {
            kind: ActionKind::McvGrowth,
            metric: ms.id.clone(),
            max_count: k_max,
            reason,
        });
    }
    let usage_metrics: Vec<usize> = deployments.iter().chain(growth.iter()).copied().collect();
    // The numbers of deployments combined: all of them, or (when extra
    // deployments are dearer MCV than growth units) the smallest count of
    // each deployments-points level. MCV growth goes to one pair, which may
    // itself cross the deployment threshold, once: so the levels are taken
    // both without MCV growth and with the most.
    let ds: Vec<u32> = match deployments {
        Some(mi) if !every_d && !exhaustive_only => {
            let mut ds = Vec::new();
            for k in [0, k_max] {
                let (found, _) = levels(d_max, &[usage.get(0, k)[mi]], &mut |d| {
                    Ok(vec![usage.get(d, k)[mi]])
                })?;
                ds.extend(found.into_iter().map(|(d, _)| d));
            }
            ds.sort_unstable();
            ds.dedup();
            ds
        }
        _ => (0..=d_max).collect(),
    };

    Ok((
        Tables {
            dims,
            base,
            deployments,
            growth,
            usage_metrics,
            ds,
            k_max,
        },
        usage,
    ))
}

pub(super) fn reach_reason(ms: &MetricScore) -> String {
    if ms.points >= ms.max_points {
        return "the metric is at its maximum".to_string();
    }
    if ms.points_per_unit <= Decimal::ZERO {
        return "the metric gives no points per unit".to_string();
    }
    let mut text = format!(
        "from value {} to the {} points maximum at {} per unit",
        thousands(ms.value.unwrap_or_default()),
        thousands(ms.max_points),
        thousands(ms.points_per_unit)
    );
    if let MetricDetail::CertifiedPeople {
        full_points_at: Some(f),
        ..
    } = &ms.detail
    {
        text.push_str(&format!(" (full points from {f} people)"));
    }
    text
}
