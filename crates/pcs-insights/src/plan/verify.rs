//! Confirmation of `pcs plan`'s candidates with the engine, and the plan
//! written from the winner: the scenario of each candidate, read back as
//! `pcs simulate --scenario` would, applied and scored; the cheapest whose
//! real score qualifies wins (then every combination, when the tables were
//! wrong). The plan reports the engine's score, never the tables' sum.

use std::collections::HashMap;

use pcs_core::Decimal;
use pcs_core::display::{mcv, money, thousands};
use pcs_core::rulebook::Rulebook;
use pcs_core::score::{MetricDetail, PartnerScore};

use super::actions::{Actions, amount_passing, quantity_for_mcv};
use super::combine::{Candidate, exhaustive};
use super::tables::{Dim, Tables, UsageTable, first_true, points, usage_scenario};
use super::{ActionKind, Costs, MAX_VERIFICATIONS, Plan, PlanError, PlannedAction, ScoreSummary};
use crate::scenario::Scenario;

/// The records of a candidate.
fn scenario_of(t: &Tables, actions: &Actions<'_>, costs: &Costs, c: &Candidate) -> Scenario {
    let dims = &t.dims;
    let mut s = usage_scenario(actions, costs.mcv_unit, c.d, c.k);
    for (dim, n) in dims.iter().zip(&c.counts) {
        match &dim.kind {
            ActionKind::Certification { level } => actions.push_people(&mut s, level, *n),
            ActionKind::CustomerWorkload => actions.push_customer_workloads(
                &mut s,
                dim.threshold.expect("a customer workload has a threshold"),
                *n,
            ),
            _ => {}
        }
    }
    s
}

/// Confirms a candidate: the scenario as `pcs simulate --scenario` reads
/// it back, applied and scored.
fn confirm(
    t: &Tables,
    actions: &Actions<'_>,
    costs: &Costs,
    c: &Candidate,
) -> Result<(Scenario, PartnerScore), PlanError> {
    let (partner_id, period) = (actions.partner_id, actions.period);
    let mut s = scenario_of(t, actions, costs, c);
    s.title = Some(format!(
        "pcs plan for {partner_id}, {}: {}",
        period.month,
        money(c.cost)
    ));
    let s = Scenario::from_toml(&s.to_toml())?;
    let score = actions.score(&s)?;
    Ok((s, score))
}

/// A confirmed candidate: its scenario and its real score.
pub(super) type Chosen = (Candidate, Scenario, PartnerScore);

/// The cheapest candidate whose real score qualifies (`None`: none does);
/// remarks go into `plan`.
#[allow(clippy::too_many_arguments)]
pub(super) fn choose(
    t: &Tables,
    usage: &mut UsageTable<'_, '_>,
    actions: &Actions<'_>,
    costs: &Costs,
    mut candidates: Vec<Candidate>,
    exhaustive_only: bool,
    plan: &mut Plan,
    scored: &mut u64,
) -> Result<Option<Chosen>, PlanError> {
    let rb = actions.rb;
    let confirm = |c: &Candidate| confirm(t, actions, costs, c);
    let exhaustive = |usage: &mut UsageTable<'_, '_>| exhaustive(t, usage, rb, costs);
    // The cheapest candidate whose real score qualifies.
    let mut chosen: Option<(Candidate, Scenario, PartnerScore)> = None;
    let mut rejected: Vec<(Decimal, Decimal, Decimal)> = Vec::new();
    let mut tried: Vec<(Vec<u32>, u32, u32)> = Vec::new();
    let mut searched_all = false;
    if exhaustive_only {
        candidates = exhaustive(usage);
        searched_all = true;
    }
    loop {
        for c in &candidates {
            if rejected.len() >= MAX_VERIFICATIONS {
                break;
            }
            if tried.contains(&(c.counts.clone(), c.d, c.k)) {
                continue;
            }
            tried.push((c.counts.clone(), c.d, c.k));
            let (s, score) = confirm(c)?;
            *scored += 1;
            if score.qualified {
                if points(&score) != c.predicted {
                    plan.notes.push(format!(
                        "the chosen combination scores {} points, not the {} the tables \
                         predicted; it qualifies all the same",
                        thousands(score.total_points),
                        thousands(c.total())
                    ));
                }
                chosen = Some((c.clone(), s, score));
                break;
            }
            rejected.push((c.cost, c.total(), score.total_points));
        }
        if chosen.is_some() || rejected.is_empty() || searched_all {
            break;
        }
        // The tables were wrong somewhere: consider every combination.
        candidates = exhaustive(usage);
        searched_all = true;
    }
    if let Some((cost, predicted, real)) = rejected.first() {
        plan.notes.push(format!(
            "{} cheaper {} qualified on the tables but not when scored (the first, at {}, \
             was predicted {} points and scores {}): the next cheapest was tried each time",
            rejected.len(),
            if rejected.len() == 1 {
                "combination"
            } else {
                "combinations"
            },
            money(*cost),
            thousands(*predicted),
            thousands(*real)
        ));
    }
    if chosen.is_none() && rejected.len() >= MAX_VERIFICATIONS {
        plan.notes.push(format!(
            "the {MAX_VERIFICATIONS} cheapest combinations did not qualify when scored; \
             the search stopped there"
        ));
    }
    Ok(chosen)
}

