//! `pcs explain`: each metric in words and numbers, from the score's own
//! explanation data.

use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::display::{mcv, money, thousands};
use pcs_core::rulebook::PairSource;
use pcs_core::score::{CertItem, MetricDetail, MetricScore, PairItem, PartnerScore};
use serde::Serialize;

/// How a (tenant, workload) pair moved between the baseline and the latest month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Counts in the latest month, not in the baseline: +1.
    Added,
    /// Counted in the baseline month, not in the latest: -1.
    Lost,
    /// Counts in both months: no change.
    Kept,
    /// Counts in neither month.
    NotCounted,
}

/// One (tenant, workload) pair across the two months.
#[derive(Clone, Debug, Serialize)]
pub struct PairChange {
    /// Tenant id.
    pub tenant_id: String,
    /// Customer name.
    pub customer_name: Option<String>,
    /// Workload.
    pub workload: String,
    /// Amount (USD or MCV) in the latest month.
    pub latest: Option<Decimal>,
    /// Amount in the baseline month.
    pub baseline: Option<Decimal>,
    /// Whether it counts in the latest month.
    pub latest_counted: bool,
    /// Whether it counted in the baseline month.
    pub baseline_counted: bool,
    /// The movement.
    pub change: Change,
}

/// One metric explained.
#[derive(Clone, Debug, Serialize)]
pub struct MetricExplanation {
    /// Metric id.
    pub id: String,
    /// Label.
    pub label: String,
    /// The sentence that explains the value and the points.
    pub summary: String,
    /// Pairs across the two months (pair and growth metrics).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pairs: Vec<PairChange>,
    /// The metric as scored, with every counted and not-counted item.
    pub metric: MetricScore,
}

/// A partner's score, explained.
#[derive(Clone, Debug, Serialize)]
pub struct Explanation {
    /// The score.
    pub score: PartnerScore,
    /// The classification in words.
    pub classification_summary: String,
    /// Each metric.
    pub metrics: Vec<MetricExplanation>,
}

fn fmt(d: Decimal) -> String {
    d.normalize().to_string()
}

/// `1 point`, `2.14 points`.
fn points_word(d: Decimal) -> String {
    if d == Decimal::ONE {
        "1 point".to_string()
    } else {
        format!("{} points", fmt(d))
    }
}

/// Pairs of the two months side by side, sorted by change then tenant.
pub fn pair_changes(items: &[PairItem], latest: Month, baseline: Month) -> Vec<PairChange> {
    let mut out: Vec<PairChange> = Vec::new();
    for item in items {
        let pos = out
            .iter()
            .position(|p| p.tenant_id == item.tenant_id && p.workload == item.workload);
        let i = match pos {
            Some(i) => i,
            None => {
                out.push(PairChange {
                    tenant_id: item.tenant_id.clone(),
                    customer_name: item.customer_name.clone(),
                    workload: item.workload.clone(),
                    latest: None,
                    baseline: None,
                    latest_counted: false,
                    baseline_counted: false,
                    change: Change::NotCounted,
                });
                out.len() - 1
            }
        };
        let p = &mut out[i];
        if item.month == latest {
            p.latest = Some(item.amount);
            p.latest_counted = item.counted;
        } else if item.month == baseline {
            p.baseline = Some(item.amount);
            p.baseline_counted = item.counted;
        }
    }
    for p in &mut out {
        p.change = match (p.latest_counted, p.baseline_counted) {
            (true, false) => Change::Added,
            (false, true) => Change::Lost,
            (true, true) => Change::Kept,
            (false, false) => Change::NotCounted,
        };
    }
    let rank = |c: Change| match c {
        Change::Added => 0,
        Change::Lost => 1,
        Change::Kept => 2,
        Change::NotCounted => 3,
    };
    out.sort_by(|a, b| {
        (rank(a.change), &a.tenant_id, &a.workload).cmp(&(
            rank(b.change),
            &b.tenant_id,
            &b.workload,
        ))
    });
    out
}

