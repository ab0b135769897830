//! `pcs history`: the score of each of the last months, metric trends, and the
//! status of rules.md (qualified or in progress; enrolled or renewal due).

use pcs_core::Decimal;
use pcs_core::calendar::Month;
use pcs_core::facts::PartnerFacts;
use pcs_core::jiff::civil::Date;
use pcs_core::rulebook::{QualificationRules, Rulebook};
use pcs_core::score::{MetricDetail, PartnerScore, Period, score_partner};
use serde::Serialize;

/// One month of the history.
#[derive(Clone, Debug, Serialize)]
pub struct MonthScore {
    /// The month scored.
    pub month: Month,
    /// Enterprise or SMB that month.
    pub classification: String,
    /// Points per metric id, in rulebook order.
    pub points: Vec<(String, Decimal)>,
    /// The total.
    pub total_points: Decimal,
    /// Qualified that month.
    pub qualified: bool,
    /// Qualifying pairs in the latest month per pair metric id.
    pub qualifying_pairs: Vec<(String, u32)>,
    /// Total MCV of the latest month.
    pub latest_mcv: Option<Decimal>,
}

/// The qualification status, as Partner Center shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// Not enrolled; qualified in at least one month of the window.
    Qualified {
        /// The window's first month.
        window_from: Month,
        /// The window's last month (M).
        window_to: Month,
        /// The qualifying months.
        qualified_in: Vec<Month>,
    },
    /// Not enrolled; no qualifying month in the window yet.
    InProgress {
        /// The window's first month.
        window_from: Month,
        /// The window's last month (M).
        window_to: Month,
    },
    /// Enrolled until the anniversary date; the renewal window is ahead.
    Enrolled {
        /// The anniversary date.
        anniversary_date: Date,
        /// The renewal window's first month.
        renewal_from: Month,
        /// The renewal window's last month (the anniversary month).
        renewal_to: Month,
    },
    /// Enrolled, inside the renewal window.
    RenewalDue {
        /// The anniversary date.
        anniversary_date: Date,
        /// The renewal window's first month.
        renewal_from: Month,
        /// The renewal window's last month.
        renewal_to: Month,
        /// Qualifying months of the window so far.
        qualified_in: Vec<Month>,
    },
    /// The anniversary has passed; the renewal window is judged.
    RenewalJudged {
        /// The anniversary date.
        anniversary_date: Date,
        /// The renewal window's first month.
        renewal_from: Month,
        /// The renewal window's last month.
        renewal_to: Month,
        /// Whether it qualified in the window.
        renewed: bool,
        /// Qualifying months of the window.
        qualified_in: Vec<Month>,
    },
}