/// When nothing qualifies: the best total within the bounds, at the least
/// cost, confirmed; why it falls short goes into `plan`.
pub(super) fn best_within_bounds(
    t: &Tables,
    usage: &mut UsageTable<'_, '_>,
    actions: &Actions<'_>,
    costs: &Costs,
    plan: &mut Plan,
    scored: &mut u64,
) -> Result<Chosen, PlanError> {
    let (rb, current) = (actions.rb, &actions.current);
    let (ds, k_max, usage_metrics) = (&t.ds, t.k_max, &t.usage_metrics);
    let cost_of = |c: &[u32], d: u32, k: u32| t.cost_of(costs, c, d, k);
    let combine = |sep: &[Decimal], u: &[Decimal]| t.combine(sep, u);
    let for_each_separable = |f: &mut dyn FnMut(&[u32], &[Decimal])| t.for_each_separable(f);
    // Unreachable: the best total within the bounds, at the least cost.
    plan.reachable = false;
    // Per number of deployments, the fewest units with the most usage points.
    let mut k_sat: HashMap<u32, u32> = HashMap::new();
    for &d in ds.iter() {
        let mut sum = |k: u32| -> Decimal {
            let v = usage.get(d, k);
            usage_metrics.iter().map(|i| v[*i]).sum()
        };
        let top = sum(k_max);
        k_sat.insert(d, first_true(k_max, &mut |k| sum(k) >= top));
    }
    let mut best: Option<Candidate> = None;
    for_each_separable(&mut |counts, sep| {
        for &d in ds.iter() {
            let k = k_sat[&d];
            let c = Candidate {
                cost: cost_of(counts, d, k),
                predicted: combine(sep, usage.get(d, k)),
                counts: counts.to_vec(),
                d,
                k,
            };
            let better = match &best {
                None => true,
                Some(b) => {
                    (std::cmp::Reverse(c.total()), c.cost, c.units())
                        < (std::cmp::Reverse(b.total()), b.cost, b.units())
                }
            };
            if better {
                best = Some(c);
            }
        }
    });
    let best = best.expect("the empty combination is a candidate");
    let (s, score) = confirm(t, actions, costs, &best)?;
    *scored += 1;
    plan.notes.extend(unreachable_notes(rb, current, &score));
    Ok((best, s, score))
}

