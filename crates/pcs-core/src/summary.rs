//! Reading and summing up every solution area at once: what one read of a
//! dataset for several areas needs ([`AreaRead`]: the merged vocabulary and
//! the months the area tables keep), and the qualification summary of one
//! partner in one area ([`AreaSummary`]: total against the minimum,
//! qualified, the metrics at zero, the weakest metric, the points to go).
//!
//! `pcs score --area` and `pcs serve` both build their reads and their
//! summaries here, so the CLI's summary table, its CSV and the dashboard's
//! first page say the same thing.

use rust_decimal::Decimal;
use serde_json::{Map, Value};

use crate::area::{AreaRulebook, AreaScore};
use crate::calendar::Month;
use crate::contract::number;
use crate::facts::{DatasetFacts, MonthFilter, WarningKind};
use crate::rulebook::{Rulebook, RulebookError};
use crate::score::PartnerScore;
use crate::vocab::Vocabulary;

/// One read of a dataset for several solution areas: the names of every
/// rulebook of the run merged into one [`Vocabulary`], and the months the
/// acr and licenses tables keep.
#[derive(Debug)]
pub struct AreaRead {
    /// The merged names (associations, workloads, offers, certifications).
    pub vocab: Vocabulary,
    /// The months of the acr and licenses tables to keep.
    pub area_months: MonthFilter,
}

impl AreaRead {
    /// A read whose names are those of `ba` and `known` (every area rulebook
    /// in force, scored or not: a name another area knows is not an unknown
    /// name) and whose area tables keep `area_months`.
    pub fn new(
        ba: &[&Rulebook],
        known: &[&AreaRulebook],
        area_months: MonthFilter,
    ) -> Result<AreaRead, RulebookError> {
        Ok(AreaRead {
            vocab: Vocabulary::new(ba, known)?,
            area_months,
        })
    }

    /// The months the `scored` areas read to score month `m` (each area's
    /// [`AreaRulebook::data_months`], merged, in first-seen order).
    pub fn months_for(scored: &[&AreaRulebook], m: Month) -> MonthFilter {
        let mut months: Vec<Month> = Vec::new();
        for rb in scored {
            for x in rb.data_months(m) {
                if !months.contains(&x) {
                    months.push(x);
                }
            }
        }
        MonthFilter::Only(months)
    }

    /// Drops the unknown-certification warnings of names some area of the
    /// run knows (the Business Applications reader warns about every
    /// certification its own rulebook does not list).
    pub fn keep_unknown_only(&self, facts: &mut DatasetFacts) {
        drop_known_certifications(facts, &self.vocab);
    }
}

/// Drops the unknown-certification warnings of names `vocab` knows (the
/// Business Applications reader warns about every certification its own
/// rulebook does not list; another area of the run may count it).
pub fn drop_known_certifications(facts: &mut DatasetFacts, vocab: &Vocabulary) {
    facts.warnings.retain(|w| {
        !(w.kind == WarningKind::UnknownCertification && vocab.certification(&w.name).is_some())
    });
}

/// A rulebook title without its prefix and date:
/// "Solutions Partner for Business Applications (June 2023)" → "Business Applications".
pub fn short_title(title: &str) -> &str {
    let t = title
        .strip_prefix("Solutions Partner for ")
        .unwrap_or(title);
    t.split(" (").next().unwrap_or(t)
}

/// One metric in a summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SummaryMetric {
    /// The metric id.
    pub id: String,
    /// Its label.
    pub label: String,
    /// Its points.
    pub points: Decimal,
    /// Its cap.
    pub max_points: Decimal,
}

/// A partner's qualification in one solution area, at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AreaSummary {
    /// The area id (`modern_work`).
    pub solution_area: String,
    /// `area/version`.
    pub rulebook: String,
    /// Business Applications' classification, or the reported track
    /// (`None`: the area has no tracks).
    pub classification: Option<String>,
    /// The reported metrics.
    pub metrics: Vec<SummaryMetric>,
    /// Their total.
    pub total_points: Decimal,
    /// The minimum total to qualify (70).
    pub min_total_points: Decimal,
    /// Whether the partner qualifies.
    pub qualified: bool,
}

impl AreaSummary {
    /// The summary of a Business Applications score.
    pub fn of_ba(s: &PartnerScore) -> AreaSummary {
        AreaSummary {
            solution_area: s.solution_area.clone(),
            rulebook: s.rulebook.clone(),
            classification: Some(s.classification.as_str().to_string()),
            metrics: s
                .metrics
                .iter()
                .map(|m| SummaryMetric {
                    id: m.id.clone(),
                    label: m.label.clone(),
                    points: m.points,
                    max_points: m.max_points,
                })
                .collect(),
            total_points: s.total_points,
            min_total_points: s.min_total_points,
            qualified: s.qualified,
        }
    }

    /// The summary of an area score (its reported track's metrics).
    pub fn of_area(s: &AreaScore) -> AreaSummary {
        AreaSummary {
            solution_area: s.solution_area.clone(),
            rulebook: s.rulebook.clone(),
            classification: s.classification.clone(),
            metrics: s
                .metrics
                .iter()
                .map(|m| SummaryMetric {
                    id: m.id.clone(),
                    label: m.label.clone(),
                    points: m.points,
                    max_points: m.max_points,
                })
                .collect(),
            total_points: s.total_points,
            min_total_points: s.min_total_points,
            qualified: s.qualified,
        }
    }

    /// The sum of the metrics' caps (100).
    pub fn max_total_points(&self) -> Decimal {
        self.metrics.iter().map(|m| m.max_points).sum()
    }

