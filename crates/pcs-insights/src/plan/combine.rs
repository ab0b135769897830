//! Combination of the point tables, with pruning that never changes the
//! result: per key (the other metrics' total, whether they all score, the
//! usage metrics' points) only the cheapest combination, of those only the
//! Pareto frontier, bounded by the best plan found so far. [`exhaustive`]
//! combines everything (when the engine disagrees with the tables).

use std::cmp::Ordering;
use std::collections::HashMap;

use pcs_core::Decimal;
use pcs_core::rulebook::Rulebook;

use super::tables::{Tables, UsageTable, predicted_qualified};
use super::{Costs, MAX_COMBINATIONS, Plan, PlanError};

/// A combination of the separable actions: cost, counts, per-metric points.
pub(super) type Entry = (Decimal, Vec<u32>, Vec<Decimal>);

#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub(super) cost: Decimal,
    pub(super) predicted: Vec<Decimal>,
    pub(super) counts: Vec<u32>,
    pub(super) d: u32,
    pub(super) k: u32,
}

impl Candidate {
    pub(super) fn total(&self) -> Decimal {
        self.predicted.iter().copied().sum()
    }
    pub(super) fn units(&self) -> u64 {
        self.counts.iter().map(|c| u64::from(*c)).sum::<u64>() + u64::from(self.d + self.k)
    }
}

impl Tables {
    /// The cost of separable counts, `d` deployments and `k` MCV units.
    pub(super) fn cost_of(&self, costs: &Costs, counts: &[u32], d: u32, k: u32) -> Decimal {
        self.dims
            .iter()
            .zip(counts)
            .map(|(dim, c)| dim.unit_cost * Decimal::from(*c))
            .sum::<Decimal>()
            + costs.deployment * Decimal::from(d)
            + costs.mcv_growth * Decimal::from(k)
    }

    /// Predicted points: the separable points plus the usage table's gain.
    pub(super) fn combine(&self, sep: &[Decimal], u: &[Decimal]) -> Vec<Decimal> {
        sep.iter()
            .zip(u)
            .zip(&self.base)
            .map(|((s, u), b)| s + u - b)
            .collect()
    }

    /// Calls `f` with every combination of levels (counts, predicted points).
    pub(super) fn for_each_separable(&self, f: &mut dyn FnMut(&[u32], &[Decimal])) {
        let (dims, base) = (&self.dims, &self.base);
        let sizes: Vec<usize> = dims.iter().map(|d| d.levels.len()).collect();
        let mut at = vec![0usize; dims.len()];
        loop {
            let mut v = base.clone();
            let mut counts = Vec::with_capacity(dims.len());
            for (dim, l) in dims.iter().zip(&at) {
                let (count, table) = &dim.levels[*l];
                counts.push(*count);
                for (i, p) in table.iter().enumerate() {
                    v[i] += p - base[i];
                }
            }
            f(&counts, &v);
            let mut i = 0;
            loop {
                if i == at.len() {
                    return;
                }
                at[i] += 1;
                if at[i] < sizes[i] {
                    break;
                }
                at[i] = 0;
                i += 1;
            }
        }
    }

    /// What the qualification test depends on besides the usage table: the
    /// other metrics' total, whether they are all positive, and the usage
    /// metrics' points (unchanged by the separable actions).
    pub(super) fn key_of(&self, sep: &[Decimal]) -> Vec<Decimal> {
        let usage_metrics = &self.usage_metrics;
        let mut key = vec![
            sep.iter()
                .enumerate()
                .filter(|(i, _)| !usage_metrics.contains(i))
                .map(|(_, p)| *p)
                .sum(),
            Decimal::from(u8::from(
                sep.iter()
                    .enumerate()
                    .all(|(i, p)| usage_metrics.contains(&i) || *p > Decimal::ZERO),
            )),
        ];
        key.extend(usage_metrics.iter().map(|i| sep[*i]));
        key
    }
}

/// Candidates in the order they are confirmed: cheapest, then the highest
/// predicted total, the fewest units, then the counts.
pub(super) fn by_cost(a: &Candidate, b: &Candidate) -> Ordering {
    (
        a.cost,
        std::cmp::Reverse(a.total()),
        a.units(),
        &a.counts,
        a.d,
        a.k,
    )
        .cmp(&(
            b.cost,
            std::cmp::Reverse(b.total()),
            b.units(),
            &b.counts,
            b.d,
            b.k,
        ))
}