/// Writes the winner into `plan`: its actions, cost, scenario and score.
pub(super) fn write(
    plan: &mut Plan,
    t: &Tables,
    actions: &Actions<'_>,
    costs: &Costs,
    (best, scenario, score): Chosen,
    scored: u64,
) {
    let (rb, period) = (actions.rb, actions.period);
    let (dims, deployments, growth) = (&t.dims, t.deployments, t.growth);
    if best.units() == 0 {
        plan.scenario = Scenario::default();
    } else {
        plan.scenario = scenario;
    }
    for (dim, n) in dims.iter().zip(&best.counts) {
        if *n > 0 {
            plan.actions.push(planned(actions, dim, *n));
        }
    }
    if best.d > 0
        && let (Some(mi), Some(dep)) = (deployments, actions.deployment())
    {
        plan.actions.push(PlannedAction {
            kind: ActionKind::Deployment,
            metric: rb.metrics[mi].id.clone(),
            count: best.d,
            unit_cost: costs.deployment,
            cost: costs.deployment * Decimal::from(best.d),
            description: format!(
                "deploy {} new {} at {} each ({} {} of {}, {}) in {}",
                best.d,
                if best.d == 1 { "customer" } else { "customers" },
                mcv(dep.mcv),
                thousands(dep.quantity),
                dep.unit.as_deref().unwrap_or("units"),
                dep.workload,
                dep.association,
                period.latest_month
            ),
        });
    }
    if best.k > 0
        && let (Some(mi), Some(g)) = (growth, actions.growth_pair())
    {
        let target = costs.mcv_unit * Decimal::from(best.k);
        let quantity = quantity_for_mcv(target, g.rate);
        plan.actions.push(PlannedAction {
            kind: ActionKind::McvGrowth,
            metric: rb.metrics[mi].id.clone(),
            count: best.k,
            unit_cost: costs.mcv_growth,
            cost: costs.mcv_growth * Decimal::from(best.k),
            description: format!(
                "add {} in {} ({} more {} of {} at {}{})",
                mcv(quantity * g.rate),
                period.latest_month,
                thousands(quantity),
                g.unit.as_deref().unwrap_or("units"),
                g.workload,
                g.customer(),
                if g.existing { "" } else { ", a new customer" }
            ),
        });
    }
    plan.actions.sort_by_key(|a| {
        rb.metrics
            .iter()
            .position(|m| m.id == a.metric)
            .unwrap_or(usize::MAX)
    });
    plan.total_cost = best.cost;
    plan.result = ScoreSummary::from(&score);
    plan.simulated = score;
    plan.scenarios_scored = scored;
}

fn planned(actions: &Actions, dim: &Dim, n: u32) -> PlannedAction {
    let metric = actions.rb.metrics[dim.metric].id.clone();
    let description = match &dim.kind {
        ActionKind::Certification { level } => {
            let cert = actions
                .certification_for(level)
                .map(|c| c.name.clone())
                .unwrap_or_default();
            format!(
                "certify {n} more {} at level {level} (e.g. {cert})",
                if n == 1 { "person" } else { "people" }
            )
        }
        ActionKind::CustomerWorkload => {
            let (workload, association) = actions.revenue_choice().cloned().unwrap_or_default();
            let amount = dim.threshold.map(amount_passing).unwrap_or_default();
            format!(
                "win {n} new customer {} of {} each (e.g. {workload}, {association}) in {}",
                if n == 1 { "workload" } else { "workloads" },
                money(amount),
                actions.period.latest_month
            )
        }
        _ => String::new(),
    };
    PlannedAction {
        kind: dim.kind.clone(),
        metric,
        count: n,
        unit_cost: dim.unit_cost,
        cost: dim.unit_cost * Decimal::from(n),
        description,
    }
}

/// Why the best reachable score does not qualify.
fn unreachable_notes(rb: &Rulebook, current: &PartnerScore, best: &PartnerScore) -> Vec<String> {
    let mut notes = Vec::new();
    for (m, cur) in best.metrics.iter().zip(&current.metrics) {
        if !m.points.is_zero() || !rb.qualification.every_metric_above_zero {
            continue;
        }
        match &cur.detail {
            MetricDetail::ConsumptionGrowth {
                baseline_mcv,
                baseline_minimum,
                prerequisite_met: false,
                ..
            } => notes.push(format!(
                "{} scores 0: baseline MCV {} (in {}) is not {} {}, and a plan only \
                 changes the latest month",
                m.label,
                thousands(*baseline_mcv),
                current.period.baseline_month,
                baseline_minimum.comparison.symbol(),
                thousands(baseline_minimum.value)
            )),
            _ => notes.push(format!(
                "{} still scores 0 with every planned action at its bound",
                m.label
            )),
        }
    }
    if best.total_points < rb.qualification.min_total_points {
        notes.push(format!(
            "the best total within the bounds is {} points, below the {} required",
            thousands(best.total_points),
            thousands(rb.qualification.min_total_points)
        ));
    } else if !best.qualified {
        notes.push(format!(
            "the best total within the bounds is {} points, but not every metric scores",
            thousands(best.total_points)
        ));
    }
    notes
}