/// The sentence explaining a metric's value and points.
pub fn summary(score: &PartnerScore, m: &MetricScore) -> String {
    let p = &score.period;
    let pts = format!("{} points of {}", fmt(m.points), fmt(m.max_points));
    match &m.detail {
        MetricDetail::PairGrowth {
            source,
            threshold,
            latest_count,
            baseline_count,
            ..
        } => {
            let unit = match source {
                PairSource::Revenue => money(threshold.value),
                PairSource::Usage => mcv(threshold.value),
            };
            format!(
                "{latest_count} customer workloads {} {unit} in {} minus {baseline_count} in {} = {}; {} each, between 0 and {}: {pts}.",
                threshold.comparison.symbol(),
                p.latest_month,
                p.baseline_month,
                m.value.map(fmt).unwrap_or_default(),
                points_word(m.points_per_unit),
                fmt(m.max_points),
            )
        }
        MetricDetail::CertifiedPeople {
            level,
            full_points_at,
            items,
        } => {
            let people = items.iter().filter(|i| i.counted).count();
            let full = full_points_at
                .map(|f| format!(" (the full {} from {f} people)", fmt(m.max_points)))
                .unwrap_or_default();
            format!(
                "{people} people hold an eligible {level} certification on {}; {} each{full}, at most {}: {pts}.",
                p.evaluation_date,
                points_word(m.points_per_unit),
                fmt(m.max_points),
            )
        }
        MetricDetail::ConsumptionGrowth {
            latest_mcv,
            baseline_mcv,
            baseline_minimum,
            prerequisite_met,
            ..
        } => {
            let growth = match m.value {
                Some(v) => format!("growth {} %", fmt(v)),
                None => "growth undefined (no baseline usage)".to_string(),
            };
            let prereq = if *prerequisite_met {
                format!(
                    "the baseline meets the {} {} prerequisite",
                    baseline_minimum.comparison.symbol(),
                    thousands(baseline_minimum.value)
                )
            } else {
                format!(
                    "the baseline is below the {} {} prerequisite, so the metric scores 0",
                    baseline_minimum.comparison.symbol(),
                    thousands(baseline_minimum.value)
                )
            };
            format!(
                "Total MCV {} in {} against {} in {}: {growth}; {prereq}: {pts}.",
                thousands(*latest_mcv),
                p.latest_month,
                thousands(*baseline_mcv),
                p.baseline_month
            )
        }
    }
}

/// Explains a score (score it with a tracing load to get source lines).
pub fn explain(score: &PartnerScore, metric: Option<&str>) -> Explanation {
    let c = &score.classification_detail;
    let classification_summary = format!(
        "{}: {} customer workloads have eligible revenue {} {} in both {} and {} (Enterprise from {}).",
        score.classification,
        c.counted_pairs,
        c.pair_revenue.comparison.symbol(),
        money(c.pair_revenue.value),
        score.period.latest_month,
        score.period.baseline_month,
        c.enterprise_min_pairs
    );
    let metrics = score
        .metrics
        .iter()
        .filter(|m| metric.is_none_or(|id| m.id == id))
        .map(|m| {
            let pairs = match &m.detail {
                MetricDetail::PairGrowth { items, .. }
                | MetricDetail::ConsumptionGrowth { items, .. } => pair_changes(
                    items,
                    score.period.latest_month,
                    score.period.baseline_month,
                ),
                MetricDetail::CertifiedPeople { .. } => Vec::new(),
            };
            MetricExplanation {
                id: m.id.clone(),
                label: m.label.clone(),
                summary: summary(score, m),
                pairs,
                metric: m.clone(),
            }
        })
        .collect();
    Explanation {
        score: score.clone(),
        classification_summary,
        metrics,
    }
}

/// The certification rows of a certified-people metric that counted.
pub fn counted_people(items: &[CertItem]) -> impl Iterator<Item = &CertItem> {
    items.iter().filter(|i| i.counted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Case;

    #[test]
    fn pairs_are_added_lost_and_kept() {
        let s = Case::new()
            .rev("A", "Sales", "2023-10", "300")
            .rev("B", "Sales", "2022-10", "300")
            .rev("C", "Sales", "2023-10", "300")
            .rev("C", "Sales", "2022-10", "300")
            .rev("D", "Sales", "2023-10", "100")
            .score("2023-11");
        let e = explain(&s, Some("net_customer_adds"));
        assert_eq!(e.metrics.len(), 1);
        let changes: Vec<(&str, Change)> = e.metrics[0]
            .pairs
            .iter()
            .map(|p| (p.tenant_id.as_str(), p.change))
            .collect();
        assert_eq!(
            changes,
            vec![
                ("A", Change::Added),
                ("B", Change::Lost),
                ("C", Change::Kept),
                ("D", Change::NotCounted)
            ]
        );
        assert!(
            e.metrics[0]
                .summary
                .starts_with("2 customer workloads ≥ $250 in 2023-10 minus 2 in 2022-10 = 0")
        );
    }

    #[test]
    fn the_prerequisite_is_explained() {
        let s = Case::new()
            .usage("A", "Power BI", "2022-10", "100")
            .usage("A", "Power BI", "2023-10", "150")
            .score("2023-11");
        let e = explain(&s, Some("usage_growth"));
        assert!(
            e.metrics[0]
                .summary
                .contains("below the ≥ 25,000 prerequisite"),
            "{}",
            e.metrics[0].summary
        );
    }
}