/// The candidates of the branch and bound, cheapest first; the number of
/// combinations goes into `plan`.
pub(super) fn candidates(
    t: &Tables,
    usage: &mut UsageTable<'_, '_>,
    rb: &Rulebook,
    costs: &Costs,
    plan: &mut Plan,
) -> Result<Vec<Candidate>, PlanError> {
    let (dims, ds, k_max) = (&t.dims, &t.ds, t.k_max);
    let cost_of = |c: &[u32], d: u32, k: u32| t.cost_of(costs, c, d, k);
    let combine = |sep: &[Decimal], u: &[Decimal]| t.combine(sep, u);
    let key_of = |sep: &[Decimal]| t.key_of(sep);
    let for_each_separable = |f: &mut dyn FnMut(&[u32], &[Decimal])| t.for_each_separable(f);
    let sizes: Vec<usize> = dims.iter().map(|d| d.levels.len()).collect();
    let total: u128 = sizes.iter().map(|s| *s as u128).product::<u128>() * ds.len() as u128;
    if total > MAX_COMBINATIONS {
        return Err(PlanError::TooManyCombinations(total));
    }
    plan.combinations = total as u64;

    // Branch and bound. Only the cheapest combination of each key can be
    // the cheapest plan, and of those only the ones no cheaper combination
    // beats on the other metrics' total (the Pareto frontier); a combination
    // leaving a metric at zero never qualifies. For each number of
    // deployments the frontier is visited by cost, the MCV units bisected up
    // to what could still beat the best plan found; the visit stops when even
    // no MCV could.
    let must_score = rb.qualification.every_metric_above_zero;
    let mut cheapest: HashMap<Vec<Decimal>, Entry> = HashMap::new();
    for_each_separable(&mut |counts, sep| {
        let key = key_of(sep);
        if must_score && key[1].is_zero() {
            return;
        }
        let cost = cost_of(counts, 0, 0);
        let entry = cheapest
            .entry(key)
            .or_insert_with(|| (cost, counts.to_vec(), sep.to_vec()));
        if (cost, counts) < (entry.0, entry.1.as_slice()) {
            *entry = (cost, counts.to_vec(), sep.to_vec());
        }
    });
    let mut entries: Vec<(Vec<Decimal>, Entry)> = cheapest.into_iter().collect();
    entries.sort_by(|a, b| (a.1.0, &a.1.1).cmp(&(b.1.0, &b.1.1)));
    let mut frontier: Vec<Entry> = Vec::new();
    let mut best_total: HashMap<Vec<Decimal>, Decimal> = HashMap::new();
    for (key, entry) in entries {
        // Dominated: a cheaper (or equal) combination with the same usage
        // points has at least this total.
        let rest = key[2..].to_vec();
        if best_total.get(&rest).is_some_and(|t| *t >= key[0]) {
            continue;
        }
        best_total.insert(rest, key[0]);
        frontier.push(entry);
    }
    let cheapest_entry = frontier.first().map(|e| e.0);
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut best: Option<Decimal> = None;
    for &d in ds.iter() {
        let d_cost = costs.deployment * Decimal::from(d);
        if let (Some(b), Some(c)) = (best, cheapest_entry)
            && c + d_cost > b
        {
            break;
        }
        for (sep_cost, counts, sep) in &frontier {
            let bound = sep_cost + d_cost;
            if best.is_some_and(|b| bound > b) {
                break;
            }
            let cap = match best {
                Some(b) if costs.mcv_growth > Decimal::ZERO => {
                    u32::try_from(((b - bound) / costs.mcv_growth).floor())
                        .unwrap_or(k_max)
                        .min(k_max)
                }
                _ => k_max,
            };
            let ok = |u: &[Decimal]| predicted_qualified(rb, &combine(sep, u));
            let Some(k) = usage.min_k(d, cap, &ok) else {
                continue;
            };
            let c = Candidate {
                cost: cost_of(counts, d, k),
                predicted: combine(sep, usage.get(d, k)),
                counts: counts.clone(),
                d,
                k,
            };
            best = Some(best.map_or(c.cost, |b| b.min(c.cost)));
            candidates.push(c);
        }
    }
    candidates.sort_by(by_cost);
    Ok(candidates)
}

/// Every combination, with the fewest MCV units that qualify on the
/// tables: only needed when the engine disagrees with the tables.
pub(super) fn exhaustive(
    t: &Tables,
    usage: &mut UsageTable<'_, '_>,
    rb: &Rulebook,
    costs: &Costs,
) -> Vec<Candidate> {
    let (ds, k_max) = (&t.ds, t.k_max);
    let cost_of = |c: &[u32], d: u32, k: u32| t.cost_of(costs, c, d, k);
    let combine = |sep: &[Decimal], u: &[Decimal]| t.combine(sep, u);
    let key_of = |sep: &[Decimal]| t.key_of(sep);
    let for_each_separable = |f: &mut dyn FnMut(&[u32], &[Decimal])| t.for_each_separable(f);
    let mut all: Vec<Candidate> = Vec::new();
    let mut min_k: HashMap<(u32, Vec<Decimal>), Option<u32>> = HashMap::new();
    for_each_separable(&mut |counts, sep| {
        for &d in ds.iter() {
            let k = *min_k.entry((d, key_of(sep))).or_insert_with(|| {
                let ok = |u: &[Decimal]| predicted_qualified(rb, &combine(sep, u));
                usage.min_k(d, k_max, &ok)
            });
            if let Some(k) = k {
                all.push(Candidate {
                    cost: cost_of(counts, d, k),
                    predicted: combine(sep, usage.get(d, k)),
                    counts: counts.to_vec(),
                    d,
                    k,
                });
            }
        }
    });
    all.sort_by(by_cost);
    all
}