    /// The points still missing to the minimum total (0 when reached).
    pub fn points_to_qualify(&self) -> Decimal {
        (self.min_total_points - self.total_points).max(Decimal::ZERO)
    }

    /// The metrics at zero points (a partner qualifies only with none).
    pub fn at_zero(&self) -> impl Iterator<Item = &SummaryMetric> {
        self.metrics.iter().filter(|m| m.points.is_zero())
    }

    /// The metric furthest from its cap, by share of the cap (the first
    /// on a tie; a metric with a zero cap counts as full).
    pub fn weakest(&self) -> Option<&SummaryMetric> {
        let share = |m: &SummaryMetric| {
            if m.max_points.is_zero() {
                Decimal::ONE
            } else {
                m.points / m.max_points
            }
        };
        self.metrics.iter().min_by(|a, b| share(a).cmp(&share(b)))
    }

    /// The next step in one sentence: nothing when qualified; else the
    /// metrics to raise above zero and the points to go.
    pub fn next_step(&self) -> String {
        if self.qualified {
            return "Qualified: keep every metric above zero.".to_string();
        }
        let zero: Vec<&str> = self.at_zero().map(|m| m.label.as_str()).collect();
        let to_go = self.points_to_qualify();
        let mut parts = Vec::new();
        if !zero.is_empty() {
            parts.push(format!("raise {} above zero", zero.join(", ")));
        }
        if !to_go.is_zero() {
            let weakest = self
                .weakest()
                .map(|m| format!(" (most room: {})", m.label))
                .unwrap_or_default();
            parts.push(format!(
                "gain {} more points to reach {}{weakest}",
                to_go.normalize(),
                self.min_total_points.normalize()
            ));
        }
        let mut s = parts.join("; ");
        if let Some(first) = s.get(0..1) {
            s = format!("{}{}.", first.to_uppercase(), &s[1..]);
        }
        s
    }

    /// The summary as JSON (numbers as in the score object).
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("solution_area".into(), self.solution_area.clone().into());
        o.insert("rulebook".into(), self.rulebook.clone().into());
        o.insert(
            "classification".into(),
            self.classification.clone().map_or(Value::Null, Value::from),
        );
        o.insert("total_points".into(), number(self.total_points));
        o.insert("max_points".into(), number(self.max_total_points()));
        o.insert("min_total_points".into(), number(self.min_total_points));
        o.insert("qualified".into(), self.qualified.into());
        o.insert(
            "at_zero".into(),
            Value::Array(self.at_zero().map(|m| m.id.clone().into()).collect()),
        );
        o.insert(
            "weakest_metric".into(),
            self.weakest().map_or(Value::Null, |m| m.id.clone().into()),
        );
        o.insert("points_to_qualify".into(), number(self.points_to_qualify()));
        o.insert("next_step".into(), self.next_step().into());
        Value::Object(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    fn summary(points: &[(&str, &str)], qualified: bool) -> AreaSummary {
        let metrics: Vec<SummaryMetric> = points
            .iter()
            .map(|(id, p)| SummaryMetric {
                id: id.to_string(),
                label: id.replace('_', " "),
                points: d(p),
                max_points: d("25"),
            })
            .collect();
        AreaSummary {
            solution_area: "x".into(),
            rulebook: "x/1".into(),
            classification: None,
            total_points: metrics.iter().map(|m| m.points).sum(),
            metrics,
            min_total_points: d("70"),
            qualified,
        }
    }

    #[test]
    fn the_summary_names_zero_metrics_the_weakest_and_the_points_to_go() {
        let s = summary(&[("a", "20"), ("b", "0"), ("c", "25"), ("d", "5")], false);
        assert_eq!(s.points_to_qualify(), d("20"));
        assert_eq!(s.weakest().unwrap().id, "b");
        assert_eq!(
            s.at_zero().map(|m| m.id.as_str()).collect::<Vec<_>>(),
            ["b"]
        );
        assert_eq!(
            s.next_step(),
            "Raise b above zero; gain 20 more points to reach 70 (most room: b)."
        );
        let j = s.to_json();
        assert_eq!(j["points_to_qualify"], 20);
        assert_eq!(j["max_points"], 100);
        assert_eq!(j["at_zero"], serde_json::json!(["b"]));
        assert_eq!(j["weakest_metric"], "b");
    }

    #[test]
    fn a_qualified_summary_has_nothing_to_go() {
        let s = summary(&[("a", "25"), ("b", "20"), ("c", "25"), ("d", "5")], true);
        assert_eq!(s.points_to_qualify(), Decimal::ZERO);
        assert_eq!(s.next_step(), "Qualified: keep every metric above zero.");
        // Enough points but one metric at zero: only the zero metric is named.
        let s = summary(&[("a", "25"), ("b", "25"), ("c", "25"), ("d", "0")], false);
        assert_eq!(s.next_step(), "Raise d above zero.");
    }

    #[test]
    fn short_titles_drop_the_prefix_and_the_date() {
        assert_eq!(
            short_title("Solutions Partner for Business Applications (June 2023)"),
            "Business Applications"
        );
        assert_eq!(short_title("Modern Work"), "Modern Work");
    }

    #[test]
    fn months_for_merges_the_areas_data_months() {
        let set = crate::rulebook::RulebookSet::builtin();
        let areas: Vec<&AreaRulebook> = set.area_versions().iter().collect();
        let m: Month = "2024-06".parse().unwrap();
        let MonthFilter::Only(months) = AreaRead::months_for(&areas, m) else {
            panic!("a list of months");
        };
        for rb in &areas {
            for x in rb.data_months(m) {
                assert!(months.contains(&x));
            }
        }
        let mut sorted = months.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), months.len(), "no month twice");
    }
}