impl Status {
    /// One line for people (`QUALIFIED: qualified in 2023-11 within ...`).
    pub fn describe(&self) -> String {
        match self {
            Status::Qualified {
                window_from,
                window_to,
                qualified_in,
            } => format!(
                "QUALIFIED: qualified in {} within {window_from} .. {window_to}",
                qualified_in
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Status::InProgress {
                window_from,
                window_to,
            } => {
                format!("IN PROGRESS: no qualifying month within {window_from} .. {window_to}")
            }
            Status::Enrolled {
                anniversary_date,
                renewal_from,
                renewal_to,
            } => format!(
                "ENROLLED until {anniversary_date}; renewal judged on {renewal_from} .. {renewal_to}"
            ),
            Status::RenewalDue {
                anniversary_date,
                renewal_from,
                renewal_to,
                qualified_in,
            } => format!(
                "RENEWAL DUE by {anniversary_date}: window {renewal_from} .. {renewal_to}; {}",
                if qualified_in.is_empty() {
                    "no qualifying month yet".to_string()
                } else {
                    format!(
                        "on track, qualified in {}",
                        qualified_in
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            Status::RenewalJudged {
                anniversary_date,
                renewal_from,
                renewal_to,
                renewed,
                ..
            } => format!(
                "{} on {anniversary_date} (window {renewal_from} .. {renewal_to})",
                if *renewed { "RENEWED" } else { "NOT RENEWED" }
            ),
        }
    }
}

/// The history report.
#[derive(Clone, Debug, Serialize)]
pub struct History {
    /// The partner.
    pub partner_id: String,
    /// The last month (M).
    pub month: Month,
    /// Oldest first.
    pub months: Vec<MonthScore>,
    /// The status in M.
    pub status: Status,
}

/// Months whose data a history of `count` months ending at `month` reads,
/// including the status windows.
pub fn months_needed(
    rb: &Rulebook,
    month: Month,
    count: u32,
    anniversary: Option<Date>,
) -> Vec<Month> {
    let scored = scored_months(&rb.qualification, month, count, anniversary);
    let mut out: Vec<Month> = scored
        .iter()
        .flat_map(|m| {
            let p = Period::for_month(rb, *m);
            p.data_months()
        })
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn month_score(s: &PartnerScore) -> MonthScore {
    MonthScore {
        month: s.period.month,
        classification: s.classification.as_str().to_string(),
        points: s.metrics.iter().map(|m| (m.id.clone(), m.points)).collect(),
        total_points: s.total_points,
        qualified: s.qualified,
        qualifying_pairs: s
            .metrics
            .iter()
            .filter_map(|m| match &m.detail {
                MetricDetail::PairGrowth { latest_count, .. } => {
                    Some((m.id.clone(), *latest_count))
                }
                _ => None,
            })
            .collect(),
        latest_mcv: s.metrics.iter().find_map(|m| match &m.detail {
            MetricDetail::ConsumptionGrowth { latest_mcv, .. } => Some(*latest_mcv),
            _ => None,
        }),
    }
}

/// The status in `month` under the qualification rules `q`, for a partner
/// with `anniversary` (the one date every designation shares), given
/// whether it qualified in a month: the one definition for every area.
pub fn status(
    q: &QualificationRules,
    anniversary: Option<Date>,
    month: Month,
    qualified_at: impl Fn(Month) -> bool,
) -> Status {
    let qualified_in = |from: Month, to: Month| -> Vec<Month> {
        let n = to.months_since(from);
        (0..=n.max(0) as u32)
            .map(|i| from.plus(i))
            .filter(|m| qualified_at(*m))
            .collect()
    };
    match anniversary {
        None => {
            let window_from = month.minus(q.window_months - 1);
            let months = qualified_in(window_from, month);
            if months.is_empty() {
                Status::InProgress {
                    window_from,
                    window_to: month,
                }
            } else {
                Status::Qualified {
                    window_from,
                    window_to: month,
                    qualified_in: months,
                }
            }
        }
        Some(anniversary_date) => {
            let renewal_to = Month::of(anniversary_date);
            let renewal_from = renewal_to.minus(q.renewal_months_before_anniversary);
            if month < renewal_from {
                Status::Enrolled {
                    anniversary_date,
                    renewal_from,
                    renewal_to,
                }
            } else if month <= renewal_to {
                Status::RenewalDue {
                    anniversary_date,
                    renewal_from,
                    renewal_to,
                    qualified_in: qualified_in(renewal_from, month),
                }
            } else {
                let months = qualified_in(renewal_from, renewal_to);
                Status::RenewalJudged {
                    anniversary_date,
                    renewal_from,
                    renewal_to,
                    renewed: !months.is_empty(),
                    qualified_in: months,
                }
            }
        }
    }
}

/// The months a history of `count` months ending at `month` scores,
/// including the status windows of `q` (newest first, then the renewal window).
pub fn scored_months(
    q: &QualificationRules,
    month: Month,
    count: u32,
    anniversary: Option<Date>,
) -> Vec<Month> {
    let mut scored: Vec<Month> = (0..count.max(q.window_months))
        .map(|i| month.minus(i))
        .collect();
    if let Some(a) = anniversary {
        let am = Month::of(a);
        scored.extend((0..=q.renewal_months_before_anniversary).map(|i| am.minus(i)));
    }
    scored
}

/// Builds the history of `count` months ending at `month` (facts must hold
/// [`months_needed`]). Scores use each month's last day as evaluation date.
pub fn history(
    rb: &Rulebook,
    partner_id: &str,
    facts: &PartnerFacts,
    month: Month,
    count: u32,
) -> History {
    let score_at = |m: Month| score_partner(rb, partner_id, facts, Period::for_month(rb, m));
    let months: Vec<MonthScore> = (0..count)
        .rev()
        .map(|i| month_score(&score_at(month.minus(i))))
        .collect();
    let status = status(&rb.qualification, facts.anniversary_date, month, |m| {
        score_at(m).qualified
    });
    History {
        partner_id: partner_id.to_string(),
        month,
        months,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Case;

    fn strong(mut c: Case, latest: &str, baseline: &str) -> Case {
        for t in ["A", "B", "C", "D", "E"] {
            c = c.rev(t, "Sales", latest, "300");
        }
        c.usage("A", "Power Apps", baseline, "125")
            .usage("A", "Power Apps", latest, "200")
            .usage("B", "Power Apps", latest, "25")
    }

    fn certified(mut c: Case) -> Case {
        for p in ["p1", "p2", "p3", "p4", "p5"] {
            c = c.cert(p, "data-analyst-associate", "2023-01-01", None);
        }
        c.cert(
            "p1",
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        )
        .cert(
            "p2",
            "power-platform-solution-architect-expert",
            "2023-01-01",
            None,
        )
    }

    #[test]
    fn one_month_of_history_equals_the_score() {
        let c = certified(strong(Case::new(), "2023-10", "2022-10"));
        let h = history(&c.rb, "P", &c.facts(), "2023-11".parse().unwrap(), 6);
        let s = c.score("2023-11");
        let last = h.months.last().unwrap();
        assert_eq!(last.total_points, s.total_points);
        assert_eq!(last.qualified, s.qualified);
        assert!(s.qualified);
        assert_eq!(h.months.len(), 6);
        assert!(!h.months[0].qualified, "2023-06 has no data");
    }

    #[test]
    fn qualified_within_the_window_then_in_progress() {
        let c = certified(strong(Case::new(), "2023-10", "2022-10"));
        let f = c.facts();
        let at = |m: &str| history(&c.rb, "P", &f, m.parse().unwrap(), 1).status;
        assert!(matches!(at("2023-11"), Status::Qualified { .. }));
        // Five months later the window (2023-11 .. 2024-04) still holds 2023-11.
        assert!(matches!(at("2024-04"), Status::Qualified { .. }));
        assert!(matches!(at("2024-05"), Status::InProgress { .. }));
    }

    #[test]
    fn enrolled_then_renewal_due_then_judged() {
        let c = certified(strong(Case::new(), "2023-10", "2022-10"));
        let mut f = c.facts();
        f.anniversary_date = Some(pcs_core::calendar::parse_date("2024-03-15").unwrap());
        let at = |m: &str| history(&c.rb, "P", &f, m.parse().unwrap(), 1).status;
        assert!(matches!(at("2023-09"), Status::Enrolled { .. }));
        match at("2023-11") {
            Status::RenewalDue {
                renewal_from,
                renewal_to,
                qualified_in,
                ..
            } => {
                assert_eq!(renewal_from.to_string(), "2023-10");
                assert_eq!(renewal_to.to_string(), "2024-03");
                assert_eq!(qualified_in, vec!["2023-11".parse().unwrap()]);
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            at("2024-04"),
            Status::RenewalJudged { renewed: true, .. }
        ));
    }
}
